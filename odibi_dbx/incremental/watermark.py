"""Watermark values: what is stored, how lookback moves them, how each engine writes them as a
literal. Pure Python (no engine imports): the config validator uses it too.

A stored watermark is JSON: {"kind": timestamp | date | number | string, "value": text}.
Timestamps are instants in UTC with microseconds ("2024-05-01T10:00:00.000000+00:00"), dates
ISO days, numbers their decimal text (no float rounding), strings as they are.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

_UNITS = {
    "second": 1,
    "minute": 60,
    "hour": 3600,
    "day": 86400,
    "week": 7 * 86400,
}
_LOOKBACK = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([a-z]+?)s?\s*$")


def parse_lookback(text: str) -> dt.timedelta:
    """'2 hours', '30 minutes', '1 day', '2 weeks' -> timedelta."""
    m = _LOOKBACK.match(text.lower())
    if not m or m.group(2) not in _UNITS:
        raise ValueError(
            f"lookback '{text}' is not a duration; write e.g. '2 hours', '30 minutes', '3 days' "
            "(a plain number for numeric columns)"
        )
    return dt.timedelta(seconds=float(m.group(1)) * _UNITS[m.group(2)])


@dataclass(frozen=True)
class Watermark:
    kind: str  # timestamp | date | number | string
    value: str

    def to_json(self) -> dict[str, str]:
        return {"kind": self.kind, "value": self.value}

    @classmethod
    def from_json(cls, doc: Any) -> Watermark:
        if not isinstance(doc, dict) or doc.get("kind") not in KINDS:
            raise ValueError(f"not a watermark: {doc!r}")
        return cls(doc["kind"], str(doc["value"]))

    def sort_key(self) -> Any:
        if self.kind == "number":
            return Decimal(self.value)
        return self.value  # ISO texts in UTC order as their instants; strings as strings

    def minus(self, lookback: Any) -> Watermark:
        """The lower bound of the next read: the watermark moved back by `lookback`."""
        if lookback in (None, 0, ""):
            return self
        if self.kind == "number":
            if isinstance(lookback, str):
                raise ValueError(
                    f"lookback '{lookback}' is a duration but the watermark column is numeric; "
                    "give a number"
                )
            return Watermark("number", str(Decimal(self.value) - Decimal(str(lookback))))
        if self.kind == "string":
            raise ValueError("lookback needs a timestamp, date or numeric column, not a string")
        if not isinstance(lookback, str):
            raise ValueError(
                f"lookback {lookback} is a number but the watermark column is a {self.kind}; "
                "write a duration such as '2 hours'"
            )
        delta = parse_lookback(lookback)
        if self.kind == "date":
            if delta % dt.timedelta(days=1):
                raise ValueError(f"lookback '{lookback}' on a date column must be whole days")
            return Watermark("date", (dt.date.fromisoformat(self.value) - delta).isoformat())
        return Watermark("timestamp", _iso(parse_instant(self.value) - delta))


KINDS = ("timestamp", "date", "number", "string")


def parse_instant(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).astimezone(dt.timezone.utc)


def _iso(t: dt.datetime) -> str:
    return t.astimezone(dt.timezone.utc).isoformat(timespec="microseconds")


def from_epoch_micros(micros: int) -> Watermark:
    epoch = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
    return Watermark("timestamp", _iso(epoch + dt.timedelta(microseconds=int(micros))))


def later(a: Watermark | None, b: Watermark | None) -> Watermark | None:
    if a is None or b is None:
        return a or b
    return a if a.sort_key() >= b.sort_key() else b


def earliest(values: list[Watermark | None]) -> Watermark | None:
    """The oldest of several targets' watermarks; None (read all) when any has none."""
    if not values or any(v is None for v in values):
        return None
    return min(values, key=lambda w: w.sort_key())  # type: ignore[union-attr]


# --- literals per SQL dialect -------------------------------------------------------------------


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def spark_literal(w: Watermark) -> str:
    if w.kind == "timestamp":
        return f"timestamp_micros({_micros(w)})"
    if w.kind == "date":
        return f"DATE {_quote(w.value)}"
    if w.kind == "number":
        return str(Decimal(w.value))
    return _quote(w.value)


def duckdb_literal(w: Watermark) -> str:
    if w.kind == "timestamp":
        return f"make_timestamptz({_micros(w)}::BIGINT)"
    if w.kind == "date":
        return f"DATE {_quote(w.value)}"
    if w.kind == "number":
        return str(Decimal(w.value))
    return _quote(w.value)


def datafusion_literal(w: Watermark, naive_zone: str | None = None) -> str:
    """For delta-rs's SQL. `naive_zone`: the column is a timestamp without time zone, holding
    wall-clock times of that zone (the session time zone, as Spark reads them)."""
    if w.kind == "timestamp":
        t = parse_instant(w.value)
        if naive_zone is not None:
            from zoneinfo import ZoneInfo

            wall = t.astimezone(ZoneInfo(naive_zone)).replace(tzinfo=None)
            return f"TIMESTAMP {_quote(wall.isoformat(timespec='microseconds'))}"
        return f"TIMESTAMP {_quote(t.isoformat(timespec='microseconds').replace('+00:00', 'Z'))}"
    return duckdb_literal(w)


_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)


def _micros(w: Watermark) -> int:
    return int((parse_instant(w.value) - _EPOCH) / dt.timedelta(microseconds=1))
