"""Generate the seeded bench data set: bench/data/<orders>/{orders,customers}.csv.

orders:    order_id, customer_id (~1% null), order_ts (2025, UTC), quantity (~2% <= 0),
           unit_price (DOUBLE, 2 decimals), status; ~1% of rows repeat an order_id with a
           strictly later order_ts (so "keep the latest" has exactly one answer).
customers: customer_id, name, region (8 regions); orders / 50 customers.

Usage: python bench/generate.py --orders 1000000 [--out bench/data] [--seed 42]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pcsv

REGIONS = ["north", "south", "east", "west", "central", "northeast", "southwest", "islands"]
STATUSES = ["placed", "paid", "shipped", "delivered", "cancelled"]
YEAR_START = int(np.datetime64("2025-01-01T00:00:00", "s").astype(np.int64))
YEAR_SECONDS = 365 * 86400


def make_tables(n_orders: int, seed: int = 42) -> tuple[pa.Table, pa.Table]:
    rng = np.random.default_rng(seed)
    n_customers = max(n_orders // 50, 1)

    # ~1% of rows are a second version of an existing order, 1..86400 s later than the first.
    n_dup = n_orders // 100
    n_unique = n_orders - n_dup
    ts = YEAR_START + rng.integers(0, YEAR_SECONDS - 86400, n_unique)
    dup_of = rng.choice(n_unique, n_dup, replace=False)
    order_id = np.concatenate([np.arange(1, n_unique + 1), dup_of + 1])
    ts = np.concatenate([ts, ts[dup_of] + rng.integers(1, 86401, n_dup)])
    perm = rng.permutation(n_orders)  # interleave the duplicates
    order_id, ts = order_id[perm], ts[perm]

    customer_id = rng.integers(1, n_customers + 1, n_orders)
    quantity = rng.integers(1, 11, n_orders)
    bad_qty = rng.random(n_orders) < 0.02
    quantity[bad_qty] = rng.integers(-3, 1, int(bad_qty.sum()))  # -3..0
    unit_price = rng.integers(100, 50_000, n_orders) / 100.0  # 1.00 .. 499.99
    status = pa.DictionaryArray.from_arrays(
        rng.integers(0, len(STATUSES), n_orders).astype(np.int8), STATUSES
    ).cast(pa.string())

    orders = pa.table(
        {
            "order_id": pa.array(order_id, pa.int64()),
            "customer_id": pa.array(customer_id, pa.int64(), mask=rng.random(n_orders) < 0.01),
            "order_ts": pa.array(ts, pa.timestamp("s")),
            "quantity": pa.array(quantity, pa.int32()),
            "unit_price": pa.array(unit_price, pa.float64()),
            "status": status,
        }
    )
    cid = np.arange(1, n_customers + 1)
    customers = pa.table(
        {
            "customer_id": pa.array(cid, pa.int64()),
            "name": pa.array([f"Customer {i:07d}" for i in cid], pa.string()),
            "region": pa.DictionaryArray.from_arrays(
                rng.integers(0, len(REGIONS), n_customers).astype(np.int8), REGIONS
            ).cast(pa.string()),
        }
    )
    return orders, customers


def generate(n_orders: int, out: Path, seed: int = 42) -> Path:
    """Write <out>/<n_orders>/{orders,customers}.csv (timestamps as '2025-03-01 12:34:56')."""
    folder = out / str(n_orders)
    folder.mkdir(parents=True, exist_ok=True)
    orders, customers = make_tables(n_orders, seed)
    opts = pcsv.WriteOptions(quoting_style="none")
    for name, table in (("customers", customers), ("orders", orders)):
        tmp = folder / f".{name}.csv.tmp"
        pcsv.write_csv(table, tmp, opts)
        tmp.replace(folder / f"{name}.csv")  # orders.csv last: its presence means "complete"
    return folder


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--orders", type=int, required=True)
    ap.add_argument("--out", type=Path, default=Path(__file__).parent / "data")
    ap.add_argument("--seed", type=int, default=42)
    a = ap.parse_args()
    t0 = time.perf_counter()
    folder = generate(a.orders, a.out, a.seed)
    print(f"wrote {folder} in {time.perf_counter() - t0:.1f}s")


if __name__ == "__main__":
    main()
