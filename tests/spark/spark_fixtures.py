"""The one local Spark session (with Delta) shared by every Spark test in the run.

Imported by tests/spark/conftest.py and tests/parity/conftest.py. Spark tests skip with the
reason when Java, pyspark, delta-spark or the Delta jars (`make spark-jars`) are missing.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
from typing import Any

import pytest

# faster for many tiny jobs: fewer partitions, and the JIT's quick tier only
TEST_CONF = {
    "spark.sql.shuffle.partitions": "2",
    "spark.databricks.delta.snapshotPartitions": "1",
}
# C1 only leaves a small code cache by default: many queries filled it (VirtualMachineError:
# "Out of space in CodeCache for adapters")
_JIT = "-XX:+TieredCompilation -XX:TieredStopAtLevel=1 -XX:ReservedCodeCacheSize=256m"


def spark_missing() -> str | None:
    for module, package in (("pyspark", "pyspark"), ("delta", "delta-spark")):
        if importlib.util.find_spec(module) is None:
            return f"{package} is not installed (pip install 'odibi-dbx[spark]')"
    if shutil.which("java") is None:
        return "no `java` on PATH (the Spark engine needs Java 17)"
    from odibi_dbx.engines.spark_session import jars_present

    if not jars_present():
        return "the Delta jars are not fetched yet: run `make spark-jars`"
    return None


def _skip_or_fail(reason: str) -> None:
    """Skip on a developer's machine; in CI (`make test` installed everything) a missing part
    is a broken setup, not a reason to pass without running the Spark tests."""
    if os.environ.get("CI"):
        pytest.fail(f"Spark tests cannot run in CI: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def spark_session():
    if os.environ.get("SPARK_REMOTE"):  # the Spark Connect leg (tests/spark_matrix)
        yield _connect_session()
        return
    reason = spark_missing()
    if reason:
        _skip_or_fail(reason)
    from odibi_dbx.engines import spark_session as S

    conf = {**TEST_CONF}
    base = S.local_conf("UTC")
    conf["spark.driver.extraJavaOptions"] = f"{base['spark.driver.extraJavaOptions']} {_JIT}"
    from odibi_dbx.errors import OdibiError

    try:
        session = S.local_session("UTC", master="local[2]", extra=conf)
    except OdibiError as exc:  # no Delta (e.g. a session without it started earlier)
        _skip_or_fail(str(exc))
    for key, value in TEST_CONF.items():
        session.conf.set(key, value)
    yield session


@pytest.fixture(scope="session")
def spark(spark_session):
    return spark_session


def _connect_session():
    from odibi_dbx.runtime import get_spark, is_spark_connect

    try:
        session = get_spark("UTC")
    except Exception as exc:
        _skip_or_fail(f"no Spark Connect session at SPARK_REMOTE: {exc}")
    assert is_spark_connect(session), type(session)
    for key, value in TEST_CONF.items():
        session.conf.set(key, value)
    return session


def is_connect(spark) -> bool:
    from odibi_dbx.runtime import is_spark_connect

    return is_spark_connect(spark)


def plan_text(df) -> str:
    """The physical plan as `explain` prints it (classic and Spark Connect alike)."""
    import contextlib
    import io

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        df.explain()
    return out.getvalue()


@pytest.fixture
def job_counter(spark):
    """Counts Spark jobs started since the last call. A Spark Connect client sees no job
    events: there they are read from the server's UI REST API when the connect leg started it
    with the UI on (SPARK_CONNECT_TEST_UI), else `available` is False."""
    connect = is_connect(spark)
    tracker = None if connect else spark.sparkContext.statusTracker()
    ui = os.environ.get(CONNECT_UI) if connect else None
    ids = (lambda: set(tracker.getJobIdsForGroup(None))) if tracker is not None else None
    if ui:
        ids = ServerJobs(ui).ids

    class Counter:
        available = ids is not None

        def __init__(self):
            self.seen = self._ids()

        def _ids(self) -> set[int]:
            return ids() if ids is not None else set()

        def take(self) -> int | None:
            if ids is None:
                return None
            now = self._ids()
            new = now - self.seen
            self.seen = now
            return len(new)

    return Counter()


CONNECT_UI = "SPARK_CONNECT_TEST_UI"  # the connect leg's server UI (tests/spark_matrix)


class ServerJobs:
    """The job ids a Spark server's UI lists (REST API, on 127.0.0.1). Its listener records a
    job a moment after the client's call returned: read until two reads agree."""

    def __init__(self, ui: str):
        self.ui = ui.rstrip("/")

    def _get(self, path: str) -> Any:
        import json
        import urllib.request

        with urllib.request.urlopen(f"{self.ui}/api/v1/{path}", timeout=30) as r:
            return json.load(r)

    def ids(self) -> set[int]:
        import time

        app = self._get("applications")[0]["id"]
        last: set[int] | None = None
        for _ in range(50):
            now = {j["jobId"] for j in self._get(f"applications/{app}/jobs")}
            if now == last:
                return now
            last = now
            time.sleep(0.2)
        raise AssertionError(f"the job list of {self.ui} kept changing")
