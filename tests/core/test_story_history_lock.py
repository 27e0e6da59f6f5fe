"""Two runs that share a story folder update its index and baselines at the same time (two real
processes): each run's entry and baseline must survive."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

RUNS = 25  # per process

WRITER = textwrap.dedent(
    """
    import sys
    from pathlib import Path

    from odibi_dbx.connections.local import LocalConnectionConfig
    from odibi_dbx.connections.local import LocalConnection
    from odibi_dbx.story import history
    from odibi_dbx.story.store import StoryStore

    root, who, runs = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    conn = LocalConnection("out", LocalConnectionConfig(type="local", base_path=str(root)), root)
    store = StoryStore(conn, "stories")
    print("ready", flush=True)
    sys.stdin.readline()  # both processes start together
    for i in range(runs):
        run_id = f"20261129T2000{i:02d}000Z-{who}"
        node = {"pipeline": "p", "name": f"{who}_{i}", "status": "success", "rows_out": i,
                "rows_in": i, "columns": [], "profile": {}, "seconds": 0.1, "upstream": [],
                "write": {"rows": i}}
        doc = {"run_id": run_id, "project": "lock test", "status": "success",
               "started": "2026-11-29T20:00:00", "seconds": 0.1, "engine": "pandas",
               "summary": {"success": 1, "nodes": 1}, "pipelines": ["p"], "nodes": [node]}
        store.write(run_id, doc, "<html></html>")
        history.record(store, doc, keep_last=1000)
    """
)


def test_two_processes_lose_no_index_or_baseline_update(tmp_path):
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, str(tmp_path), who, str(RUNS)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for who in ("a", "b")
    ]
    for p in procs:
        assert p.stdout.readline().strip() == "ready"
    for p in procs:
        p.stdin.write("go\n")
        p.stdin.flush()
    for p in procs:
        p.stdin.close()
        assert p.wait(timeout=120) == 0
    stories = tmp_path / "stories"
    index = json.loads((stories / "_index.json").read_text())
    expected = {f"20261129T2000{i:02d}000Z-{w}" for i in range(RUNS) for w in "ab"}
    assert {e["run_id"] for e in index} == expected
    base = json.loads((stories / "_baselines.json").read_text())
    assert set(base) == {f"p.{w}_{i}" for i in range(RUNS) for w in "ab"}
    html = (stories / "index.html").read_text()
    assert f"lock test — {2 * RUNS} runs" in html
