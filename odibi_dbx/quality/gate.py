"""The runner's one entry point: a node's `validation:` applied to its output, in this order:

1. the flags of every rule, computed in one pass with the column checks' numbers;
2. the verdict (`fail` rules, max_failed_fraction, column checks) - nothing is written yet;
3. the quarantined rows appended to `quarantine:`;
4. the kept rows returned: the runner writes them and later nodes read them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from odibi_dbx.engines.base import CheckResult, WriteResult, WriteSpec
from odibi_dbx.errors import NodeError, ValidationFailed
from odibi_dbx.quality import rules as R

if TYPE_CHECKING:
    from odibi_dbx.config.models import NodeConfig, ValidationConfig
    from odibi_dbx.connections.base import Connection
    from odibi_dbx.engines.base import Engine

Write = Callable[[Any, WriteSpec], WriteResult]


@dataclass
class Gate:
    frame: Any  # the node's output from now on: the kept rows
    results: list[CheckResult]
    counts: dict[str, Any] = field(default_factory=dict)  # rows/kept/dropped/quarantined
    report: Callable[[Gate], None] = lambda gate: None  # told whenever results are known
    validation: ValidationConfig | None = None
    source: Any = None  # the node's output before the rules (what the rules read)
    _quarantine: Callable[[], None] | None = None
    _discard: Callable[[], None] | None = None
    _late: Callable[[], None] | None = None

    def remaining_checks(self) -> ValidationConfig | None:
        """What the engine's own check still has to do: only the numbers `vs_previous` compares
        (rows out, profile) of the kept rows; the column checks were in the rules' pass."""
        v = self.validation
        if v is None or v.vs_previous is None:
            return None
        return v.model_copy(
            update={"not_empty": False, "no_nulls": [], "unique": [], "schema_": None, "rules": []}
        )

    def write_quarantine(self) -> None:
        """Append the quarantined rows: after every gate passed, before the node's write."""
        if self._quarantine is not None:
            write, self._quarantine, self._discard = self._quarantine, None, None
            write()

    def discard(self) -> None:
        """A later gate failed the node: free the set-aside rows, write nothing."""
        if self._discard is not None:
            discard, self._quarantine, self._discard = self._discard, None, None
            discard()

    def after_write(self) -> None:
        """Counts that rode on the main write's own job (Spark, warn/drop rules only)."""
        if self._late is not None:
            self._late()
            self._late = None


def _evaluator(engine: Engine) -> Any:
    """Per-engine flag computation, by engine name (each module imports its engine lazily)."""
    if engine.name == "spark":
        from odibi_dbx.quality.spark import SparkRules

        return SparkRules
    from odibi_dbx.quality.duck import DuckRules

    return DuckRules


def apply(
    engine: Engine,
    frame: Any,
    node: NodeConfig,
    *,
    run_id: str,
    connections: Mapping[str, Connection],
    sample_rows: int,
    write: Write,
    report: Callable[[Gate], None] = lambda gate: None,
    shared: bool = False,
    finish: Callable[[Any], Any] = lambda frame: frame,
) -> Gate:
    """The kept rows and the results; raises ValidationFailed before any write when the node
    fails its validation. `report` sees the results as soon as they are known (also on failure).
    `shared`: the frame is also an upstream node's output (never changed in place).
    `finish`: the engine's materialisation of the node's output, unless the rules' own pass
    materialises it (Pandas); `Gate.source` is then the frame the rules read."""
    v = node.validation
    assert v is not None
    cls = _evaluator(engine) if v.rules else None
    if not getattr(cls, "materialises", False):
        frame = finish(frame)
    gate = Gate(frame, [], report=report, source=frame)
    if cls is None:  # column checks only: the engine's own single aggregation
        gate.results = engine.check(frame, v)
        report(gate)
        verdict(gate.results, node)
        return gate
    ev = cls(engine, frame, v, node.name, sample_rows, shared=shared)
    gate.validation = v
    quarantine = bool(R.indexes(v.rules, "quarantine"))
    measured = None
    mode = node.write.mode if node.write is not None else None
    if ev.measure_first(writes=mode, quarantine=quarantine):
        try:
            measured = ev.measure()
            _settle(gate, v, measured, ev.columns())
            verdict(gate.results, node)
        except BaseException:
            ev.close()
            raise
    # counts not measured yet ride on the quarantine write, else on the node's own write
    gate.frame = ev.kept(observe=measured is None and not quarantine)
    if not quarantine:
        ev.close()
        if measured is None:
            gate._late = lambda: _settle(gate, v, ev.observed(), ev.columns())
        return gate

    def write_quarantine() -> None:
        assert v.quarantine is not None
        q = v.quarantine
        spec = WriteSpec(
            node=node.name,
            connection=connections[q.connection],
            format=q.resolved_format,
            mode="append",
            path=q.path,
            table=q.table,
            options=q.options,
            run_id=run_id,
        )
        meta = (run_id, node.name, datetime.now(timezone.utc), spec.format == "csv")
        qframe = ev.quarantined(*meta, observe=measured is None)
        try:
            out = write(qframe, spec)
        except NodeError as exc:
            raise NodeError(
                f"quarantine write failed: {exc.short}",
                node=node.name,
                stage="quarantine",
                detail="the node's output was not written",
                hint=exc.hint,
                transient=exc.transient,
            ) from exc
        finally:
            ev.forget(qframe)
            ev.close()
        m = measured if measured is not None else ev.observed()
        rows = out.rows if out.rows is not None or m is None else m.quarantined
        gate.counts["quarantine"] = {"target": out.target, "rows": rows}
        if measured is None:
            _settle(gate, v, m, ev.columns())
        report(gate)

    gate._quarantine = write_quarantine
    gate._discard = ev.close
    return gate


def _settle(
    gate: Gate, v: ValidationConfig, m: R.Measured | None, columns: Mapping[str, str]
) -> None:
    """Record the rules' counts. None: counts observed by a write that this Spark could not
    read back (logged by the engine); the write stands, the rules' counts stay unknown."""
    if m is None:
        gate.report(gate)
        return
    gate.results = R.results(v, m, columns)
    gate.counts.update(rows=m.rows, kept=m.kept, dropped=m.dropped, quarantined=m.quarantined)
    gate.report(gate)


def verdict(results: list[CheckResult], node: NodeConfig) -> None:
    """Raise when a check, a `fail` rule or max_failed_fraction failed: nothing is written."""
    failed = [c for c in results if c.fails_node]
    if not failed:
        return
    quarantine = node.validation is not None and node.validation.quarantine is not None
    written = "nothing was written" + (", the quarantine included" if quarantine else "")
    raise ValidationFailed(
        "validation failed: " + "; ".join(f"{c.check} ({c.detail})" for c in failed),
        node=node.name,
        stage="validation",
        detail=written if node.write or quarantine else None,
        hint="fix the data or the upstream logic; the story shows a sample of failing rows",
    )
