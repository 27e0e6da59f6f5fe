"""The local Spark session (off Databricks): Delta enabled, small and quiet, nothing in the cwd.

On Databricks the cluster's session is used as it is (see `odibi_dbx.runtime.get_spark`).
The Delta jars are resolved by Spark itself from `spark.jars.packages` into an Ivy folder
(`make spark-jars` fills it once; later starts need no network). The jars a resolution gave are
recorded beside them, so later sessions load them as `spark.jars` without running Ivy again
(about a second of every start). The artefact matches the
installed pyspark's Scala (`delta-spark_2.12` for Spark 3.5, `_2.13` for Spark 4): a mismatch
would start a session without Delta, so a session without Delta is an error here.

    python -m odibi_dbx.engines.spark_session --fetch   # resolve the Delta jars once
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path
from typing import Any

from odibi_dbx.errors import MissingExtraError, OdibiError

_REPO = Path(__file__).resolve().parents[2]


def delta_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("delta-spark")
    except PackageNotFoundError:
        raise MissingExtraError("Delta on the Spark engine", "spark", "delta-spark") from None


def scala_version() -> str:
    """The Scala binary version of the installed pyspark: its bundled scala-library jar, else
    by the Spark major version (3.x: 2.12, 4.x: 2.13)."""
    import pyspark

    jars = Path(pyspark.__file__).parent / "jars"
    for jar in sorted(jars.glob("scala-library-*.jar")):
        m = re.match(r"scala-library-(\d+\.\d+)\.", jar.name)
        if m:
            return m.group(1)
    return "2.12" if pyspark.__version__.startswith("3.") else "2.13"


def delta_package() -> str:
    """The Maven coordinate delta-spark's own pip helper would use: from Delta 4.1 the
    artefact also names the Spark minor version it is built for (delta-spark_4.2_2.13)."""
    import pyspark

    version = delta_version()
    artifact = f"delta-spark_{scala_version()}"
    if tuple(int(p) for p in re.findall(r"\d+", version)[:2]) >= (4, 1):
        spark_minor = ".".join(pyspark.__version__.split(".")[:2])
        artifact = f"delta-spark_{spark_minor}_{scala_version()}"
    return f"io.delta:{artifact}:{version}"


def ivy_dir() -> Path:
    """Where Spark keeps the resolved jars: $ODIBI_SPARK_IVY, the repo's .ivy2/ for a source
    checkout, else ~/.ivy2."""
    if os.environ.get("ODIBI_SPARK_IVY"):
        return Path(os.environ["ODIBI_SPARK_IVY"]).expanduser()
    if (_REPO / "pyproject.toml").exists():
        return _REPO / ".ivy2"
    return Path.home() / ".ivy2"


def scratch_dir() -> Path:
    """Warehouse and Derby metastore of local sessions: a temp folder, never the cwd."""
    root = Path(os.environ.get("ODIBI_SPARK_SCRATCH") or tempfile.gettempdir()) / "odibi-spark"
    root.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix="session-", dir=root))


def local_conf(timezone: str = "UTC", scratch: Path | None = None) -> dict[str, str]:
    """Settings of a local session (the bench's hand-written PySpark script uses the same)."""
    scratch = scratch or scratch_dir()
    return {
        "spark.jars.packages": delta_package(),
        "spark.jars.ivy": str(ivy_dir()),
        "spark.sql.extensions": "io.delta.sql.DeltaSparkSessionExtension",
        "spark.sql.catalog.spark_catalog": "org.apache.spark.sql.delta.catalog.DeltaCatalog",
        "spark.sql.session.timeZone": timezone,
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
        "spark.sql.shuffle.partitions": "4",
        "spark.default.parallelism": "2",
        # Delta's log replay defaults to 50 partitions: far too many for a laptop
        "spark.databricks.delta.snapshotPartitions": "2",
        "spark.sql.execution.arrow.pyspark.enabled": "true",
        # persisted node outputs: building compressed cache batches costs more than it saves
        "spark.sql.inMemoryColumnarStorage.compressed": "false",
        "spark.sql.warehouse.dir": str(scratch / "warehouse"),
        "spark.driver.extraJavaOptions": f"-Dderby.system.home={scratch / 'derby'}",
    }


def local_session(
    timezone: str = "UTC", master: str = "local[2]", extra: dict[str, str] | None = None
) -> Any:
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise MissingExtraError("The Spark engine", "spark", "pyspark") from None
    builder = SparkSession.builder.master(master).appName("odibi-dbx")
    settings = resolved_jars({**local_conf(timezone), **(extra or {})})
    for key, value in settings.items():
        builder = builder.config(key, value)
    if not os.environ.get(VERBOSE_ENV):
        _start_jvm_quietly(settings, master)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    require_delta(spark)
    if settings.get("spark.jars.packages") == delta_package():
        _record_jars(spark)
    return spark


def _jar_list() -> Path:
    """Where the jars Ivy resolved for this Delta artefact are recorded (file names)."""
    return ivy_dir() / "odibi-resolved" / (delta_package().replace(":", "_") + ".txt")


def resolved_jars(settings: dict[str, str]) -> dict[str, str]:
    """`settings` with the Delta package swapped for the jars an earlier resolution recorded,
    when every one of them is still there; as given otherwise (Ivy resolves them then)."""
    if settings.get("spark.jars.packages") != delta_package() or not _jar_list().exists():
        return settings
    names = _jar_list().read_text(encoding="utf-8").split()
    jars = [ivy_dir() / "jars" / name for name in names]
    if not names or not all(j.is_file() for j in jars):
        return settings
    out = {k: v for k, v in settings.items() if k != "spark.jars.packages"}
    out["spark.jars"] = ",".join(filter(None, [settings.get("spark.jars"), *map(str, jars)]))
    return out


def _record_jars(spark: Any) -> None:
    """Record the jars Spark resolved from the Delta package (its `spark.jars`, those in the
    Ivy folder) for resolved_jars; written whole or not at all (sessions may start at once)."""
    folder = (ivy_dir() / "jars").resolve()
    names = []
    for jar in (spark.sparkContext.getConf().get("spark.jars", "") or "").split(","):
        path = Path(jar.removeprefix("file:").removeprefix("//"))
        if path.name.endswith(".jar") and path.resolve().parent == folder:
            names.append(path.name)
    if not any(n.startswith("io.delta_delta-spark") for n in names):
        return
    target = _jar_list()
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f"{target.name}.{os.getpid()}.tmp")
        tmp.write_text("\n".join(names) + "\n", encoding="utf-8")
        tmp.replace(target)
    except OSError:  # a read-only Ivy folder: later starts resolve again
        pass


VERBOSE_ENV = "ODIBI_VERBOSE"  # set (CLI --verbose): the JVM prints to this process's streams


def _start_jvm_quietly(settings: dict[str, str], master: str) -> None:
    """Start Spark's JVM with its output (Ivy's jar resolution, startup warnings) in a log file
    beside the session's scratch folders instead of the terminal."""
    from pyspark import SparkConf, SparkContext
    from pyspark.java_gateway import launch_gateway

    if SparkContext._gateway is not None:  # a JVM of this process already runs
        return
    log_path = Path(settings["spark.sql.warehouse.dir"]).parent / "jvm.log"
    conf = SparkConf(loadDefaults=False).setMaster(master).setAll(list(settings.items()))
    with open(log_path, "ab") as log:
        try:
            gateway = launch_gateway(conf, popen_kwargs={"stdout": log, "stderr": log})
        except Exception as exc:
            tail = log_path.read_text(encoding="utf-8", errors="replace")[-3000:]
            raise RuntimeError(f"the local Spark JVM did not start: {exc}\n{tail}") from exc
    SparkContext._gateway = gateway
    SparkContext._jvm = gateway.jvm


def has_delta(spark: Any) -> bool:
    """Delta's SQL extension is configured *and* its classes loaded (a jar built for another
    Scala version leaves the setting in place but the extension out, with only a warning)."""
    if "DeltaSparkSessionExtension" not in (spark.conf.get("spark.sql.extensions", "") or ""):
        return False
    try:  # the extension, once applied, installs Delta's SQL parser
        parser = spark._jsparkSession.sessionState().sqlParser().getClass().getName()
    except Exception:
        return False
    return "delta" in parser.lower()


def require_delta(spark: Any) -> None:
    if not has_delta(spark):
        raise OdibiError(
            f"the local Spark session started without Delta Lake: {delta_package()} is not "
            f"loadable (pyspark {_pyspark_version()}, jars in {ivy_dir()})\n"
            "    hint: install a delta-spark built for this pyspark (pip install "
            '"odibi-dbx[spark]") and fetch its jars once with `make spark-jars` (needs network); '
            "a session started earlier in this process without Delta must be stopped first"
        )


def _pyspark_version() -> str:
    import pyspark

    return pyspark.__version__


def jars_present() -> bool:
    group, artifact, version = delta_package().split(":")
    return (ivy_dir() / "jars" / f"{group}_{artifact}-{version}.jar").exists()


if __name__ == "__main__":  # make spark-jars: exits non-zero unless the jars give Delta
    import sys

    if "--fetch" in sys.argv:
        if not jars_present():
            local_session().stop()  # resolves the jars; raises OdibiError without Delta
        sys.exit(0 if jars_present() else 1)
