"""A listener that logs run events (plain or structured JSON lines)."""

from __future__ import annotations

import json
import logging
from typing import Any

from odibi_dbx.config.models import LoggingConfig
from odibi_dbx.pipeline.events import NodeResult, RunInfo, RunListener, RunResult
from odibi_dbx.redact import install_log_redaction

log = logging.getLogger("odibi_dbx.run")


def configure_logging(cfg: LoggingConfig) -> None:
    logging.getLogger("odibi_dbx").setLevel(cfg.level)
    install_log_redaction()


class LoggingListener(RunListener):
    def __init__(self, cfg: LoggingConfig):
        self.cfg = cfg

    def _log(self, level: int, event: str, text: str, **fields: Any) -> None:
        if self.cfg.structured:
            payload = {"event": event, **self.cfg.metadata, **fields}
            log.log(level, json.dumps(payload, default=str))
        else:
            log.log(level, text)

    def run_started(self, run: RunInfo) -> None:
        self._log(
            logging.INFO,
            "run_started",
            f"run {run.run_id} started: {run.project} "
            f"[{run.engine}] pipelines {', '.join(run.pipelines)}",
            run_id=run.run_id,
        )

    def node_retrying(
        self,
        run: RunInfo,
        pipeline: str,
        node: str,
        attempt: int,
        error: BaseException,
        wait: float,
    ) -> None:
        self._log(
            logging.WARNING,
            "node_retrying",
            f"{pipeline}.{node}: attempt {attempt} failed "
            f"({type(error).__name__}); retrying in {wait:.1f}s",
            node=node,
            attempt=attempt,
        )

    def node_finished(self, run: RunInfo, r: NodeResult) -> None:
        level = logging.ERROR if r.status == "failed" else logging.INFO
        extra = f": {r.error_message}" if r.status != "success" else f" rows={r.rows_out}"
        self._log(
            level,
            "node_finished",
            f"{r.pipeline}.{r.name} {r.status} in {r.seconds:.2f}s{extra}",
            run_id=run.run_id,
            pipeline=r.pipeline,
            node=r.name,
            status=r.status,
            rows_out=r.rows_out,
            seconds=round(r.seconds, 3),
        )

    def run_finished(self, result: RunResult) -> None:
        level = logging.INFO if result.ok else logging.ERROR
        self._log(
            level,
            "run_finished",
            f"run {result.run_id} {result.status}",
            run_id=result.run_id,
            status=result.status,
        )
