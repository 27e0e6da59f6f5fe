"""Run a project's plan: one graph across pipelines, independent nodes at once, events for every
listener. A node whose upstream failed or was skipped is skipped, with the reason."""

from __future__ import annotations

import heapq
import logging
import secrets as _random
import time
import traceback
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import replace
from datetime import datetime, timezone
from typing import Any, TypeVar

from odibi_dbx.config.checks import descendants
from odibi_dbx.config.loader import LoadedProject
from odibi_dbx.config.models import FunctionStep, NodeConfig, PipelineConfig, SqlStep, infer_format
from odibi_dbx.connections.base import Connection
from odibi_dbx.data_errors import DataError, data_error_in
from odibi_dbx.engines.base import Engine, ReadSpec, WriteSpec
from odibi_dbx.errors import NodeError, ValidationFailed, first_line
from odibi_dbx.incremental.run import IncrementalRun
from odibi_dbx.incremental.state import commit_metadata
from odibi_dbx.pipeline.baseline import gate_results, node_key
from odibi_dbx.pipeline.context import Context
from odibi_dbx.pipeline.events import (
    ErrorInfo,
    ListenerFailure,
    NodeResult,
    RunInfo,
    RunListener,
    RunResult,
    StepRecord,
)
from odibi_dbx.pipeline.overlaps import WriteIndex
from odibi_dbx.pipeline.plan import Edge, Plan, PlanNode
from odibi_dbx.pipeline.write_first import written_first
from odibi_dbx.redact import redact
from odibi_dbx.retry import call_with_retry, is_transient
from odibi_dbx.transforms import engine_mismatch, frame_adapters

log = logging.getLogger("odibi_dbx.runner")

T = TypeVar("T")


def _fed_by_incremental_reads(pipe: PipelineConfig) -> dict[str, set[str]]:
    """Each incremental read of `pipe` -> itself and the nodes downstream of it: the writes
    among them store its watermark. Built once per run (a walk per incremental read), not an
    ancestor walk per write."""
    deps = {n.name: n.depends_on for n in pipe.nodes}
    return {
        n.name: descendants(n.name, deps) | {n.name}
        for n in pipe.nodes
        if n.read and n.read.incremental
    }


def new_run_id() -> str:
    """Sorts by start time (to the millisecond: stories and diffs rely on the order)."""
    now = datetime.now(timezone.utc)
    return now.strftime("%Y%m%dT%H%M%S") + f"{now.microsecond // 1000:03d}Z-" + _random.token_hex(3)


class Runner:
    """Walks the project's compiled plan (one graph across pipelines) on a thread pool."""

    def __init__(
        self,
        project: LoadedProject,
        engine: Engine,
        connections: dict[str, Connection],
        listeners: Iterable[RunListener] = (),
        *,
        keep_outputs: bool = False,
        runtime: dict[str, Any] | None = None,
        baseline: Mapping[str, dict[str, Any]] | None = None,
        full_refresh: bool = False,
    ):
        self.project = project
        self.config = project.config
        self.plan = project.plan
        self.engine = engine
        self.connections = connections
        self.listeners = list(listeners)
        self.keep_outputs = keep_outputs  # notebooks keep every node's output for inspection
        self._read_back: set[str] = set()  # outputs later nodes read from their first write
        self.runtime = runtime or {}
        self.baseline = baseline or {}  # "pipeline.node" -> the node in its last successful run
        self.outputs: dict[tuple[str, str], Any] = {}
        self.full_refresh = full_refresh  # incremental reads ignore their stored state
        self._incremental: IncrementalRun | None = None
        self._writes = WriteIndex(self.plan.nodes.values())
        self._fed = {p.pipeline: _fed_by_incremental_reads(p) for p in self.config.pipelines}
        self._result: RunResult | None = None

    # -- events --
    def _emit(self, event: str, *args: Any) -> None:
        """Tell every listener. A listener that raises is logged and recorded on the result;
        it never aborts the run nor changes its status."""
        for listener in self.listeners:
            try:
                getattr(listener, event)(*args)
            except Exception as exc:
                failure = ListenerFailure(
                    type(listener).__name__,
                    event,
                    redact(f"{type(exc).__name__}: {first_line(exc)}"),
                )
                log.warning("listener %s failed on %s: %s", failure.listener, event, failure.error)
                if self._result is not None:
                    self._result.listener_failures.append(failure)

    def run(
        self,
        pipelines: Sequence[str] | None = None,
        nodes: Sequence[str] | None = None,
        run_id: str | None = None,
        notes: Sequence[str] = (),
    ) -> RunResult:
        """`notes`: run-level facts for the story beyond the engine's (repairs made before
        the run, say)."""
        keys = self.plan.select(pipelines, nodes)  # unknown names raise before anything runs
        chosen = {self.plan.nodes[k].pipeline for k in keys}
        info = RunInfo(
            run_id=run_id or new_run_id(),
            project=self.config.project,
            engine=self.engine.name,
            environment=self.project.environment,
            pipelines=[p for p in self.plan.pipelines if p in chosen],
            started=datetime.now(timezone.utc),
            config_file=str(self.project.file),
            timezone=self.config.timezone,
            runtime=self.runtime,
            notes=[*self.engine.notes, *notes],
        )
        result = self._result = RunResult(info)
        results = {k: _new_result(self.plan.nodes[k]) for k in keys}
        result.nodes = [results[k] for k in _project_order(self.plan, keys)]
        self._incremental = IncrementalRun(self.engine, full_refresh=self.full_refresh)
        self._emit("run_started", info)
        try:
            self._run_graph(info, keys, results)
        finally:
            for res in result.nodes:  # only when the runner itself broke: never left pending
                if res.status in ("pending", "running"):
                    res.status = "failed"
                    res.error = res.error or ErrorInfo(
                        "run", "the run stopped before this node finished", "RunAborted"
                    )
            result.ended = datetime.now(timezone.utc)
            result.status = run_status(result.nodes)
            self._emit("run_finished", result)
        return result

    # -- the graph --
    def _run_graph(self, info: RunInfo, keys: list[str], results: dict[str, NodeResult]) -> None:
        plan, selected = self.plan, set(keys)
        ups = {k: [e for e in plan.nodes[k].upstream if e.upstream in selected] for k in keys}
        views = {k: [f"{plan.nodes[k].pipeline}.{v}" for v in plan.nodes[k].views] for k in keys}
        views = {k: [v for v in vs if v in selected] for k, vs in views.items()}
        remaining = dict.fromkeys(keys, 0)  # how many nodes read each key's output in memory
        for vs in views.values():
            for v in vs:
                remaining[v] += 1
        first = {} if self.keep_outputs else self._written_first(keys, views, remaining)
        for src, writer in first.items():  # the other readers wait for the write
            for k in keys:
                if k != writer and src in views[k]:
                    ups[k] = [*ups[k], Edge(writer, k, "order")]
        self._read_back = set(first)
        downs: dict[str, list[str]] = {k: [] for k in keys}  # who to look at once a key settles
        for k in keys:
            for e in ups[k]:
                downs[e.upstream].append(k)
        per_pipeline = {p: [k for k in keys if plan.nodes[k].pipeline == p] for p in info.pipelines}
        open_nodes = {p: len(ks) for p, ks in per_pipeline.items()}
        frames: dict[str, Any] = {}
        refs: dict[int, int] = {}  # id(frame) -> uses still to come (write-only nodes share)

        def drop(frame: Any) -> None:
            refs[id(frame)] -= 1
            if refs[id(frame)] <= 0 and not self.keep_outputs:
                self.engine.release(frame)

        def start_pipeline(key: str) -> None:
            pipe = plan.nodes[key].pipeline
            if open_nodes[pipe] == len(per_pipeline[pipe]) and pipe not in started:
                started.add(pipe)
                self._emit(
                    "pipeline_started", info, pipe, [plan.nodes[k].name for k in per_pipeline[pipe]]
                )

        def settle(key: str, frame: Any) -> None:
            settled[key] = results[key].status
            if frame is not None:
                frames[key] = frame
                refs[id(frame)] = refs.get(id(frame), 0) + remaining[key] + 1
                if self.keep_outputs:
                    self.outputs[(plan.nodes[key].pipeline, plan.nodes[key].name)] = frame
            for u in views[key]:
                if u in frames:
                    drop(frames[u])
            if frame is not None:
                drop(frame)
            pipe = plan.nodes[key].pipeline
            open_nodes[pipe] -= 1
            if not open_nodes[pipe]:
                done = [results[k] for k in per_pipeline[pipe]]
                self._emit("pipeline_finished", info, pipe, done)
            for d in downs[key]:
                if d in pending:
                    heapq.heappush(candidates, rank[d])

        started: set[str] = set()
        rank = {k: i for i, k in enumerate(keys)}  # keys are in topological order
        pending = set(keys)
        # keys whose upstream changed, looked at in topological order (a heap of ranks): the
        # nodes without upstream first, then each settled node's downstream, never the whole set
        candidates = [rank[k] for k in keys if not ups[k]]
        settled: dict[str, str] = {}  # key -> final status, as seen by this thread
        running: dict[Future, str] = {}
        workers = max(1, self.engine.capabilities.max_parallel_nodes)
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="odibi-node") as pool:
            while pending or running:
                while candidates:
                    key = keys[heapq.heappop(candidates)]
                    if key not in pending:
                        continue
                    bad = [
                        e
                        for e in ups[key]
                        if e.needs_success and settled.get(e.upstream) in ("failed", "skipped")
                    ]
                    if bad:
                        pending.discard(key)
                        start_pipeline(key)
                        res = results[key]
                        res.status = "skipped"
                        res.skipped_because = _skip_reason(key, bad[0], settled[bad[0].upstream])
                        self._emit("node_finished", info, res)
                        settle(key, None)
                    elif all(e.upstream in settled for e in ups[key]):
                        pending.discard(key)
                        start_pipeline(key)
                        node = plan.nodes[key]
                        visible = {u.partition(".")[2]: frames[u] for u in views[key]}
                        fut = pool.submit(
                            self._run_node, info, node, visible, results[key], remaining[key]
                        )
                        running[fut] = key
                if not running:
                    break
                done, _ = wait(list(running), return_when=FIRST_COMPLETED)
                for fut in done:
                    key = running.pop(fut)
                    settle(key, fut.result())  # _run_node never raises

    def _written_first(
        self, keys: list[str], views: dict[str, list[str]], readers: dict[str, int]
    ) -> dict[str, str]:
        if not self.engine.capabilities.reads_written_output:
            return {}
        return written_first(self.plan, keys, views, readers)

    # -- one node --
    def _run_node(
        self, info: RunInfo, node: PlanNode, inputs: dict[str, Any], res: NodeResult, consumers: int
    ) -> Any:
        res.started = datetime.now(timezone.utc)
        t0 = time.perf_counter()
        self._emit("node_started", info, node.pipeline, node.name)
        frame = None
        try:
            frame = self._execute(info, node, inputs, res, consumers)
            res.status = "success"
        except Exception as exc:  # reported per node; the run goes on with unrelated nodes
            res.status = "failed"
            res.error = _error_info(exc, node.name)
            frame = None
        res.ended = datetime.now(timezone.utc)
        res.seconds = time.perf_counter() - t0
        self._emit("node_finished", info, res)
        return frame

    def _retrying(
        self, info: RunInfo, pipe: str, node: str, res: NodeResult, fn: Callable[[], T]
    ) -> T:
        """Call fn with retries of transient errors; every attempt is recorded on the node,
        and a node's attempts and waits stay within retry.max_seconds in all."""
        retry = self.config.retry
        attempts = retry.max_attempts if retry.enabled else 1
        started = res.started.timestamp() if res.started else time.time()
        deadline = time.monotonic() + retry.max_seconds - (time.time() - started)

        def counted() -> T:
            res.attempts += 1
            return fn()

        def record(
            attempt: int, exc: BaseException, outcome: str, wait_s: float | None = None
        ) -> None:
            res.retries.append(
                {
                    "attempt": res.attempts,
                    "error": redact(
                        exc.short
                        if isinstance(exc, NodeError)
                        else f"{type(exc).__name__}: {first_line(exc)}"
                    ),
                    "outcome": outcome,
                    "wait_seconds": wait_s,
                    "at": datetime.now(timezone.utc).isoformat(),
                }
            )

        def on_retry(attempt: int, exc: BaseException, wait_s: float) -> None:
            record(attempt, exc, "retried", wait_s)
            self._emit("node_retrying", info, pipe, node, attempt, exc, wait_s)

        def on_give_up(attempt: int, exc: BaseException, why: str) -> None:
            record(attempt, exc, f"gave up: {why}")
            if isinstance(exc, NodeError) and attempts > 1:
                exc.hint = (
                    f"gave up after {res.attempts} attempts ({why}; retry.max_attempts "
                    f"{retry.max_attempts}, retry.max_seconds {retry.max_seconds:g}); "
                    "the story lists every attempt"
                )

        return call_with_retry(
            counted,
            attempts=attempts,
            backoff=retry.backoff,
            initial=retry.initial_delay,
            deadline=deadline,
            on_retry=on_retry,
            on_give_up=on_give_up,
        )

    def _execute(
        self,
        info: RunInfo,
        plan_node: PlanNode,
        inputs: dict[str, Any],
        res: NodeResult,
        consumers: int,
    ) -> Any:
        eng, node, pipeline = self.engine, plan_node.config, plan_node.pipeline
        pipe = self.config.pipeline(pipeline)
        frame = None
        direct = [d for d in node.depends_on if d in inputs]
        res.rows_in = _sum_rows([eng.row_count(inputs[d]) for d in direct]) if direct else None
        if node.read:
            r = node.read
            spec = ReadSpec(
                node=node.name,
                connection=self.connections[r.connection],
                format=r.format or infer_format(r.path) or "delta",
                path=r.path,
                table=r.table,
                options=r.options,
                schema=r.schema_,
                version=r.version,
            )
            res.read = {"connection": r.connection, "format": spec.format, "target": spec.target}

            def read(s: ReadSpec) -> Any:
                return self._retrying(info, pipeline, node.name, res, lambda: eng.read(s))

            if r.incremental:
                frame = self._read_incremental(info, pipe, node, spec, res, read)
            else:
                frame = read(spec)
        if node.transform:
            views = dict(inputs)
            for i, step in enumerate(node.transform.steps):
                t0 = time.perf_counter()
                if frame is not None:
                    views["this"] = frame
                if isinstance(step, SqlStep):
                    rec = StepRecord("sql", step.sql)
                    res.steps.append(rec)
                    try:
                        frame, rec.executed = eng.sql(step.sql, views, plan_node.sql[i])
                    except DataError as exc:  # a constant the step computes while binding
                        raise _data_error(exc, node.name, step.sql) from exc
                    except Exception as exc:
                        raise NodeError(
                            f"SQL step {i + 1} failed: {first_line(exc)}",
                            node=node.name,
                            stage="transform",
                            detail=_sql_excerpt(step.sql),
                            hint="check column names and types of the inputs "
                            "(the story shows each node's schema)",
                        ) from exc
                else:
                    assert isinstance(step, FunctionStep)
                    rec = StepRecord("function", step.function, dict(step.params))
                    res.steps.append(rec)
                    frame = self._call_function(node.name, i, step, views, frame)
                rec.seconds = time.perf_counter() - t0
        elif frame is None:
            if len(direct) != 1:
                raise NodeError(
                    "nothing to write",
                    node=node.name,
                    stage="write",
                    hint="a write-only node needs exactly one dependency",
                )
            frame = inputs[direct[0]]

        # nothing but the node's own write reads the output: it may stream into the write
        streamed = bool(node.write) and not node.validation and not self.keep_outputs
        stable = not self.keep_outputs and self._stable_reads(plan_node)

        def finish(f: Any) -> Any:
            try:
                return eng.finish(
                    f,
                    key=plan_node.key,
                    consumers=consumers,
                    cache=node.cache,
                    streamed=streamed,
                    stable=stable,
                    written_first=plan_node.key in self._read_back,
                )
            except DataError as exc:  # the node's SQL met a value Spark fails on too
                raise _data_error(exc, node.name, _last_sql(node)) from exc

        story = self.config.story
        gate = None
        if node.validation and node.validation.rules:  # may fail the node: nothing written
            frame, gate = self._rules(info, pipe.pipeline, node, frame, inputs, res, finish)
        else:
            frame = finish(frame)
        # the profile can come from the write when no vs_previous gate reads it before
        later = bool(node.write) and not (node.validation and node.validation.vs_previous)
        summary = eng.summarize(
            frame, story.max_sample_rows, story.profile_columns, defer_profile=later
        )
        if node.validation:
            checks = node.validation if gate is None else gate.remaining_checks()
            if checks is not None:
                res.validation += eng.check(frame, checks)
            if summary.rows is None and checks is not None:  # counted by the validation job (Spark)
                summary = eng.summarize(frame, story.max_sample_rows, story.profile_columns)
        res.columns, res.sample, res.rows_out = summary.columns, summary.sample, summary.rows
        res.profile = summary.profile
        if node.validation:
            try:
                self._validate(node, frame, res)
            except ValidationFailed:
                if gate is not None:
                    gate.discard()
                if res.profile is None and story.profile_columns:  # no write to profile it
                    res.profile = eng.summarize(frame, 0, story.profile_columns).profile
                raise
        if gate is not None:
            gate.write_quarantine()  # appended before the node's own write
        if node.write:
            w = node.write
            wspec = self._write_spec(node, info.run_id)
            assert self._incremental is not None
            states = self._incremental.states_for(
                f"{pipe.pipeline}.{r}"
                for r, fed in self._fed[pipe.pipeline].items()
                if node.name in fed
            )
            if states:  # stored with this write (Delta: in its commit)
                wspec = replace(wspec, commit_metadata=commit_metadata(states))
                if self.full_refresh and wspec.mode == "append":
                    wspec = replace(wspec, mode="overwrite")  # a full refresh rebuilds appends
            try:
                out = self._retrying(
                    info, pipeline, node.name, res, lambda: eng.write(frame, wspec)
                )
            except NodeError as exc:
                if exc.stage == "transform":  # a value the node's SQL fails on, computed here
                    sql = _last_sql(node)
                    exc.detail = "; ".join(filter(None, [sql and _sql_excerpt(sql), exc.detail]))
                raise
            self._incremental.after_write(wspec, states)
            res.write = {
                "connection": w.connection,
                "format": wspec.format,
                "mode": w.mode,
                "target": out.target,
                "rows": out.rows,
                **out.metrics,
            }
            if gate is not None:
                gate.after_write()
            if res.rows_out is None:  # engines that count with the write's own job (Spark)
                late = eng.summarize(frame, story.max_sample_rows, story.profile_columns)
                res.rows_out = out.rows if late.rows is None else late.rows
                res.sample = late.sample or res.sample
                res.profile = late.profile
            elif res.profile is None and story.profile_columns:  # profiled by the write
                res.profile = eng.summarize(frame, 0, story.profile_columns).profile
        if node.read and not node.transform and res.rows_in is None:
            res.rows_in = res.rows_out
        return frame

    def _stable_reads(self, node: PlanNode) -> bool:
        """Whether what the node reads stays as it is for the rest of the run: every node that
        writes it ran before this one (an ancestor), none can run later."""
        writers = set().union(*(self._writes.writers(r) for r in node.reads))
        if not writers:
            return True
        seen: set[str] = set()
        todo = [node.key]
        while todo and not writers <= seen:
            for edge in self.plan.upstream(todo.pop()):
                if edge.upstream not in seen:
                    seen.add(edge.upstream)
                    todo.append(edge.upstream)
        return writers <= seen

    def _validate(self, node: NodeConfig, frame: Any, res: NodeResult) -> None:
        """Gates against the last successful run, then fail the node (before it writes) when
        any check failed, keeping a few failing rows for the story."""
        v = node.validation
        assert v is not None
        if v.vs_previous is not None:
            current = {
                "rows_out": res.rows_out,
                "columns": [{"name": c, "type": t} for c, t in res.columns],
                "profile": res.profile or {},
            }
            prev = self.baseline.get(node_key(res.pipeline, res.name))
            res.validation += gate_results(v.vs_previous, prev, current)
        failed = [c for c in res.validation if c.fails_node]
        if not failed:
            return
        if any(not c.check.startswith("vs_previous") for c in failed):
            res.failing_rows = self.engine.failing_rows(frame, v, self.config.story.max_sample_rows)
        raise ValidationFailed(
            "validation failed: " + "; ".join(f"{c.check} ({c.detail})" for c in failed),
            node=node.name,
            stage="validation",
            detail="nothing was written" if node.write else None,
            hint="fix the data or the upstream logic; the story shows a sample",
        )

    def _rules(
        self,
        info: RunInfo,
        pipeline: str,
        node: NodeConfig,
        frame: Any,
        inputs: dict[str, Any],
        res: NodeResult,
        finish: Callable[[Any], Any],
    ) -> tuple[Any, Any]:
        """Row rules (odibi_dbx.quality), with the column checks in the same pass: the kept
        rows become the node's output; the quarantine is written once every gate passed.
        `finish` materialises the node's output (the Pandas rules' pass does it itself)."""
        from odibi_dbx import quality

        def report(gate: quality.Gate) -> None:
            res.validation, res.quality = list(gate.results), dict(gate.counts) or None

        def write(f: Any, spec: WriteSpec) -> Any:
            return self._retrying(
                info, pipeline, node.name, res, lambda: self.engine.write(f, spec)
            )

        shared = any(frame is v for v in inputs.values())  # a write-only node's input
        gate = quality.apply(
            self.engine,
            frame,
            node,
            run_id=info.run_id,
            connections=self.connections,
            sample_rows=self.config.story.max_sample_rows,
            write=write,
            report=report,
            shared=shared,
            finish=finish,
        )
        if gate.frame is not gate.source and not shared:
            self.engine.release(gate.source)  # the node's own pre-rules output: nothing reads it
        return gate.frame, gate

    def _write_spec(self, node: NodeConfig, run_id: str) -> WriteSpec:
        w = node.write
        assert w is not None
        return WriteSpec(
            node=node.name,
            connection=self.connections[w.connection],
            format=w.resolved_format,
            mode=w.mode,
            path=w.path,
            table=w.table,
            merge_keys=tuple(w.merge_keys or ()),
            partition_by=tuple(w.partition_by),
            options=w.options,
            run_id=run_id,
            schema_evolution=w.schema_evolution,
            scd2=w.scd2,
        )

    def _read_incremental(
        self,
        info: RunInfo,
        pipe: PipelineConfig,
        node: NodeConfig,
        spec: ReadSpec,
        res: NodeResult,
        read: Any,
    ) -> Any:
        """Read past the stored watermark; the writes downstream keep the new one."""
        assert node.read and node.read.incremental and self._incremental is not None
        fed = self._fed[pipe.pipeline][node.name]
        targets = [
            self._write_spec(n, info.run_id) for n in pipe.nodes if n.write and n.name in fed
        ]
        try:
            frame, report = self._incremental.read(
                f"{pipe.pipeline}.{node.name}", spec, node.read.incremental, targets, read
            )
        except NodeError:
            raise
        except Exception as exc:
            raise NodeError(
                f"incremental read of {spec.target} failed: {first_line(exc)}",
                node=node.name,
                stage="read",
                hint="see docs/incremental.md",
                transient=is_transient(exc),
            ) from exc
        res.incremental = report.to_dict()
        return frame

    def _call_function(
        self, node: str, i: int, step: FunctionStep, views: dict[str, Any], current: Any
    ) -> Any:
        fn = self.project.functions.get(step.function)
        if fn is None:
            raise NodeError(
                f"function '{step.function}' is not registered",
                node=node,
                stage="transform",
                hint="list its module under imports:",
            )
        mismatch = engine_mismatch(fn, self.engine.name)
        if mismatch:
            raise NodeError(
                mismatch,
                node=node,
                stage="transform",
                hint="run the project with that engine, or write the function once for both "
                "engines with @transform(narwhals=True)",
            )
        to_user, to_native = frame_adapters(fn, self.engine)
        ctx = Context(node, views, to_user, self.engine)
        try:
            out = to_native(fn(ctx, **step.params))
        except Exception as exc:
            raise NodeError(
                f"function step {i + 1} '{step.function}' raised {type(exc).__name__}: "
                f"{first_line(exc)}",
                node=node,
                stage="transform",
                detail=f"params: {step.params}" if step.params else None,
                hint=_function_hint(fn, self.engine.name),
            ) from exc
        if out is None:
            raise NodeError(
                f"function '{step.function}' returned None",
                node=node,
                stage="transform",
                hint="a function step returns a DataFrame",
            )
        try:
            return self.engine.from_user(out)
        except TypeError as exc:
            raise NodeError(str(exc), node=node, stage="transform") from exc


def _function_hint(fn: Any, engine: str) -> str | None:
    """For a function declared for no engine: say what it received, in case it was written for
    the other engine (a pandas function on Spark fails with "'Column' object is not callable")."""
    if getattr(fn, "__odibi_engine__", None) or getattr(fn, "__odibi_narwhals__", False):
        return None
    kind = "Spark DataFrames" if engine == "spark" else "pandas DataFrames"
    return (
        f"on the {engine} engine context.get() gives {kind}; a function written for one engine "
        "says so with @transform(engine='pandas'|'spark'), one written for both uses "
        "@transform(narwhals=True)"
    )


def _new_result(node: PlanNode) -> NodeResult:
    return NodeResult(node.pipeline, node.name, upstream=[e.upstream for e in node.upstream])


def _skip_reason(key: str, edge: Edge, status: str) -> str:
    up_pipe, _, up_name = edge.upstream.partition(".")
    same = key.partition(".")[0] == up_pipe
    text = f"upstream node '{up_name if same else edge.upstream}' {status}"
    if edge.dataset is not None:
        text += f" (it writes {edge.dataset}, which this node reads)"
    return text


def run_status(nodes: Sequence[NodeResult]) -> str:
    """A run succeeded only when it ran nodes and every one of them succeeded."""
    return "success" if nodes and all(n.status == "success" for n in nodes) else "failed"


def _project_order(plan: Plan, keys: Iterable[str]) -> list[str]:
    wanted = set(keys)
    return [k for k in plan.nodes if k in wanted]


def _sum_rows(values: list[int | None]) -> int | None:
    return None if any(v is None for v in values) else sum(values)  # type: ignore[arg-type]


def _last_sql(node: NodeConfig) -> str | None:
    steps = node.transform.steps if node.transform else []
    sql = [s.sql for s in steps if isinstance(s, SqlStep)]
    return sql[-1] if sql else None


def _data_error(exc: DataError, node: str, sql: str | None) -> NodeError:
    """The node's failure for a value Spark fails on too: Spark's error class and a hint."""
    detail = [_sql_excerpt(sql)] if sql else []
    if exc.detail:
        detail.append(exc.detail)
    return NodeError(
        str(exc), node=node, stage="transform", detail="; ".join(detail) or None, hint=exc.hint
    )


def _sql_excerpt(sql: str, limit: int = 300) -> str:
    s = " ".join(sql.split())
    return "SQL: " + (s if len(s) <= limit else s[:limit] + " ...")


def _error_info(exc: BaseException, node: str) -> ErrorInfo:
    tb = redact("".join(traceback.format_exception(type(exc), exc, exc.__traceback__)))
    if isinstance(exc, NodeError):
        return ErrorInfo(
            exc.stage,
            redact(exc.short),
            type(exc.__cause__ or exc).__name__,
            redact(exc.detail) if exc.detail else None,
            exc.hint,
            tb,
        )
    data = data_error_in(exc)
    if data is not None:  # a value the node's SQL fails on, met while summarizing or checking
        return ErrorInfo("transform", redact(str(data)), type(exc).__name__, None, data.hint, tb)
    return ErrorInfo(
        "run",
        redact(f"{type(exc).__name__}: {first_line(exc)}"),
        type(exc).__name__,
        None,
        "this is unexpected; the traceback is in the story",
        tb,
    )
