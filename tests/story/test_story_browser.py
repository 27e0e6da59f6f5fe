"""The story HTML in a real browser (headless Chromium, Debian's `chromium`): the SVG graph and
timeline render one element per node with non-empty boxes, and opening the story or the index
makes no network request (Chromium's own network log, checked against a page that does fetch)."""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
from pathlib import Path

import pytest

from tests.story.big_project import big_project

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
QUIET = [  # Chromium's own background traffic (updates, sync, ...) would muddy the log
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-extensions",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-domain-reliability",
    "--disable-client-side-phishing-detection",
    "--disable-features=NetworkTimeServiceQuerying,Translate,OptimizationHints,MediaRouter",
]

MEASURE = """<script>
const box = e => { const b = e.getBoundingClientRect(); return [b.width, b.height]; };
const all = s => [...document.querySelectorAll(s)];
document.body.setAttribute("data-measured", JSON.stringify({
  graph: box(document.querySelector("svg.graph")),
  nodes: all("svg.graph g.gnode").map(e => [e.dataset.node, ...box(e)]),
  edges: all("svg.graph path.edge").map(box),
  cross: all("svg.graph path.edge.cross").length,
  rows: all("svg.timeline g.trow").map(e => e.dataset.node),
  bars: all("svg.timeline rect.bar").map(box),
  fit: (document.getElementById("fit-graph").click(), box(document.querySelector("svg.graph"))),
  page: document.documentElement.clientWidth,
}));
</script></body>"""


@pytest.fixture(scope="module")
def chromium():
    if CHROMIUM is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is missing in CI (make chromium installs it)")
        pytest.skip("no chromium on PATH (make chromium installs Debian's package)")
    return CHROMIUM


def browse(chromium: str, page: Path, tmp: Path, *extra: str) -> tuple[str, set[str]]:
    """Open `page`; return the DOM after scripts ran and the URLs the page requested (the
    browser's own requests, such as update checks, carry no initiator: left out)."""
    log = tmp / f"{page.stem}.netlog.json"
    profile = tmp / "profile"
    out = subprocess.run(
        [
            chromium,
            *QUIET,
            f"--user-data-dir={profile}",
            f"--log-net-log={log}",
            "--virtual-time-budget=3000",
            *extra,
            "--dump-dom",
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=90,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    netlog = json.loads(log.read_text())
    start = netlog["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"]
    urls = {
        str(e["params"]["url"])
        for e in netlog["events"]
        if e["type"] == start
        and "url" in e.get("params", {})
        and e["params"].get("initiator") != "not an origin"
    }
    return out.stdout, urls


def remote(urls: set[str]) -> set[str]:
    return {u for u in urls if not u.startswith(("file:", "data:", "about:", "chrome:"))}


def test_graph_and_timeline_render_and_nothing_is_fetched(chromium, tmp_path):
    from odibi_dbx import Project

    with Project.load(big_project(tmp_path)) as p:
        res = p.run()
    assert res.ok, [n.error_message for n in res.nodes if n.status != "success"]
    keys = {f"{n.pipeline}.{n.name}" for n in res.nodes}
    assert len(keys) == 60

    story = Path(res.story_html_path)
    measured = tmp_path / "measured.html"
    measured.write_text(story.read_text().replace("</body>", MEASURE))
    dom, _ = browse(chromium, measured, tmp_path)
    raw = re.search(r'data-measured="([^"]*)"', dom)
    assert raw, dom[-2000:]
    m = json.loads(raw.group(1).replace("&quot;", '"'))
    assert m["graph"][0] > 1000 and m["graph"][1] > 100
    assert sorted(n[0] for n in m["nodes"]) == sorted(keys)  # one box per node
    assert all(w > 50 and h > 20 for _, w, h in m["nodes"])
    edges = sum(len(n.upstream) for n in res.nodes)
    assert len(m["edges"]) == edges and all(w > 0 or h > 0 for w, h in m["edges"])
    # stage_1 reads what stage_0 wrote (and stage_2 stage_1's): dashed edges between pipelines
    assert m["cross"] == 2
    assert sorted(m["rows"]) == sorted(keys)  # one timeline row per node
    assert len(m["bars"]) == 60 and all(w >= 2 and h > 5 for w, h in m["bars"])
    # "fit to width" scales the whole graph into the page, keeping its proportions
    (fit_w, fit_h), (w, h) = m["fit"], m["graph"]
    assert 0 < fit_w <= m["page"] < w
    assert abs(fit_h / fit_w - h / w) < 0.01
    # the screenshot a person looked at once (see the closing note)
    shot = tmp_path / "graph.png"
    subprocess.run(
        [chromium, *QUIET, f"--screenshot={shot}", "--window-size=1600,1000", story.as_uri()],
        capture_output=True,
        timeout=90,
    )
    assert shot.stat().st_size > 10_000

    # the unmodified story and index fetch nothing; a page that does fetch shows in the log
    for page in (story, story.parent / "index.html"):
        _, urls = browse(chromium, page, tmp_path)
        assert not remote(urls), remote(urls)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens: the request is made and fails
    control = tmp_path / "control.html"
    control.write_text(f'<html><body><img src="http://127.0.0.1:{port}/x.png"></body></html>')
    _, urls = browse(chromium, control, tmp_path)
    assert f"http://127.0.0.1:{port}/x.png" in remote(urls)
