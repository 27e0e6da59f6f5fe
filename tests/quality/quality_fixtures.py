"""A NULL-heavy orders dataset, a project with row rules over it, and the rules' results
computed independently here (pandas, three-valued logic by hand) to check the story against."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pandas as pd

from tests.conftest import write

REGIONS = [None, "EU", "US", "APAC", "XX"]


def orders(n: int = 200) -> pd.DataFrame:
    """Every column has NULLs; some rows fail several rules at once."""
    return pd.DataFrame(
        {
            "order_id": list(range(n)),
            "customer_id": [None if i % 3 == 0 else i % 17 for i in range(n)],
            "amount": [None if i % 4 == 0 else (i % 7 - 2) * 1.5 for i in range(n)],
            "region": [REGIONS[i % 5] for i in range(n)],
        }
    ).astype({"customer_id": "Int64"})


# (name, expr, on_fail, the same test in pandas: True only where the SQL gives TRUE)
RULES = [
    ("positive_amount", "amount > 0", "quarantine", lambda d: d.amount.gt(0).fillna(False)),
    (
        "known_region",
        "region IN ('EU', 'US', 'APAC')",
        "warn",
        lambda d: d.region.isin(["EU", "US", "APAC"]) & d.region.notna(),
    ),
    ("has_customer", "customer_id IS NOT NULL", "drop", lambda d: d.customer_id.notna()),
    ("small_amount", "amount < 6", "warn", lambda d: d.amount.lt(6).fillna(False)),
    (
        "located",
        "region IS NOT NULL OR customer_id IS NOT NULL",
        "quarantine",
        lambda d: d.region.notna() | d.customer_id.notna(),
    ),
]
SCHEMA = "order_id BIGINT, customer_id BIGINT, amount DOUBLE, region STRING"


def expected(df: pd.DataFrame, rules=RULES) -> dict:
    """Per rule failed/kept/dropped/quarantined; the quarantined and kept order ids; each
    quarantined row's failed rules in declaration order."""
    fails = {name: ~test(df).astype(bool) for name, _, _, test in rules}
    quar = pd.Series(False, index=df.index)
    drop = pd.Series(False, index=df.index)
    for name, _, action, _ in rules:
        if action == "quarantine":
            quar |= fails[name]
    for name, _, action, _ in rules:
        if action == "drop":
            drop |= fails[name] & ~quar
    per_rule = {
        name: {
            "failed": int(fails[name].sum()),
            "quarantined": int((fails[name] & quar).sum()),
            "dropped": int((fails[name] & drop).sum()),
            "kept": int((fails[name] & ~quar & ~drop).sum()),
        }
        for name, _, _, _ in rules
    }
    failed_rules = {
        int(df.order_id[i]): [name for name, *_ in rules if fails[name][i]]
        for i in df.index
        if quar[i]
    }
    return {
        "rules": per_rule,
        "quarantined": failed_rules,
        "dropped": sorted(int(x) for x in df.order_id[drop]),
        "kept": sorted(int(x) for x in df.order_id[~quar & ~drop]),
    }


def rules_yaml(rules=RULES, indent: int = 12) -> str:
    lines = [f'- {{name: {n}, expr: "{e}", on_fail: {a}}}' for n, e, a, _ in rules]
    return textwrap.indent("\n".join(lines), " " * indent).lstrip()


def make_project(
    folder: Path,
    *,
    rules=RULES,
    extra: str = "",
    quarantine_format: str = "delta",
    out_format: str = "delta",
    data: pd.DataFrame | None = None,
    max_sample_rows: int = 5,
    read_schema: str | None = None,
) -> Path:
    """orders -> orders_silver (SQL step, rules, write); with `read_schema` orders_silver reads
    the CSV itself with that DDL (its columns are then known at validation)."""
    checks = (
        f"""validation:
                  rules:
                    {rules_yaml(rules, 20)}
                  quarantine: {{connection: lake, path: quarantine/orders, format: {quarantine_format}}}
                  {extra}"""
        if rules
        else ""
    )
    source = (
        f'read: {{connection: raw, path: orders.csv, format: csv, schema: "{read_schema}"}}'
        if read_schema
        else "depends_on: [orders]\n                transform:\n                  steps:\n"
        '                    - "SELECT * FROM orders"'
    )
    (folder / "data").mkdir(parents=True, exist_ok=True)
    (data if data is not None else orders()).to_csv(folder / "data" / "orders.csv", index=False)
    return write(
        folder / "project.yaml",
        f"""
        project: Quality
        connections:
          raw: {{type: local, base_path: ./data}}
          lake: {{type: local, base_path: ./lake}}
        story: {{connection: lake, path: stories/, max_sample_rows: {max_sample_rows}}}
        pipelines:
          - pipeline: silver
            nodes:
              - name: orders
                read: {{connection: raw, path: orders.csv, format: csv, schema: "{SCHEMA}"}}
              - name: orders_silver
                {source}
                write: {{connection: lake, path: silver/orders, format: {out_format}}}
                {checks}
        """,
    )


def read_table(path: Path) -> pd.DataFrame:
    """A written output (Delta or a folder of parquet/csv part files) as pandas."""
    if (path / "_delta_log").is_dir():
        from tests.parity.parity_compare import read_output  # also on pyarrow 14 (DBR 15.4)

        return read_output(path).to_pandas()
    import pyarrow.dataset as ds

    files = [f for f in path.rglob("*") if f.is_file() and not f.name.startswith((".", "_"))]
    fmt = files[0].suffix.lstrip(".")
    return ds.dataset([str(f) for f in files], format=fmt).to_table().to_pandas()
