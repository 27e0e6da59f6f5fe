"""Project configuration: typed models, YAML loading with line numbers, validation.

The names below load on first use, so a connection type's module can import
`odibi_dbx.config.base` while the models (which collect the connection types) are not built yet.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from odibi_dbx.config.loader import LoadedProject, load_project
    from odibi_dbx.config.models import ProjectConfig

_LAZY = {
    "LoadedProject": "odibi_dbx.config.loader",
    "load_project": "odibi_dbx.config.loader",
    "ProjectConfig": "odibi_dbx.config.models",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'odibi_dbx.config' has no attribute {name!r}")


__all__ = ["LoadedProject", "ProjectConfig", "load_project"]
