"""Errors raised while checking and translating a Spark SQL step."""

from __future__ import annotations

import re

# sqlglot puts its parser's token objects in some messages: show the token's text instead
_TOKEN = re.compile(r"<Token token_type: [\w.]+, text: (.*?), line: \d+, col: \d+[^>]*>")


def readable(message: str) -> str:
    return _TOKEN.sub(lambda m: f"'{m.group(1)}'", message)


class SqlSyntaxError(ValueError):
    """The SQL text does not parse as one Spark SQL query."""

    def __init__(self, message: str, line: int | None = None, col: int | None = None) -> None:
        self.message = readable(message)
        self.line = line
        self.col = col
        super().__init__(str(self))

    def __str__(self) -> str:
        where = f" (line {self.line}, column {self.col})" if self.line is not None else ""
        return f"SQL syntax error{where}: {self.message}"


class NotPortableError(ValueError):
    """A construct that cannot be made to give Spark's result on DuckDB."""

    def __init__(self, construct: str, message: str, advice: str) -> None:
        self.construct = construct
        self.message = message
        self.advice = advice
        super().__init__(str(self))

    def __str__(self) -> str:
        return f"{self.message} Instead: {self.advice}"
