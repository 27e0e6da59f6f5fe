"""A SQL step reads only tables by name: no table functions, no file paths, no file functions.

DuckDB reads files from table functions (`read_csv('/etc/passwd')`, `read_text`, `glob`) and
from quoted paths in FROM (`FROM '/data/x.parquet'`); Spark reads `csv.\\`/path\\``,
`delta.\\`/path\\`` and `read_files(...)`, calls Java (`reflect`), reads secrets (`secret`)
and runs programs (`SELECT TRANSFORM ... USING 'cmd'`). None of these may reach a step, on
either engine: its sources are the nodes it depends on and the tables its project declares.
Validation refuses them for every engine (config/checks.py); the Pandas engine also turns
DuckDB's external access off while user SQL runs (engines/pandas.py).
"""

from __future__ import annotations

import re
from typing import NamedTuple

from sqlglot import exp

from odibi_dbx.sql.errors import NotPortableError
from odibi_dbx.sql.parse import is_source, table_key

# Spark's `format.\`path\`` data sources
_FILE_SOURCES = {"csv", "json", "parquet", "orc", "avro", "text", "binaryfile", "delta", "xml"}
_PATH_LIKE = re.compile(
    r"[/\\:*?]|\.(csv|tsv|txt|json|jsonl|ndjson|parquet|orc|avro|db|duckdb|gz|zst)$", re.I
)
# generators Spark allows in FROM; translated by the rules (or refused there)
_GENERATORS = (exp.Explode, exp.Posexplode, exp.Inline, exp.Unnest)
# DuckDB scalar functions that touch files, settings or the catalog outside the step's sources
_SYSTEM_FUNCTIONS = re.compile(
    r"^(read_\w+|glob|getenv|current_setting|duckdb_\w+|pragma_\w+|parquet_\w+|sniff_csv|"
    r"query|query_table|iceberg_\w+|delta_scan|sqlite_\w+|postgres_\w+|mysql_\w+|which_secret|"
    r"load_\w+|install_\w+|enable_\w+|disable_\w+|checkpoint|force_checkpoint|attach|detach|"
    r"reflect|try_reflect|java_method|try_secret|http_request)$",
    re.I,
)
# Spark/Databricks functions that call Java, read secrets or reach the network
_SPARK_SYSTEM = {"reflect", "try_reflect", "java_method", "try_secret", "http_request"}
SYSTEM_ADVICE = (
    "a SQL step computes from its inputs only: secrets reach the project through connections "
    "(Key Vault, a secret scope), and logic that needs Java or the network goes in a function "
    "step (@transform)."
)
FILE_ACCESS = "file access"  # NotPortableError.construct of every sandbox problem
ADVICE = (
    "a SQL step reads only the nodes it depends on and the tables its pipeline declares: add "
    "the file as a read node (read: connection/path/format) and select from that node by name."
)


def sandbox_problems(tree: exp.Expr) -> list[NotPortableError]:
    """Every table function, file path, file-reading or system function the query uses."""
    return reads(tree).problems


class Reads(NamedTuple):
    problems: list[NotPortableError]  # sandbox_problems
    files: set[str]  # lower-cased names of the file paths and `format.\`path\`` reads in FROM
    tables: set[str]  # lower-cased names of the tables and views read (parse.referenced_tables)


def reads(tree: exp.Expr) -> Reads:
    """What the query reads, in one walk over it: its sandbox problems, the files it names in
    FROM and the tables it reads (these include the files)."""
    out = Reads([], set(), set())
    suspect = _SUSPECT_CLASS
    for node in tree.walk():  # (find_all(*_SUSPECTS) runs 11 isinstance tests on every node)
        cls = type(node)
        if not (suspect[cls] if cls in suspect else _is_suspect(cls)):
            continue
        what = _offending(node)
        if what:
            msg = f"Not allowed in a SQL step: {what}."
            advice = SYSTEM_ADVICE if _is_system(node) else ADVICE
            out.problems.append(NotPortableError(FILE_ACCESS, msg, advice))
        if isinstance(node, exp.Table):
            if what and isinstance(node.this, exp.Identifier):
                out.files.add(table_key(node))
            if is_source(node):
                out.tables.add(table_key(node))
    return out


def _is_system(node: exp.Expr) -> bool:
    if isinstance(node, (exp.Secret, exp.QueryTransform)):
        return True
    return isinstance(node, exp.Anonymous) and node.name.lower() in _SPARK_SYSTEM


def _offending(node: exp.Expr) -> str | None:
    if isinstance(node, exp.Table):
        this = node.this
        if isinstance(this, exp.Identifier):
            db = node.args.get("db")
            if db is not None and db.name.lower() in _FILE_SOURCES:
                return f"a file read in FROM ({node.sql('databricks')})"
            if _PATH_LIKE.search(this.name) or isinstance(this, exp.Literal):
                return f"a file path in FROM ({node.sql('databricks')})"
            return None
        if this is None or isinstance(this, _GENERATORS):
            return None
        return f"the table function {_name(this)}() in FROM"
    if isinstance(node.parent, exp.Table):
        return None  # reported as the table function above
    if isinstance(node, _FILE_FUNCTIONS):
        return f"the file function {_name(node)}()"
    if isinstance(node, exp.Anonymous) and _SYSTEM_FUNCTIONS.match(node.name):
        return f"the function {node.name}()"
    if isinstance(node, exp.Secret):
        return "the function secret()"
    if isinstance(node, exp.QueryTransform):
        return "a script transform (SELECT TRANSFORM ... USING runs a program)"
    if isinstance(node, _STATEMENTS):
        return f"a {node.key.upper()} statement"
    return None


_FILE_FUNCTIONS = (exp.ReadCSV, exp.ReadParquet)
_STATEMENTS = (exp.Copy, exp.Attach, exp.Detach, exp.Pragma, exp.Command, exp.Set)
# every class _offending can refuse: a node of any other class is never file access
_SUSPECTS = (
    exp.Table,
    *_FILE_FUNCTIONS,
    exp.Anonymous,
    exp.Secret,
    exp.QueryTransform,
    *_STATEMENTS,
)


_SUSPECT_CLASS: dict[type, bool] = {}  # node class -> is it one of _SUSPECTS (or a subclass)?


def _is_suspect(cls: type) -> bool:
    _SUSPECT_CLASS[cls] = found = issubclass(cls, _SUSPECTS)
    return found


def _name(node: exp.Expr) -> str:
    if isinstance(node, exp.Anonymous):
        return node.name
    if isinstance(node, exp.Func):
        return node.sql_name().lower()
    return node.key
