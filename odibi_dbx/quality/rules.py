"""What both engines share: the flag columns, the numbers an engine measures in its one pass,
and how those numbers become `CheckResult`s and the node's verdict."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from odibi_dbx.engines.base import CheckResult
from odibi_dbx.engines.checks import check_results

if TYPE_CHECKING:
    from odibi_dbx.config.models import RuleConfig, ValidationConfig

PREFIX = "__odibi_"
QUARANTINED = f"{PREFIX}q"  # the row fails a quarantine rule
DROPPED = f"{PREFIX}d"  # the row fails a drop rule and no quarantine rule
BUCKET = f"{PREFIX}b"  # Spark: spreads the failing-row samples over the data
META_COLUMNS = ("_run_id", "_node", "_failed_rules", "_quarantined_at")


def flag(i: int) -> str:
    """Column that is TRUE when row rule `i` did not pass (FALSE or NULL)."""
    return f"{PREFIX}f{i}"


def indexes(rules: Sequence[RuleConfig], action: str) -> list[int]:
    return [i for i, r in enumerate(rules) if r.on_fail == action]


@dataclass
class Measured:
    """What one pass over the data gives: per rule counts, row fates, column-check numbers."""

    rows: int
    failed: list[int]  # per rule
    failed_quarantined: list[int]  # per rule: its failing rows that were quarantined
    failed_dropped: list[int]  # ... that were dropped
    quarantined: int
    dropped: int
    nulls: dict[str, int] = field(default_factory=dict)  # no_nulls columns, kept rows
    duplicates: int | None = None  # unique: key, kept rows
    samples: list[list[dict[str, Any]]] = field(default_factory=list)  # per rule
    checks: list[CheckResult] | None = None  # column checks the engine ran on the kept rows

    @property
    def kept(self) -> int:
        return self.rows - self.quarantined - self.dropped

    @property
    def removed(self) -> int:
        return self.quarantined + self.dropped


def results(
    validation: ValidationConfig, m: Measured, columns: Mapping[str, str]
) -> list[CheckResult]:
    """Column checks (on the kept rows), then each rule, then max_failed_fraction."""
    out: list[CheckResult] = []
    if m.checks is not None:
        out += m.checks
    elif validation.has_checks:
        out += check_results(validation, columns, m.kept, m.nulls, m.duplicates)
    for i, rule in enumerate(validation.rules):
        failed, q, d = m.failed[i], m.failed_quarantined[i], m.failed_dropped[i]
        kept = failed - q - d
        if failed:
            fates = [f"{n} {what}" for n, what in ((q, "quarantined"), (d, "dropped")) if n]
            fates += [f"{kept} kept"] if kept and (q or d or rule.on_fail == "warn") else []
            detail = f"{failed} of {m.rows} rows failed" + (
                f" ({', '.join(fates)})" if fates else ""
            )
        else:
            detail = f"all {m.rows} rows passed"
        out.append(
            CheckResult(
                check=rule.name,
                passed=failed == 0,
                detail=detail,
                on_fail=rule.on_fail,
                expr=rule.expr,
                rows=m.rows,
                failed=failed,
                kept=kept,
                dropped=d,
                quarantined=q,
                sample=m.samples[i] if i < len(m.samples) else [],
            )
        )
    limit = validation.max_failed_fraction
    if limit < 1 and validation.rules:
        ok = not exceeds(m.removed, m.rows, limit)
        share = f"{m.removed / m.rows:.2%}" if m.rows else "0%"
        out.append(
            CheckResult(
                "max_failed_fraction",
                ok,
                f"{m.removed} of {m.rows} rows ({share}) failed drop/quarantine rules; "
                f"limit {limit:g}",
                rows=m.rows,
                failed=m.removed,
            )
        )
    return out


def exceeds(failed: int, rows: int, limit: float) -> bool:
    """More than `limit` of the rows failed, in exact arithmetic (0.05 of 100 is 5, not 5.0000001)."""
    return Fraction(failed) > Fraction(str(limit)) * rows
