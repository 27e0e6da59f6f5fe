"""A function step written once in pandas: on Spark it converts in and out (from_user)."""

from odibi_dbx import transform


@transform
def add_tier(context, threshold: float):
    df = context.get("this")
    if context.engine == "spark":
        df = df.toPandas()
    df["tier"] = (df["total"] >= threshold).map({True: "gold", False: "std"})
    df["orders_x2"] = df["orders"] * 2
    return df[["customer_id", "orders", "orders_x2", "tier"]]
