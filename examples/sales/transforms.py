"""Python function steps for the sample project."""

from odibi_dbx import transform


@transform
def add_vat(context, rate: float):
    """Add amount_incl_vat = amount * (1 + rate). `this` is the previous step's result."""
    df = context.get("this")
    df = df.drop(columns=["rn"])
    df["amount_incl_vat"] = (df["amount"] * (1 + rate)).round(2)
    return df
