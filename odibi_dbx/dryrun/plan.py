"""Plan a project: per node the inputs (present or not), the output schema, and per write the
target's current schema, the mode and whether the write would be refused."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, replace
from typing import TYPE_CHECKING, Any, cast

from odibi_dbx.config.loader import LoadedProject
from odibi_dbx.dryrun.engine import Columns, DryEngine, DryRunner, Input, PlannedWrite

if TYPE_CHECKING:
    from odibi_dbx.engines.base import Engine


@dataclass
class PlannedNode:
    pipeline: str
    name: str
    status: str  # ok | fails | skipped
    inputs: list[Input] = field(default_factory=list)
    columns: Columns = field(default_factory=list)
    write: PlannedWrite | None = None
    problem: str | None = None

    @property
    def key(self) -> str:
        return f"{self.pipeline}.{self.name}"


@dataclass
class PlanReport:
    project: str
    engine: str
    nodes: list[PlannedNode]

    @property
    def ok(self) -> bool:
        """Every node would run and every write would go through."""
        return all(n.status == "ok" and not (n.write and n.write.refused) for n in self.nodes)

    def as_dict(self) -> dict[str, Any]:
        return {
            "project": self.project,
            "engine": self.engine,
            "ok": self.ok,
            "nodes": [asdict(n) for n in self.nodes],
        }

    def json(self) -> str:
        return json.dumps(self.as_dict(), indent=2, default=str)

    def text(self) -> str:
        lines = [
            f"plan: {self.project} on {self.engine} (nothing is read in full, nothing written)"
        ]
        for n in self.nodes:
            mark = {"ok": "✓", "fails": "✗", "skipped": "-"}[n.status]
            lines.append(f"{mark} {n.key}")
            for i in n.inputs:
                state = (
                    f"written earlier by {i.written_by}"
                    if i.written_by
                    else "exists"
                    if i.exists
                    else f"MISSING ({i.error})"
                )
                lines.append(f"    reads   {i.target} ({i.format}): {state}")
            if n.columns:
                lines.append("    output  " + ", ".join(f"{c} {t}" for c, t in n.columns))
            if n.write:
                w = n.write
                now = (
                    "absent: it would be created"
                    if w.current is None
                    else "now " + ", ".join(f"{c} {t}" for c, t in w.current)
                )
                lines.append(f"    writes  {w.target} ({w.format}, {w.mode}); {now}")
                if w.refused:
                    lines.append(f"    REFUSED {w.refused}")
                    if w.hint:
                        lines.append(f"            hint: {w.hint}")
            if n.problem:
                lines.append(
                    f"    {'would fail' if n.status == 'fails' else 'skipped'}: {n.problem}"
                )
        refused = sum(1 for n in self.nodes if n.write and n.write.refused)
        fails = sum(1 for n in self.nodes if n.status != "ok")
        lines.append(
            "every write would go through"
            if self.ok
            else f"{refused} write(s) would be refused, {fails} node(s) would not run"
        )
        return "\n".join(lines)


def plan_project(loaded: LoadedProject, **project_options: Any) -> PlanReport:
    """Run the project on empty inputs with writes recorded, not done. Credentials are fetched
    (reading a secret changes nothing); no story, no state, no output is written."""
    from odibi_dbx.project import Project

    with Project(loaded, keep_outputs=False, **project_options) as project:
        dry = DryEngine(project.engine)
        # DryEngine is the project's engine with reads, releases and writes overridden (it
        # delegates everything else), so the runner may drive it as one
        runner = DryRunner(_without_row_counts(loaded), cast("Engine", dry), project.connections)
        result = runner.run()
    writes = {w.node: w for w in dry.writes}
    nodes = []
    for r in result.nodes:
        status = {"success": "ok", "failed": "fails"}.get(r.status, "skipped")
        nodes.append(
            PlannedNode(
                r.pipeline,
                r.name,
                status,
                dry.inputs.get(r.name, []),
                list(r.columns),
                writes.get(r.name),
                r.error_message or None,
            )
        )
    return PlanReport(loaded.config.project, result.run.engine, nodes)


def _without_row_counts(loaded: LoadedProject) -> LoadedProject:
    """The project with `not_empty` off: on empty inputs it says nothing about the real run
    (the other checks and row rules pass on no rows, and still check their columns)."""

    def relaxed(node: Any) -> Any:
        if node.validation is None:
            return node
        return node.model_copy(
            update={"validation": node.validation.model_copy(update={"not_empty": False})}
        )

    config = loaded.config.model_copy(
        update={
            "pipelines": [
                p.model_copy(update={"nodes": [relaxed(n) for n in p.nodes]})
                for p in loaded.config.pipelines
            ]
        }
    )
    nodes = {k: replace(n, config=relaxed(n.config)) for k, n in loaded.plan.nodes.items()}
    return replace(loaded, config=config, plan=replace(loaded.plan, nodes=nodes))
