"""One run's incremental reads: the stored state before, the batch, the state the writes carry.

Each write downstream of an incremental read stores that read's new state with its own output
(see `state`). The next run starts from the oldest state among those writes, so the watermark
moves on only where every downstream write succeeded; a failed or killed run leaves the states
as they were and its rows are read again.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from odibi_dbx.incremental import state as S
from odibi_dbx.incremental.watermark import Watermark, earliest, later

if TYPE_CHECKING:
    from odibi_dbx.config.models import IncrementalConfig
    from odibi_dbx.engines.base import Engine, ReadSpec, WriteSpec

_ADAPTERS = {"pandas": "odibi_dbx.incremental.pandas", "spark": "odibi_dbx.incremental.spark"}


def is_delta(spec: WriteSpec) -> bool:
    return spec.format == "delta"  # a catalog table's resolved format, too


@dataclass
class ReadReport:
    """What the story shows of an incremental read."""

    mode: str  # column | change_feed
    before: Any  # the stored state read from (None: read everything)
    after: Any  # the state the downstream writes will store
    rows_read: int | None
    full_refresh: bool
    column: str | None = None
    lower_bound: Any = None  # column mode: rows with column > this were read

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v is not None or k == "before"}


class IncrementalRun:
    def __init__(self, engine: Engine, *, full_refresh: bool = False):
        self.engine = engine
        self.full_refresh = full_refresh
        self._pending: dict[str, dict[str, Any]] = {}  # read key -> state its writes store
        self._io = importlib.import_module(_ADAPTERS[engine.name])

    # -- reads --
    def read(
        self,
        key: str,
        spec: ReadSpec,
        cfg: IncrementalConfig,
        targets: list[WriteSpec],
        read: Callable[[ReadSpec], Any],
    ) -> tuple[Any, ReadReport]:
        if not targets:
            raise ValueError(
                "an incremental read keeps its watermark with the writes downstream of it, and "
                "this one has none; add a write to this node or to a node that depends on it"
            )
        stored = None if self.full_refresh else self._stored(key, targets)
        if cfg.change_feed:
            since = None if stored is None else min(int(s["version"]) for s in stored)
            frame, version = self._io.read_change_feed(self.engine, spec, since)
            self._pending[key] = {"mode": "change_feed", "version": version}
            report = ReadReport(
                "change_feed",
                None if since is None else {"version": since},
                {"version": version},
                frame.rows,
                self.full_refresh,
            )
            return frame, report
        column = cfg.column
        assert column is not None
        marks = None if stored is None else [_watermark(s, column, key) for s in stored]
        before = earliest(marks) if marks else None
        bound = None if before is None else before.minus(cfg.lookback)
        frame = read(replace(spec, after=(column, bound)) if bound else spec)
        frame = self._io.keep_after(self.engine, frame, column, bound)
        rows, top = self._io.batch_stats(self.engine, frame, column)
        after = later(before, top)
        self._pending[key] = {
            "mode": "column",
            "column": column,
            "watermark": None if after is None else after.to_json(),
        }
        report = ReadReport(
            "column",
            None if before is None else before.value,
            None if after is None else after.value,
            rows,
            self.full_refresh,
            column,
            None if bound is None else bound.value,
        )
        return frame, report

    def _stored(self, key: str, targets: list[WriteSpec]) -> list[dict[str, Any]] | None:
        """Each target's stored state of this read; None (read all) when a target does not
        exist yet. A target that exists without a readable state is an error."""
        found = []
        for t in targets:
            try:
                got = self._target_state(key, t)
            except S.StateError:
                raise
            except Exception as exc:
                raise S.StateError(
                    f"cannot read the incremental state of {t.target}: {exc}; nothing was read "
                    "(a state that cannot be read is never taken for a first run)"
                ) from exc
            if got is None:
                return None
            found.append(got)
        return found

    def _target_state(self, key: str, spec: WriteSpec) -> dict[str, Any] | None:
        if is_delta(spec):
            history = self._io.delta_history(self.engine, spec)
            if history is None:
                return None
            got = S.newest_state(history, key)
        else:
            if not S.file_target_exists(spec):
                return None
            got = (S.read_file_states(spec) or {}).get(key)
        if got is None:
            raise S.StateError(
                f"the output {spec.target} exists but holds no incremental state for '{key}' "
                "(written before the read was incremental, or its history was cleaned up); "
                "nothing was read. Run once with --full-refresh to read everything again"
            )
        return got

    # -- writes --
    def states_for(self, keys: Iterable[str]) -> dict[str, dict[str, Any]]:
        """The states a write stores: those of the incremental reads upstream of it."""
        return {k: self._pending[k] for k in keys if k in self._pending}

    def after_write(self, spec: WriteSpec, states: dict[str, dict[str, Any]]) -> None:
        """csv/parquet/json outputs: the state goes beside the output, once it is in place
        (Delta outputs carried it in their commit)."""
        if states and not is_delta(spec):
            S.write_file_states(spec, states)


def _watermark(stored: dict[str, Any], column: str, key: str) -> Watermark | None:
    if stored.get("mode") != "column" or stored.get("column") != column:
        was = stored.get("column") or stored.get("mode")
        raise S.StateError(
            f"the stored state of '{key}' follows {was!r}, not column '{column}'; run once with "
            "--full-refresh after changing how a read is incremental"
        )
    mark = stored.get("watermark")
    return None if mark is None else Watermark.from_json(mark)
