"""Row counts and samples that ride on a write's own Spark job, and Delta's commit metrics.

Works the same on every Spark the engine meets (3.5.0 to 4.2, classic and Spark Connect):
- the written DataFrame carries `DataFrame.observe()` metrics (row count + a JSON sample);
  after the write the observation's own blocking `get` reads them, in a helper thread with a
  time limit (no `Observation.future`, which classic Spark has only from 3.5.8, no JVM handle);
- where `get` fails or never answers (Spark 4.1/4.2 after a `saveAsTable` overwrite, which
  creates or replaces the table: the observed row arrives empty), a Delta target's
  `DESCRIBE HISTORY` gives the count of the commit just made (no sample then); otherwise the
  count is unknown.
  Either way the write stays a success: these are reports, never reasons to fail a node.
Neither path starts a Spark job of its own.

A `Ride` lets other aggregates share the write's observation (the row rules' counts): the write
then observes every row the rules read and filters them to the written ones after it, since
Spark Connect returns only a plan's outermost observation.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from itertools import count
from typing import Any

from odibi_dbx.engines import quote

log = logging.getLogger("odibi_dbx.engine.spark")
SAMPLE_COL = "__odibi_sample"
WAIT_SECONDS = 30.0  # metrics arrive with the job; this only bounds a path that never reports
_ids = count(1)


@dataclass(eq=False)
class Ride:
    """Aggregates that ride on a frame's write: `rows` holds every row they read (the frame's
    columns plus the `hidden` ones), `keep` says which of them the frame holds."""

    rows: Any  # DataFrame
    keep: Any  # boolean Column over `rows`
    hidden: tuple[str, ...]
    aggregates: list[Any]  # over all of `rows`; their names must not be the write's own
    metrics: dict[str, Any] | None = field(default=None, repr=False)  # once the write ran


def observe(
    df: Any, extra: Sequence[Any] = (), per_partition: int = 100, ride: Ride | None = None
) -> tuple[Any, Any]:
    """`df` carrying a row count, the `extra` aggregates and up to `per_partition` sample rows
    of each partition as JSON, and the Observation that receives them when an action runs it.
    With a `ride`, `df` is its rows: the count and sample take the kept rows only (`extra`
    must be conditional on `ride.keep` too), the ride's aggregates all rows, and the result is
    filtered to the kept rows and visible columns after the observation."""
    from pyspark.sql import Observation
    from pyspark.sql import functions as F

    obs = Observation(f"odibi_{next(_ids)}")
    names = [c for c in df.columns if ride is None or c not in ride.hidden]
    one = F.lit(1) if ride is None else F.when(ride.keep, F.lit(1))
    aggs = [F.count(one).alias("rows"), *extra, *(ride.aggregates if ride else [])]
    try:
        cols = [column(c) for c in names]
        first_n = F.monotonically_increasing_id().bitwiseAND(F.lit((1 << 33) - 1)) < per_partition
        if ride is not None:  # the first rows of each partition, those kept among them
            first_n = first_n & ride.keep
        out = df.withColumn(SAMPLE_COL, F.when(first_n, F.struct(*cols)))
        sample = F.to_json(F.collect_list(SAMPLE_COL), {"ignoreNullFields": "false"})
        out = out.observe(obs, *aggs, sample.alias("sample")).drop(SAMPLE_COL)
    except Exception:  # a type to_json cannot print: no sample
        out = df.observe(obs, *aggs)
    if ride is not None:
        out = out.where(ride.keep).select(*[column(c) for c in names])
    return out, obs


def fresh_name(base: str, taken: Iterable[str]) -> str:
    """`base`, or `base_1`, `base_2`, ...: a column name none of `taken` has (Spark compares
    names without case)."""
    used = {t.lower() for t in taken}
    return next(n for i in count() if (n := f"{base}_{i}" if i else base) not in used)


def column(name: str) -> Any:
    """The column `name`, quoted whatever characters it holds."""
    from pyspark.sql import functions as F

    return F.col(quote.spark(name))


def observed(obs: Any, timeout: float = WAIT_SECONDS) -> dict[str, Any] | None:
    """The observation's metrics once its action finished, or None (logged) when they cannot
    be had. Call only after the action succeeded."""
    box: dict[str, Any] = {}

    def get() -> None:
        try:
            box["metrics"] = dict(obs.get)
        except BaseException as exc:  # e.g. Spark 4.1/4.2 after saveAsTable: toPyRow asserts
            box["error"] = exc

    worker = threading.Thread(target=get, name="odibi-observation", daemon=True)
    worker.start()
    worker.join(timeout)
    if worker.is_alive():
        log.warning("no observed metrics %ss after a write; its row count stays unknown", timeout)
        return None
    if "error" in box:
        err = box["error"]
        log.info("observed metrics unavailable (%s: %s)", type(err).__name__, str(err)[:200])
    return box.get("metrics")


def rows_and_sample(metrics: dict[str, Any] | None, keep: int) -> tuple[int | None, list]:
    if not metrics:
        return None, []
    rows = int(metrics["rows"]) if metrics.get("rows") is not None else None
    sample = json.loads(metrics["sample"])[:keep] if metrics.get("sample") else []
    return rows, sample


# -- Delta commit metrics (DESCRIBE HISTORY: the log's JSON, no Spark job) --------------------


def delta_ident(table: str | None, uri: str) -> str:
    """A Delta target as SQL: the table name as given, or delta.`path`."""
    return table if table else "delta." + quote.spark(uri)


def last_commit(spark: Any, ident: str) -> dict[str, Any] | None:
    """operation and operationMetrics of the latest commit of a Delta table, or None."""
    try:
        row = spark.sql(f"DESCRIBE HISTORY {ident} LIMIT 1").first()
    except Exception as exc:
        log.info("no Delta history for %s (%s)", ident, type(exc).__name__)
        return None
    if row is None:
        return None
    metrics = {k: _int(v) for k, v in (row["operationMetrics"] or {}).items()}
    return {"version": row["version"], "operation": row["operation"], "metrics": metrics}


def _int(v: Any) -> Any:
    try:
        return int(v)
    except (TypeError, ValueError):
        return v


MERGE_METRICS = {  # DESCRIBE HISTORY name -> the name MERGE INTO's result rows use
    "numTargetRowsUpdated": "num_updated_rows",
    "numTargetRowsDeleted": "num_deleted_rows",
    "numTargetRowsInserted": "num_inserted_rows",
}


def merge_metrics_from_history(commit: dict[str, Any] | None) -> dict[str, int]:
    if not commit or "MERGE" not in str(commit["operation"]).upper():
        return {}
    got = commit["metrics"]
    out = {ours: int(got[theirs]) for theirs, ours in MERGE_METRICS.items() if theirs in got}
    if out:
        out["num_affected_rows"] = sum(out.values())
    return out
