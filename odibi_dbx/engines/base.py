"""The engine contract. The runner only talks to this; each engine is one module."""

from __future__ import annotations

import contextlib
import logging
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from odibi_dbx.connections import leftovers
from odibi_dbx.data_errors import data_error_in
from odibi_dbx.engines.schema_check import WriteRefused
from odibi_dbx.errors import NodeError, first_line
from odibi_dbx.retry import is_refused, is_transient

KEPT = "the previous output was left as it was"
log = logging.getLogger(__name__)

if TYPE_CHECKING:
    from sqlglot import exp

    from odibi_dbx.config.models import ValidationConfig
    from odibi_dbx.connections.base import Connection
    from odibi_dbx.connections.leftovers import Folders
    from odibi_dbx.sql.cache import CachedStep
    from odibi_dbx.sql.errors import NotPortableError


@dataclass(frozen=True)
class EngineCapabilities:
    delta_merge: bool = True
    catalog_tables: bool = False  # read/write `table:` (Unity Catalog / metastore)
    max_parallel_nodes: int = 2  # independent nodes run at once
    frames: str = "pandas"  # what Python function steps receive
    # later readers of an output a write-only node writes as Parquet read the written folder
    # (the runner runs them after the write, pipeline/write_first.py): no copy in memory
    reads_written_output: bool = False


@dataclass(frozen=True)
class ReadSpec:
    node: str
    connection: Connection
    format: str
    path: str | None = None
    table: str | None = None
    options: Mapping[str, Any] = field(default_factory=dict)
    schema: str | None = None  # Spark DDL
    version: int | None = None
    # incremental: only rows whose column is past this watermark (engines may prune with it)
    after: tuple[str, Any] | None = None

    @property
    def target(self) -> str:
        return self.table or self.connection.uri(self.path or "")


@dataclass(frozen=True)
class WriteSpec:
    node: str
    connection: Connection
    format: str
    mode: str = "overwrite"
    path: str | None = None
    table: str | None = None
    merge_keys: tuple[str, ...] = ()
    partition_by: tuple[str, ...] = ()
    options: Mapping[str, Any] = field(default_factory=dict)
    run_id: str = "run"
    schema_evolution: str = "strict"  # strict | add_columns
    scd2: Any = None  # Scd2Config for mode scd2
    commit_metadata: str | None = None  # Delta: stored in the commit (incremental state)

    @property
    def target(self) -> str:
        return self.table or self.connection.uri(self.path or "")


@dataclass
class Summary:
    """What a story shows of a node's output. Engines fill it without recomputing the data."""

    rows: int | None
    columns: list[tuple[str, str]]  # (name, Spark type name)
    sample: list[dict[str, Any]]
    profile: dict[str, dict[str, Any]] | None = None  # column -> nulls, null_fraction, min, max


@dataclass
class CheckResult:
    """One `validation:` outcome: a column check (not_empty, no_nulls, unique, schema), a row
    rule, or max_failed_fraction. Row rules carry their counts and a sample of failing rows."""

    check: str
    passed: bool
    detail: str = ""
    on_fail: str = "fail"  # what a failure does: fail | warn | drop | quarantine
    expr: str | None = None  # row rules: the Spark SQL expression
    rows: int | None = None  # rows the rule was evaluated on
    failed: int | None = None  # rows for which it was not TRUE
    # the failing rows by what became of them (a row failing several rules counts for each)
    kept: int | None = None
    dropped: int | None = None
    quarantined: int | None = None
    sample: list[dict[str, Any]] = field(default_factory=list)  # failing rows, <= max_sample_rows

    @property
    def fails_node(self) -> bool:
        return not self.passed and self.on_fail == "fail"


@dataclass
class WriteResult:
    target: str
    rows: int | None
    metrics: dict[str, Any] = field(default_factory=dict)


class EngineChecks:
    """What validation asks of an engine, with no session and no data: its name, capabilities
    and the SQL steps it refuses. An engine whose checks need none of its libraries keeps them
    in a light module (odibi_dbx.registry.EngineEntry.checks) and derives from them, so that
    validating a project loads no engine."""

    name: ClassVar[str]
    capabilities: ClassVar[EngineCapabilities]

    @classmethod
    def sql_problems(cls, tree: exp.Expr, *, copy: bool = True) -> list[NotPortableError]:
        """Constructs in a parsed Spark SQL step this engine cannot run faithfully. The caller
        has checked the step's sandbox (odibi_dbx.sql.sandbox, the same on every engine) and
        found nothing. `copy=False`: the caller keeps no tree, the check may change it."""
        return []


class Engine(EngineChecks, ABC):
    """Reads, transforms and writes data. Frames are engine-native handles, opaque to the runner."""

    def __init__(
        self, *, timezone: str = "UTC", connections: Mapping[str, Connection] | None = None
    ):
        self.timezone = timezone
        self.connections = dict(connections or {})
        self.notes: list[str] = []  # run-level facts for the story (said once per run)

    # -- lifecycle --
    @classmethod
    def warm_up(cls, timezone: str) -> None:  # optional hook
        """Begin, in the background, the part of `start` that depends only on the session time
        zone, so that it overlaps what the caller does before the run (`odibi-dbx run`:
        validating the project). `start` takes it up; unused, it is dropped."""

    def start(self) -> None:  # optional hook
        """Create the session, apply connection settings."""

    def stop(self) -> None:  # optional hook
        """Release the session and anything the engine created."""

    # -- I/O: wrapped once here, implemented by _read/_write --
    def read(self, spec: ReadSpec) -> Any:
        try:
            return self._read(spec)
        except NodeError:
            raise
        except Exception as exc:
            raise NodeError(
                f"cannot read {spec.format} {spec.target}: {first_line(exc)}",
                node=spec.node,
                stage="read",
                detail=f"connection '{spec.connection.name}', format {spec.format}",
                hint=_io_hint(exc),
                transient=is_transient(exc),
            ) from exc

    def write(self, frame: Any, spec: WriteSpec) -> WriteResult:
        try:
            with self._guarded(spec):
                return self._write(frame, spec)
        except NodeError:
            raise
        except Exception as exc:
            data = data_error_in(exc)
            if data is not None:  # a value the node's SQL fails on (Spark computes it here)
                raise NodeError(
                    str(data),
                    node=spec.node,
                    stage="transform",
                    detail=f"raised while writing {spec.target}; "
                    f"{self.previous_output_note(spec, exc)}",
                    hint=data.hint,
                ) from exc
            cause = _explained(spec.connection, exc)
            raise NodeError(
                f"cannot write {spec.format} {spec.target} (mode {spec.mode}): {first_line(cause)}",
                node=spec.node,
                stage="write",
                detail=f"connection '{spec.connection.name}'; {self._left(spec, cause)}",
                hint=_io_hint(cause),
                transient=is_transient(cause),
            ) from cause

    @contextlib.contextmanager
    def _guarded(self, spec: WriteSpec) -> Iterator[None]:
        """A path output is written by one writer at a time (the connection's writer lock: a
        flock locally, a blob lease on ADLS), after what killed runs left there is repaired."""
        if not spec.path:
            yield
            return
        with spec.connection.write_lock(spec.path, f"run {spec.run_id}, node {spec.node}"):
            where = self.output_folders(spec.connection, spec.path)
            for action in leftovers.repair(*where) if where else []:
                log.warning("%s", action)
            yield

    def output_folders(self, connection: Connection, path: str) -> tuple[Folders, str] | None:
        """How this engine moves the folders beside an output (connections.leftovers), and the
        output's name there: the connection's own driver-side moves unless the engine has
        better (Spark's Hadoop FS renames on abfss://)."""
        return connection.folders(path)

    def repair_outputs(self, outputs: Iterable[tuple[Connection, str]], owner: str) -> list[str]:
        """Before a run's first node: put back outputs that killed overwrites left half-swapped
        and remove their staging, where this engine can move folders; returns what was done."""
        found = []
        for conn, path in dict.fromkeys(outputs):
            where = self.output_folders(conn, path)
            if where is not None and where[0].can_rename:
                found.append((conn, path, *where))
        return leftovers.repair_outputs(found, owner)

    def previous_output_note(self, spec: WriteSpec, exc: BaseException) -> str:
        """What a failed write is known to have left of the previous output (engines that
        cannot always keep it say so)."""
        return KEPT

    def _left(self, spec: WriteSpec, exc: BaseException) -> str:
        """A write refused before it began (WriteRefused) left the output as it was, on every
        engine; any other failure is the engine's to tell."""
        return KEPT if isinstance(exc, WriteRefused) else self.previous_output_note(spec, exc)

    @abstractmethod
    def _read(self, spec: ReadSpec) -> Any: ...

    @abstractmethod
    def _write(self, frame: Any, spec: WriteSpec) -> WriteResult: ...

    # -- transforms --
    @abstractmethod
    def sql(
        self, query: str, views: Mapping[str, Any], tree: exp.Expr | CachedStep | None = None
    ) -> tuple[Any, str | None]:
        """Run one Spark SQL step over `views` (name -> frame). `tree` is the step as the plan
        parsed it (engines never re-parse it), or a CachedStep when an earlier run's checks
        served validation (odibi_dbx.sql.cache: parsed again only if the engine needs a tree it
        has not cached). Returns the frame and, when the engine translated it, the SQL it ran."""

    @abstractmethod
    def to_user(self, frame: Any) -> Any:
        """The frame as the DataFrame user functions get (pandas, or a Spark DataFrame)."""

    def to_lazy(self, frame: Any) -> Any:
        """The native lazy frame a Narwhals function step wraps (default: to_user)."""
        return self.to_user(frame)

    @abstractmethod
    def from_user(self, df: Any) -> Any:
        """A DataFrame returned by a user function, as a frame."""

    # -- node outputs --
    @abstractmethod
    def finish(
        self,
        frame: Any,
        *,
        key: str,
        consumers: int,
        cache: bool = False,
        streamed: bool = False,
        stable: bool = False,
        written_first: bool = False,
    ) -> Any:
        """Make the node's output reusable by `consumers` later steps without recomputing it.
        `streamed`: the node's own write is the only thing to read the output (no checks, no
        later node), so an engine may leave it lazy and learn rows, sample and profile from the
        write (`summarize` then gives them once the write is done). `stable`: nothing in the
        run writes what the node read, so later nodes may read the source again instead of a
        copy. `written_first` (engines with `reads_written_output`): a write-only node writes
        the output before the other consumers run, and they may read what it wrote."""

    @abstractmethod
    def row_count(self, frame: Any) -> int | None:
        """Rows of a node's output when known without new work (None otherwise)."""

    @abstractmethod
    def summarize(
        self,
        frame: Any,
        sample_rows: int,
        profile_columns: int = 0,
        *,
        defer_profile: bool = False,
    ) -> Summary:
        """Rows, schema, sample and the profile of the first `profile_columns` columns, from
        passes the node makes anyway (None where the engine only learns them at the write).
        `defer_profile`: the node writes next and nothing reads the profile before the write,
        so an engine may take it from the write (summarize again after it)."""

    def failing_rows(self, frame: Any, validation: ValidationConfig, limit: int) -> list[dict]:
        """Up to `limit` rows that break `no_nulls` or `unique` (asked only when a check failed)."""
        return []

    @abstractmethod
    def check(self, frame: Any, validation: ValidationConfig) -> list[CheckResult]: ...

    def release(self, frame: Any) -> None:  # optional hook
        """Free a node's output once nothing needs it any more."""


def _explained(connection: Connection, exc: Exception) -> Exception:
    """The connection's advice when `exc` is its fault (a refused key, say), chained to it."""
    advice = connection.explain(exc)
    if not isinstance(advice, Exception):
        return exc
    advice.__cause__ = exc
    return advice


def _io_hint(exc: BaseException) -> str | None:
    if isinstance(getattr(exc, "hint", None), str):  # errors that know what to do say it
        return exc.hint  # type: ignore[attr-defined]
    if is_refused(exc):
        return (
            "the connection was refused: nothing listens at that address. Check the "
            "connection's account and endpoint, and that the service is up and reachable "
            "(firewall, private endpoint); refused connections are not retried"
        )
    if (
        isinstance(exc, FileNotFoundError)
        or "No files found" in str(exc)
        or "does not exist" in str(exc)
    ):
        return "check the path and the connection's base_path / container / path_prefix"
    if isinstance(exc, PermissionError) or "403" in str(exc):
        return "the identity lacks permission on the storage; check the account key or grants"
    if is_transient(exc):
        return "this looks transient; retry: in the project controls automatic retries"
    return None
