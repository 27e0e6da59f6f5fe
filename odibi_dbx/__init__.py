"""odibi-dbx: declarative YAML pipelines for Azure Databricks, with a Pandas engine for laptops.

`import odibi_dbx` is light: engines, Azure and Databricks parts load only when used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from odibi_dbx.lazy import lazy_attributes
from odibi_dbx.transforms import transform

__version__ = "0.1.0"

if TYPE_CHECKING:
    from odibi_dbx.config import load_project
    from odibi_dbx.errors import ConfigError, NodeError, OdibiError, RunFailed
    from odibi_dbx.project import Project

_LAZY = {
    "Project": "odibi_dbx.project",
    "load_project": "odibi_dbx.config",
    "ConfigError": "odibi_dbx.errors",
    "NodeError": "odibi_dbx.errors",
    "OdibiError": "odibi_dbx.errors",
    "RunFailed": "odibi_dbx.errors",
}

__getattr__ = lazy_attributes(__name__, _LAZY)


__all__ = [
    "ConfigError",
    "NodeError",
    "OdibiError",
    "Project",
    "RunFailed",
    "__version__",
    "load_project",
    "transform",
]
