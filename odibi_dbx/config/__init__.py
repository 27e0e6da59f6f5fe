"""Project configuration: typed models, YAML loading with line numbers, validation."""

from odibi_dbx.config.loader import LoadedProject, load_project
from odibi_dbx.config.models import ProjectConfig

__all__ = ["LoadedProject", "ProjectConfig", "load_project"]
