"""Print query results the way Spark's HiveResult does in the SQL golden files.

NULL at top level, `null` nested; strings quoted only when nested; arrays `[a,b]`, maps `{k:v}`,
structs `{"f":v}`; doubles like Java's Double.toString (`1.0E10`); decimals with their scale;
timestamps in the session zone with the fraction's trailing zeros cut; binary as UTF-8 text.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pyarrow as pa


def java_double(x: float, single: bool = False) -> str:
    """Java's Double.toString / Float.toString (shortest digits that round-trip)."""
    if x != x:
        return "NaN"
    if x in (float("inf"), float("-inf")):
        return "Infinity" if x > 0 else "-Infinity"
    if x == 0:
        return "-0.0" if str(x).startswith("-") else "0.0"
    if single:
        import numpy as np

        text = str(np.float32(x))
    else:
        text = repr(x)
    sign, digits, exp = Decimal(text).as_tuple()
    ds = "".join(map(str, digits)).rstrip("0") or "0"
    point = len(digits) + exp  # position of the decimal point in ds
    neg = "-" if sign else ""
    if 1e-3 <= abs(x) < 1e7:
        if point <= 0:
            return f"{neg}0.{'0' * -point}{ds}"
        whole, frac = ds[:point].ljust(point, "0"), ds[point:]
        return f"{neg}{whole}.{frac or '0'}"
    mant = ds[0] + "." + (ds[1:] or "0")
    return f"{neg}{mant}E{point - 1}"


def hive_string(value: Any, typ: pa.DataType, tz: ZoneInfo, nested: bool = False) -> str:
    if value is None:
        return "null" if nested else "NULL"
    if pa.types.is_boolean(typ):
        return "true" if value else "false"
    if pa.types.is_floating(typ):
        return java_double(float(value), single=pa.types.is_float32(typ))
    if pa.types.is_decimal(typ):
        return format(value, "f")
    if pa.types.is_string(typ) or pa.types.is_large_string(typ):
        return f'"{value}"' if nested else value
    if pa.types.is_binary(typ) or pa.types.is_large_binary(typ):
        return bytes(value).decode("utf-8", errors="replace")
    if pa.types.is_timestamp(typ):
        if value.tzinfo is not None:
            value = value.astimezone(tz)
        text = value.strftime("%Y-%m-%d %H:%M:%S")
        if value.year < 1000:
            text = f"{value.year:04d}" + text[len(str(value.year)) :]
        if value.microsecond:
            text += "." + f"{value.microsecond:06d}".rstrip("0")
        return text
    if pa.types.is_date(typ):
        return value.isoformat() if isinstance(value, dt.date) else str(value)
    if pa.types.is_map(typ):
        items = ",".join(
            f"{hive_string(k, typ.key_type, tz, True)}:{hive_string(v, typ.item_type, tz, True)}"
            for k, v in value
        )
        return "{" + items + "}"
    if pa.types.is_list(typ) or pa.types.is_large_list(typ) or pa.types.is_fixed_size_list(typ):
        return "[" + ",".join(hive_string(v, typ.value_type, tz, True) for v in value) + "]"
    if pa.types.is_struct(typ):
        fields = [typ.field(i) for i in range(typ.num_fields)]
        parts = [f'"{f.name}":{hive_string(value.get(f.name), f.type, tz, True)}' for f in fields]
        return "{" + ",".join(parts) + "}"
    return str(value)


def interval_string(value: Any, spark_type: str) -> str:
    """HiveResult of an ANSI interval: YEAR TO MONTH as `[-]y-m`, DAY TO SECOND as
    `[-]d hh:mm:ss.nnnnnnnnn`, whatever the type's fields (DuckDB's fields are not normalised:
    the total counts)."""
    if value is None:
        return "NULL"
    months, days, nanos = value.months, value.days, value.nanoseconds
    if spark_type.startswith(("interval year", "interval month")):
        sign, m = ("-" if months < 0 else ""), abs(months)
        return f"{sign}{m // 12}-{m % 12}"
    micros = days * 86_400_000_000 + nanos // 1000
    sign, us = ("-" if micros < 0 else ""), abs(micros)
    secs, frac = divmod(us, 1_000_000)
    d, secs = divmod(secs, 86_400)
    h, secs = divmod(secs, 3600)
    return f"{sign}{d} {h:02d}:{secs // 60:02d}:{secs % 60:02d}.{frac:06d}000"


def hive_rows(table: pa.Table, tz: ZoneInfo, spark_types: list[str] | None = None) -> list[str]:
    """One tab-separated line per row, trailing whitespace stripped (as the suite does).
    `spark_types`: the columns' Spark types, which tell an interval's family."""
    kinds = spark_types or [""] * table.num_columns
    cols = [
        [interval_string(v, k) for v in col.to_pylist()]
        if k.startswith("interval")
        else [hive_string(v, col.type, tz) for v in col.to_pylist()]
        for col, k in zip(table.itercolumns(), kinds, strict=True)
    ]
    return ["\t".join(row).rstrip() for row in zip(*cols, strict=True)] if cols else []
