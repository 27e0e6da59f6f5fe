"""Type names parsed once while a Spark SQL step is parsed (a workaround for sqlglot 30.30).

sqlglot's Hive parser (Spark and Databricks derive from it) checks every CAST's type with
`DataType.is_type("char", "varchar")`, and is_type parses both names again with a whole new
dialect, tokenizer and parser (`sqlglot.parse_one`): about a tenth of the work of validating a
project of SQL steps. sqlglot offers no hook for it (its compiled parser takes no subclass), so
while parse_spark runs, and only then, `sqlglot.parse_one` answers the parse of a type name in the
default dialect from a memo, with a fresh copy each time: the tree a parse would give. Any other
call goes to sqlglot's own. This applies only to the sqlglot version it was verified on.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

import sqlglot
from sqlglot import exp

from odibi_dbx.sql.node_types import copy_tree

VERIFIED_ON = "30.30.0"  # the pinned sqlglot (pyproject.toml): re-check before moving the pin
_ACTIVE = sqlglot.__version__ == VERIFIED_ON
_lock = threading.Lock()
_users = 0  # parses under way, in any thread
_own: Any = None  # sqlglot.parse_one while none is


@contextmanager
def type_names_parsed_once() -> Iterator[None]:
    """While the block runs, the type names sqlglot parses for itself are parsed once."""
    global _users, _own
    if not _ACTIVE:
        yield
        return
    with _lock:
        if _users == 0:
            _own = sqlglot.parse_one
            sqlglot.parse_one = _parse_one
        _users += 1
    try:
        yield
    finally:
        with _lock:
            _users -= 1
            if _users == 0 and sqlglot.parse_one is _parse_one:  # (unless replaced meanwhile)
                sqlglot.parse_one = _own


def _parse_one(
    sql: Any, read: Any = None, dialect: Any = None, into: Any = None, **opts: Any
) -> Any:
    """sqlglot.parse_one, but a type name in the default dialect is parsed once (and copied)."""
    if (
        isinstance(into, type)
        and issubclass(into, exp.DataType)
        and read is None
        and dialect is None
        and isinstance(sql, str)
    ):
        kind: type = into
        try:
            return copy_tree(_parsed(sql, kind, tuple(sorted(opts.items()))))
        except TypeError:  # an option that cannot be a memo key: parsed as usual
            pass
    return _own(sql, read=read, dialect=dialect, into=into, **opts)


@lru_cache(maxsize=256)
def _parsed(sql: str, into: type, opts: tuple) -> exp.Expr:
    return _own(sql, into=into, **dict(opts))
