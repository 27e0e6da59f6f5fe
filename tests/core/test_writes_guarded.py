"""Writes keep their promise: killed runs are repaired, concurrent writers refused, paths stay
inside their connection. Kills are real (SIGKILL) subprocesses, stopped at a precise point.
The kill and concurrency tests run the writes under test on both engines (the lock and the repair
are the engines' shared write wrapper; Spark moves folders through the JVM's Hadoop FileSystem),
and each engine repairs what the other's killed run left (the same names, the same rules); the
runs that prepare the output use the Pandas engine (a JVM start each otherwise)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from odibi_dbx.connections.base import ASIDE, STAGING
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

# Runs the CLI with its folder moves instrumented (os.replace, and FileSystem.rename called
# through py4j on Spark): "kill-mid-swap" SIGKILLs the process right after the previous output
# was moved aside (before the new one is moved in); "hold" pauses just before the staged output
# is moved in (the write's lock held), after touching a marker file.
DRIVER = """
import os, signal, sys, time
mode, marker = sys.argv[1], sys.argv[2]

def before(src):
    if mode == "hold" and ".odibi-tmp-" in src:
        open(marker, "w").close()
        time.sleep(600)

def after(dst):
    if mode == "kill-mid-swap" and ".odibi-old-" in dst:
        os.kill(os.getpid(), signal.SIGKILL)

def moving(move):
    def wrapper(*args, **kwargs):
        src, dst = (str(a) for a in args[-2:])
        before(src)
        result = move(*args, **kwargs)
        after(dst)
        return result
    return wrapper

os.replace = moving(os.replace)
from tests.core import hadoop_folder
hadoop_folder.register()
try:
    from py4j.java_gateway import JavaMember
except ImportError:
    pass
else:
    call, jrename = JavaMember.__call__, moving(JavaMember.__call__)
    JavaMember.__call__ = lambda self, *a: (jrename if self.name == "rename" else call)(self, *a)
from odibi_dbx.cli import main
sys.exit(main(sys.argv[3:]))
"""


@pytest.fixture
def engine(engine_name: str) -> str:
    return engine_name


def _project(root: Path, min_amount: float) -> Path:
    return write(root / "project.yaml", PROJECT % min_amount)


def _run(project: Path, pipeline: str, engine: str) -> tuple[str, ...]:
    return ("run", str(project), "--pipeline", pipeline, "--engine", engine)


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


def _killed_mid_swap(project: Path, out: Path, engine: str) -> None:
    """Overwrite `orders` on `engine`, SIGKILLed between moving the previous output aside and
    moving the new one in."""
    p = _driver("kill-mid-swap", out / "unused", *_run(project, "writer", engine))
    p.communicate(timeout=120)
    assert p.returncode == -signal.SIGKILL
    assert not (out / "orders").exists()  # killed between the two moves: no output at the target
    assert len(_leftovers(out)) == 2  # the old output aside, and the complete new one staged


def test_overwrite_killed_mid_swap_is_repaired_before_anything_reads(project_dir, cli, engine):
    project = _project(project_dir, -100)
    r = cli(*_run(project, "writer", "pandas"))  # the previous output
    assert r.returncode == 0, r.stderr
    out = project_dir / "out"
    project = _project(project_dir, 0)  # the next overwrite would keep 3 of the 4 rows
    _killed_mid_swap(project, out, engine)
    other = "pandas" if engine == "spark" else "spark"
    r = cli(*_run(project, "reader", other))  # reads orders before anything writes it
    assert r.returncode == 0, r.stderr
    assert f"restored the previous output from an interrupted overwrite (.orders{ASIDE}" in (
        r.stdout
    )  # a note of the run, in its story too
    assert read_output(out / "copy").num_rows == 4  # the whole previous output, not a part
    assert read_output(out / "orders").num_rows == 4
    assert _leftovers(out) == []


@pytest.mark.spark
def test_spark_repairs_a_killed_swap_through_the_hadoop_file_system(project_dir):
    """Outputs Spark reaches by URI (abfss:// on Databricks; `file:` here) are swapped and
    repaired through the session's Hadoop FS, before the next run reads them."""
    from tests.spark.spark_fixtures import spark_missing

    if reason := spark_missing():
        pytest.skip(reason)
    import pyarrow as pa
    import pyarrow.parquet as pq

    text = (PROJECT % 0).replace("out: {type: local,", "out: {type: hadoop_folder,")
    project = write(project_dir / "project.yaml", text)
    out = project_dir / "out"
    (out / "orders").mkdir(parents=True)
    previous = pa.table({"order_id": [1, 2, 3, 4, 5], "amount": [1.0, 2.0, 3.0, 4.0, 5.0]})
    pq.write_table(previous, out / "orders" / "part-0.parquet")
    _killed_mid_swap(project, out, "spark")
    p = _driver("plain", out / "unused", *_run(project, "reader", "spark"))
    stdout, stderr = p.communicate(timeout=120)
    assert p.returncode == 0, stderr
    assert f"restored the previous output from an interrupted overwrite (.orders{ASIDE}" in stdout
    assert read_output(out / "copy").num_rows == 5  # the whole previous output, read by Spark
    assert read_output(out / "orders").num_rows == 5
    assert _leftovers(out) == []


def test_concurrent_writer_is_refused_and_a_killed_writer_leaves_nothing_behind(
    project_dir, cli, engine
):
    project = _project(project_dir, 0)
    out, marker = project_dir / "out", project_dir / "holding"
    holder = _driver("hold", marker, *_run(project, "writer", engine))
    try:
        deadline = time.monotonic() + 120
        while not marker.exists():
            assert holder.poll() is None and time.monotonic() < deadline, holder.communicate()
            time.sleep(0.05)
        live = _leftovers(out)
        assert live and all(STAGING in name for name in live)
        r = cli(*_run(project, "writer", engine))
        assert r.returncode == 1
        assert (
            "is being written by another writer (run " in r.stderr
            and "node orders, pid" in r.stderr
        ), r.stderr
        assert "hint: another run (or node) is writing this output" in r.stderr
        assert _leftovers(out) == live  # the live holder's staging, untouched
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.communicate(timeout=30)
    r = cli(*_run(project, "writer", "pandas"))  # the dead holder's lock is gone with it
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
