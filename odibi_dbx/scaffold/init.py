"""`odibi-dbx init DIR`: a new project that validates and runs at once, with notebooks and a
bundle wired to it. Refuses a non-empty DIR unless `force`; never overwrites without saying so."""

from __future__ import annotations

import json
import re
from importlib import resources
from pathlib import Path

from odibi_dbx.errors import OdibiError
from odibi_dbx.scaffold import templates as t
from odibi_dbx.scaffold.bundle import BundleLayout, render_bundle

# notebooks shipped in the wheel (pyproject: force-include); a source checkout has them at the root
NOTEBOOKS = {
    "notebooks/run_pipeline.ipynb": "notebooks/run_pipeline.ipynb",
    "setup/databricks_setup.ipynb": "setup/databricks_setup.ipynb",
}


def _shipped(rel: str) -> str:
    name = Path(rel).name
    packaged = resources.files("odibi_dbx.scaffold").joinpath("notebooks", name)
    if packaged.is_file():
        return packaged.read_text(encoding="utf-8")
    source = Path(__file__).resolve().parents[2] / rel
    if source.is_file():
        return source.read_text(encoding="utf-8")
    raise OdibiError(f"the notebook {name} is missing from this odibi-dbx install")


def _explore_notebook() -> str:
    cells = [
        (
            "markdown",
            "# Explore the project\nLoad it (every problem listed at once), run it, look "
            "at a node's output and the run's story.",
        ),
        (
            "code",
            'from odibi_dbx import Project\n\nproject = Project.load("../project.yaml", '
            'env="dev")\nproject',
        ),
        ("code", "result = project.run()  # a line per node as it finishes, then a table"),
        ("code", 'project.output("revenue_by_region")'),
        ("code", "project.show_story()"),
        ("code", "project.close()"),
    ]
    nb = {
        "cells": [
            {"cell_type": kind, "metadata": {}, "source": src}
            | ({"execution_count": None, "outputs": []} if kind == "code" else {})
            for kind, src in cells
        ],
        "metadata": {
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"}
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    return json.dumps(nb, indent=1) + "\n"


def project_name(directory: Path) -> str:
    words = re.split(r"[^A-Za-z0-9]+", directory.resolve().name)
    return " ".join(w.capitalize() for w in words if w) or "My Project"


def files(directory: Path, engine: str) -> dict[str, str]:
    """Relative path -> text of every file of a new project but its bundle."""
    name = project_name(directory)
    fmt = {
        "name": name,
        "engine": engine,
        "gold_format": "delta" if engine == "spark" else "parquet",
    }
    project_yaml = t.PROJECT_YAML.format(**fmt)
    out = {
        "project.yaml": project_yaml,
        "transforms.py": t.TRANSFORMS_PY,
        "data/raw/orders.csv": t.orders_csv(),
        "data/raw/customers.csv": t.CUSTOMERS_CSV,
        "notebooks/explore.ipynb": _explore_notebook(),
        "README.md": t.README.format(**fmt),
        ".gitignore": t.GITIGNORE,
        "dist/.gitkeep": "",
    }
    out |= {dst: _shipped(src) for src, dst in NOTEBOOKS.items()}
    return out


def init_project(
    directory: str | Path, *, engine: str = "pandas", force: bool = False
) -> list[str]:
    """Write a new project into `directory`; returns one line per file ('created'/'overwrote')."""
    root = Path(directory).expanduser()
    if root.exists() and not root.is_dir():
        raise OdibiError(f"{root} exists and is not a folder")
    if root.is_dir() and any(root.iterdir()) and not force:
        raise OdibiError(
            f"{root} is not empty: choose a new folder, or add --force to write the project "
            "files into it (files with the same names are overwritten, others are kept)"
        )
    from odibi_dbx.config import load_project

    lines: list[str] = []
    for rel, text in files(root, engine).items():
        lines.append(_write(root / rel, text))
    loaded = load_project(root / "project.yaml")  # the new project validates
    config = loaded.config
    slug = re.sub(r"[^a-z0-9]+", "-", config.project.lower()).strip("-") or "odibi-project"
    layout = BundleLayout(slug, "project.yaml", False, ("..",), "dev", "prod")
    lines.append(_write(root / "bundle" / "databricks.yml", render_bundle(loaded, layout)))
    return lines


def _write(path: Path, text: str) -> str:
    existed = path.exists()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return f"{'overwrote' if existed else 'created'}  {path}"
