"""Type names: stories and `validation.schema` speak Spark's names on every engine."""

from __future__ import annotations

import re

_DUCK_TO_SPARK = {
    "BOOLEAN": "boolean",
    "TINYINT": "tinyint",
    "SMALLINT": "smallint",
    "INTEGER": "int",
    "BIGINT": "bigint",
    "HUGEINT": "decimal(38,0)",
    "FLOAT": "float",
    "DOUBLE": "double",
    "VARCHAR": "string",
    "BLOB": "binary",
    "DATE": "date",
    "TIMESTAMP WITH TIME ZONE": "timestamp",
    "TIMESTAMPTZ_NS": "timestamp",  # an instant too (Delta/Spark keep microseconds)
    "TIMESTAMP": "timestamp_ntz",
    "TIMESTAMP_NS": "timestamp_ntz",
    "TIMESTAMP_MS": "timestamp_ntz",
    "TIMESTAMP_S": "timestamp_ntz",
    "UTINYINT": "smallint",
    "USMALLINT": "int",
    "UINTEGER": "bigint",
    "UBIGINT": "decimal(20,0)",
    "INTERVAL": "interval",
    "NULL": "void",
    "UUID": "string",
    "JSON": "string",
}
_ALIASES = {
    "integer": "int",
    "long": "bigint",
    "short": "smallint",
    "byte": "tinyint",
    "real": "float",
    "bool": "boolean",
    "varchar": "string",
    "text": "string",
    "timestamp_ltz": "timestamp",
    "dec": "decimal",
    "numeric": "decimal",
}


def spark_type_name(duck_type: str) -> str:
    """DuckDB type (as DuckDB prints it) -> Spark's simpleString."""
    t = duck_type.strip()
    if t in _DUCK_TO_SPARK:
        return _DUCK_TO_SPARK[t]
    m = re.fullmatch(r"DECIMAL\((\d+),\s*(\d+)\)", t)
    if m:
        return f"decimal({m.group(1)},{m.group(2)})"
    if t.endswith("[]"):
        return f"array<{spark_type_name(t[:-2])}>"
    if t.startswith("STRUCT(") and t.endswith(")"):
        fields = _split(t[7:-1])
        parts = []
        for f in fields:
            name, _, typ = f.strip().partition(" ")
            parts.append(f"{name.strip(chr(34))}:{spark_type_name(typ)}")
        return f"struct<{','.join(parts)}>"
    if t.startswith("MAP(") and t.endswith(")"):
        k, v = _split(t[4:-1])
        return f"map<{spark_type_name(k)},{spark_type_name(v)}>"
    return t.lower()


def _split(s: str) -> list[str]:
    out, depth, cur = [], 0, ""
    for ch in s:
        if ch == "," and depth == 0:
            out.append(cur.strip())
            cur = ""
            continue
        depth += ch in "(<"
        depth -= ch in ")>"
        cur += ch
    if cur.strip():
        out.append(cur.strip())
    return out


def normalize_spark_type(name: str) -> str:
    """Canonical spelling of a user-written Spark type: 'INTEGER' -> 'int', 'Decimal(10, 2)' -> ..."""
    t = re.sub(r"\s+", "", name.strip().lower())
    base = re.match(r"[a-z_]+", t)
    if base and base.group(0) in _ALIASES:
        t = _ALIASES[base.group(0)] + t[base.end() :]
    if t == "decimal":
        t = "decimal(10,0)"
    return t


def ddl_columns(ddl: str) -> list[tuple[str, str]]:
    """Parse a Spark DDL schema ('id BIGINT, name STRING') into (name, duckdb type) pairs
    (remembered between runs: odibi_dbx.sql.cache)."""
    from odibi_dbx.sql.cache import remembered

    return [(n, t) for n, t in remembered("ddl", lambda: _ddl_columns(ddl), ddl)]


def _ddl_columns(ddl: str) -> list[tuple[str, str]]:
    from sqlglot import exp

    out = []
    for col in _split(ddl):
        name, _, typ = col.strip().partition(" ")
        if not typ.strip():
            raise ValueError(f"schema entry '{col}' needs a type, e.g. '{name} STRING'")
        dt = exp.DataType.build(typ.strip(), dialect="databricks")
        if dt.this == exp.DataType.Type.TIMESTAMP:
            duck = "TIMESTAMPTZ"  # Spark TIMESTAMP is an instant
        else:
            duck = dt.sql("duckdb")
        out.append((name.strip("`"), duck))
    return out
