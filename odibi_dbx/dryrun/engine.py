"""A run on empty data: the real engine and runner, with every input cut to its schema (0 rows)
and every write recorded instead of done. What an earlier node would write is what a later read
of the same target gets, so a project's pipelines are planned as one run."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from odibi_dbx.engines.base import Engine, ReadSpec, WriteResult, WriteSpec
from odibi_dbx.pipeline.runner import Runner

Columns = list[tuple[str, str]]


@dataclass
class Input:
    target: str
    format: str
    exists: bool
    written_by: str | None = None  # a node earlier in this plan writes it
    error: str | None = None


@dataclass
class PlannedWrite:
    node: str
    target: str
    format: str
    mode: str
    columns: Columns
    current: Columns | None  # the target's schema now; None: it does not exist
    refused: str | None = None  # why the engine would refuse the write
    hint: str | None = None


@dataclass
class DryEngine:
    """Delegates to `inner` except for reads (cut to 0 rows), releases (what a later read gets
    is kept) and writes (recorded, judged, never done)."""

    inner: Engine
    inputs: dict[str, list[Input]] = field(default_factory=dict)  # node -> its reads
    writes: list[PlannedWrite] = field(default_factory=list)
    _written: dict[str, tuple[str, Any]] = field(default_factory=dict)  # target -> (node, frame)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    @property
    def capabilities(self) -> Any:  # one node at a time: a plan is cheap and reads in order
        return replace(self.inner.capabilities, max_parallel_nodes=1)

    def empty(self, frame: Any) -> Any:
        return self.inner.sql("SELECT * FROM src LIMIT 0", {"src": frame})[0]

    def columns(self, frame: Any) -> Columns:
        return list(self.inner.summarize(frame, 0).columns)

    def read(self, spec: ReadSpec) -> Any:
        found = self._written.get(spec.target)
        if found is not None:
            self.inputs.setdefault(spec.node, []).append(
                Input(spec.target, spec.format, True, written_by=found[0])
            )
            return found[1]
        try:
            frame = self.empty(self.inner.read(spec))
        except Exception as exc:
            self.inputs.setdefault(spec.node, []).append(
                Input(spec.target, spec.format, False, error=str(exc).splitlines()[0][:300])
            )
            raise
        self.inputs.setdefault(spec.node, []).append(Input(spec.target, spec.format, True))
        return frame

    def release(self, frame: Any) -> None:
        if not any(f is frame for _, f in self._written.values()):  # a later read gets it
            self.inner.release(frame)

    def write(self, frame: Any, spec: WriteSpec) -> WriteResult:
        cols = self.columns(frame)
        current = self._current(spec)
        planned = PlannedWrite(spec.node, spec.target, spec.format, spec.mode, cols, current)
        refusal = write_refusal(spec, cols, current)
        if refusal is not None:
            planned.refused, planned.hint = refusal
        self.writes.append(planned)
        self._written.setdefault(spec.target, (spec.node, frame))
        return WriteResult(spec.target, 0, {"planned": True})

    def _current(self, spec: WriteSpec) -> Columns | None:
        """The target's columns as stored now, or None when there is nothing there."""
        read = ReadSpec(
            node=spec.node,
            connection=spec.connection,
            format=spec.format,
            path=spec.path,
            table=spec.table,
            options=spec.options,
        )
        try:
            return self.columns(self.empty(self.inner.read(read)))
        except Exception:  # absent (or unreadable: the write's own check will say)
            return None


def write_refusal(
    spec: WriteSpec, columns: Columns, current: Columns | None
) -> tuple[str, str] | None:
    """(why, hint) when the engines' own pre-write checks would refuse this write."""
    from odibi_dbx.engines import schema_check

    try:
        if spec.mode in ("merge", "scd2"):
            schema_check.check_merge_keys(spec.merge_keys, [c for c, _ in columns], spec.target)
        if current is not None and spec.mode != "overwrite":
            schema_check.check_compatible(
                current,
                columns,
                mode=spec.schema_evolution,
                target_name=spec.target,
                ordered=spec.format == "csv",
                ignore_types=spec.partition_by,
            )
    except schema_check.WriteRefused as exc:
        return str(exc), exc.hint
    return None


class DryRunner(Runner):
    """The runner itself, minus the state it keeps beside csv/parquet/json outputs."""

    @property
    def _incremental(self) -> Any:
        return self.__dict__.get("_dry_incremental")

    @_incremental.setter
    def _incremental(self, value: Any) -> None:
        if value is not None:
            value.after_write = lambda spec, states: None  # nothing is stored by a plan
        self.__dict__["_dry_incremental"] = value
