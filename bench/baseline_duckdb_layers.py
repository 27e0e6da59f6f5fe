"""The layered bench job hand-written with DuckDB: the yardstick for project/layers.yaml.

Step by step as a user writes it: CSV types inferred, bronze parquet written, read back for
silver, silver parquet written, read back for gold (month as strftime '%Y-%m').
Usage: python bench/baseline_duckdb_layers.py --data bench/data/1000000 --out bench/out/run
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

import duckdb

SILVER = """
SELECT o.order_id, o.customer_id, o.order_ts, o.quantity, o.unit_price, o.status,
       o.quantity * o.unit_price AS amount, c.region
FROM (
    SELECT * FROM read_parquet('{bronze}/orders.parquet')
    WHERE quantity > 0 AND customer_id IS NOT NULL
    QUALIFY row_number() OVER (PARTITION BY order_id ORDER BY order_ts DESC) = 1
) o
JOIN read_parquet('{bronze}/customers.parquet') c ON o.customer_id = c.customer_id
"""

GOLD = """
SELECT region, strftime(order_ts, '%Y-%m') AS month,
       sum(amount) AS revenue, count(*) AS order_count
FROM read_parquet('{silver}/orders.parquet')
GROUP BY ALL
"""


def run(data: Path, out: Path) -> None:
    shutil.rmtree(out, ignore_errors=True)
    for layer in ("bronze", "silver", "gold"):
        (out / layer).mkdir(parents=True)
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    for name in ("orders", "customers"):
        con.execute(
            f"COPY (FROM read_csv('{data / (name + '.csv')}', header = true)) "
            f"TO '{out / 'bronze' / (name + '.parquet')}' (FORMAT parquet)"
        )
    silver = SILVER.format(bronze=out / "bronze")
    con.execute(f"COPY ({silver}) TO '{out / 'silver' / 'orders.parquet'}' (FORMAT parquet)")
    gold = GOLD.format(silver=out / "silver")
    con.execute(f"COPY ({gold}) TO '{out / 'gold' / 'revenue.parquet'}' (FORMAT parquet)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--out", type=Path, required=True)
    a = ap.parse_args()
    run(a.data, a.out)


if __name__ == "__main__":
    main()
