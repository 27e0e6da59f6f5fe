"""Strings, regular expressions and JSON."""

from __future__ import annotations

import re

from sqlglot import exp

from odibi_dbx.sql import types as ty
from odibi_dbx.sql.errors import NotPortableError
from odibi_dbx.sql.rules.base import (
    BINARY,
    STRINGS,
    Context,
    T,
    cast,
    duck,
    fn_name,
    is_a,
    literal_str,
    on,
    spark_cast,
)


@on(exp.RegexpReplace)
def regexp_replace_backrefs(node: exp.Expr, ctx: Context) -> exp.Expr | None:
    # Java replacement strings use $1; RE2 (DuckDB) uses \1
    if isinstance(node, exp.RegexpReplace):
        rep = node.args.get("replacement")
        text = literal_str(rep)
        if text is None:
            if rep is not None and not isinstance(rep, exp.Literal):
                raise NotPortableError(
                    "regexp_replace",
                    "regexp_replace with a non-literal replacement is not "
                    "supported on the Pandas engine.",
                    "use a string literal replacement.",
                )
            return None
        if "$" in text or "\\" in text:
            new = re.sub(
                r"\\(.)|\$(\d)", lambda m: m.group(1) if m.group(1) else "\\" + m.group(2), text
            )
            node.set("replacement", exp.Literal.string(new))
            return node
    return None


@on(exp.Substring)
def substring_pos_zero(node: exp.Expr, ctx: Context) -> exp.Expr | None:
    # Spark treats a start position of 0 as 1
    if isinstance(node, exp.Substring):
        start = node.args.get("start")
        if isinstance(start, exp.Literal) and not start.is_string and start.this == "0":
            node.set("start", exp.Literal.number(1))
            return node
        if start is not None and not isinstance(start, exp.Literal):
            node.set("start", duck("CASE WHEN {s} = 0 THEN 1 ELSE {s} END", s=start))
            return node
    return None


@on(exp.Length, exp.StrPosition)
def int_lengths(node: exp.Expr, ctx: Context) -> exp.Expr | None:
    # length/instr/locate/size are INT in Spark (BIGINT in DuckDB)
    if isinstance(node, (exp.Length, exp.StrPosition)):
        return cast(node, "INTEGER")
    return None


@on(exp.JSONExtractScalar)
def get_json_object_lenient(node: exp.Expr, ctx: Context) -> exp.Expr | None:
    # get_json_object returns NULL for malformed JSON; DuckDB raises
    if isinstance(node, exp.JSONExtractScalar):
        # (wildcard/filter/slice paths are not on the allow-list: allowed.REFUSED_AS)
        return duck("CASE WHEN JSON_VALID({j}) THEN {e} END", j=node.this, e=node)
    return None


_JSON_SCALARS = {
    T.INT: ("INTEGER", "('BIGINT', 'UBIGINT')"),
    T.BIGINT: ("BIGINT", "('BIGINT', 'UBIGINT')"),
    T.SMALLINT: ("SMALLINT", "('BIGINT', 'UBIGINT')"),
    T.DOUBLE: ("DOUBLE", "('BIGINT', 'UBIGINT', 'DOUBLE')"),
    T.FLOAT: ("FLOAT", "('BIGINT', 'UBIGINT', 'DOUBLE')"),
    T.BOOLEAN: ("BOOLEAN", "('BOOLEAN')"),
}


def _json_value(j: str, path: str, dt: exp.DataType, depth: int = 0) -> str:
    """DuckDB SQL reading `path` of JSON `j` with Spark's permissive from_json typing: a value
    of the wrong JSON type is NULL, and so is an array or map holding one (Spark fails the
    whole container; a struct keeps its other fields)."""
    p = "'" + path.replace("'", "''") + "'"
    if dt.this in (T.VARCHAR, T.TEXT):
        return f"JSON_EXTRACT_STRING({j}, {p})"
    if dt.this in _JSON_SCALARS:
        duck_type, json_types = _JSON_SCALARS[dt.this]
        return (
            f"CASE WHEN JSON_TYPE({j}, {p}) IN {json_types} "
            f"THEN TRY_CAST(JSON_EXTRACT({j}, {p}) AS {duck_type}) END"
        )
    if dt.this == T.STRUCT and all(isinstance(c, exp.ColumnDef) for c in dt.expressions):
        fields = []
        for col in dt.expressions:
            name = col.name
            sub = f'{path}."{name}"' if not re.fullmatch(r"\w+", name) else f"{path}.{name}"
            fields.append(f'"{name}" := {_json_value(j, sub, col.args["kind"], depth)}')
        return f"CASE WHEN JSON_TYPE({j}, {p}) = 'OBJECT' THEN STRUCT_PACK({', '.join(fields)}) END"
    if dt.this == T.ARRAY and len(dt.expressions) == 1:
        e = f"__e{depth}"
        items = f"CAST(JSON_EXTRACT({j}, {p}) AS JSON[])"
        value = _json_value(e, "$", dt.expressions[0], depth + 1)
        return (
            f"CASE WHEN JSON_TYPE({j}, {p}) = 'ARRAY' AND NOT LIST_CONTAINS(LIST_TRANSFORM("
            f"{items}, lambda {e}: {_present(e)} OR ({value}) IS NOT NULL), false) "
            f"THEN LIST_TRANSFORM({items}, lambda {e}: {value}) END"
        )
    if dt.this == T.MAP and len(dt.expressions) == 2 and dt.expressions[0].this in STRINGS:
        e = f"__e{depth}"
        entries = f"MAP_ENTRIES(CAST(JSON_EXTRACT({j}, {p}) AS MAP(VARCHAR, JSON)))"
        value = _json_value(f"{e}.value", "$", dt.expressions[1], depth + 1)
        return (
            f"CASE WHEN JSON_TYPE({j}, {p}) = 'OBJECT' AND NOT LIST_CONTAINS(LIST_TRANSFORM("
            f"{entries}, lambda {e}: {_present(e + '.value')} OR ({value}) IS NOT NULL), false) "
            f"THEN MAP_FROM_ENTRIES(LIST_TRANSFORM({entries}, "
            f"lambda {e}: STRUCT_PACK(k := {e}.key, v := {value}))) END"
        )
    raise NotPortableError(
        "from_json",
        f"from_json with a field of type {dt.sql('databricks')} is not supported "
        "on the Pandas engine.",
        "read it as STRING in the schema and convert it with CAST / to_date / to_timestamp.",
    )


def _present(e: str) -> str:
    """SQL: the JSON element is null (a NULL element, not a failed conversion)."""
    return f"({e} IS NULL OR JSON_TYPE({e}) = 'NULL')"


_SCHEMA_TYPE = re.compile(r"(?i)\s*(struct|array|map)\s*<")


def _from_json_schema(ddl: str) -> exp.DataType:
    """from_json's schema: a DDL field list ('a INT, b STRING') or a type ('array<int>').
    A type sqlglot does not know (or a field it dropped) is refused: Spark rejects it."""
    is_type = bool(_SCHEMA_TYPE.match(ddl))
    try:
        dt = ty.build_type(ddl if is_type else f"STRUCT<{ddl}>", dialect="databricks")
    except Exception:
        dt = None
    if (
        dt is None
        or any(t.this == T.USERDEFINED for t in dt.find_all(exp.DataType))
        or (not is_type and len(dt.expressions) != _top_level_fields(ddl))
    ):
        raise NotPortableError(
            "from_json",
            f"from_json schema {ddl!r} is not one the Pandas engine reads (Spark rejects "
            "unknown types too).",
            "write the schema as Spark DDL: 'a INT, b ARRAY<STRING>' or 'array<int>'.",
        )
    return dt


def _top_level_fields(ddl: str) -> int:
    depth, count = 0, 1
    for ch in ddl:
        depth += ch in "<("
        depth -= ch in ">)"
        count += ch == "," and depth == 0
    return count


@on(exp.FromJson)
def from_json_ddl(node: exp.Expr, ctx: Context) -> exp.Expr | None:
    # Spark from_json takes a DDL schema or a type and is permissive: malformed JSON gives a
    # struct of NULLs (NULL for an array or map schema) and a value of the wrong JSON type NULL
    # (DuckDB would cast or raise); an array of structs also reads a single object
    if not isinstance(node, exp.FromJson):
        return None
    ddl = literal_str(node.expression)
    if ddl is None:
        raise NotPortableError(
            "from_json",
            "from_json needs a literal DDL schema string.",
            "write the schema as a string literal, e.g. 'a INT, b STRING'.",
        )
    dt = _from_json_schema(ddl)
    if dt.this == T.STRUCT:
        guarded = duck(
            "CASE WHEN JSON_VALID({j}) THEN CAST({j} AS JSON) ELSE CAST('{}' AS JSON) END",
            j=node.this,
        )
        out = duck(_json_value("{jj}", "$", dt), jj=guarded)
        return duck("CASE WHEN {j} IS NULL THEN NULL ELSE {o} END", j=node.this, o=out)
    valid = duck("CASE WHEN JSON_VALID({j}) THEN CAST({j} AS JSON) END", j=node.this)
    if dt.this == T.ARRAY and dt.expressions[0].this == T.STRUCT:
        valid = duck(  # a single object is read as an array of one
            "CASE WHEN JSON_TYPE({v}) = 'OBJECT' THEN CAST('[' || {v} || ']' AS JSON) ELSE {v} END",
            v=valid,
        )
    return duck(_json_value("{jj}", "$", dt), jj=valid)


@on(exp.RegexpSplit)
def split_regex(node: exp.Expr, ctx: Context) -> exp.Expr | None:
    # split with a limit has Java semantics DuckDB lacks
    if isinstance(node, exp.RegexpSplit) and node.args.get("limit") is not None:
        lim = node.args["limit"]
        if not (isinstance(lim, exp.Literal) and int(lim.this) <= 0):
            raise NotPortableError(
                "split(limit)",
                "split(str, regex, limit) is not supported on the Pandas engine.",
                "use split(str, regex) and slice().",
            )
    return None


@on(exp.Like, exp.ILike)
def like_backslash_escape(node: exp.Expr, ctx: Context) -> exp.Expr | None:
    # Spark LIKE escapes with a backslash by default; DuckDB LIKE has no default escape
    if isinstance(node, (exp.Like, exp.ILike)) and not isinstance(node.parent, exp.Escape):
        if not isinstance(node.expression, exp.Literal) or "\\" in node.expression.this:
            return exp.Escape(this=node, expression=exp.Literal.string("\\"))
    return None


@on(exp.Replace)
def replace_two_args(node: exp.Expr, ctx: Context) -> exp.Expr | None:
    # replace(str, search) removes `search` in Spark
    if isinstance(node, exp.Replace) and node.args.get("replacement") is None:
        node.set("replacement", exp.Literal.string(""))
        return node
    return None


@on(exp.SubstringIndex)
def substring_index(node: exp.Expr, ctx: Context) -> exp.Expr | None:
    # substring_index(s, delim, n): text before the n-th delim (from the right when n < 0)
    if isinstance(node, exp.SubstringIndex):
        s, d, n = node.this, node.args["delimiter"], node.args["count"]
        parts = "STRING_SPLIT({s}, {d})"
        return duck(
            f"CASE WHEN {{n}} > 0 THEN ARRAY_TO_STRING(LIST_SLICE({parts}, 1, {{n}}), {{d}}) "
            f"WHEN {{n}} < 0 THEN ARRAY_TO_STRING(LIST_SLICE({parts}, {{n}}, -1), {{d}}) "
            "WHEN {s} IS NULL OR {d} IS NULL THEN NULL ELSE '' END",
            s=s,
            d=d,
            n=n,
        )
    return None


_SPEC = re.compile(r"%(?P<flags>[-#+ 0,(]*)(?P<width>\d+)?(?:\.(?P<prec>\d+))?(?P<conv>[a-zA-Z%])")


@on(exp.Format, exp.Anonymous)
def format_string_printf(node: exp.Expr, ctx: Context) -> exp.Expr | None:
    # format_string/printf are Java Formatter calls: DuckDB PRINTF, with %.Nf rounded HALF_UP
    # on the decimal value as Java does (C printf rounds the binary value: 2.675 -> 2.67)
    if isinstance(node, exp.Format):
        fmt_node, args = node.this, list(node.expressions)
    elif isinstance(node, exp.Anonymous) and node.name.lower() in ("printf", "format_string"):
        fmt_node, args = node.expressions[0], list(node.expressions[1:])
    else:
        return None
    fmt = literal_str(fmt_node)
    if fmt is None:
        raise NotPortableError(
            "format_string",
            "format_string/printf needs a literal format on the Pandas engine.",
            "write the format as a string literal.",
        )
    out, i = [], 0
    for m in _SPEC.finditer(fmt):
        conv = m.group("conv")
        if conv == "%":
            continue
        if conv not in "sdf" or (m.group("flags") or "").strip("-0"):
            raise NotPortableError(
                "format_string",
                f"format_string/printf with '{m.group(0)}' is not supported on the Pandas engine.",
                "use %s, %d and %.Nf (optionally with width, 0 or -).",
            )
        if i >= len(args):
            break
        arg = args[i]
        if conv == "f":
            prec = int(m.group("prec") or 6)
            arg = duck(f"ROUND(CAST(CAST({{x}} AS VARCHAR) AS DECIMAL(38, 18)), {prec})", x=arg)
        out.append(arg)
        i += 1
    return exp.Anonymous(this="PRINTF", expressions=[exp.Literal.string(fmt), *out, *args[i:]])


@on(exp.Pad)
def binary_pad(node: exp.Expr, ctx: Context) -> exp.Expr | None:
    # lpad/rpad of binary pad with bytes (default X'00') and give BINARY: padded on the hex
    # digits, two per byte; an empty pad only truncates. With a string operand, Spark reads
    # the binary one as a (UTF-8) string.
    if not isinstance(node, exp.Pad):
        return None
    x, n, fill = node.this, node.expression, node.args.get("fill_pattern")
    if not (is_a(x, *BINARY) or is_a(fill, *BINARY)):
        return None
    if is_a(x, *BINARY) and (fill is None or is_a(fill, *BINARY)):
        pad = duck("HEX({f})", f=fill) if fill is not None else exp.Literal.string("00")
        func = "LPAD" if node.args.get("is_left") else "RPAD"
        return duck(
            f"UNHEX(CASE WHEN {{p}} = '' THEN LEFT(HEX({{x}}), GREATEST(2 * {{n}}, 0)) "
            f"ELSE {func}(HEX({{x}}), 2 * {{n}}, {{p}}) END)",
            x=x,
            n=n,
            p=pad,
        )
    if fill is not None and (is_a(x, *STRINGS) or is_a(fill, *STRINGS)):
        for arg, value in (("this", x), ("fill_pattern", fill)):
            if is_a(value, *BINARY):
                node.set(arg, duck("DECODE({b})", b=value))
        return node
    return None


@on(exp.Contains, exp.StartsWith, exp.EndsWith)
def typed_null_operands(node: exp.Expr, ctx: Context) -> exp.Expr | None:
    # Spark types an untyped NULL operand like the other one (a STRING, or a BINARY); DuckDB
    # cannot choose between its overloads for a bare NULL
    if not isinstance(node, (exp.Contains, exp.StartsWith, exp.EndsWith)):
        return None
    args = [node.this, node.expression]
    if not any(isinstance(a, exp.Null) for a in args):
        return None
    to = "BLOB" if any(is_a(a, *BINARY) for a in args) else "VARCHAR"
    for key, arg in (("this", node.this), ("expression", node.expression)):
        if isinstance(arg, exp.Null):
            node.set(key, cast(arg, to))
    return node


@on(exp.Anonymous)
def luhn_check(node: exp.Expr, ctx: Context) -> exp.Expr | None:
    # Spark's luhn_check of a string (other types cast to one): digits only, the Luhn sum
    # (every second digit from the right doubled, minus 9 above 9) divisible by 10
    if fn_name(node) != "luhn_check" or len(node.expressions) != 1:
        return None
    (s,) = node.expressions
    if not is_a(s, *STRINGS) and not isinstance(s, exp.Null):
        s = spark_cast(s, "STRING", ctx)
    digit = "CAST(SUBSTR(REVERSE({s}), i + 1, 1) AS INTEGER)"
    doubled = (
        f"CASE WHEN i % 2 = 1 THEN {digit} * 2 - (CASE WHEN {digit} > 4 THEN 9 ELSE 0 END) "
        f"ELSE {digit} END"
    )
    return duck(
        "CASE WHEN {s} IS NULL THEN CAST(NULL AS BOOLEAN) "
        "WHEN REGEXP_FULL_MATCH({s}, '[0-9]+') "
        f"THEN LIST_SUM(LIST_TRANSFORM(RANGE(LENGTH({{s}})), lambda i: {doubled})) % 10 = 0 "
        "WHEN REGEXP_FULL_MATCH({s}, '\\p{Nd}+') THEN CAST(ERROR('luhn_check of digits other "
        "than 0-9 is not supported on the Pandas engine') AS BOOLEAN) "
        "ELSE false END",
        s=s,
    )


RULES = [
    regexp_replace_backrefs,
    substring_pos_zero,
    int_lengths,
    get_json_object_lenient,
    from_json_ddl,
    split_regex,
    like_backslash_escape,
    replace_two_args,
    substring_index,
    format_string_printf,
    binary_pad,
    typed_null_operands,
    luhn_check,
]
