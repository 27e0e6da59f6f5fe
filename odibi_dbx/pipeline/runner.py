"""Run pipelines: a DAG per pipeline, independent nodes at once, events for every listener."""

from __future__ import annotations

import secrets as _random
import time
import traceback
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import replace
from datetime import datetime, timezone
from typing import Any

from odibi_dbx.config.checks import ancestors
from odibi_dbx.config.loader import LoadedProject
from odibi_dbx.config.models import FunctionStep, NodeConfig, PipelineConfig, SqlStep, infer_format
from odibi_dbx.connections.base import Connection
from odibi_dbx.engines.base import Engine, ReadSpec, WriteSpec
from odibi_dbx.errors import NodeError, OdibiError, ValidationFailed, did_you_mean, first_line
from odibi_dbx.incremental.run import IncrementalRun
from odibi_dbx.incremental.state import commit_metadata
from odibi_dbx.pipeline.baseline import gate_results, node_key
from odibi_dbx.pipeline.context import Context
from odibi_dbx.pipeline.events import (
    ErrorInfo,
    NodeResult,
    RunInfo,
    RunListener,
    RunResult,
    StepRecord,
)
from odibi_dbx.redact import redact
from odibi_dbx.retry import call_with_retry, is_transient


def new_run_id() -> str:
    """Sorts by start time (to the millisecond: stories and diffs rely on the order)."""
    now = datetime.now(timezone.utc)
    return now.strftime("%Y%m%dT%H%M%S") + f"{now.microsecond // 1000:03d}Z-" + _random.token_hex(3)


class Runner:
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
        self.engine = engine
        self.connections = connections
        self.listeners = list(listeners)
        self.keep_outputs = keep_outputs  # notebooks keep every node's output for inspection
        self.runtime = runtime or {}
        self.baseline = baseline or {}  # "pipeline.node" -> the node in its last successful run
        self.outputs: dict[tuple[str, str], Any] = {}
        self.full_refresh = full_refresh  # incremental reads ignore their stored state
        self._incremental: IncrementalRun | None = None

    # -- events --
    def _emit(self, event: str, *args: Any) -> None:
        for listener in self.listeners:
            getattr(listener, event)(*args)

    # -- selection --
    def _select(self, pipelines: Sequence[str] | None) -> list[PipelineConfig]:
        names = [p.pipeline for p in self.config.pipelines]
        if not pipelines:
            return list(self.config.pipelines)
        out = []
        for name in pipelines:
            if name not in names:
                hint = did_you_mean(name, names) or f"pipelines: {', '.join(names)}"
                raise OdibiError(f"unknown pipeline '{name}' ({hint})")
        for p in self.config.pipelines:  # the project's order
            if p.pipeline in pipelines:
                out.append(p)
        return out

    def run(
        self,
        pipelines: Sequence[str] | None = None,
        nodes: Sequence[str] | None = None,
        run_id: str | None = None,
    ) -> RunResult:
        selected = self._select(pipelines)
        info = RunInfo(
            run_id=run_id or new_run_id(),
            project=self.config.project,
            engine=self.engine.name,
            environment=self.project.environment,
            pipelines=[p.pipeline for p in selected],
            started=datetime.now(timezone.utc),
            config_file=str(self.project.file),
            timezone=self.config.timezone,
            runtime=self.runtime,
        )
        result = RunResult(info)
        self._incremental = IncrementalRun(self.engine, full_refresh=self.full_refresh)
        self._emit("run_started", info)
        try:
            for pipe in selected:
                wanted = self._wanted(pipe, nodes)
                result.nodes += self._run_pipeline(info, pipe, wanted)
        finally:
            result.ended = datetime.now(timezone.utc)
            done = all(n.status == "success" for n in result.nodes)
            result.status = "success" if done else "failed"
            self._emit("run_finished", result)
        return result

    def _wanted(self, pipe: PipelineConfig, nodes: Sequence[str] | None) -> list[NodeConfig]:
        if not nodes:
            return list(pipe.nodes)
        deps = {n.name: n.depends_on for n in pipe.nodes}
        unknown = [n for n in nodes if n not in deps]
        if unknown:
            hint = did_you_mean(unknown[0], deps) or f"nodes: {', '.join(deps)}"
            raise OdibiError(f"unknown node '{unknown[0]}' in pipeline '{pipe.pipeline}' ({hint})")
        keep = set(nodes)
        for n in nodes:  # a node runs with everything it needs upstream
            keep |= ancestors(n, deps)
        return [n for n in pipe.nodes if n.name in keep]

    # -- one pipeline --
    def _run_pipeline(
        self, info: RunInfo, pipe: PipelineConfig, nodes: list[NodeConfig]
    ) -> list[NodeResult]:
        by_name = {n.name: n for n in nodes}
        deps = {n.name: [d for d in n.depends_on if d in by_name] for n in nodes}
        uses = {n.name: _uses(n, deps) for n in nodes}
        remaining = {name: sum(name in u for u in uses.values()) for name in by_name}
        results = {
            n.name: NodeResult(
                pipe.pipeline, n.name, upstream=[node_key(pipe.pipeline, d) for d in n.depends_on]
            )
            for n in nodes
        }
        frames: dict[str, Any] = {}
        refs: dict[int, int] = {}  # id(frame) -> uses still to come (write-only nodes share)
        self._emit("pipeline_started", info, pipe.pipeline, list(by_name))

        def drop(frame: Any) -> None:
            refs[id(frame)] -= 1
            if refs[id(frame)] <= 0 and not self.keep_outputs:
                self.engine.release(frame)

        def settle(name: str, frame: Any) -> None:
            if frame is not None:
                frames[name] = frame
                refs[id(frame)] = refs.get(id(frame), 0) + remaining[name] + 1
                if self.keep_outputs:
                    self.outputs[(pipe.pipeline, name)] = frame
            for u in uses[name]:
                drop(frames[u])
            if frame is not None:
                drop(frame)

        pending = dict(by_name)
        settled: dict[str, str] = {}  # name -> final status, as seen by this thread
        running: dict[Future, str] = {}
        workers = max(1, self.engine.capabilities.max_parallel_nodes)
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="odibi-node") as pool:
            while pending or running:
                for name in list(pending):
                    # decide on settled nodes only: a worker sets its status before settling
                    bad = [d for d in deps[name] if settled.get(d) in ("failed", "skipped")]
                    if bad:
                        res = results[name]
                        res.status = "skipped"
                        res.skipped_because = f"upstream node '{bad[0]}' {settled[bad[0]]}"
                        settled[name] = "skipped"
                        del pending[name]
                        self._emit("node_finished", info, res)
                        for u in uses[name]:
                            if u in frames:
                                drop(frames[u])
                    elif all(settled.get(d) == "success" for d in deps[name]):
                        node = pending.pop(name)
                        visible = {u: frames[u] for u in uses[name]}
                        running[
                            pool.submit(
                                self._run_node,
                                info,
                                pipe,
                                node,
                                visible,
                                results[name],
                                remaining[name],
                            )
                        ] = name
                if not running:
                    break
                done, _ = wait(list(running), return_when=FIRST_COMPLETED)
                for fut in done:
                    name = running.pop(fut)
                    settle(name, fut.result())  # _run_node never raises
                    settled[name] = results[name].status
        ordered = [results[n.name] for n in nodes]
        self._emit("pipeline_finished", info, pipe.pipeline, ordered)
        return ordered

    # -- one node --
    def _run_node(
        self,
        info: RunInfo,
        pipe: PipelineConfig,
        node: NodeConfig,
        inputs: dict[str, Any],
        res: NodeResult,
        consumers: int,
    ) -> Any:
        res.started = datetime.now(timezone.utc)
        t0 = time.perf_counter()
        self._emit("node_started", info, pipe.pipeline, node.name)
        frame = None
        try:
            frame = self._execute(info, pipe, node, inputs, res, consumers)
            res.status = "success"
        except Exception as exc:  # reported per node; the run goes on with unrelated nodes
            res.status = "failed"
            res.error = _error_info(exc, node.name)
            frame = None
        res.ended = datetime.now(timezone.utc)
        res.seconds = time.perf_counter() - t0
        self._emit("node_finished", info, res)
        return frame

    def _retrying(self, info: RunInfo, pipe: str, node: str, res: NodeResult, fn):
        retry = self.config.retry
        attempts = retry.max_attempts if retry.enabled else 1

        def counted():
            res.attempts += 1
            return fn()

        def on_retry(attempt: int, exc: BaseException, wait_s: float) -> None:
            self._emit("node_retrying", info, pipe, node, attempt, exc, wait_s)

        return call_with_retry(
            counted,
            attempts=attempts,
            backoff=retry.backoff,
            initial=retry.initial_delay,
            on_retry=on_retry,
        )

    def _execute(
        self,
        info: RunInfo,
        pipe: PipelineConfig,
        node: NodeConfig,
        inputs: dict[str, Any],
        res: NodeResult,
        consumers: int,
    ) -> Any:
        eng = self.engine
        frame = None
        direct = [d for d in node.depends_on if d in inputs]
        res.rows_in = (
            _sum_rows([getattr(inputs[d], "rows", None) for d in direct]) if direct else None
        )
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
                return self._retrying(info, pipe.pipeline, node.name, res, lambda: eng.read(s))

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
                        frame, rec.executed = eng.sql(step.sql, views)
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
        frame = eng.finish(
            frame, key=f"{pipe.pipeline}.{node.name}", consumers=consumers, cache=node.cache
        )
        story = self.config.story
        gate = None
        if node.validation and node.validation.rules:  # may fail the node: nothing written
            frame, gate = self._rules(info, pipe.pipeline, node, frame, inputs, res)
        summary = eng.summarize(frame, story.max_sample_rows, story.profile_columns)
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
                raise
        if gate is not None:
            gate.write_quarantine()  # appended before the node's own write
        if node.write:
            w = node.write
            wspec = self._write_spec(node, info.run_id)
            assert self._incremental is not None
            upstream = ancestors(node.name, {n.name: n.depends_on for n in pipe.nodes})
            states = self._incremental.states_for(
                f"{pipe.pipeline}.{n}" for n in {*upstream, node.name}
            )
            if states:  # stored with this write (Delta: in its commit)
                wspec = replace(wspec, commit_metadata=commit_metadata(states))
                if self.full_refresh and wspec.mode == "append":
                    wspec = replace(wspec, mode="overwrite")  # a full refresh rebuilds appends
            out = self._retrying(
                info, pipe.pipeline, node.name, res, lambda: eng.write(frame, wspec)
            )
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
        if node.read and not node.transform and res.rows_in is None:
            res.rows_in = res.rows_out
        return frame

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
    ) -> tuple[Any, Any]:
        """Row rules (odibi_dbx.quality), with the column checks in the same pass: the kept
        rows become the node's output; the quarantine is written once every gate passed."""
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
        )
        if gate.frame is not frame and not shared:
            self.engine.release(frame)  # the node's own pre-rules output: nothing reads it now
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
        deps = {n.name: n.depends_on for n in pipe.nodes}
        targets = [
            self._write_spec(n, info.run_id)
            for n in pipe.nodes
            if n.write and (n.name == node.name or node.name in ancestors(n.name, deps))
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
        ctx = Context(node, views, self.engine.to_user, self.engine)
        try:
            out = fn(ctx, **step.params)
        except Exception as exc:
            raise NodeError(
                f"function step {i + 1} '{step.function}' raised {type(exc).__name__}: "
                f"{first_line(exc)}",
                node=node,
                stage="transform",
                detail=f"params: {step.params}" if step.params else None,
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


def _uses(node: NodeConfig, deps: dict[str, list[str]]) -> list[str]:
    """Upstream outputs a node reads: its dependencies, ancestors its SQL names, and every
    ancestor when a function step could ask for any of them."""
    ups = ancestors(node.name, deps)
    used = set(deps[node.name])
    for step in node.transform.steps if node.transform else []:
        if isinstance(step, FunctionStep):
            used |= ups
        else:
            from odibi_dbx import sql as S

            lower = {u.lower(): u for u in ups}  # SQL names are case-insensitive
            used |= {lower[t] for t in S.referenced_tables(S.parse_spark(step.sql)) if t in lower}
    return sorted(used)


def _sum_rows(values: list[int | None]) -> int | None:
    return None if any(v is None for v in values) else sum(values)  # type: ignore[arg-type]


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
    return ErrorInfo(
        "run",
        redact(f"{type(exc).__name__}: {first_line(exc)}"),
        type(exc).__name__,
        None,
        "this is unexpected; the traceback is in the story",
        tb,
    )
