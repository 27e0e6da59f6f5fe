"""The bench job hand-written with DuckDB's Python API: the yardstick for the pandas engine.

Usage: python bench/baseline_duckdb.py --data bench/data/1000000 --out bench/out/run [--delta]
Writes <out>/silver/orders.parquet (or the Delta table <out>/silver/orders with --delta)
and <out>/gold/revenue.parquet.
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

import duckdb

ORDERS = {
    "order_id": "BIGINT",
    "customer_id": "BIGINT",
    "order_ts": "TIMESTAMP",
    "quantity": "INTEGER",
    "unit_price": "DOUBLE",
    "status": "VARCHAR",
}
CUSTOMERS = {"customer_id": "BIGINT", "name": "VARCHAR", "region": "VARCHAR"}

SILVER = """
CREATE TEMP TABLE silver AS
SELECT o.*, o.quantity * o.unit_price AS amount, c.region
FROM (
    SELECT * FROM orders
    WHERE quantity > 0 AND customer_id IS NOT NULL
    QUALIFY row_number() OVER (PARTITION BY order_id ORDER BY order_ts DESC) = 1
) o
JOIN customers c USING (customer_id)
"""

GOLD = """
SELECT region, date_trunc('month', order_ts) AS month,
       sum(amount) AS revenue, count(*) AS order_count
FROM silver
GROUP BY ALL
ORDER BY region, month
"""


def run(data: Path, out: Path, delta: bool = False) -> None:
    shutil.rmtree(out, ignore_errors=True)
    (out / "silver").mkdir(parents=True)
    (out / "gold").mkdir(parents=True)
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.read_csv(str(data / "orders.csv"), header=True, columns=ORDERS).to_view("orders")
    con.read_csv(str(data / "customers.csv"), header=True, columns=CUSTOMERS).to_view("customers")
    con.execute(SILVER)
    if delta:
        from deltalake import write_deltalake

        write_deltalake(
            str(out / "silver" / "orders"), con.sql("FROM silver").arrow(), mode="overwrite"
        )
    else:
        con.execute(f"COPY silver TO '{out / 'silver' / 'orders.parquet'}' (FORMAT parquet)")
    con.execute(f"COPY ({GOLD}) TO '{out / 'gold' / 'revenue.parquet'}' (FORMAT parquet)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--delta", action="store_true", help="write silver as a Delta table")
    a = ap.parse_args()
    run(a.data, a.out, a.delta)


if __name__ == "__main__":
    main()
