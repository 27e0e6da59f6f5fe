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


@transform(narwhals=True)
def order_stats(context, big: float):
    """Written once with Narwhals: runs lazily in DuckDB on the Pandas engine and in Spark."""
    import narwhals.stable.v2 as nw

    orders = context.get("orders")
    return (
        orders.filter(~nw.col("amount").is_null())
        .with_columns(big_order=nw.col("amount") > big, amount_x2=nw.col("amount") * 2)
        .group_by("customer_id")
        .agg(
            nw.len().alias("n"),
            nw.col("amount").sum().alias("total"),
            nw.col("amount_x2").max().alias("biggest_x2"),
            nw.col("big_order").cast(nw.Int64).sum().alias("big_orders"),
            nw.col("status").min().alias("first_status"),
        )
    )
