"""The compiled plan: every pipeline of a project as one graph, built once when the project loads.

    plan = load_project("project.yaml").plan   # also Project.plan
    plan.nodes                      # {"pipeline.node": PlanNode}, in the project's order
    plan.node("silver.clean")       # by key; plan.node("clean") when the name is unique
    plan.upstream(key)              # [Edge]: what must finish (successfully) before `key` runs
    plan.downstream(key)            # [Edge]: who waits on `key`
    plan.topological_order(keys)    # keys (default: all) in an order that respects every edge
    plan.select(pipelines, nodes)   # the keys a run covers; SelectionError for unknown names

A PlanNode carries its config, its SQL steps parsed once (`sql[i]`, None for function steps;
engines receive these trees; a CachedStep when an earlier run's checks served,
odibi_dbx.sql.cache), the datasets it reads and writes, and `views`: the nodes of its own pipeline
whose outputs it sees in memory. Edges (Edge.kind) come from `depends_on` (`node` within the
pipeline, `pipeline.node` across pipelines), from reading a dataset (connection + path, or table)
that a node earlier in the project writes ("reads"), and from writing a dataset an earlier node
writes or reads ("order": kept in the project's order, no skip). A failed or skipped upstream skips
its "depends_on"/"reads" downstream. Cross-pipeline edges order the run; data crosses them through
storage, never in memory.
"""

from __future__ import annotations

import heapq
import posixpath
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from odibi_dbx.config.checks import ancestors, ancestors_named
from odibi_dbx.errors import OdibiError, did_you_mean

if TYPE_CHECKING:
    from odibi_dbx.config.models import NodeConfig, ProjectConfig


class SelectionError(OdibiError):
    """An unknown or ambiguous --pipeline / --node: nothing has run (CLI exit 2)."""


class PlanCycle(OdibiError):
    def __init__(self, keys: list[str]):
        self.keys = keys
        super().__init__("dependency cycle: " + " -> ".join(keys + keys[:1]))


@dataclass(frozen=True)
class Dataset:
    """Where data is stored: a path under a connection, or a catalog table."""

    connection: str | None
    path: str | None = None
    table: str | None = None

    @classmethod
    def of(cls, spec: Any) -> Dataset:
        if spec.table:
            return cls(None, table=spec.table.lower())
        return cls(spec.connection, path=_norm(spec.path))

    def __str__(self) -> str:
        return self.table or f"{self.connection}:{self.path}"


@dataclass(frozen=True)
class Edge:
    """`downstream` runs after `upstream`. kind "depends_on" (declared) and "reads" (downstream
    reads `dataset`, which upstream writes) skip downstream when upstream fails or is skipped;
    "order" only keeps two accesses to one dataset in the project's order (a write after an
    earlier write or read of it), whatever became of the first."""

    upstream: str  # node keys
    downstream: str
    kind: str = "depends_on"  # depends_on | reads | order
    dataset: Dataset | None = None

    @property
    def needs_success(self) -> bool:
        return self.kind != "order"


@dataclass
class PlanNode:
    pipeline: str
    name: str
    config: NodeConfig
    sql: tuple[Any, ...] = ()  # parsed tree per transform step (None for function steps)
    reads: tuple[Dataset, ...] = ()
    writes: tuple[Dataset, ...] = ()
    views: tuple[str, ...] = ()  # same-pipeline nodes whose outputs this node reads in memory
    upstream: list[Edge] = field(default_factory=list)
    downstream: list[Edge] = field(default_factory=list)

    @property
    def key(self) -> str:
        return f"{self.pipeline}.{self.name}"


@dataclass
class Plan:
    nodes: dict[str, PlanNode]
    pipelines: list[str]

    def node(self, ref: str) -> PlanNode:
        if ref in self.nodes:
            return self.nodes[ref]
        found = [n for n in self.nodes.values() if n.name == ref]
        if len(found) == 1:
            return found[0]
        if found:
            keys = ", ".join(n.key for n in found)
            raise SelectionError(f"node '{ref}' is in several pipelines ({keys}); name one of them")
        names = list(self.nodes) + [n.name for n in self.nodes.values()]
        raise SelectionError(f"unknown node '{ref}' ({did_you_mean(ref, names) or 'no such node'})")

    def upstream(self, key: str) -> list[Edge]:
        return list(self.nodes[key].upstream)

    def downstream(self, key: str) -> list[Edge]:
        return list(self.nodes[key].downstream)

    def in_pipeline(self, pipeline: str) -> list[str]:
        return [k for k, n in self.nodes.items() if n.pipeline == pipeline]

    def topological_order(self, keys: Iterable[str] | None = None) -> list[str]:
        """`keys` (default all) ordered so each comes after its upstream; ties keep project order."""
        wanted = list(self.nodes) if keys is None else [k for k in self.nodes if k in set(keys)]
        rank = {k: i for i, k in enumerate(wanted)}
        waiting = {k: sum(e.upstream in rank for e in self.nodes[k].upstream) for k in wanted}
        ready = [rank[k] for k in wanted if not waiting[k]]
        heapq.heapify(ready)
        out: list[str] = []
        while ready:
            key = wanted[heapq.heappop(ready)]
            out.append(key)
            for e in self.nodes[key].downstream:
                if e.downstream in waiting:
                    waiting[e.downstream] -= 1
                    if not waiting[e.downstream]:
                        heapq.heappush(ready, rank[e.downstream])
        if len(out) != len(wanted):
            raise PlanCycle(_cycle(self, [k for k in wanted if waiting[k]]))
        return out

    def select(
        self, pipelines: Sequence[str] | None = None, nodes: Sequence[str] | None = None
    ) -> list[str]:
        """Keys a run covers, in topological order. `pipelines` narrows to those pipelines (what
        earlier pipelines wrote is read from storage); `nodes` ("node" or "pipeline.node") run
        with the nodes of their own pipeline they read in memory. Unknown names raise."""
        scope = list(self.nodes)
        if pipelines:
            for name in pipelines:
                if name not in self.pipelines:
                    hint = did_you_mean(name, self.pipelines) or (
                        f"pipelines: {', '.join(self.pipelines)}"
                    )
                    raise SelectionError(f"unknown pipeline '{name}' ({hint})")
            scope = [k for k in scope if self.nodes[k].pipeline in pipelines]
        if nodes:
            keep: set[str] = set()
            for ref in nodes:
                key = self._resolve(ref, scope, pipelines)
                keep.add(key)
                keep |= self._view_ancestors(key)
            scope = [k for k in scope if k in keep]
        return self.topological_order(scope)

    def _resolve(self, ref: str, scope: list[str], pipelines: Sequence[str] | None) -> str:
        if ref in scope:
            return ref
        found = [k for k in scope if self.nodes[k].name == ref]
        if len(found) == 1:
            return found[0]
        if found:
            raise SelectionError(
                f"node '{ref}' is in several pipelines; name one: {', '.join(found)}"
            )
        where = f" in pipeline(s) {', '.join(pipelines)}" if pipelines else ""
        elsewhere = [k for k in self.nodes if ref in (k, self.nodes[k].name)]
        if elsewhere:
            hint = f"it is in {', '.join(elsewhere)}; drop --pipeline or pick that pipeline"
        else:
            names = scope + [self.nodes[k].name for k in scope]
            hint = did_you_mean(ref, names) or f"nodes: {', '.join(scope)}"
        raise SelectionError(f"unknown node '{ref}'{where} ({hint})")

    def _view_ancestors(self, key: str) -> set[str]:
        node = self.nodes[key]
        seen: set[str] = set()
        stack = [f"{node.pipeline}.{v}" for v in node.views]
        while stack:
            k = stack.pop()
            if k not in seen:
                seen.add(k)
                stack += [f"{node.pipeline}.{v}" for v in self.nodes[k].views]
        return seen


def compile_plan(config: ProjectConfig, trees: Mapping[tuple[int, int, int], Any] | None) -> Plan:
    """The plan of a validated project. `trees` holds each SQL step's parsed tree by
    (pipeline index, node index, step index), as validation parsed it; None when the project
    is only checked (no SQL and no views on the nodes: such a plan orders, it does not run).
    Raises PlanCycle."""
    nodes: dict[str, PlanNode] = {}
    for pi, pipe in enumerate(config.pipelines):
        local = {n.name: n.depends_on for n in pipe.nodes}
        for ni, node in enumerate(pipe.nodes):
            steps = node.transform.steps if node.transform else []
            sql = (
                tuple(trees.get((pi, ni, si)) for si in range(len(steps)))
                if trees is not None
                else ()
            )
            plan_node = PlanNode(
                pipe.pipeline,
                node.name,
                node,
                sql=sql,
                reads=(Dataset.of(node.read),) if node.read else (),
                writes=tuple(Dataset.of(w) for w in (node.write, _quarantine(node)) if w),
            )
            plan_node.views = _views(node, local, sql) if trees is not None else ()
            nodes[plan_node.key] = plan_node
    plan = Plan(nodes, [p.pipeline for p in config.pipelines])
    writers: dict[Dataset, list[str]] = {}
    readers: dict[Dataset, list[str]] = {}
    for key, pn in nodes.items():  # project order: edges point from earlier nodes only
        ups = [f"{pn.pipeline}.{d}" if "." not in d else d for d in pn.config.depends_on]
        edges = [Edge(u, key) for u in dict.fromkeys(ups) if u in nodes]
        for ds in pn.reads:
            edges += [Edge(w, key, "reads", ds) for w in writers.get(ds, [])]
        for ds in pn.writes:
            earlier = writers.get(ds, []) + readers.get(ds, [])
            edges += [Edge(u, key, "order", ds) for u in earlier if u != key]
        pn.upstream = _strongest(edges)
        for e in pn.upstream:
            nodes[e.upstream].downstream.append(e)
        for ds in pn.reads:
            readers.setdefault(ds, []).append(key)
        for ds in pn.writes:
            writers.setdefault(ds, []).append(key)
    plan.topological_order()  # raises PlanCycle
    return plan


def _quarantine(node: NodeConfig) -> Any:
    """Row rules' quarantine target: written by the node too (readers and writers order on it)."""
    return node.validation.quarantine if node.validation else None


def _strongest(edges: list[Edge]) -> list[Edge]:
    """One edge per upstream node: declared first, then a read, then an ordering."""
    rank = {"depends_on": 0, "reads": 1, "order": 2}
    best: dict[str, Edge] = {}
    for e in edges:
        if e.upstream not in best or rank[e.kind] < rank[best[e.upstream].kind]:
            best[e.upstream] = e
    return list(best.values())


def _views(node: NodeConfig, local: dict[str, list[str]], sql: tuple[Any, ...]) -> tuple[str, ...]:
    """Same-pipeline outputs a node reads: its dependencies, ancestors its SQL names, and every
    ancestor when a function step could ask for any of them."""
    used = {d for d in node.depends_on if d in local}
    for tree in sql:
        if tree is None:
            used |= ancestors(node.name, local)
        else:  # SQL names are case-insensitive
            used |= set(ancestors_named(node.name, local, _tables(tree)).values())
    return tuple(sorted(used))


def _tables(tree: Any) -> set[str]:
    """Lower-cased tables a step reads, from its parsed tree or its cached checks."""
    from odibi_dbx.sql.cache import CachedStep

    if isinstance(tree, CachedStep):
        return set(tree.tables)
    from odibi_dbx.sql import referenced_tables

    return referenced_tables(tree)


def _cycle(plan: Plan, stuck: list[str]) -> list[str]:
    """One cycle among nodes that could not be ordered."""
    inside = set(stuck)
    key, trail = stuck[0], []
    while key not in trail:
        trail.append(key)
        key = next(e.upstream for e in plan.nodes[key].upstream if e.upstream in inside)
    return trail[trail.index(key) :]


def _norm(path: str | None) -> str | None:
    if path is None:
        return None
    return posixpath.normpath(path.replace("\\", "/")).rstrip("/")
