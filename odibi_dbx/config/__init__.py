"""Project configuration: typed models, YAML loading with line numbers, validation.

The names below load on first use, so a connection type's module can import
`odibi_dbx.config.base` while the models (which collect the connection types) are not built yet.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from odibi_dbx.lazy import lazy_attributes

if TYPE_CHECKING:
    from odibi_dbx.config.loader import LoadedProject, load_project
    from odibi_dbx.config.models import ProjectConfig

_LAZY = {
    "LoadedProject": "odibi_dbx.config.loader",
    "load_project": "odibi_dbx.config.loader",
    "ProjectConfig": "odibi_dbx.config.models",
}

__getattr__ = lazy_attributes(__name__, _LAZY)


__all__ = ["LoadedProject", "ProjectConfig", "load_project"]
