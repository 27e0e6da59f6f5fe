"""The story document: a JSON-safe record of one run."""

from __future__ import annotations

import datetime as dt
import decimal
import uuid
from collections.abc import Mapping
from typing import Any

from odibi_dbx.engines.base import CheckResult
from odibi_dbx.pipeline.baseline import compare, node_key
from odibi_dbx.pipeline.events import NodeResult, RunResult
from odibi_dbx.redact import redact_obj

SCHEMA_VERSION = 2  # 2: profile, upstream, failing_rows, vs_previous


def json_safe(value: Any) -> Any:
    """Sample values as JSON: dates/times ISO, decimals as strings (no precision lost), bytes hex."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return (
            value if value == value and value not in (float("inf"), float("-inf")) else str(value)
        )
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return str(value)
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, (bytes, bytearray)):
        return value.hex()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [json_safe(v) for v in value]
    if type(value).__module__.startswith("py4j"):  # a JVM value (Observation metrics): no asDict
        return str(value)
    if hasattr(value, "asDict"):  # Spark Row
        return json_safe(value.asDict(recursive=True))
    if hasattr(value, "tolist"):
        return json_safe(value.tolist())
    return str(value)


def _iso(t: dt.datetime | None) -> str | None:
    return t.isoformat() if t else None


def node_doc(n: NodeResult) -> dict[str, Any]:
    return {
        "pipeline": n.pipeline,
        "name": n.name,
        "status": n.status,
        "started": _iso(n.started),
        "ended": _iso(n.ended),
        "seconds": round(n.seconds, 4),
        "rows_in": n.rows_in,
        "rows_out": n.rows_out,
        "upstream": list(n.upstream),
        "columns": [{"name": c, "type": t} for c, t in n.columns],
        "profile": json_safe(n.profile) if n.profile is not None else None,
        "sample": json_safe(n.sample),
        "failing_rows": json_safe(n.failing_rows),
        "read": json_safe(n.read),
        "incremental": json_safe(n.incremental),
        "steps": [
            {
                "kind": s.kind,
                "text": s.text,
                "params": json_safe(s.params),
                "executed": s.executed,
                "seconds": round(s.seconds, 4),
            }
            for s in n.steps
        ],
        "validation": [_check_doc(c) for c in n.validation],
        "quality": json_safe(n.quality),
        "write": json_safe(n.write),
        "attempts": n.attempts,
        "retries": json_safe(n.retries),
        "skipped_because": n.skipped_because,
        "error": None
        if n.error is None
        else {
            "stage": n.error.stage,
            "message": n.error.message,
            "type": n.error.type,
            "detail": n.error.detail,
            "hint": n.error.hint,
            "traceback": n.error.traceback,
        },
    }


def _check_doc(c: CheckResult) -> dict[str, Any]:
    doc: dict[str, Any] = {"check": c.check, "passed": c.passed, "detail": c.detail}
    if c.expr is not None:  # a row rule: its action, counts and failing rows
        doc.update(
            on_fail=c.on_fail,
            expr=c.expr,
            rows=c.rows,
            failed=c.failed,
            kept=c.kept,
            dropped=c.dropped,
            quarantined=c.quarantined,
            sample=json_safe(c.sample),
        )
    elif c.failed is not None:  # max_failed_fraction
        doc.update(rows=c.rows, failed=c.failed)
    return doc


def story_doc(
    result: RunResult, baseline: Mapping[str, Mapping[str, Any]] | None = None
) -> dict[str, Any]:
    """The run as JSON; `baseline` ("pipeline.node" -> the node in its last successful run)
    gives each node its `vs_previous` comparison."""
    from odibi_dbx import __version__

    run = result.run
    nodes = [node_doc(n) for n in result.nodes]
    for n in nodes:
        prev = (baseline or {}).get(node_key(n["pipeline"], n["name"]))
        # a node that produced no output (skipped, or failed before it had one) compares nothing
        n["vs_previous"] = compare(prev, n) if n["columns"] else None
    counts = {s: sum(n["status"] == s for n in nodes) for s in ("success", "failed", "skipped")}
    ended = result.ended or dt.datetime.now(dt.timezone.utc)
    doc = {
        "schema_version": SCHEMA_VERSION,
        "odibi_version": __version__,
        "run_id": run.run_id,
        "project": run.project,
        "engine": run.engine,
        "environment": run.environment,
        "pipelines": run.pipelines,
        "status": result.status,
        "started": _iso(run.started),
        "ended": _iso(ended),
        "seconds": round((ended - run.started).total_seconds(), 3),
        "config_file": run.config_file,
        "timezone": run.timezone,
        "runtime": json_safe(run.runtime),
        "notes": list(run.notes),
        "summary": {"nodes": len(nodes), **counts},
        "nodes": nodes,
    }
    return redact_obj(doc)
