"""Python function steps for the sample project."""

from odibi_dbx import transform


@transform
def add_vat(context, rate: float):
    """Add amount_incl_vat = amount * (1 + rate). `this` is the previous step's result.
    Function steps get the engine's DataFrame: pandas, or a Spark DataFrame on Spark."""
    df = context.get("this")
    if context.engine == "spark":
        from pyspark.sql import functions as F

        vat = F.round(F.col("amount") * (1 + rate), 2)
        return df.drop("rn").withColumn("amount_incl_vat", vat)
    df = df.drop(columns=["rn"])
    df["amount_incl_vat"] = (df["amount"] * (1 + rate)).round(2)
    return df
