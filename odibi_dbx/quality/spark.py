"""Rules on the Spark engine, with no extra scan per rule.

The flags are columns of one projection over the node's output. Their counts and samples are
aggregates computed by a job that runs anyway:
- when something must be known before writing (`fail` rules, max_failed_fraction < 1, column
  checks, or a node that writes nothing), one aggregation job over the persisted flagged rows:
  the same job the column checks always cost; the writes then read the cache;
- else by the quarantine write (observed metrics before its filter: every row passes through);
- else (warn/drop rules only) by the node's own write: an overwrite or append observes every
  flagged row, its own count, sample and profile only of the kept ones, and keeps those after
  the observation (spark_metrics.Ride: one observation, the only one Spark Connect returns).
  A merge or scd2 write carries the rules' observation inside its plan on classic Spark; on
  Spark Connect, where that one would come back empty, the aggregation job counts first.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from odibi_dbx.engines.checks import unique_key
from odibi_dbx.engines.spark_metrics import column as _c
from odibi_dbx.quality import rules as R
from odibi_dbx.quality.expressions import check_columns, rule_error

RIDE = "rule_"  # the rules' aggregates among a write's own (spark_metrics.Ride)


class SparkRules:
    def __init__(
        self,
        engine: Any,
        frame: Any,
        validation: Any,
        node: str,
        sample_rows: int,
        shared: bool = False,  # Spark frames are immutable plans: nothing is changed in place
    ):
        self.engine, self.source, self.v, self.node = engine, frame, validation, node
        self.sample_rows = sample_rows
        self.cols = list(frame.df.columns)
        self._obs: Any = None
        self._ride: Any = None  # spark_metrics.Ride: the counts ride on the node's write
        self._rides = False  # the node's write can carry a Ride (set by measure_first)
        self._types = {f.name: f.dataType.simpleString() for f in frame.df.schema.fields}
        self.flagged = self._flag()

    def columns(self) -> dict[str, str]:
        return self._types

    def _flag(self) -> Any:
        from pyspark.sql import functions as F
        from pyspark.sql.types import BooleanType, NullType

        rules, df = self.v.rules, self.source.df
        check_columns(rules, self.cols, self.node)
        flags = []
        for i, r in enumerate(rules):
            try:  # analysed now, no job: errors and non-boolean rules name the rule
                typ = df.select(F.expr(r.expr)).schema.fields[0].dataType
            except Exception as exc:
                raise rule_error(r, exc, self.node) from exc
            if not isinstance(typ, (BooleanType, NullType)):
                raise rule_error(
                    r, TypeError(f"it gives {typ.simpleString()}, not a boolean"), self.node
                )
            flags.append((~F.coalesce(F.expr(r.expr), F.lit(False))).alias(R.flag(i)))
        quar = _any(R.indexes(rules, "quarantine"))
        drop = _any(R.indexes(rules, "drop")) & ~quar
        k = max(1, min(self.sample_rows, 100))
        bucket = F.pmod(F.monotonically_increasing_id(), F.lit(k)).alias(R.BUCKET)
        out = df.select("*", *flags).select(
            "*", quar.alias(R.QUARANTINED), drop.alias(R.DROPPED), bucket
        )
        return self.engine._link(type(self.source)(out), [self.source])

    def measure_first(self, *, writes: str | None, quarantine: bool) -> bool:
        from odibi_dbx.engines.spark_io import RIDES
        from odibi_dbx.runtime import is_spark_connect

        v = self.v
        decides = bool(R.indexes(v.rules, "fail")) or v.max_failed_fraction < 1 or v.has_checks
        self._rides = writes in RIDES
        # Spark Connect returns only a plan's outermost observation: a merge or scd2 write's
        # would hide the rules' counts, so without a quarantine write or a Ride they come from
        # the one aggregation job first
        connect = is_spark_connect(self.engine.spark)
        if decides or not (writes or quarantine):
            return True
        if connect and not (quarantine or self._rides):
            return True
        if quarantine:  # the quarantine write computes the counts; the main write reads the cache
            self.engine._persist(self.flagged)
        return False

    def _aggregates(self, with_checks: bool, prefix: str = "") -> list[Any]:
        """Named as `_measured` reads them, after `prefix`."""
        from pyspark.sql import functions as F

        def n(cond: Any) -> Any:
            return F.sum(cond.cast("long"))

        q, d = _c(R.QUARANTINED), _c(R.DROPPED)
        aggs = {"rows": F.count(F.lit(1)), "q": n(q), "d": n(d)}
        for i in range(len(self.v.rules)):
            f = _c(R.flag(i))
            aggs.update({f"f{i}": n(f), f"fq{i}": n(f & q), f"fd{i}": n(f & d)})
        if with_checks:
            keep = _kept()
            nulls = [c for c in self.v.no_nulls if c in self._types]
            aggs.update({f"n{j}": n(keep & _c(c).isNull()) for j, c in enumerate(nulls)})
            key = unique_key(self.v, self._types)
            if key:
                aggs["kept"] = n(keep)
                struct = F.struct(*[_c(c) for c in key])
                aggs["distinct"] = F.count_distinct(F.when(keep, struct))
        if self.sample_rows > 0:  # one failing row per bucket and rule: bounded, any spread
            row = F.to_json(F.struct(*[_c(c) for c in self.cols]), {"ignoreNullFields": "false"})
            k = max(1, min(self.sample_rows, 100))
            for i in range(len(self.v.rules)):
                hit = _c(R.flag(i))
                for j in range(k):
                    when = F.when(hit & (_c(R.BUCKET) == j), row)
                    aggs[f"s{i}_{j}"] = F.first(when, ignorenulls=True)
        return [agg.alias(prefix + name) for name, agg in aggs.items()]

    def _measured(self, got: dict[str, Any]) -> R.Measured:
        def g(key: str) -> int:
            return int(got.get(key) or 0)

        n = len(self.v.rules)
        nulls = [c for c in self.v.no_nulls if c in self._types]
        key = unique_key(self.v, self._types)
        samples = []
        for i in range(n):
            found = [got[k] for k in sorted(got) if k.startswith(f"s{i}_") and got[k]]
            samples.append([json.loads(s) for s in found][: self.sample_rows])
        return R.Measured(
            rows=g("rows"),
            quarantined=g("q"),
            dropped=g("d"),
            failed=[g(f"f{i}") for i in range(n)],
            failed_quarantined=[g(f"fq{i}") for i in range(n)],
            failed_dropped=[g(f"fd{i}") for i in range(n)],
            nulls={c: g(f"n{j}") for j, c in enumerate(nulls)},
            duplicates=g("kept") - g("distinct") if key else None,
            samples=samples,
        )

    def measure(self) -> R.Measured:
        """One aggregation job; it fills the cache the writes then read."""
        if not self.flagged.cached:
            self.engine._persist(self.flagged)
        row = self.flagged.df.agg(*self._aggregates(self.v.has_checks)).first()
        return self._measured(row.asDict())

    def _ride_on_write(self) -> Any:
        """The counts ride on the node's write, which observes every flagged row."""
        from odibi_dbx.engines.spark_metrics import Ride

        if self.source.consumers and not self.flagged.cached:
            self.engine._persist(self.flagged)  # the write fills it; later nodes read it
        hidden = tuple(c for c in self.flagged.df.columns if c not in set(self.cols))
        return Ride(self.flagged.df, _kept(), hidden, self._aggregates(False, RIDE))

    def _observe(self, df: Any) -> Any:
        from pyspark.sql import Observation

        self._obs = Observation(f"odibi_rules_{next(self.engine._ids)}")
        return df.observe(self._obs, *self._aggregates(False))

    def observed(self) -> R.Measured | None:
        """The counts the write's job observed, or None (logged) when this Spark cannot give
        them: read as the engine reads its own (spark_metrics.observed: the observation's
        blocking `get`, bounded; `Observation.future` exists only from Spark 3.5.8)."""
        from odibi_dbx.engines import spark_metrics

        if self._ride is not None:
            got = self._ride.metrics or {}
            got = {k[len(RIDE) :]: v for k, v in got.items() if k.startswith(RIDE)}
        else:
            got = spark_metrics.observed(self._obs)
        return self._measured(got) if got else None

    def quarantined(
        self, run_id: str, node: str, at: datetime, as_text: bool, *, observe: bool
    ) -> Any:
        from pyspark.sql import functions as F

        df = self._observe(self.flagged.df) if observe else self.flagged.df
        names = F.array(*[F.when(_c(R.flag(i)), F.lit(r.name)) for i, r in enumerate(self.v.rules)])
        failed = F.filter(names, lambda x: x.isNotNull())  # declaration order
        if as_text:  # csv holds no arrays: the names joined by commas
            failed = F.concat_ws(",", failed)
        out = df.where(_c(R.QUARANTINED)).select(
            *[_c(c) for c in self.cols],
            F.lit(run_id).alias("_run_id"),
            F.lit(node).alias("_node"),
            failed.alias("_failed_rules"),
            F.lit(at).cast("timestamp").alias("_quarantined_at"),
        )
        frame = type(self.source)(out)
        if observe:  # its observation stays the outermost (Spark Connect returns only that)
            from odibi_dbx.runtime import is_spark_connect

            frame.write_observes = not is_spark_connect(self.engine.spark)
        return frame

    def forget(self, frame: Any) -> None:
        """Nothing to free: the quarantine frame is a plan over the cached flagged rows."""

    def kept(self, *, observe: bool) -> Any:
        self._ride = self._ride_on_write() if observe and self._rides else None
        nested = observe and self._ride is None  # merge, scd2 (classic Spark)
        df = self._observe(self.flagged.df) if nested else self.flagged.df
        out = df.where(_kept()).select(*[_c(c) for c in self.cols])
        kept = self.engine._link(type(self.source)(out), [self.flagged])
        kept.consumers = 0 if self.flagged.cached else self.source.consumers
        kept.ride = self._ride
        return kept

    def close(self) -> None:
        self.engine.release(self.flagged)  # cached until the kept rows are released


def _kept() -> Any:
    """The rows a node keeps: neither quarantined nor dropped."""
    return ~_c(R.QUARANTINED) & ~_c(R.DROPPED)


def _any(idx: list[int]) -> Any:
    from functools import reduce

    from pyspark.sql import functions as F

    return reduce(lambda a, b: a | b, [_c(R.flag(i)) for i in idx], F.lit(False))
