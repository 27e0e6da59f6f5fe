"""The Spark engine: Spark SQL runs as written, Delta through delta-spark, one session per run.

No wasted Spark work (see docs/spark-engine.md):
- a node's output is persisted only when more than one later use will read it, and not when
  a write-only node writes it as Parquet first: the other readers read that folder
  (pipeline/write_first.py);
- row counts and story samples ride on the write's own job (`DataFrame.observe`, see
  spark_metrics.py), so a story adds no Spark job; nodes that are not written report rows=None
  instead of counting.
Runs on classic Spark 3.5.0 to 4.2 and on Spark Connect: no JVM handle is required.
pyspark and delta-spark are imported only inside methods: `import odibi_dbx` needs neither.
"""

from __future__ import annotations

import itertools
import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from odibi_dbx.engines import spark_io, spark_metrics
from odibi_dbx.engines.base import (
    CheckResult,
    Engine,
    EngineCapabilities,
    ReadSpec,
    Summary,
    WriteResult,
    WriteSpec,
)
from odibi_dbx.engines.checks import check_results, unique_key
from odibi_dbx.engines.profile import profile_from, profiled
from odibi_dbx.engines.warm_up import WarmSlot
from odibi_dbx.errors import MissingExtraError, OdibiError

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame, SparkSession
    from sqlglot import exp

    from odibi_dbx.config.models import ValidationConfig
    from odibi_dbx.connections.base import Connection
    from odibi_dbx.sql.cache import CachedStep

log = logging.getLogger("odibi_dbx.engine.spark")
CACHED_PLAN_PARTITIONING = "spark.sql.optimizer.canChangeCachedPlanOutputPartitioning"


@dataclass(eq=False)
class SparkFrame:
    """A node's output: a (lazy) DataFrame plus what the write's job told us about it."""

    df: DataFrame
    rows: int | None = None  # known once written (observed) or validated
    sample: list[dict[str, Any]] = field(default_factory=list)
    sample_rows: int = 10
    profile_columns: int = 0
    profile: dict[str, dict[str, Any]] | None = None
    consumers: int = 0
    cached: bool = False
    # lazy frames run their upstream plans when written: a cached upstream stays cached until
    # every frame built on it is released (parents: the cached frames this one reads)
    parents: list[SparkFrame] = field(default_factory=list)
    children: int = 0
    released: bool = False
    # False: the plan carries an observation of its own (the rules' counts); the write adds
    # none, since Spark Connect returns only a plan's outermost observation, and leaves its
    # row count to that observation's owner (rows None)
    write_observes: bool = True
    # the row rules' counts ride on the write's own observation: the write reads the rules'
    # rows and keeps this frame's after observing them (spark_metrics.Ride)
    ride: spark_metrics.Ride | None = None
    # a write-only node writes it first; later nodes read what that wrote (no cache)
    read_back: bool = False


_warm = WarmSlot()  # SparkEngine.warm_up's session, until a start takes it


def _pyspark() -> None:
    try:
        import pyspark  # noqa: F401
    except ImportError:
        raise MissingExtraError("The Spark engine", "spark", "pyspark") from None


class SparkEngine(Engine):
    name = "spark"
    capabilities = EngineCapabilities(
        delta_merge=True,
        catalog_tables=True,
        max_parallel_nodes=2,
        frames="spark",
        reads_written_output=True,
    )

    def __init__(
        self,
        *,
        timezone: str = "UTC",
        connections: Mapping[str, Connection] | None = None,
        spark: SparkSession | None = None,
    ) -> None:
        super().__init__(timezone=timezone, connections=connections)
        self._spark = spark
        self._saved: dict[str, str | None] = {}
        self._ids = itertools.count(1)
        self._lock = threading.RLock()
        self._local = threading.local()
        self._cached: dict[int, SparkFrame] = {}

    # -- lifecycle --
    @classmethod
    def warm_up(cls, timezone: str) -> None:
        """Get the session (runtime.get_spark) in a background thread: a local JVM takes
        seconds to start, and the CLI's run validates the project meanwhile. The thread is a
        daemon, so a run that stops at validation exits at once (a JVM being started ends with
        this process: it exits when its stdin closes)."""
        from odibi_dbx.runtime import get_spark

        _warm.begin(timezone, lambda: get_spark(timezone), name="odibi-spark-start", daemon=True)

    def start(self) -> None:
        _pyspark()
        if self._spark is None:
            from odibi_dbx.runtime import get_spark

            warming = _warm.take()  # its time zone is set below either way (a runtime setting)
            if warming is not None and warming.error is not None:
                raise warming.error  # what get_spark raised (e.g. no Delta): never retried
            self._spark = warming.value if warming is not None else get_spark(self.timezone)
        spark = self._spark
        for key, value in self._session_sql_conf().items():  # restored by stop()
            self._saved[key] = spark.conf.get(key, None)
            spark.conf.set(key, value)
        self._fixed_cache_partitioning(spark)
        from odibi_dbx import runtime

        compute = runtime.detect(spark).compute
        keys = runtime.keys_in_spark_conf(compute, runtime.is_spark_connect(spark))
        for conn in self.connections.values():
            self._apply_conf(conn, keys, compute)

    def _session_sql_conf(self) -> dict[str, str]:
        return {
            "spark.sql.session.timeZone": self.timezone,
            # parquet timestamps as the Pandas engine writes them (INT96 is Spark's legacy)
            "spark.sql.parquet.outputTimestampType": "TIMESTAMP_MICROS",
        }

    def _fixed_cache_partitioning(self, spark: SparkSession) -> None:
        """Spark 3.5 lets AQE re-plan a persisted frame's output partitioning (Spark 4's
        default turns that off): every query over a persisted frame then runs under AQE, whose
        first read of the cache is a job of its own (a table-cache query stage) before the
        query's own job. Turned off, as on Spark 4, so that e.g. the quarantine write fills
        the cache in its own job. Left alone where it is off or cannot be read or set."""
        key = CACHED_PLAN_PARTITIONING
        try:
            if str(spark.conf.get(key)).lower() != "true":  # its default when unset
                return
            spark.conf.set(key, "false")
        except Exception:  # a compute that forbids the setting (serverless): Spark 4 there
            log.debug("left %s as it is", key)
            return
        self._saved[key] = "true"

    def _apply_conf(self, conn: Connection, keys: bool | None, compute: str | None) -> None:
        """Set the connection's credentials in Spark conf where the compute allows it (see
        runtime.keys_in_spark_conf); where it does not, set nothing and say once in the story
        that access goes through Unity Catalog external locations."""
        conf = conn.spark_conf()
        if conf and keys is False:
            self._uc_note(conn, f"{compute} compute")
            return
        for key, value in conf.items():
            try:
                self.spark.conf.set(key, value)
            except Exception as exc:  # never chain: the message could echo the value
                if keys is None:  # Spark Connect, compute unknown: it refused, as serverless does
                    self._uc_note(conn, f"Spark Connect ({type(exc).__name__} on setting it)")
                    return
                raise OdibiError(
                    f"connection '{conn.name}': this compute does not allow setting '{key}' in "
                    f"the Spark configuration ({type(exc).__name__}). Serverless and standard "
                    "(shared) access mode compute forbid storage account keys in Spark conf; "
                    "there, storage is reached through Unity Catalog external locations.\n"
                    "    hint: create a storage credential and an external location for the "
                    "container (and grant READ FILES / WRITE FILES), then read it with `table:` "
                    "or the abfss:// path; or run on dedicated (single user) classic compute"
                ) from None
        log.debug("applied Spark conf of connection %s", conn.name)

    def _uc_note(self, conn: Connection, where: str) -> None:
        note = (
            f"connection '{conn.name}': {where}: account key not set in Spark conf; access to "
            f"{conn.uri('')} goes through Unity Catalog external locations (one must cover it, "
            "with READ FILES / WRITE FILES granted to whoever runs the job)"
        )
        log.info(note)
        self.notes.append(note)

    def stop(self) -> None:
        """Unpersist what is still cached and restore the session time zone. The session
        itself stays up: notebooks reuse it, and a CLI run ends with the process."""
        with self._lock:
            for frame in list(self._cached.values()):
                self._maybe_unpersist(frame, force=True)
        if self._spark is not None:
            for key, value in self._saved.items():
                if value is not None:
                    self._spark.conf.set(key, value)
            self._saved.clear()

    @property
    def spark(self) -> SparkSession:
        if self._spark is None:
            self.start()
        assert self._spark is not None  # start() sets it
        return self._spark

    # -- I/O --
    def _read(self, spec: ReadSpec) -> SparkFrame:
        return SparkFrame(spark_io.read(self, spec))

    def _write(self, frame: SparkFrame, spec: WriteSpec) -> WriteResult:
        if frame.consumers > 0 and not frame.cached:
            self._persist(frame)  # later nodes read it too: the write fills the cache
        result = spark_io.write(self, frame, spec)
        if frame.read_back and _whole_parquet(spec):
            # later nodes read the folder just written (schema given: no job to infer it)
            frame.df = self.spark.read.schema(frame.df.schema).parquet(spark_io.spark_uri(spec))
            frame.read_back = False
        return result

    def observed(
        self, df: DataFrame, profile_columns: int = 0, ride: spark_metrics.Ride | None = None
    ) -> tuple[DataFrame, Callable[[SparkFrame], int | None]]:
        """`df` with a row count, column profiles and a sample collected by whatever job runs
        it, and a function that stores them on a frame (call it after that job succeeded; it
        never raises: rows stay None when the metrics cannot be had, see spark_metrics).
        `ride`: `df` is its rows, filtered to the kept ones after the observation."""
        hidden = ride.hidden if ride else ()
        columns = [c for c in _columns(df) if c[0] not in hidden]
        plan, text = profiled(columns, profile_columns), _text(columns)
        keep = ride.keep if ride else None
        out, obs = spark_metrics.observe(df, _profile_aggs(plan, text, keep), ride=ride)

        def done(frame: SparkFrame) -> int | None:
            got = spark_metrics.observed(obs)
            if ride is not None:
                ride.metrics = got
            frame.rows, frame.sample = spark_metrics.rows_and_sample(got, frame.sample_rows)
            if (
                got
                and plan
                and frame.rows is not None
                and all(f"p{i}" in got for i in _slots(plan))
            ):
                frame.profile = profile_from(frame.rows, plan, _profile_values(plan, text, got))
            return frame.rows

        return out, done

    def output_folders(self, connection: Any, path: str) -> tuple[Any, str] | None:
        """A local connection's folders move on the driver (as on the Pandas engine); others
        (abfss://) through the session's Hadoop FS on classic compute, whose renames the
        driver's blob client cannot do."""
        from odibi_dbx.engines.spark_swap import hadoop_folders

        if connection.is_local:
            return connection.folders(path)
        uri = spark_io.uri_of(connection, path)
        fs = hadoop_folders(self.spark, uri)
        return (fs, uri) if fs is not None else connection.folders(path)

    def previous_output_note(self, spec: WriteSpec, exc: BaseException) -> str:
        """What the failed write is known to have left (set by spark_io / spark_swap)."""
        from odibi_dbx.engines.spark_swap import NOTE

        return getattr(exc, NOTE, None) or (
            f"whether the previous output of {spec.target} is intact is not known: check it "
            "before rerunning"
        )

    # -- transforms --
    def sql(
        self,
        query: str,
        views: Mapping[str, SparkFrame],
        tree: exp.Expr | CachedStep | None = None,
    ) -> tuple[SparkFrame, str | None]:
        from odibi_dbx.engines.spark_sql import with_view_names

        by_key = {k.lower(): v for k, v in views.items()}
        names: dict[str, str] = {}
        text = with_view_names(
            query,
            by_key,
            lambda key: names.setdefault(key, f"odibi_view_{next(self._ids)}"),
            tree=tree,
        )
        spark = self.spark
        try:
            for key, view in names.items():
                by_key[key].df.createOrReplaceTempView(view)
            df = spark.sql(text)  # analysed now: the views can go right after
        finally:
            for view in names.values():
                self._drop_view(view)
        return self._link(SparkFrame(df), [by_key[k] for k in names]), None

    def _drop_view(self, name: str) -> None:
        """Forget a temp view without `catalog.dropTempView`, which also uncaches any cached
        DataFrame with the same plan (a persisted node output). Spark Connect has no such
        call: there the uniquely named view is left to the session."""
        session: Any = self._spark  # a py4j call: classic Spark only
        try:
            session._jsparkSession.sessionState().catalog().dropTempView(name)
        except Exception:
            log.debug("temp view %s left in the session", name)

    def _link(self, frame: SparkFrame, sources: list[SparkFrame]) -> SparkFrame:
        deps: dict[int, SparkFrame] = {}
        for src in sources:
            for dep in [src] if src.cached else src.parents:
                deps[id(dep)] = dep
        with self._lock:
            frame.parents = list(deps.values())
            for dep in frame.parents:
                dep.children += 1
        return frame

    def to_user(self, frame: SparkFrame) -> DataFrame:
        handed = getattr(self._local, "handed", None)
        if handed is None:
            handed = self._local.handed = []
        handed.append(frame)  # what a function step may build on (see from_user)
        return frame.df

    def from_user(self, df: Any) -> SparkFrame:
        from pyspark.sql import DataFrame

        handed, self._local.handed = getattr(self._local, "handed", None) or [], []
        if isinstance(df, DataFrame):
            return self._link(SparkFrame(df), handed)
        try:
            import pandas as pd
        except ImportError:  # pragma: no cover - pandas comes with the core
            pd = None
        if pd is not None and isinstance(df, pd.DataFrame):
            return SparkFrame(self.spark.createDataFrame(df))
        raise TypeError(
            f"a function step must return a Spark DataFrame (or pandas) on the spark engine, "
            f"got {type(df).__name__}"
        )

    # -- node outputs --
    def finish(
        self,
        frame: SparkFrame,
        *,
        key: str,
        consumers: int,
        cache: bool = False,
        streamed: bool = False,
        stable: bool = False,
        written_first: bool = False,
    ) -> SparkFrame:
        frame.consumers = consumers
        if written_first and not cache:  # the write-only node that writes it re-points it
            frame.read_back = True
        if (consumers > 1 or cache) and not frame.cached and not frame.read_back:
            self._persist(frame)
        return frame

    def _persist(self, frame: SparkFrame) -> None:
        from pyspark import StorageLevel

        frame.df = frame.df.persist(StorageLevel.MEMORY_AND_DISK)
        frame.cached = True
        with self._lock:
            self._cached[id(frame)] = frame

    def release(self, frame: SparkFrame) -> None:
        """Unpersist once nothing needs the output: neither later nodes nor lazy frames
        built on it that are still to run."""
        with self._lock:
            frame.released = True
            self._maybe_unpersist(frame)
            parents, frame.parents = frame.parents, []
            for dep in parents:
                dep.children -= 1
                self._maybe_unpersist(dep)

    def _maybe_unpersist(self, frame: SparkFrame, force: bool = False) -> None:
        if frame.cached and (force or (frame.released and frame.children <= 0)):
            frame.df.unpersist(blocking=False)
            frame.cached = False
            self._cached.pop(id(frame), None)

    def row_count(self, frame: SparkFrame) -> int | None:
        return frame.rows  # known once written (observed) or validated; never a new job

    def summarize(
        self,
        frame: SparkFrame,
        sample_rows: int,
        profile_columns: int = 0,
        *,
        defer_profile: bool = False,
    ) -> Summary:
        """No Spark job: the schema is known; rows, profile and sample come with the write
        (or with the validation job, when the node has one)."""
        frame.sample_rows, frame.profile_columns = sample_rows, profile_columns
        return Summary(frame.rows, _columns(frame.df), frame.sample[:sample_rows], frame.profile)

    def failing_rows(
        self, frame: SparkFrame, validation: ValidationConfig, limit: int
    ) -> list[dict[str, Any]]:
        """One small job, only for a node whose validation failed (nothing is written then)."""
        from pyspark.sql import Window
        from pyspark.sql import functions as F

        df = frame.df
        names = set(df.columns)
        cond = [spark_metrics.column(c).isNull() for c in validation.no_nulls if c in names]
        key = unique_key(validation, dict.fromkeys(names, ""))
        if key:
            w = Window.partitionBy(*[spark_metrics.column(c) for c in key])
            df = df.withColumn("__odibi_n", F.count(F.lit(1)).over(w))
            cond.append(F.col("__odibi_n") > 1)
        if not cond or limit <= 0:
            return []
        either = cond[0]
        for c in cond[1:]:
            either = either | c
        rows = df.filter(either).limit(limit).collect()
        return [
            {k: v for k, v in r.asDict(recursive=True).items() if k != "__odibi_n"} for r in rows
        ]

    def check(self, frame: SparkFrame, validation: ValidationConfig) -> list[CheckResult]:
        """One aggregation job for every check; the output is persisted first, so the write
        and later nodes do not compute it again."""
        from pyspark.sql import functions as F

        if not frame.cached:
            self._persist(frame)
        df = frame.df
        columns = _columns(df)  # the schema read once (a round trip on Spark Connect)
        types = dict(columns)
        nulls = [c for c in validation.no_nulls if c in types]
        key = unique_key(validation, types)
        plan, text = profiled(columns, frame.profile_columns), _text(columns)
        aggs = [F.count(F.lit(1)).alias("rows"), *_profile_aggs(plan, text)]
        aggs += [
            F.sum(spark_metrics.column(c).isNull().cast("long")).alias(f"n{i}")
            for i, c in enumerate(nulls)
        ]
        if key:
            aggs.append(
                F.count_distinct(F.struct(*[spark_metrics.column(c) for c in key])).alias("d")
            )
        first = df.agg(*aggs).first()
        assert first is not None  # an aggregation without groups has one row
        got = first.asDict()
        rows = int(got["rows"])
        frame.rows = rows
        if plan:  # the profile rides on the validation job
            frame.profile = profile_from(rows, plan, _profile_values(plan, text, got))
        return check_results(
            validation,
            types,
            rows,
            {c: int(got[f"n{i}"] or 0) for i, c in enumerate(nulls)},
            rows - int(got["d"]) if key else None,
        )


def _whole_parquet(spec: WriteSpec) -> bool:
    """A write whose target then holds exactly the written rows, in Spark's own types."""
    return (
        spec.format == "parquet"
        and spec.mode == "overwrite"
        and not spec.table
        and not spec.partition_by
        and spec.path is not None
    )


def _columns(df: DataFrame) -> list[tuple[str, str]]:
    return [(f.name, f.dataType.simpleString()) for f in df.schema.fields]


def _slots(plan: list[tuple[str, bool]]) -> range:
    return range(sum(3 if ordered else 1 for _, ordered in plan))


def _text(columns: list[tuple[str, str]]) -> frozenset[str]:
    """The plain (binary-ordered) string columns: their min/max are taken over their bytes."""
    return frozenset(name for name, typ in columns if typ == "string")


def _profile_aggs(
    plan: list[tuple[str, bool]], text: frozenset[str] = frozenset(), keep: Column | None = None
) -> list[Column]:
    """Per profiled column: non-null count, then min and max where they apply (p0, p1, ...);
    of the rows where `keep` holds, if given. A `text` column's min and max are those of its
    UTF-8 bytes, which order as its strings do: an aggregate keeping a string copies it on
    every row (Spark copies strings into the aggregate's buffer), bytes once per row for both
    (about half the memory the profile allocates for each string column)."""
    from pyspark.sql import functions as F

    out = []
    for name, ordered in plan:
        col = (
            spark_metrics.column(name) if keep is None else F.when(keep, spark_metrics.column(name))
        )
        ends = col.cast("binary") if name in text else col
        out += [F.count(col)] + ([F.min(ends), F.max(ends)] if ordered else [])
    return [agg.alias(f"p{i}") for i, agg in enumerate(out)]


def _profile_values(plan: list[tuple[str, bool]], text: frozenset[str], got: Any) -> list[Any]:
    """The values of _profile_aggs' slots, a text column's min and max as strings again."""
    values = [got[f"p{i}"] for i in _slots(plan)]
    i = 0
    for name, ordered in plan:
        if ordered and name in text:
            values[i + 1 : i + 3] = [_decoded(v) for v in values[i + 1 : i + 3]]
        i += 3 if ordered else 1
    return values


def _decoded(v: Any) -> Any:
    return bytes(v).decode("utf-8", "replace") if isinstance(v, (bytes, bytearray)) else v
