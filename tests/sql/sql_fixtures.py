"""Fixture tables shared by the Spark and DuckDB sides of the parity tests.

Each table is a Spark DDL schema plus rows of Python values; both engines load exactly these.
Rows cover NULLs, negatives, .5 ties, month ends, DST changes, offsets and dirty JSON.
"""

from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal
from decimal import Decimal as D

UTC = timezone.utc


def ts(*a: int) -> datetime:
    return datetime(*a, tzinfo=UTC)


TABLES: dict[str, tuple[str, list[tuple]]] = {
    "orders": (
        "id INT, customer STRING, amount DECIMAL(10,2), qty INT, price DOUBLE, status STRING, "
        "order_ts TIMESTAMP, order_date DATE, tags ARRAY<STRING>, attrs MAP<STRING,STRING>, "
        "payload STRING, code STRING, big BIGINT",
        [
            (1, "alice", D("10.50"), 2, 2.675, "NEW", ts(2024, 1, 31, 23, 30, 0), date(2024, 1, 31),
             ["a", "b"], {"color": "red", "size": "L"}, '{"a": {"b": 1}, "n": "x", "arr": [1, 2]}',
             "A-001", 9007199254740993),
            (2, "bob", D("-3.25"), -1, -1.5, "shipped", ts(2024, 2, 29, 12, 0, 0), date(2024, 2, 29),
             [], {}, '{"a": {"b": 2}, "n": null}', "B-22", -5),
            (3, "alice", D("0.05"), 7, 0.125, None, ts(2024, 3, 31, 1, 30, 0), date(2024, 3, 31),
             None, None, "not json", "C-333", 0),
            (4, None, None, None, None, "NEW", None, None, ["c"], {"color": "blue"}, None, None, None),
            (5, "carol", D("99999.99"), 3, 2.5, "Cancelled", ts(2023, 12, 31, 23, 59, 59),
             date(2023, 12, 31), ["x", None, "y"], {"size": "S"}, '{"a": {"b": "3"}, "n": 5}',
             "D-4", 42),
            (6, "bob", D("12.35"), 0, -2.5, "new", ts(2024, 10, 27, 0, 30, 0), date(2024, 10, 27),
             ["z"], {"color": None}, '{"a": [1,2', "E-55", 7),
            (7, "dave", D("-0.50"), 5, 1e-3, "shipped", ts(2024, 3, 10, 9, 15, 0), date(2024, 3, 10),
             ["a"], {"k": "v"}, '{"a": {"b": {"c": true}}}', "F-6", 3),
            (8, "erin", D("1.00"), 2, 3.5, "NEW", ts(2024, 6, 15, 12, 0, 0), date(2024, 6, 15),
             ["b", "a"], {"color": "green"}, "{}", "G-7777", 100),
        ],
    ),
    "customers": (
        "customer STRING, region STRING, since DATE, score INT, name STRING",
        [
            ("alice", "EU", date(2020, 1, 1), 90, "  Alice Smith "),
            ("bob", "US", date(2021, 5, 31), 75, "bob JONES"),
            ("carol", "EU", date(2019, 2, 28), None, "Carol"),
            ("frank", "APAC", None, 60, None),
            ("dave", None, date(2022, 12, 31), 75, "dave o'brien"),
        ],
    ),
    "events": (
        "id BIGINT, ts_str STRING, day_str STRING, zone STRING, epoch BIGINT, v DOUBLE, grp STRING, "
        "local_ts TIMESTAMP, n_str STRING",
        [
            (1, "2024-03-31 01:30:00", "31/03/2024", "Europe/Paris", 1711848600, 1.0, "a",
             ts(2024, 3, 31, 1, 30), "12"),
            (2, "2024-10-27 00:30:00", "27/10/2024", "Europe/Paris", 1729989000, 2.0, "a",
             ts(2024, 10, 27, 0, 30), "-7"),
            (3, "2024-03-10 06:59:59", "10/03/2024", "America/New_York", 1710053999, None, "b",
             ts(2024, 3, 10, 6, 59, 59), " 3 "),
            (4, "2024-01-01 00:00:00", "01/01/2024", "Asia/Kolkata", 0, -4.0, "b",
             ts(2024, 1, 1, 0, 0), "0"),
            (5, None, None, "UTC", None, 8.0, None, None, None),
            (6, "2023-12-31 23:59:59", "29/02/2024", "America/Los_Angeles", -86400, 3.0, "c",
             ts(2023, 12, 31, 23, 59, 59), "100"),
        ],
    ),
    "measures": (
        "k STRING, x DOUBLE, n INT, d DECIMAL(18,6), s STRING",
        [
            ("big", 1e7, 2147483647, Decimal("123456789012.123456"), "a_b"),
            ("huge", 1.23456789e21, -5, Decimal("-0.000001"), "a%b"),
            ("tiny", 1.5e-5, 0, Decimal("0.000005"), "a\\b"),
            ("small", 0.0001, 7, Decimal("2.675000"), "axb"),
            ("tie", 2.675, 3, Decimal("-2.500000"), None),
            ("neg", -12345678.9, None, None, "100%"),
            ("zero", 0.0, 1, Decimal("0"), ""),
            ("nan", float("nan"), 2, Decimal("1"), "nan"),
        ],
    ),
}
