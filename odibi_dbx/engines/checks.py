"""`validation:` results from the numbers an engine measured, worded the same on every engine."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from odibi_dbx.engines.base import CheckResult
from odibi_dbx.engines.types import normalize_spark_type


def unique_key(validation: Any, columns: Mapping[str, str]) -> list[str] | None:
    """The `unique:` columns when all of them exist (else None: reported as missing)."""
    key = list(validation.unique)
    return key if key and all(c in columns for c in key) else None


def check_results(
    validation: Any,
    columns: Mapping[str, str],
    rows: int,
    nulls: Mapping[str, int],
    duplicates: int | None,
) -> list[CheckResult]:
    """`columns` maps names to Spark type names; `nulls` has a count per existing `no_nulls`
    column; `duplicates` is rows minus distinct `unique:` keys (None when a key is missing)."""
    results: list[CheckResult] = []
    if validation.not_empty:
        results.append(CheckResult("not_empty", rows > 0, f"{rows} rows"))
    for col in validation.no_nulls:
        if col not in columns:
            results.append(CheckResult(f"no_nulls:{col}", False, f"no column '{col}'"))
        else:
            n = nulls[col]
            results.append(CheckResult(f"no_nulls:{col}", n == 0, f"{n} null values"))
    if validation.unique:
        label = ",".join(validation.unique)
        missing = [c for c in validation.unique if c not in columns]
        if missing:
            results.append(CheckResult(f"unique:{label}", False, f"no column {missing}"))
        else:
            n = duplicates or 0
            results.append(CheckResult(f"unique:{label}", n == 0, f"{n} duplicate rows"))
    if validation.schema_ is not None:
        results += schema_checks(columns, validation.schema_)
    return results


def schema_checks(
    actual: Mapping[str, str], expected: dict[str, str] | list[str]
) -> list[CheckResult]:
    """Compare a frame's columns (Spark type names) with `validation.schema`."""
    out = []
    wanted = expected if isinstance(expected, dict) else {c: None for c in expected}
    for col, typ in wanted.items():
        if col not in actual:
            out.append(CheckResult(f"schema:{col}", False, "column missing"))
        elif typ is not None and normalize_spark_type(typ) != normalize_spark_type(actual[col]):
            out.append(CheckResult(f"schema:{col}", False, f"type {actual[col]}, expected {typ}"))
        else:
            out.append(CheckResult(f"schema:{col}", True, actual[col]))
    return out
