"""The sample project (examples/sales) hand-written with DuckDB, pandas and delta-rs: the
yardstick for `odibi-dbx run examples/sales/project.yaml` (bench/startup_bench.py).

Usage: python bench/baseline_demo_duckdb.py --data examples/sales/data/bronze --out /tmp/x
Same steps as the project: bronze CSVs -> join, filter, dedupe (DuckDB) -> the project's VAT
function (pandas, the same code) -> the checks of its validation: block -> silver Delta table
(delta-rs) -> read back -> revenue per region and month (DuckDB) -> gold Parquet.
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

import duckdb

SILVER = """
SELECT order_id, customer_id, region, order_ts, quantity, unit_price, amount FROM (
    SELECT o.order_id, o.customer_id, c.region,
           CAST(o.order_ts AS TIMESTAMPTZ) AS order_ts, o.quantity, o.unit_price,
           ROUND(o.quantity * o.unit_price, 2) AS amount
    FROM orders o JOIN customers c ON o.customer_id = c.customer_id
    WHERE o.quantity > 0
    QUALIFY row_number() OVER (PARTITION BY o.order_id ORDER BY order_ts DESC) = 1
)
"""

GOLD = """
SELECT region, date_trunc('month', order_ts) AS month, count(*) AS orders,
       round(sum(amount), 2) AS revenue, round(sum(amount_incl_vat), 2) AS revenue_incl_vat
FROM silver GROUP BY ALL
"""


def add_vat(df, rate: float):
    df["amount_incl_vat"] = (df["amount"] * (1 + rate)).round(2)
    return df


def run(data: Path, out: Path) -> None:
    import pandas as pd
    import pyarrow as pa
    from deltalake import DeltaTable, write_deltalake

    shutil.rmtree(out, ignore_errors=True)
    (out / "gold").mkdir(parents=True)
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.read_csv(str(data / "orders.csv"), header=True).to_view("orders")
    con.read_csv(str(data / "customers.csv"), header=True).to_view("customers")
    df = add_vat(con.sql(SILVER).to_arrow_table().to_pandas(types_mapper=pd.ArrowDtype), 0.2)
    silver = pa.Table.from_pandas(df, preserve_index=False)
    rows, nulls, dupes = con.sql(
        "SELECT count(*), count(*) - count(order_id) + count(*) - count(customer_id) "
        "+ count(*) - count(region), count(*) - count(DISTINCT order_id) FROM silver"
    ).fetchall()[0]
    if rows == 0 or nulls or dupes:
        raise SystemExit(f"validation failed: rows={rows} nulls={nulls} duplicates={dupes}")
    write_deltalake(str(out / "silver" / "orders"), silver, mode="overwrite")
    silver = DeltaTable(str(out / "silver" / "orders")).to_pyarrow_table()
    con.execute(f"COPY ({GOLD}) TO '{out / 'gold' / 'revenue.parquet'}' (FORMAT parquet)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--out", type=Path, required=True)
    a = ap.parse_args()
    run(a.data, a.out)


if __name__ == "__main__":
    main()
