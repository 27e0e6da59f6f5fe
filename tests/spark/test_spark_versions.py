"""What must hold on every Spark the engine meets (3.5.0 to 4.2, classic and Spark Connect):
the Delta artefact for the installed pyspark, statuses and counts without Observation.future,
merge metrics, honest failure messages, Databricks paths. tests/spark_matrix runs this file
on each version."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

from tests.spark.spark_fixtures import is_connect

pytestmark = pytest.mark.spark


def _local(tmp_path, name="c"):
    from odibi_dbx.connections.local import LocalConnection, LocalConnectionConfig

    return LocalConnection(
        name, LocalConnectionConfig(type="local", base_path=str(tmp_path)), tmp_path
    )


# -- no Spark session needed -------------------------------------------------------------------


def test_delta_artefact_matches_the_installed_pyspark():
    pyspark = pytest.importorskip("pyspark")
    from odibi_dbx.engines.spark_session import delta_package, delta_version, scala_version

    major = int(pyspark.__version__.split(".")[0])
    assert scala_version() == ("2.12" if major == 3 else "2.13")
    group, artifact, version = delta_package().split(":")
    assert (group, version) == ("io.delta", delta_version())
    delta_minor = tuple(int(p) for p in version.split(".")[:2])
    spark_minor = ".".join(pyspark.__version__.split(".")[:2])
    expected = (
        f"delta-spark_{spark_minor}_2.13"
        if delta_minor >= (4, 1)
        else f"delta-spark_{scala_version()}"
    )
    assert artifact == expected


def test_local_paths_on_databricks_go_to_spark_as_driver_files(tmp_path, monkeypatch):
    from odibi_dbx.connections.local import LocalConnection, LocalConnectionConfig
    from odibi_dbx.engines.base import ReadSpec
    from odibi_dbx.engines.spark_io import spark_uri

    def to_spark(base: str, path: str) -> str:
        conn = LocalConnection("l", LocalConnectionConfig(type="local", base_path=base), tmp_path)
        return spark_uri(ReadSpec(node="n", connection=conn, format="csv", path=path))

    monkeypatch.setenv("ODIBI_RUNTIME", "databricks")
    assert to_spark("/Workspace/Users/me/proj/data", "a.csv") == (
        "file:/Workspace/Users/me/proj/data/a.csv"
    )
    assert to_spark("/Volumes/main/raw/files", "x/") == "/Volumes/main/raw/files/x"
    assert to_spark("/dbfs/mnt/raw", "orders") == "dbfs:/mnt/raw/orders"
    monkeypatch.setenv("ODIBI_RUNTIME", "local")
    assert to_spark("/dbfs/mnt/raw", "orders") == "/dbfs/mnt/raw/orders"


# -- with Spark --------------------------------------------------------------------------------


def test_a_session_without_delta_is_an_error():
    """A local session whose Delta jars do not load (e.g. the wrong Scala build) must not start
    quietly without Delta."""
    pytest.importorskip("pyspark")
    if os.environ.get("SPARK_REMOTE"):
        pytest.skip("Spark Connect leg: its client starts no local session to refuse")
    code = textwrap.dedent("""\
        from odibi_dbx.engines.spark_session import local_session
        from odibi_dbx.errors import OdibiError
        try:
            local_session(extra={"spark.jars.packages": ""})
        except OdibiError as exc:
            print("REFUSED", exc)
        else:
            print("STARTED")
        """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert "REFUSED the local Spark session started without Delta Lake" in out.stdout, (
        out.stdout + out.stderr[-2000:]
    )
    assert "make spark-jars" in out.stdout


def test_later_sessions_load_the_jars_resolved_before(spark, tmp_path, monkeypatch):
    """A local session records the jars Ivy resolved for Delta; later starts load those jars
    directly instead of resolving again (about a second of every run), unless one is gone."""
    from pathlib import Path

    from odibi_dbx.engines import spark_session as S

    if is_connect(spark):  # deselected on the Connect leg (tests/spark_matrix)
        pytest.skip("Spark Connect leg: its client starts no local session")
    # recorded when this session (or one before it) started
    conf = S.resolved_jars(S.local_conf("UTC"))
    assert "spark.jars.packages" not in conf
    jars = [Path(j) for j in conf["spark.jars"].split(",")]
    assert any(j.name.startswith("io.delta_delta-spark") for j in jars), jars
    assert all(j.is_file() for j in jars)
    assert S.resolved_jars({"spark.jars.packages": ""}) == {"spark.jars.packages": ""}

    monkeypatch.setenv("ODIBI_SPARK_IVY", str(tmp_path))  # a list naming a jar no longer there
    S._jar_list().parent.mkdir(parents=True)
    S._jar_list().write_text("io.delta_delta-spark_gone.jar\n")
    asked = {"spark.jars.packages": S.delta_package()}
    assert S.resolved_jars(asked) == asked


def test_metrics_that_never_arrive_do_not_fail_or_hang(spark):
    from odibi_dbx.engines import spark_metrics

    _, obs = spark_metrics.observe(spark.range(3))  # never run: classic get would wait forever
    got = spark_metrics.observed(obs, timeout=0.5)  # (Spark Connect answers {} at once)
    assert spark_metrics.rows_and_sample(got, 5) == (None, [])


def test_failures_say_what_is_known_of_the_previous_output(spark, tmp_path):
    from odibi_dbx.engines.base import WriteSpec
    from odibi_dbx.engines.spark import SparkEngine, SparkFrame
    from odibi_dbx.errors import NodeError

    eng = SparkEngine(spark=spark)
    eng.start()
    conn = _local(tmp_path)
    bad = spark.range(5).selectExpr("IF(id = 4, raise_error('boom'), id) AS id")
    cases = [
        (WriteSpec(node="w", connection=conn, format="delta", path="d"), "all or nothing"),
        (
            WriteSpec(node="w", connection=conn, format="parquet", path="p", mode="append"),
            "previous files were kept",
        ),
        (
            WriteSpec(node="w", connection=conn, format="parquet", table="default.odibi_pt"),
            "is not known",
        ),
    ]
    spark.sql("DROP TABLE IF EXISTS default.odibi_pt")
    for spec, said in cases:
        eng.write(SparkFrame(spark.range(3)), spec)
        with pytest.raises(NodeError) as err:
            eng.write(SparkFrame(bad), spec)
        assert said in err.value.detail, (spec.format, spec.mode, err.value.detail)
    assert spark.read.format("delta").load(str(tmp_path / "d")).count() == 3
    spark.sql("DROP TABLE IF EXISTS default.odibi_pt")
    eng.stop()


def test_merge_metrics_match_the_delta_history(spark, tmp_path):
    """MERGE INTO's own result rows and the commit in DESCRIBE HISTORY (used where a merge
    returns none, as delta-spark 3.x's Python builder) give the same counts."""
    from odibi_dbx.engines import spark_metrics
    from odibi_dbx.engines.base import WriteSpec
    from odibi_dbx.engines.spark import SparkEngine, SparkFrame

    eng = SparkEngine(spark=spark)
    eng.start()
    spec = WriteSpec(
        node="m",
        connection=_local(tmp_path),
        format="delta",
        path="t",
        mode="merge",
        merge_keys=("id",),
    )
    assert eng.write(SparkFrame(spark.range(4)), spec).rows == 4  # no table yet: created
    res = eng.write(SparkFrame(spark.range(2, 7)), spec)
    assert res.rows == 5
    assert (res.metrics["num_updated_rows"], res.metrics["num_inserted_rows"]) == (2, 3)
    commit = spark_metrics.last_commit(spark, f"delta.`{tmp_path / 't'}`")
    history = spark_metrics.merge_metrics_from_history(commit)
    assert history == {k: res.metrics[k] for k in history} and len(history) == 4
    eng.stop()


def test_written_table_reports_rows_on_every_version(spark, tmp_path):
    """Spark 4.1/4.2 lose the observation after a saveAsTable overwrite: the count then comes
    from the Delta commit, and the write is still a success."""
    from odibi_dbx.engines.base import WriteSpec
    from odibi_dbx.engines.spark import SparkEngine, SparkFrame

    eng = SparkEngine(spark=spark)
    eng.start()
    spark.sql("DROP TABLE IF EXISTS default.odibi_rows")
    spec = WriteSpec(
        node="t", connection=_local(tmp_path), format="delta", table="default.odibi_rows"
    )
    for n in (5, 6):
        frame = SparkFrame(spark.range(n))
        assert eng.write(frame, spec).rows == n
    spark.sql("DROP TABLE default.odibi_rows")
    eng.stop()


def test_get_spark_reuses_the_session(spark):
    from odibi_dbx.runtime import get_spark, is_spark_connect

    got = get_spark()
    assert is_spark_connect(got) == is_connect(spark)
    assert got.range(2).count() == 2
