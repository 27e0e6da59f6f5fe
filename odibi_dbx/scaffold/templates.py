"""The files of a new project (`odibi-dbx init`): YAML, sample data, transforms, README."""

from __future__ import annotations

PROJECT_YAML = """\
# {name}: raw CSV -> silver (Delta) -> gold ({gold_format}). Created by `odibi-dbx init`.
#   odibi-dbx validate project.yaml
#   odibi-dbx run project.yaml            # then: odibi-dbx story show project.yaml
project: {name}
engine: {engine}
description: Orders cleaned into a Delta table, then revenue per region
timezone: UTC

imports:
  - transforms.py                 # @transform functions used by function steps

connections:
  raw:  {{type: local, base_path: ./data/raw}}
  lake: {{type: local, base_path: "${{LAKE_PATH:-./lake}}"}}

story: {{connection: lake, path: stories/, max_sample_rows: 10}}
retry: {{enabled: true, max_attempts: 3, backoff: exponential}}
logging: {{level: WARNING}}

environments:                     # chosen with --env (the bundle's targets pass them)
  dev:  {{logging: {{level: INFO}}}}
  prod: {{logging: {{level: INFO, structured: true}}}}    # JSON lines on stderr

pipelines:
  - pipeline: silver
    nodes:
      - name: orders
        read: {{connection: raw, path: orders.csv, format: csv}}
      - name: customers
        read: {{connection: raw, path: customers.csv, format: csv}}
      - name: orders_clean
        depends_on: [orders, customers]
        transform:
          steps:
            - |
              SELECT o.order_id, o.customer_id, c.region,
                     CAST(o.order_date AS DATE) AS order_date,
                     o.quantity, o.unit_price
              FROM orders o JOIN customers c ON o.customer_id = c.customer_id
              WHERE o.quantity > 0
            - function: add_amount       # transforms.py
              params: {{vat_rate: 0.2}}
        validation:                       # checked before anything is written
          not_empty: true
          no_nulls: [order_id, region]
          unique: [order_id]
          rules:                          # row rules (Spark SQL); warn keeps and counts
            - {{name: known_region, expr: "region IN ('EU', 'US', 'APAC')", on_fail: warn}}
            - {{name: positive_price, expr: "unit_price > 0", on_fail: fail}}
        write: {{connection: lake, path: silver/orders, format: delta, mode: overwrite}}

  - pipeline: gold
    nodes:
      - name: silver_orders
        read: {{connection: lake, path: silver/orders, format: delta}}
      - name: revenue_by_region
        depends_on: [silver_orders]
        transform:
          steps:
            - |
              SELECT region, COUNT(*) AS orders,
                     ROUND(SUM(amount), 2) AS revenue,
                     ROUND(SUM(amount_incl_vat), 2) AS revenue_incl_vat
              FROM silver_orders
              GROUP BY region
        write: {{connection: lake, path: gold/revenue_by_region, format: {gold_format}, mode: overwrite}}
"""

TRANSFORMS_PY = '''\
"""Python steps of the project: `- function: add_amount` in project.yaml calls add_amount(context,
**params). The `this` frame is the previous step's output (pandas or Spark, per the engine)."""

from odibi_dbx import transform


@transform
def add_amount(context, vat_rate: float = 0.2):
    df = context.get("this")
    if context.engine == "spark":
        from pyspark.sql import functions as F

        amount = F.round(F.col("quantity") * F.col("unit_price"), 2)
        df = df.withColumn("amount", amount)
        return df.withColumn("amount_incl_vat", F.round(F.col("amount") * (1 + vat_rate), 2))
    df = df.copy()
    df["amount"] = (df["quantity"] * df["unit_price"]).round(2)
    df["amount_incl_vat"] = (df["amount"] * (1 + vat_rate)).round(2)
    return df
'''

CUSTOMERS_CSV = """\
customer_id,name,region
1,Acme,EU
2,Globex,US
3,Initech,US
4,Umbrella,APAC
5,Hooli,EU
"""


def orders_csv() -> str:
    rows = ["order_id,customer_id,order_date,quantity,unit_price"]
    for i in range(1, 25):
        qty = (i * 7) % 5  # a few zero quantities, filtered out by the SQL step
        rows.append(f"{i},{(i % 5) + 1},2026-0{1 + i % 3}-{10 + i % 18:02d},{qty},{5 + i % 4}.50")
    return "\n".join(rows) + "\n"


GITIGNORE = """\
lake/
dist/
__pycache__/
"""

README = """\
# {name}

A project created by `odibi-dbx init` ({engine} engine): two pipelines over sample data.

- `silver`: read `data/raw/orders.csv` and `customers.csv` → SQL join, then `add_amount`
  (transforms.py) → quality checks and row rules → Delta table `lake/silver/orders`
- `gold`: read that Delta table → SQL aggregate → `lake/gold/revenue_by_region` ({gold_format})

## Next commands

```bash
odibi-dbx validate project.yaml          # every problem at once, with file:line
odibi-dbx plan project.yaml              # what a run would read and write, without running
odibi-dbx run project.yaml               # writes lake/ and a story per run
odibi-dbx story show project.yaml        # the last run, node by node
```

In a notebook: `notebooks/explore.ipynb` (`Project.load("project.yaml").run()`).

## On Databricks

1. Build or download the odibi-dbx wheel and put it in `dist/` (the bundle uploads
   `dist/*.whl` for its jobs; the package is not on PyPI yet).
2. Deploy the Declarative Automation Bundle (formerly Asset Bundle) in `bundle/`:
   ```bash
   cd bundle
   databricks bundle validate --strict -t dev
   databricks bundle deploy -t dev
   databricks bundle run odibi_setup -t dev      # once: identity, Key Vault grants, secrets
   databricks bundle deploy -t prod              # the pipeline job runs on its schedule
   ```
   The pipeline job has one task per pipeline (`silver`, then `gold`); a failed one can be
   repaired alone. Point the `lake` connection at your storage (an `azure_adls` connection or a
   `/Volumes/...` path) before deploying to prod.
"""
