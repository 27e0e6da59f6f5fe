"""The CLI and notebook API as a user sees them: --json honoured, aligned `story show`, no
traceback on a closed pipe, structured logs on stderr only, progress lines captured from a real
terminal (tmux), RunResult's repr, outputs kept across run_node()."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def cli(*args: str, cwd: Path, **kw) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "odibi_dbx", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        **kw,
    )


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    base = tmp_path_factory.mktemp("polish")
    assert cli("init", "shop", cwd=base).returncode == 0
    root = base / "shop"
    for _ in range(2):
        assert cli("run", "project.yaml", cwd=root).returncode == 0
    return root


def test_story_list_json(project):
    p = cli("story", "list", "project.yaml", "--json", cwd=project)
    assert p.returncode == 0, p.stderr
    runs = json.loads(p.stdout)
    assert len(runs) == 2 and {r["status"] for r in runs} == {"success"}
    assert runs[0]["summary"]["nodes"] == 5 and runs[0]["pipelines"] == ["silver", "gold"]


def test_story_show_is_aligned(project):
    p = cli("story", "show", "project.yaml", cwd=project)
    lines = p.stdout.splitlines()
    table = lines[1:7]
    assert table[0].split() == ["status", "node", "rows", "in", "rows", "out", "seconds"]
    assert "None" not in p.stdout
    # every column starts at the same offset on every row
    starts = {line.index("silver.orders_clean") for line in table if "silver.orders_clean" in line}
    node_col = table[0].index("node")
    assert starts == {node_col}
    for line in table[1:]:
        assert line[node_col - 1] == " " and line[node_col] != " "
        assert len(line.rstrip()) == len(table[0].rstrip())  # right-aligned numbers end together


def test_closed_pipe_is_quiet(project):
    show = subprocess.Popen(
        [sys.executable, "-m", "odibi_dbx", "story", "show", "project.yaml", "--json"],
        cwd=project,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert show.stdout.read(5)  # the reader takes a little and leaves
    show.stdout.close()
    err = show.stderr.read().decode()
    assert show.wait(60) == 0, err
    assert "Traceback" not in err and "BrokenPipe" not in err


def test_structured_logs_go_to_stderr_only(project):
    p = cli("run", "project.yaml", "--env", "prod", cwd=project)  # prod: structured logs
    assert p.returncode == 0, p.stderr
    assert "{" not in p.stdout  # progress and summary only
    logged = [json.loads(line) for line in p.stderr.splitlines() if line.startswith("{")]
    assert {e["event"] for e in logged} >= {"run_started", "node_finished", "run_finished"}
    assert all(line.startswith("{") for line in p.stderr.splitlines()), p.stderr


@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")
def test_progress_on_a_terminal(project, tmp_path):
    """`odibi-dbx run` in a real terminal (tmux): the live table ends with every node's row."""
    sock = str(tmp_path / "tmux.sock")
    env = f"PYTHONPATH={ROOT}"
    cmd = f"cd {project} && env {env} {sys.executable} -m odibi_dbx run project.yaml; echo EXIT=$?; sleep 30"
    subprocess.run(
        ["tmux", "-S", sock, "new-session", "-d", "-x", "160", "-y", "50", cmd], check=True
    )
    try:
        screen = ""
        for _ in range(120):
            screen = subprocess.run(
                ["tmux", "-S", sock, "capture-pane", "-p"], capture_output=True, text=True
            ).stdout
            if "EXIT=" in screen:
                break
            time.sleep(0.5)
    finally:
        subprocess.run(["tmux", "-S", sock, "kill-server"], capture_output=True)
    assert "EXIT=0" in screen, screen
    rows = [line.split() for line in screen.splitlines()]
    done = {r[1]: r for r in rows if len(r) >= 4 and r[0] == "✓"}
    assert set(done) == {
        "silver.orders",
        "silver.customers",
        "silver.orders_clean",
        "gold.silver_orders",
        "gold.revenue_by_region",
    }
    assert done["gold.revenue_by_region"][2:4] == ["success", "3"]
    assert "5 succeeded, 0 failed, 0 skipped" in screen


def test_run_result_repr_and_outputs_kept_across_run_node(project):
    from odibi_dbx import Project

    with Project.load(project / "project.yaml") as p:
        first = p.run(progress=False)
        text = repr(first)
        assert text.startswith(f"RunResult {first.run_id}: success — 5 succeeded")
        assert "silver.orders_clean" in text and "20 rows" in text and "NodeResult(" not in text
        assert "<table>" in first._repr_html_()
        again = p.run_node("revenue_by_region", progress=False)
        assert again.ok
        # nodes that did not run this time keep their outputs from the earlier run
        assert len(p.output("orders_clean")) == 20
        assert len(p.output("revenue_by_region")) == 3
