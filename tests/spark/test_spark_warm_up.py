"""`odibi-dbx run` starts the Spark session while it validates the project (SparkEngine.warm_up):
the engine's start takes that session, or raises what starting it raised; a run that stops at
validation exits without waiting for the JVM, and leaves none behind."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from odibi_dbx.errors import OdibiError
from tests.core.work_counts import cli_run_facts

pytestmark = pytest.mark.spark


def test_start_takes_the_warmed_up_session(spark):
    from odibi_dbx.engines import spark as spark_engine

    spark_engine.SparkEngine.warm_up("UTC")
    engine = spark_engine.SparkEngine(timezone="Asia/Tokyo")
    engine.start()
    try:
        assert spark_engine._warm.empty  # taken by this start
        assert engine.spark.conf.get("spark.sql.session.timeZone") == "Asia/Tokyo"
        assert engine.spark.sql("SELECT 1 AS x").collect()[0].x == 1
    finally:
        engine.stop()


def test_start_raises_what_the_warm_up_met_without_trying_again(monkeypatch):
    from odibi_dbx import runtime
    from odibi_dbx.engines import spark as spark_engine

    calls = []

    def no_delta(timezone):
        calls.append(timezone)
        raise OdibiError("the local Spark session started without Delta")

    monkeypatch.setattr(runtime, "get_spark", no_delta)
    spark_engine.SparkEngine.warm_up("UTC")
    with pytest.raises(OdibiError, match="without Delta"):
        spark_engine.SparkEngine(timezone="UTC").start()
    assert calls == ["UTC"] and spark_engine._warm.empty


def processes_naming(*texts: str) -> list[int]:
    """The other processes whose command line holds every one of `texts` (this one's may hold
    them as the text of its code)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != os.getpid():
            try:
                cmdline = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            if all(t.encode() in cmdline for t in texts):
                found.append(int(entry.name))
    return found


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads processes from /proc")
def test_a_run_that_stops_at_validation_leaves_no_jvm(tmp_path):
    scratch = tmp_path / "scratch"
    (tmp_path / "orders.csv").write_text("id\n1\n")
    project = tmp_path / "project.yaml"
    project.write_text(
        "project: stops\nengine: spark\n"
        "connections:\n  src: {type: local, base_path: .}\n"
        "story: {connection: src, path: stories}\n"
        "pipelines:\n  - pipeline: p\n    nodes:\n"
        "      - {name: orders, read: {connection: src, path: orders.csv}}\n"
        "      - {name: bad, depends_on: [ordrs], transform: {steps: ['SELECT 1 AS x']}}\n"
    )
    # validation waits until the warm-up's JVM runs, so that the run stops with one starting
    setup = (
        "import os, time\nimport odibi_dbx.config.loader as L\n"
        "from tests.spark.test_spark_warm_up import processes_naming\n"
        f"os.environ['ODIBI_SPARK_SCRATCH'] = {str(scratch)!r}\n"
        "problems, seen = L.project_problems, []\n"
        "def waited(*a, **k):\n"
        "    end = time.monotonic() + 120\n"
        f"    while not processes_naming('java', {str(scratch)!r}) and time.monotonic() < end:\n"
        "        time.sleep(0.05)\n"
        f"    seen.append(bool(processes_naming('java', {str(scratch)!r})))\n"
        "    return problems(*a, **k)\n"
        "L.project_problems = waited"
    )
    rc, jvm_seen = cli_run_facts(project, "print(json.dumps([rc, seen[0]]))", setup)
    assert (rc, jvm_seen) == (2, True)
    end = time.monotonic() + 60
    while processes_naming(str(scratch)) and time.monotonic() < end:
        time.sleep(0.2)
    assert processes_naming(str(scratch)) == []
