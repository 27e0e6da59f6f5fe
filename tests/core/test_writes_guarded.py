"""Writes keep their promise: killed runs are repaired, concurrent writers refused, paths stay
inside their connection. Kills are real (SIGKILL) subprocesses, stopped at a precise point."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.conftest import ROOT, write
from tests.parity.parity_compare import read_output

PROJECT = """
project: guarded
connections:
  raw: {type: local, base_path: ./data}
  out: {type: local, base_path: ./out}
story: {connection: raw, path: stories/}
pipelines:
  - pipeline: reader
    nodes:
      - name: copy
        read: {connection: out, path: orders, format: parquet}
        write: {connection: out, path: copy, format: parquet}
  - pipeline: writer
    nodes:
      - name: orders
        read: {connection: raw, path: orders.csv}
        transform: {steps: ["SELECT * FROM this WHERE amount > %s"]}
        write: {connection: out, path: orders, format: parquet}
"""

# Runs the CLI with os.replace instrumented: "kill-mid-swap" SIGKILLs the process right after
# the previous output was moved aside (before the new one is moved in); "hold" pauses just
# before the staged output is moved in (the write's lock held), after touching a marker file.
DRIVER = """
import os, signal, sys, time
real = os.replace
mode, marker = sys.argv[1], sys.argv[2]

def replace(src, dst, *args, **kwargs):
    if mode == "hold" and ".odibi-tmp-" in str(src):
        open(marker, "w").close()
        time.sleep(600)
    real(src, dst, *args, **kwargs)
    if mode == "kill-mid-swap" and ".odibi-old-" in str(dst):
        os.kill(os.getpid(), signal.SIGKILL)

os.replace = replace
from odibi_dbx.cli import main
sys.exit(main(sys.argv[3:]))
"""


def _project(root: Path, min_amount: float) -> Path:
    return write(root / "project.yaml", PROJECT % min_amount)


def _driver(mode: str, marker: Path, *args: str) -> subprocess.Popen:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    }
    return subprocess.Popen(
        [sys.executable, "-c", DRIVER, mode, str(marker), *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _leftovers(folder: Path) -> list[str]:
    return sorted(
        p.name for p in folder.iterdir() if ".odibi-tmp-" in p.name or ".odibi-old-" in p.name
    )


def test_overwrite_killed_mid_swap_is_repaired_before_anything_reads(project_dir, cli):
    project = _project(project_dir, -100)
    r = cli("run", str(project), "--pipeline", "writer")
    assert r.returncode == 0, r.stderr
    out = project_dir / "out"
    project = _project(project_dir, 0)  # the next overwrite would keep 3 of the 4 rows
    p = _driver(
        "kill-mid-swap", project_dir / "unused", "run", str(project), "--pipeline", "writer"
    )
    p.communicate(timeout=120)
    assert p.returncode == -signal.SIGKILL
    assert not (out / "orders").exists()  # killed between the two moves: no output at the target
    assert len(_leftovers(out)) == 2  # the old output aside, and the complete new one staged
    r = cli("run", str(project), "--pipeline", "reader")  # reads orders before anything writes it
    assert r.returncode == 0, r.stderr
    assert read_output(out / "copy").num_rows == 4  # the whole previous output, not a part
    assert read_output(out / "orders").num_rows == 4
    assert _leftovers(out) == []


def test_concurrent_writer_is_refused_and_a_killed_writer_leaves_nothing_behind(project_dir, cli):
    project = _project(project_dir, 0)
    out, marker = project_dir / "out", project_dir / "holding"
    holder = _driver("hold", marker, "run", str(project), "--pipeline", "writer")
    try:
        deadline = time.monotonic() + 120
        while not marker.exists():
            assert holder.poll() is None and time.monotonic() < deadline, holder.communicate()
            time.sleep(0.05)
        r = cli("run", str(project), "--pipeline", "writer")
        assert r.returncode == 1
        assert (
            "is being written by another writer (run " in r.stderr
            and "node orders, pid" in r.stderr
        ), r.stderr
        assert "hint: another run (or node) is writing this output" in r.stderr
        assert _leftovers(out)  # the holder's staging
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.communicate(timeout=30)
    r = cli("run", str(project), "--pipeline", "writer")  # the dead holder's lock is gone with it
    assert r.returncode == 0, r.stderr
    assert _leftovers(out) == []
    assert read_output(out / "orders").num_rows == 3


def test_write_paths_stay_inside_their_connection(project_dir, cli):
    head, tail = (
        (PROJECT % 0).replace("path: copy,", "path: ../../escaped,").rsplit("path: orders,", 1)
    )
    project = write(project_dir / "project.yaml", head + "path: /tmp/elsewhere," + tail)
    r = cli("run", str(project))
    assert r.returncode == 2, r.stderr
    for line, key, path in (
        ("11", "reader].nodes[copy", "../../escaped"),
        ("17", "writer].nodes[orders", "/tmp/elsewhere"),
    ):
        assert (
            f"project.yaml:{line}  pipelines[{key}].write.path: write path '{path}' leaves connection 'out'"
            in r.stderr
        ), r.stderr
    assert "hint: paths are relative to the connection's base_path" in r.stderr
    assert not (project_dir / "out").exists() and not Path("/tmp/elsewhere").exists()
