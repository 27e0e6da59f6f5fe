"""Where are we running? One module answers it: Databricks (and which compute), Jupyter, or
plain Python. Everything else asks here. Nothing here touches the network or dbutils at import.

    runtime.kind()          "databricks" | "jupyter" | "ci" | "local"  (env ODIBI_RUNTIME overrides)
    runtime.detect(spark)   RuntimeInfo: DBR version, compute (classic / standard / serverless)
    runtime.get_dbutils()   dbutils on Databricks, else None
    runtime.get_spark()     the session: active, Spark Connect, Databricks Connect, local
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

KINDS = ("databricks", "jupyter", "ci", "local")
OVERRIDE_ENV = "ODIBI_RUNTIME"


def on_databricks() -> bool:
    return kind() == "databricks"


def in_jupyter() -> bool:
    ip = sys.modules.get("IPython")
    shell = ip.get_ipython() if ip and hasattr(ip, "get_ipython") else None
    return shell is not None and type(shell).__name__ == "ZMQInteractiveShell"


def kind() -> str:
    forced = os.environ.get(OVERRIDE_ENV, "").strip().lower()
    if forced:
        if forced not in KINDS:
            raise ValueError(f"{OVERRIDE_ENV}={forced!r} is not one of {', '.join(KINDS)}")
        return forced
    if "DATABRICKS_RUNTIME_VERSION" in os.environ:
        return "databricks"
    if in_jupyter():
        return "jupyter"
    return "ci" if os.environ.get("CI") else "local"


def run_context() -> dict[str, Any]:
    """Facts a story records about where it ran (no secrets, no network)."""
    info: dict[str, Any] = {"runtime": kind(), "python": sys.version.split()[0]}
    if on_databricks():
        info["databricks_runtime"] = os.environ.get("DATABRICKS_RUNTIME_VERSION")
        for key, env in (
            ("cluster_id", "DATABRICKS_CLUSTER_ID"),
            ("job_id", "DATABRICKS_JOB_ID"),
            ("job_run_id", "DATABRICKS_RUN_ID"),
            ("workspace_url", "DATABRICKS_HOST"),
        ):
            if os.environ.get(env):
                info[key] = os.environ[env]
    return info


# -- Databricks compute ---------------------------------------------------------------------------

_TAG = "spark.databricks.clusterUsageTags."


@dataclass(frozen=True)
class RuntimeInfo:
    """What `detect()` found. `compute` is classic / standard / serverless / unknown / None."""

    kind: str
    python: str
    databricks_runtime: str | None = None  # DATABRICKS_RUNTIME_VERSION, e.g. "15.4" or "client.2.1"
    compute: str | None = None
    access_mode: str | None = None  # the cluster's data security mode, when Spark conf tells it
    cluster_id: str | None = None
    workspace_url: str | None = None
    workspace_id: str | None = None
    spark_connect: bool = False

    @property
    def dbr_version(self) -> tuple[int, int] | None:
        """(major, minor) of a classic Databricks Runtime; None on serverless or off Databricks."""
        m = re.match(r"^(\d+)\.(\d+)", self.databricks_runtime or "")
        return (int(m.group(1)), int(m.group(2))) if m else None

    @property
    def service_credentials_supported(self) -> bool | None:
        """UC service credentials from notebooks: GA on DBR 16.2+, preview on 15.4 LTS."""
        v = self.dbr_version
        if self.compute == "serverless":
            return True
        return None if v is None else v >= (16, 2)

    @property
    def account_keys_allowed(self) -> bool | None:
        """Serverless and standard access mode refuse fs.azure.account.key.* in Spark conf."""
        if self.compute in ("serverless", "standard"):
            return False
        return True if self.compute == "classic" else None

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v not in (None, False)}


def detect(spark: Any = None) -> RuntimeInfo:
    """Describe the runtime. Reads env vars and, when a Spark session is given or already active,
    its conf (never starts one, never calls the network)."""
    k, python = kind(), sys.version.split()[0]
    if k != "databricks":
        return RuntimeInfo(kind=k, python=python)
    version = os.environ.get("DATABRICKS_RUNTIME_VERSION")
    spark = spark if spark is not None else _active_spark()
    connect = spark is not None and is_spark_connect(spark)
    conf = _conf_reader(spark)
    mode = conf(_TAG + "dataSecurityMode") or conf(_TAG + "clusterUnityCatalogMode")
    compute = _compute(version, mode, connect, conf(_TAG + "clusterId"))
    host = conf("spark.databricks.workspaceUrl") or os.environ.get("DATABRICKS_HOST")
    return RuntimeInfo(
        kind=k,
        python=python,
        databricks_runtime=version,
        compute=compute,
        access_mode=mode,
        cluster_id=conf(_TAG + "clusterId") or os.environ.get("DATABRICKS_CLUSTER_ID"),
        workspace_url=host,
        workspace_id=conf(_TAG + "clusterOwnerOrgId"),
        spark_connect=connect,
    )


def keys_in_spark_conf(compute: str | None, spark_connect: bool) -> bool | None:
    """May storage account keys go into the session's Spark conf? False on serverless and
    standard access mode compute (they refuse it; Unity Catalog external locations grant the
    access there), None on a Spark Connect session of unknown compute (e.g. Databricks Connect:
    try, and take a refusal to mean the same), else True."""
    if compute in ("serverless", "standard"):
        return False
    if spark_connect and compute in (None, "unknown"):
        return None
    return True


def _compute(version: str | None, mode: str | None, connect: bool, cluster_id: str | None) -> str:
    # Serverless: runtime "client.X.Y" [U: check in a workspace], no cluster usage tags
    # (CONFIG_NOT_AVAILABLE), or the explicit env var some images set.
    if os.environ.get("DATABRICKS_SERVERLESS", "").lower() in ("1", "true") or (
        version or ""
    ).startswith("client."):
        return "serverless"
    m = (mode or "").upper()
    if m in ("USER_ISOLATION", "SHARED", "STANDARD", "DATA_SECURITY_MODE_STANDARD"):
        return "standard"
    if m in (
        "SINGLE_USER",
        "DEDICATED",
        "NONE",
        "LEGACY_SINGLE_USER",
        "DATA_SECURITY_MODE_DEDICATED",
    ):
        return "classic"
    if connect and cluster_id is None:
        return "serverless"
    if cluster_id is not None:
        return "classic"
    return "unknown"


def _active_spark() -> Any:
    if "pyspark" not in sys.modules:  # never import Spark just to look
        return None
    try:
        from pyspark.sql import SparkSession

        return SparkSession.getActiveSession()
    except Exception:  # a Spark that cannot answer is no Spark
        return None


def _conf_reader(spark: Any) -> Callable[[str], str | None]:
    def read(key: str) -> str | None:
        if spark is None:
            return None
        try:
            value = spark.conf.get(key, None)
        except Exception:  # serverless raises CONFIG_NOT_AVAILABLE for cluster usage tags
            return None
        return str(value) if value not in (None, "") else None

    return read


def get_dbutils(spark: Any = None) -> Any:
    """dbutils on Databricks (notebook global, databricks-sdk, pyspark.dbutils), else None."""
    ip = sys.modules.get("IPython")
    shell = ip.get_ipython() if ip and hasattr(ip, "get_ipython") else None
    if shell is not None and shell.user_ns.get("dbutils") is not None:
        return shell.user_ns["dbutils"]
    from_main = getattr(sys.modules.get("__main__"), "dbutils", None)
    if from_main is not None:
        return from_main
    if not on_databricks():
        return None
    try:
        from databricks.sdk.runtime import dbutils

        return dbutils
    except Exception:  # older runtimes: build it from the session
        pass
    try:
        from pyspark.dbutils import DBUtils

        return DBUtils(spark if spark is not None else _active_spark())
    except Exception:
        return None


def widget(
    name: str, default: str = "", *, env: str | None = None, label: str | None = None
) -> str:
    """A notebook parameter. On Databricks a text widget (created with `default` if missing; job
    parameters fill it); elsewhere env var `env` (default ODIBI_<NAME>), else `default`."""
    dbutils = get_dbutils()
    if dbutils is not None:
        try:
            dbutils.widgets.text(name, default, label or name)
        except Exception:  # already defined in this notebook
            pass
        try:
            return str(dbutils.widgets.get(name)).strip()
        except Exception:  # no widget support (e.g. a plain Python task): fall through
            pass
    return os.environ.get(env or f"ODIBI_{name.upper()}", default).strip()


def is_spark_connect(spark: Any) -> bool:
    """A Spark Connect session (serverless, standard access mode, Databricks Connect,
    `SPARK_REMOTE`): no sparkContext, no JVM handles."""
    return type(spark).__module__.startswith("pyspark.sql.connect")


def get_spark(timezone: str = "UTC") -> Any:
    """The Spark session, first found of: the active (or default) one, e.g. a Databricks
    cluster's or a notebook's; a Spark Connect session when `SPARK_REMOTE` is set; a Databricks
    Connect session when `databricks-connect` is installed; on Databricks the cluster's; else a
    new local session with Delta (see odibi_dbx.engines.spark_session)."""
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        from odibi_dbx.errors import MissingExtraError

        raise MissingExtraError("The Spark engine", "spark", "pyspark") from None
    spark = SparkSession.getActiveSession()
    if spark is None:
        try:
            spark = SparkSession.active()  # the default session, from another thread
        except Exception:
            spark = None
    if spark is not None:
        return spark
    if os.environ.get("SPARK_REMOTE"):  # pyspark's builder connects to it (a master would fail)
        return SparkSession.builder.getOrCreate()
    databricks_connect = _databricks_connect()
    if databricks_connect is not None:
        return databricks_connect.builder.getOrCreate()
    if on_databricks():
        return SparkSession.builder.getOrCreate()
    from odibi_dbx.engines.spark_session import local_session

    return local_session(timezone)


def _databricks_connect() -> Any:
    """`DatabricksSession` when databricks-connect is installed (it replaces pyspark, so no
    local session could start anyway); configured by its own env vars / profile."""
    try:
        from databricks.connect import DatabricksSession
    except ImportError:
        return None
    return DatabricksSession
