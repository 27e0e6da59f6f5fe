"""Read written outputs back (pyarrow / deltalake, no engine) and compare them."""

from __future__ import annotations

import math
from pathlib import Path

import pyarrow as pa


def read_output(path: Path) -> pa.Table:
    if (path / "_delta_log").is_dir():
        from deltalake import DeltaTable

        table = DeltaTable(str(path))
        try:
            return table.to_pyarrow_table()
        except pa.ArrowInvalid:  # pyarrow 14 (DBR 15.4) cannot read delta-rs's string_view
            import duckdb  # reads the files by their parquet types, not the stored Arrow schema

            files = [u.removeprefix("file://") for u in table.file_uris()]
            return duckdb.read_parquet(files).to_arrow_table()
    import pyarrow.dataset as ds

    files = [f for f in path.rglob("*") if f.is_file() and not f.name.startswith((".", "_"))]
    fmt = files[0].suffix.lstrip(".") if files else "parquet"
    fmt = {"jsonl": "json"}.get(fmt, fmt)
    return ds.dataset([str(f) for f in files], format=fmt).to_table()


def _is_string_view(t: pa.DataType) -> bool:
    check = getattr(pa.types, "is_string_view", None)  # pyarrow >= 16 (DBR 15.4 has 14)
    return bool(check and check(t))


def _type(t: pa.DataType) -> str:
    """Type name for comparison: string flavours and timestamp units are storage details."""
    if pa.types.is_large_string(t) or _is_string_view(t):
        return "string"
    if pa.types.is_large_list(t):
        return f"list<{_type(t.value_type)}>"
    if pa.types.is_timestamp(t):
        return f"timestamp[tz={t.tz is not None}]"
    if pa.types.is_list(t):
        return f"list<{_type(t.value_type)}>"
    if pa.types.is_struct(t):
        return "struct<" + ",".join(f"{f.name}:{_type(f.type)}" for f in t) + ">"
    if pa.types.is_map(t):
        return f"map<{_type(t.key_type)},{_type(t.item_type)}>"
    return str(t)


def schema_of(t: pa.Table) -> list[tuple[str, str]]:
    return [(f.name, _type(f.type)) for f in t.schema]


def _norm(v):
    if isinstance(v, float):
        return None if math.isnan(v) else round(v, 9)
    if isinstance(v, dict):
        return tuple(sorted((k, _norm(x)) for k, x in v.items()))
    if isinstance(v, list):
        return tuple(_norm(x) for x in v)
    if hasattr(v, "tzinfo") and getattr(v, "tzinfo", None) is not None:
        return v.astimezone(__import__("datetime").timezone.utc)
    return v


def rows_of(t: pa.Table) -> list[tuple]:
    rows = [tuple(_norm(r[c]) for c in t.column_names) for r in t.to_pylist()]
    return sorted(rows, key=repr)


def differences(a: pa.Table, b: pa.Table) -> list[str]:
    out = []
    if schema_of(a) != schema_of(b):
        out.append(f"schema: {schema_of(a)} != {schema_of(b)}")
    ra, rb = rows_of(a), rows_of(b)
    if len(ra) != len(rb):
        out.append(f"{len(ra)} rows != {len(rb)} rows")
    for x, y in zip(ra, rb, strict=False):
        if x != y:
            out.append(f"first differing row: {x} != {y}")
            break
    return out
