"""The Spark engine on each Spark that Databricks compute runs (tests/spark_matrix/legs.py).

The default `.venv` (Spark 4.0.1 + Delta 4.0.1, DBR 17.3 LTS) runs the whole suite; each leg
here runs a representative subset in its own venv: every write mode and format, catalog
tables, SQL and function steps, validation, stories, no-extra-job counts (tests/spark) and the
cross-engine parity projects (tests/parity). The Connect leg runs them over a local Spark
Connect server. `make test` sets the legs up (`make spark-legs`: venvs and jars, cached) and runs
them with the rest of the suite (`make test-spark-legs` runs only them); a leg that is not set
up, or no `java`, skips locally and fails in CI. Each leg's log: .tmp/spark-matrix/<leg>.log.
Every selected test must pass on every leg: a skip fails the leg.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess

import pytest

from tests.spark.spark_fixtures import CONNECT_UI
from tests.spark_matrix.connect_server import ConnectServer
from tests.spark_matrix.legs import LEGS, ROOT, Leg, ready

pytestmark = [pytest.mark.spark, pytest.mark.slow]
SUBSET = [
    "tests/spark",
    "tests/parity",
    # incremental reads and SCD2 (issue 12) and row rules (issue 11), Spark side, one test each:
    # change feed, SCD2, a watermark with lookback into a merge, Delta tables continued across
    # engines; quarantine parity with Pandas, a failing rule, the rules' Spark job count
    "tests/incremental/test_change_feed_scd2.py::test_change_feed_after_updates_and_deletes[spark]",
    "tests/incremental/test_change_feed_scd2.py::test_scd2_over_three_snapshots_and_rerun_changes_nothing[spark]",
    "tests/incremental/test_change_feed_scd2.py::test_tables_written_by_one_engine_are_continued_by_the_other",
    "tests/incremental/test_watermark.py::test_lookback_rereads_late_rows_into_a_merge_without_duplicates[spark]",
    "tests/quality/test_quality_spark.py::test_same_result_on_both_engines[quarantine-counted-by-its-write]",
    "tests/quality/test_quality_spark.py::test_spark_fail_rule_writes_nothing",
    "tests/quality/test_quality_spark.py::test_rules_add_no_job_beyond_the_quarantine_write",
]
# Tests that cannot apply over Spark Connect, deselected there (not skipped: a skip fails a leg)
CONNECT_DESELECT = [
    # refuses a *local* session started without Delta; a Connect client starts no local session
    "tests/spark/test_spark_versions.py::test_a_session_without_delta_is_an_error",
    # the jars a local session start recorded; a Connect client starts no local session
    "tests/spark/test_spark_versions.py::test_later_sessions_load_the_jars_resolved_before",
    # a JVM the warm-up of a local session starts; a Connect client starts none
    "tests/spark/test_spark_warm_up.py::test_a_run_that_stops_at_validation_leaves_no_jvm",
]
LOGS = ROOT / ".tmp" / "spark-matrix"


def _missing(leg: Leg) -> str | None:
    if shutil.which("java") is None:
        return "no `java` on PATH"
    if not ready(leg):
        return f"the {leg.name} leg is not set up: run `make spark-legs`"
    return None


def _run_subset(leg: Leg, env: dict[str, str]) -> tuple[int, str]:
    log = LOGS / f"{leg.name}.log"
    cmd = [str(leg.python), "-m", "pytest", *SUBSET, "-q", "-p", "no:cacheprovider", "-rfEs"]
    if leg.connect:
        cmd += [f"--deselect={node}" for node in CONNECT_DESELECT]
    full = {**os.environ, **env, "PYTHONPATH": str(ROOT)}
    with log.open("w") as out:
        proc = subprocess.run(cmd, cwd=ROOT, env=full, stdout=out, stderr=subprocess.STDOUT)
    text = log.read_text(errors="replace")
    summary = [ln for ln in text.splitlines() if re.search(r"\d+ (passed|failed|error)", ln)]
    return proc.returncode, summary[-1] if summary else "(no summary)"


@pytest.mark.parametrize("name", list(LEGS))
def test_leg(name: str):
    leg = LEGS[name]
    reason = _missing(leg)
    if reason:
        if os.environ.get("CI"):
            pytest.fail(f"Spark leg {name} cannot run in CI: {reason}")
        pytest.skip(reason)
    LOGS.mkdir(parents=True, exist_ok=True)
    if leg.connect:
        # the server's UI on: job counts come from its REST API (a client sees no jobs)
        with ConnectServer(LOGS / f"{name}-server.log", ui=True) as server:
            assert server.ui is not None
            env = {"SPARK_REMOTE": server.remote, CONNECT_UI: server.ui}
            code, summary = _run_subset(leg, env)
    else:
        code, summary = _run_subset(leg, {})
    (LOGS / f"{name}.summary").write_text(f"{leg.runtime}: {summary}\n")
    assert code == 0, f"{leg.runtime}: {summary} (log: {LOGS / f'{name}.log'})"
    assert "passed" in summary and "skipped" not in summary, summary
