"""Conformance with Spark's own SQL golden files (Spark 4.0.1, ANSI on, America/Los_Angeles).

Every query of the files in golden_files.FILES runs through the Pandas engine's SQL path
(golden_run.py). The Pandas engine promises Spark's result or a refusal, so the test fails on

* a query the engine answers with other values or types than Spark, and
* a query Spark fails with a data error (division by zero, invalid cast, ...) that the engine
  answers with rows,

unless it is listed in golden_known.txt: the differences not fixed yet, each to be fixed (then
removed from the list: the test also fails on a listed query that no longer differs). The counts
are printed at the end of the test session and kept in docs/sql-portability.md.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.sql.golden_files import FILES, ROOT
from tests.sql.golden_run import (
    ANSWERED,
    DIFFERENT,
    RAISES,
    REJECTED_SPARK,
    SAME,
    SUMMARY,
    counts,
    run_all,
)

KNOWN = Path(__file__).with_name("golden_known.txt")
MIN_SAME = 1331  # queries giving Spark's exact result; never bought back by refusing them
MIN_RAISES = 113  # queries Spark fails with a data error that fail naming Spark's error class
MAX_ANSWERED_REJECTED = 4  # queries Spark's analyzer rejects that the engine still answers


def _known() -> dict[str, str]:
    out = {}
    for line in KNOWN.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            key, _, why = line.partition(" ")
            out[key] = why.strip()
    return out


def test_golden_files():
    if not (ROOT / "results").is_dir():
        pytest.skip(f"Spark's golden files are not in {ROOT}: run `make golden-files` (needs mvn)")
    results = run_all(FILES)
    tally = counts(results)
    SUMMARY[:] = [f"Spark golden files: {len(FILES)} files, {len(results)} queries"] + [
        f"  {n:5d} {outcome}" for outcome, n in sorted(tally.items(), key=lambda kv: -kv[1])
    ]
    wrong = {r.key: r for r in results if r.outcome in (DIFFERENT, ANSWERED)}
    known = _known()
    new = [wrong[k] for k in wrong if k not in known]
    fixed = sorted(k for k in known if k not in wrong)
    report = "\n".join(
        f"{r.key} {r.outcome}: {r.block.sql[:200]!r}\n    {r.detail[:400]}" for r in new
    )
    assert not new, f"{len(new)} queries give a different result than Spark:\n{report}"
    assert not fixed, f"no longer different, remove from {KNOWN.name}: {fixed}"
    assert tally[SAME] >= MIN_SAME, (
        f"only {tally[SAME]} queries give Spark's result (was {MIN_SAME})"
    )
    assert tally[RAISES] >= MIN_RAISES, (
        f"only {tally[RAISES]} queries raise Spark's error class (was {MIN_RAISES})"
    )
    assert tally[REJECTED_SPARK] <= MAX_ANSWERED_REJECTED, (
        f"{tally[REJECTED_SPARK]} queries that Spark rejects are answered "
        f"(was {MAX_ANSWERED_REJECTED})"
    )
