"""What a run reports as it goes. Listeners (stories, logs, progress) subscribe; the runner has
no reporting code of its own."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from odibi_dbx.engines.base import CheckResult


@dataclass
class RunInfo:
    run_id: str
    project: str
    engine: str
    environment: str | None
    pipelines: list[str]
    started: datetime
    config_file: str
    timezone: str
    runtime: dict[str, Any] = field(default_factory=dict)  # Databricks cluster/job ids etc.
    notes: list[str] = field(default_factory=list)  # run-level facts (e.g. from the engine)


@dataclass
class StepRecord:
    kind: str  # sql | function
    text: str  # the SQL as written, or the function name
    params: dict[str, Any] = field(default_factory=dict)
    executed: str | None = None  # the SQL the engine ran, when it translated it
    seconds: float = 0.0


@dataclass
class ErrorInfo:
    stage: str
    message: str
    type: str
    detail: str | None = None
    hint: str | None = None
    traceback: str = ""


@dataclass
class NodeResult:
    pipeline: str
    name: str
    status: str = "pending"  # success | failed | skipped
    started: datetime | None = None
    ended: datetime | None = None
    seconds: float = 0.0
    rows_in: int | None = None
    rows_out: int | None = None
    columns: list[tuple[str, str]] = field(default_factory=list)
    sample: list[dict[str, Any]] = field(default_factory=list)
    profile: dict[str, dict[str, Any]] | None = None  # column -> nulls, null_fraction, min, max
    upstream: list[str] = field(default_factory=list)  # "pipeline.node" of the nodes it needs
    failing_rows: list[dict[str, Any]] = field(default_factory=list)  # when validation failed
    read: dict[str, Any] | None = None
    incremental: dict[str, Any] | None = None  # watermark before/after, rows read
    steps: list[StepRecord] = field(default_factory=list)
    validation: list[CheckResult] = field(default_factory=list)
    quality: dict[str, Any] | None = None  # row rules: rows, kept, dropped, quarantined, target
    write: dict[str, Any] | None = None
    attempts: int = 0
    retries: list[dict[str, Any]] = field(default_factory=list)  # each failed attempt retried
    skipped_because: str | None = None
    error: ErrorInfo | None = None

    @property
    def error_message(self) -> str:
        return self.error.message if self.error else (self.skipped_because or "")


@dataclass
class ListenerFailure:
    """A listener that raised: logged and recorded, never a change of the run's status."""

    listener: str
    event: str
    error: str


@dataclass
class RunResult:
    run: RunInfo
    status: str = "running"  # success | failed
    ended: datetime | None = None
    nodes: list[NodeResult] = field(default_factory=list)
    story_path: str | None = None
    story_html_path: str | None = None
    listener_failures: list[ListenerFailure] = field(default_factory=list)

    @property
    def run_id(self) -> str:
        return self.run.run_id

    @property
    def ok(self) -> bool:
        return self.status == "success"

    def __repr__(self) -> str:  # a compact table, not a dataclass dump
        from odibi_dbx.pipeline.display import result_text

        return result_text(self)

    def _repr_html_(self) -> str:
        from odibi_dbx.pipeline.display import result_html

        return result_html(self)

    def node(self, name: str, pipeline: str | None = None) -> NodeResult:
        for n in self.nodes:
            if n.name == name and (pipeline is None or n.pipeline == pipeline):
                return n
        raise KeyError(name)


class RunListener:
    """Subscribe to run events by overriding any of these; all default to doing nothing."""

    def run_started(self, run: RunInfo) -> None: ...
    def pipeline_started(self, run: RunInfo, pipeline: str, nodes: list[str]) -> None: ...
    def node_started(self, run: RunInfo, pipeline: str, node: str) -> None: ...
    def node_retrying(
        self,
        run: RunInfo,
        pipeline: str,
        node: str,
        attempt: int,
        error: BaseException,
        wait: float,
    ) -> None: ...
    def node_finished(self, run: RunInfo, result: NodeResult) -> None: ...
    def pipeline_finished(self, run: RunInfo, pipeline: str, results: list[NodeResult]) -> None: ...
    def run_finished(self, result: RunResult) -> None: ...
