"""Notebook helpers: show HTML inline on Databricks or in Jupyter."""

from __future__ import annotations

from typing import Any

from odibi_dbx import runtime


class HTML:
    """Rich display object for Jupyter (`_repr_html_`), printable elsewhere."""

    def __init__(self, html: str):
        self.html = html

    def _repr_html_(self) -> str:
        return self.html

    def __repr__(self) -> str:
        return f"<HTML story, {len(self.html):,} characters>"


def display_html(html: str) -> Any:
    if runtime.on_databricks():
        import IPython

        shell = IPython.get_ipython()
        display = shell.user_ns.get("displayHTML") if shell else None
        if display is not None:
            display(html)
            return None
    return HTML(html)
