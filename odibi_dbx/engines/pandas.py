"""The Pandas engine: DuckDB runs the SQL, delta-rs does Delta, pandas only meets user functions.

Node outputs live in one in-memory DuckDB database per run, so SQL steps never round-trip
through pandas. An output is a table (columnar, spillable, row count known when created) unless
a pass over it costs less than a copy: a node read only by its own Parquet write streams into it
(DuckDB reads, transforms and writes in one query), and a Parquet read stays a view over its
files while nothing in the run can change them (rows and statistics from the footers).
"""

from __future__ import annotations

import itertools
import os
import tempfile
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

import duckdb

from odibi_dbx.data_errors import DataError
from odibi_dbx.engines import pandas_io, quote
from odibi_dbx.engines.base import (
    CheckResult,
    Engine,
    ReadSpec,
    Summary,
    WriteResult,
    WriteSpec,
)
from odibi_dbx.engines.checks import check_results, unique_key
from odibi_dbx.engines.duck_errors import spark_errors
from odibi_dbx.engines.pandas_checks import PandasChecks
from odibi_dbx.engines.profile import profile_from, profiled
from odibi_dbx.engines.types import spark_type_name
from odibi_dbx.engines.warm_up import WarmSlot
from odibi_dbx.engines.write_stats import MISSING, known_values, parquet_footers

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa
    from sqlglot import exp

    from odibi_dbx.config.models import ValidationConfig
    from odibi_dbx.connections.base import Connection
    from odibi_dbx.sql.cache import CachedStep

T = TypeVar("T")
# DuckDB cannot bind the translated step: a function or argument types it lacks
_BIND_ERRORS = (
    duckdb.BinderException,
    duckdb.CatalogException,
    duckdb.ParserException,
    duckdb.NotImplementedException,
)


def _connect(timezone: str) -> duckdb.DuckDBPyConnection:
    """A new in-memory database in the session time zone."""
    con = duckdb.connect(":memory:")
    con.execute(f"SET TimeZone = '{timezone}'")
    return con


_warm = WarmSlot()  # PandasEngine.warm_up's database, until a start takes it


def _take_opened(timezone: str) -> duckdb.DuckDBPyConnection | None:
    """The database warm_up opened for this time zone (taken once), or None (start then
    connects itself, and meets any error where it always did)."""
    warming = _warm.take()
    if warming is None or warming.value is None:
        return None
    if warming.key != timezone:
        warming.value.close()
        return None
    return warming.value


@dataclass
class DuckFrame:
    """A relation in the run's DuckDB database: a view (lazy) or a table (materialized)."""

    name: str  # quoted identifier
    rows: int | None = None
    table: bool = False
    temp: list[tuple[str, str]] = field(default_factory=list)  # views/registrations it rests on
    columns: dict[str, str] | None = None  # name -> DuckDB type, once asked
    # name -> Spark type where DuckDB's type does not tell it (an interval's family and fields)
    spark_types: dict[str, str] = field(default_factory=dict)
    profile: dict[str, dict[str, Any]] | None = None  # once computed (write-only nodes share it)
    profile_plan: list[tuple[str, bool]] | None = None  # a profile the write is to give
    file_stats: list[dict[str, Any]] | None = None  # per Parquet part file written: its statistics
    # streamed: left unmaterialised for the node's own write, the one pass over it; rows,
    # sample and profile then come from the write and the files it wrote
    streamed: bool = False
    sample_rows: int = 0  # the sample a streamed write is to give (or gave, once taken)
    sample: list[dict[str, Any]] | None = None
    # a plain Parquet read: its files (a read_parquet list), whose footers give rows and stats
    parquet: str | None = None
    shared: bool = False  # left lazy for later nodes: its views live until it is released
    # a CSV read whose INT columns were judged on a sample: (its view, the exact SELECT)
    guess: tuple[str, Callable[[], str]] | None = None
    backing: str | None = None  # a view of the kept rows over this table (the rules' pass)


class PandasEngine(PandasChecks, Engine):  # name, capabilities, sql_problems: PandasChecks
    def __init__(
        self,
        *,
        timezone: str = "UTC",
        connections: Mapping[str, Connection] | None = None,
        threads: int | None = None,
    ) -> None:
        super().__init__(timezone=timezone, connections=connections)
        self._threads = threads
        self._con: duckdb.DuckDBPyConnection | None = None
        self._ids = itertools.count(1)
        self._local = threading.local()
        self._tmp: tempfile.TemporaryDirectory | None = None
        self._folders: set[str] = set()  # the only folders DuckDB may touch once sealed
        self._sealed = False
        self._seal_lock = threading.Lock()  # nodes run in threads: seal once

    # -- lifecycle --
    @classmethod
    def warm_up(cls, timezone: str) -> None:
        """Open the run's database in a background thread: DuckDB releases the GIL while it
        creates a database and loads the time zones, so that overlaps the caller's Python work
        (about 30 ms of CPU, most of a small run's engine start)."""
        _warm.begin(timezone, lambda: _connect(timezone), name="odibi-duckdb-open")

    def start(self) -> None:
        self._tmp = tempfile.TemporaryDirectory(prefix="odibi-duckdb-")
        con = _take_opened(self.timezone) or _connect(self.timezone)
        con.execute(f"SET temp_directory = '{self._tmp.name}'")
        con.execute("SET preserve_insertion_order = true")
        if self._threads:
            con.execute(f"SET threads = {int(self._threads)}")
        self._con = con
        self._sealed = False
        self._folders = {self._tmp.name}
        for conn in self.connections.values():
            root = getattr(conn, "root", None) if conn.is_local else None
            if root:
                self._folders.add(str(root))

    def stop(self) -> None:
        if self._con is not None:
            self._con.close()
            self._con = None
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    @property
    def con(self) -> duckdb.DuckDBPyConnection:
        """A cursor for the calling thread (DuckDB connections are not shared across threads)."""
        if self._con is None:
            self.start()
        assert self._con is not None
        cur = getattr(self._local, "cur", None)
        if cur is None or getattr(self._local, "owner", None) is not self._con:
            cur = self._con.cursor()
            cur.execute(f"SET TimeZone = '{self.timezone}'")
            self._local.cur, self._local.owner = cur, self._con
        return cur

    def allow_folder(self, path: str) -> None:
        """Let DuckDB read/write under `path` (the engine's own I/O); refused once sealed."""
        folder = os.path.realpath(path)
        if self._sealed and not any(_under(folder, f) for f in self._folders):
            raise PermissionError(
                f"{path} is outside the folders this run's connections cover "
                f"({', '.join(sorted(self._folders))}): the Pandas engine turns file access off "
                "once SQL steps run; give the file a connection in the project"
            )
        self._folders.add(folder)

    def _seal(self) -> None:
        """Turn DuckDB's external access off (one-way) before user SQL runs.

        Only the run's own folders stay reachable (connection roots, files read so far, the
        temp folder), so the engine's reads and writes keep working while user SQL cannot reach
        any other file, extension or database (COPY/ATTACH/INSTALL fail too).
        """
        with self._seal_lock:
            if self._sealed:
                return
            if self._con is None:
                self.start()
            assert self._con is not None
            folders = ", ".join(_lit(f.rstrip("/") + "/") for f in sorted(self._folders))
            self._con.execute(f"SET allowed_directories = [{folders}]")
            self._con.execute("SET enable_external_access = false")
            self._sealed = True

    def _new_name(self, prefix: str) -> str:
        return quote.duckdb(f"{prefix}_{next(self._ids)}")

    # -- I/O --
    def _read(self, spec: ReadSpec) -> DuckFrame:
        name = self._new_name("read")
        if spec.connection.is_local and spec.format != "delta":  # delta-rs reads Delta
            uri = spec.connection.uri(spec.path or "")
            self.allow_folder(uri if os.path.isdir(uri) else os.path.dirname(uri) or ".")
        if spec.format == "delta":  # a one-shot Arrow stream: copy it in once
            rows = pandas_io.read_delta_into(self, spec, name)
            return self._tz_aware(DuckFrame(name, rows=rows, table=True))
        source, opts = pandas_io.source(self, spec)
        guessed: list[str] = []
        sql = pandas_io.format_sql(self, spec.format, source, opts, spec.schema, guessed)
        self.con.execute(f"CREATE VIEW {name} AS {sql}")
        parquet = source if spec.format == "parquet" else None
        frame = self._tz_aware(DuckFrame(name, temp=[("view", name)], parquet=parquet))
        if guessed:
            frame.guess = (
                name,
                lambda: pandas_io.format_sql(self, spec.format, source, opts, spec.schema),
            )
        return frame

    def settle(self, frame: DuckFrame) -> None:
        """Replace a CSV read's INT types judged on a sample by the exact ones (one scan)."""
        if frame.guess is None:
            return
        view, exact = frame.guess
        self.con.execute(f"CREATE OR REPLACE VIEW {view} AS {exact()}")
        frame.guess, frame.columns = None, None

    def _settling(self, frame: DuckFrame, run: Callable[[], T]) -> T:
        """`run` a query over the frame; a sampled INT guess it proves wrong is settled, and
        `run` runs again."""
        try:
            return run()
        except (duckdb.ConversionException, DataError):
            if frame.guess is None:
                raise
            self.settle(frame)
            return run()

    def _write(self, frame: DuckFrame, spec: WriteSpec) -> WriteResult:
        from odibi_dbx.sql.result_types import base_types

        intervals = [c for c, t in self._columns(frame).items() if "INTERVAL" in base_types(t)]
        if intervals:  # Spark refuses it too (Parquet, Delta and CSV have no interval type)
            raise ValueError(
                f"column(s) {', '.join(intervals)} hold intervals, which {spec.format} cannot "
                "store (Spark refuses them too); write numbers instead, e.g. "
                "extract(DAY FROM i) or unix_timestamp(a) - unix_timestamp(b)"
            )
        if spec.connection.is_local and spec.format != "delta":
            self.allow_folder(os.path.dirname(spec.connection.uri(spec.path or "")) or ".")
        if spec.format == "delta":  # delta-rs consumes the rows: no second try
            self.settle(frame)
        return self._settling(frame, lambda: self._write_once(frame, spec))

    def _write_once(self, frame: DuckFrame, spec: WriteSpec) -> WriteResult:
        frame.file_stats = None
        if frame.streamed and not pandas_io.reads_back(spec):  # the story's sample needs a table
            table = self._materialize(frame)
            frame.name, frame.rows, frame.table, frame.temp = table.name, table.rows, True, []
            frame.streamed = False
        if frame.streamed:  # the node's SQL runs in the write: its data errors are Spark's
            with spark_errors():
                result = pandas_io.write(self, frame, spec)
        else:
            result = pandas_io.write(self, frame, spec)
        if frame.streamed:
            frame.rows = result.rows
        elif frame.profile_plan:  # what the write's statistics do not give: one aggregate
            frame.profile = self._profile(frame, frame.profile_plan, frame.file_stats)
            frame.profile_plan = frame.file_stats = None
        return result

    def written(self, frame: DuckFrame, files: str, rows: int) -> None:
        """A streamed frame's sample and profile, from the Parquet files its write just wrote
        (`files`: a read_parquet call giving the frame's columns) and the write's statistics."""
        frame.rows = rows
        frame.sample = self._head(files, frame.sample_rows)
        if frame.profile_plan:
            frame.profile = self._profile(frame, frame.profile_plan, frame.file_stats, files)
        frame.profile_plan = frame.file_stats = None

    def _columns(self, frame: DuckFrame) -> dict[str, str]:
        """Column name -> DuckDB type (cached: a relation's schema never changes)."""
        if frame.columns is None:
            frame.columns = {
                c[0]: c[1] for c in self.con.execute(f"DESCRIBE {frame.name}").fetchall()
            }
        return frame.columns

    def spark_schema(self, frame: DuckFrame) -> dict[str, str]:
        """Column name -> the type the SQL translation reads: DuckDB's, except a naive
        TIMESTAMP, which is Spark's TIMESTAMP_NTZ (the engine's instants are TIMESTAMPTZ), and
        the columns whose Spark type the frame records (intervals)."""
        return {
            c: frame.spark_types.get(c) or ("TIMESTAMP_NTZ" if t == "TIMESTAMP" else t)
            for c, t in self._columns(frame).items()
        }

    def spark_type_names(self, frame: DuckFrame) -> dict[str, str]:
        """Column name -> Spark's type name (simpleString), as stories and schemas show it."""
        return {
            c: frame.spark_types.get(c) or spark_type_name(t)
            for c, t in self._columns(frame).items()
        }

    def _tz_aware(self, frame: DuckFrame) -> DuckFrame:
        """Every timestamp becomes the engine's one timestamp type, TIMESTAMPTZ (Spark's
        `timestamp`: an instant in microseconds): naive ones read from files are instants in the
        session zone, as on Spark; tz-aware ones of another unit (pandas < 2 hands over
        nanoseconds: TIMESTAMPTZ_NS) are the same instants, truncated to microseconds as Spark
        and Delta store them."""
        cols = self.con.execute(f"DESCRIBE {frame.name}").fetchall()
        other = [c[0] for c in cols if _other_timestamp(c[1])]
        if not other:
            frame.columns = {c[0]: c[1] for c in cols}  # described once (see _columns)
            return frame
        repl = ", ".join(
            f"CAST({quote.duckdb(c)} AS TIMESTAMPTZ) AS {quote.duckdb(c)}" for c in other
        )
        name = self._new_name("tz")
        self.con.execute(f"CREATE VIEW {name} AS SELECT * REPLACE ({repl}) FROM {frame.name}")
        return DuckFrame(name, temp=[*frame.temp, ("view", name)], parquet=frame.parquet)

    # -- transforms --
    def sql(
        self, query: str, views: Mapping[str, DuckFrame], tree: exp.Expr | CachedStep | None = None
    ) -> tuple[DuckFrame, str]:
        from odibi_dbx.sql import cache
        from odibi_dbx.sql.result_types import bind_problem, result_type_problem, typed_results

        for view in views.values():
            self.settle(view)
        translated, hints = cache.translate(  # loads the translator only on a cache miss
            query,
            tree,
            schema={k.lower(): self.spark_schema(v) for k, v in views.items()},
            tables={k.lower(): v.name for k, v in views.items()},
        )
        name = self._new_name("step")
        self._seal()
        try:  # binds only: no data is read (constants may be computed: Spark's errors)
            with spark_errors():
                cols = self.con.execute(f"DESCRIBE {translated}").fetchall()
        except _BIND_ERRORS as exc:
            problem = bind_problem(exc)
            if problem is None:
                raise
            raise problem from None
        typed = typed_results({c[0]: c[1] for c in cols}, hints)
        problem = result_type_problem({c[0]: c[1] for c in cols if c[0] not in typed})
        if problem is not None:
            raise problem
        with spark_errors():
            self.con.execute(f"CREATE VIEW {name} AS {translated}")
        temp = [t for v in views.values() if not (v.table or v.shared) for t in v.temp]
        intervals = {c: t for c, t in typed.items() if t.startswith("interval")}
        frame = DuckFrame(name, temp=[*dict.fromkeys(temp), ("view", name)], spark_types=intervals)
        return frame, translated

    def to_user(self, frame: DuckFrame) -> pd.DataFrame:
        import pandas as pd

        self.settle(frame)
        with spark_errors():  # a SQL step's result read by the next function step
            table = self.con.sql(f"SELECT * FROM {frame.name}").to_arrow_table()
        if int(pd.__version__.split(".")[0]) < 2:
            # pandas 1.5 (DBR 15.4 LTS): ArrowDtype is experimental (no .round(), .dt, ...), so
            # use numpy/nullable dtypes; nullable ints and bools keep their type through nulls.
            return table.to_pandas(types_mapper=_nullable_dtype)
        return table.to_pandas(types_mapper=pd.ArrowDtype)

    def to_lazy(self, frame: DuckFrame) -> duckdb.DuckDBPyRelation:
        """A DuckDB relation over the frame: Narwhals function steps stay lazy in DuckDB."""
        self.settle(frame)
        return self.con.sql(f"SELECT * FROM {frame.name}")

    def from_user(self, df: Any) -> DuckFrame:
        import pyarrow as pa

        if isinstance(df, duckdb.DuckDBPyRelation):
            with spark_errors():  # a Narwhals function step's lazy query runs here
                data = _spark_integers(df).to_arrow_table()
        elif isinstance(df, (pa.Table, pa.RecordBatchReader)):
            data = df
        elif hasattr(df, "to_arrow") and not hasattr(df, "to_pandas"):
            data = df.to_arrow()
        else:
            import pandas as pd

            if not isinstance(df, pd.DataFrame):
                raise TypeError(
                    f"a function step must return a pandas DataFrame on the pandas engine, "
                    f"got {type(df).__name__}"
                )
            data = pa.Table.from_pandas(df, preserve_index=False)
        name = self._new_name("fn")
        self.con.register(name.strip('"'), data)
        return self._tz_aware(DuckFrame(name, temp=[("arrow", name)]))

    # -- node outputs --
    def finish(
        self,
        frame: DuckFrame,
        *,
        key: str,
        consumers: int,
        cache: bool = False,
        streamed: bool = False,
        stable: bool = False,
        written_first: bool = False,
    ) -> DuckFrame:
        if frame.table:
            return frame
        if streamed and not consumers and not cache:  # the write reads the relation once
            temp = [] if frame.shared else list(frame.temp)  # a shared input's views stay
            return DuckFrame(
                frame.name,
                temp=temp,
                streamed=True,
                guess=frame.guess,
                columns=frame.columns,
                spark_types=frame.spark_types,
            )
        if frame.parquet and stable and not cache:  # later nodes read the files as a copy
            frame.shared = True
            return frame
        return self._settling(frame, lambda: self._materialize(frame))

    def _materialize(self, frame: DuckFrame) -> DuckFrame:
        name = self._new_name("out")
        with spark_errors():  # the step's SQL runs here: its data errors are Spark's
            cur = self.con.execute(f"CREATE TABLE {name} AS SELECT * FROM {frame.name}")
            got = cur.fetchall()
        if not frame.shared:  # a shared frame is another node's output: others read it too
            self._drop(frame)
        return DuckFrame(
            name,
            rows=int(got[0][0]),
            table=True,
            columns=frame.columns,
            spark_types=frame.spark_types,
        )

    def _drop(self, frame: DuckFrame) -> None:
        """Drop the views and Arrow registrations a materialized frame was built from."""
        for kind, name in reversed(frame.temp):
            if kind == "view":
                self.con.execute(f"DROP VIEW IF EXISTS {name}")
            else:
                self.con.unregister(name.strip('"'))

    def row_count(self, frame: DuckFrame) -> int | None:
        return frame.rows  # known when materialized (finish) or read from Delta

    def summarize(
        self,
        frame: DuckFrame,
        sample_rows: int,
        profile_columns: int = 0,
        *,
        defer_profile: bool = False,
    ) -> Summary:
        cols = list(self.spark_type_names(frame).items())
        plan = profiled(cols, profile_columns)
        if frame.parquet and frame.rows is None:  # no scan: the files' footers tell
            frame.rows, frame.file_stats = parquet_footers(self.con, frame.parquet)
        if frame.streamed:  # all from the write: nothing is computed twice
            if frame.rows is None:
                frame.sample_rows, frame.profile_plan = sample_rows, plan or None
            return Summary(frame.rows, cols, frame.sample or [], frame.profile)
        if plan and (frame.profile is None or len(frame.profile) != len(plan)):
            if defer_profile:  # from the statistics of the write (Parquet), no second scan
                frame.profile, frame.profile_plan = None, plan
            else:
                frame.profile = self._profile(frame, plan, frame.file_stats)
                frame.profile_plan = None
        if frame.sample is None or frame.sample_rows != sample_rows:  # write-only nodes share it
            frame.sample, frame.sample_rows = self._head(frame.name, sample_rows), sample_rows
        return Summary(frame.rows, cols, frame.sample, frame.profile)

    def _profile(
        self,
        frame: DuckFrame,
        plan: list[tuple[str, bool]],
        files: list | None = None,
        source: str | None = None,
    ) -> dict[str, dict[str, Any]]:
        """The profile from the written files' statistics where they are exact, the rest (and
        the row count when unknown) from one aggregate query over the node's output (or
        `source`, the files written from it)."""
        values: list[Any] = [MISSING] * sum(3 if o else 1 for _, o in plan)
        if files and frame.rows is not None:
            values = known_values(self.con, frame.rows, plan, self._columns(frame), files)
        exprs, slots, i = [], [], 0
        for c, ordered in plan:
            for agg in ("count", "min", "max") if ordered else ("count",):
                if values[i] is MISSING:
                    exprs.append(f"{agg}({quote.duckdb(c)})")
                    slots.append(i)
                i += 1
        if exprs or frame.rows is None:
            got = self.con.execute(
                f"SELECT count(*), {', '.join(exprs) or '0'} FROM {source or frame.name}"
            )
            row = got.fetchall()[0]
            frame.rows = int(row[0])
            for slot, value in zip(slots, row[1:], strict=False):
                values[slot] = value
        return profile_from(frame.rows, plan, values)

    def _head(self, relation: str, limit: int) -> list[dict[str, Any]]:
        if limit <= 0:
            return []
        cur = self.con.execute(f"SELECT * FROM {relation} LIMIT {int(limit)}")
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]  # no pyarrow import

    def failing_rows(
        self, frame: DuckFrame, validation: ValidationConfig, limit: int
    ) -> list[dict[str, Any]]:
        cols = self._columns(frame)
        where = [f"{quote.duckdb(c)} IS NULL" for c in validation.no_nulls if c in cols]
        key = unique_key(validation, cols)
        if key:
            part = ", ".join(quote.duckdb(c) for c in key)
            where.append(f"count(*) OVER (PARTITION BY {part}) > 1")
        if not where:
            return []
        query = f"SELECT * FROM {frame.name} QUALIFY {' OR '.join(where)}"
        return self._head(f"({query})", limit)

    def check(self, frame: DuckFrame, validation: ValidationConfig) -> list[CheckResult]:
        """Every check in one aggregate query over the node's output."""
        cols = self._columns(frame)
        nulls = [c for c in validation.no_nulls if c in cols]
        key = unique_key(validation, cols)
        exprs = ["count(*)"] + [f"count(*) - count({quote.duckdb(c)})" for c in nulls]
        if key:
            exprs.append(f"count(*) - count(DISTINCT ({', '.join(quote.duckdb(c) for c in key)}))")
        # fetchall: after fetchone DuckDB 2 holds the result open and refuses the next query
        values = self.con.execute(f"SELECT {', '.join(exprs)} FROM {frame.name}").fetchall()[0]
        rows, counts = int(values[0]), values[1 : 1 + len(nulls)]
        return check_results(
            validation,
            {k: spark_type_name(v) for k, v in cols.items()},
            rows,
            dict(zip(nulls, counts, strict=True)),
            values[-1] if key else None,
        )

    def release(self, frame: DuckFrame) -> None:
        if self._con is None:
            return
        if frame.backing:  # the view, then the table it reads
            self.con.execute(f"DROP VIEW IF EXISTS {frame.name}")
            self.con.execute(f"DROP TABLE IF EXISTS {frame.backing}")
        elif frame.table:
            self.con.execute(f"DROP TABLE IF EXISTS {frame.name}")
        elif frame.shared or frame.streamed:
            self._drop(frame)


def _other_timestamp(duck_type: str) -> bool:
    """A timestamp type other than TIMESTAMPTZ (naive, or tz-aware in ns/ms/s)."""
    return duck_type.startswith("TIMESTAMP") and duck_type not in (
        "TIMESTAMP WITH TIME ZONE",
        "TIMESTAMPTZ",
    )


def _spark_integers(rel: duckdb.DuckDBPyRelation) -> duckdb.DuckDBPyRelation:
    """DuckDB sums integers into HUGEINT; Spark into BIGINT (a value beyond it fails, as on
    Spark with ANSI on)."""
    types = [str(t) for t in rel.types]
    if "HUGEINT" not in types:
        return rel
    cols = [
        f"CAST({quote.duckdb(c)} AS BIGINT) AS {quote.duckdb(c)}"
        if t == "HUGEINT"
        else quote.duckdb(c)
        for c, t in zip(rel.columns, types, strict=True)
    ]
    return rel.project(", ".join(cols))


def _under(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _nullable_dtype(arrow_type: pa.DataType) -> pd.api.extensions.ExtensionDtype | None:
    """pandas 1.x: Arrow ints/bools -> pandas nullable dtypes; everything else the default."""
    import pandas as pd
    import pyarrow as pa

    if pa.types.is_boolean(arrow_type):
        return pd.BooleanDtype()
    if pa.types.is_integer(arrow_type):
        name = str(arrow_type).replace("int", "Int").replace("uInt", "UInt")  # uint8 -> UInt8
        return pd.api.types.pandas_dtype(name)
    return None
