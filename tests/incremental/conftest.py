"""Both engines run the same incremental / SCD2 projects; results are compared with values the
tests compute themselves."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from tests.conftest import write

ENGINES = [pytest.param("pandas"), pytest.param("spark", marks=pytest.mark.spark)]


@pytest.fixture(params=ENGINES)
def engine(request) -> str:
    if request.param == "spark":
        request.getfixturevalue("spark")  # the one shared session, with Delta
    return request.param


def project(folder: Path, nodes: str, imports: str = "") -> Path:
    head = f"""
    project: incremental test
    connections:
      lake: {{type: local, base_path: ./lake}}
    story: {{connection: lake, path: stories/, max_sample_rows: 0}}
    retry: {{enabled: false}}
    {imports}
    pipelines:
      - pipeline: p
        nodes:
    """
    body = "\n".join("        " + line for line in nodes.strip("\n").splitlines())
    import textwrap

    return write(folder / "project.yaml", textwrap.dedent(head) + body + "\n")


def run(project_file: Path, engine: str, **kwargs):
    from odibi_dbx import Project

    with Project.load(project_file, engine=engine, keep_outputs=False) as p:
        return p.run(**kwargs)


def delta_rows(path: Path, columns: list[str]) -> list[tuple]:
    from tests.parity.parity_compare import read_output  # also on pyarrow 14 (DBR 15.4 leg)

    table = read_output(path).select(columns)
    return sorted((tuple(_plain(v) for v in r.values()) for r in table.to_pylist()), key=repr)


def _plain(v):
    if isinstance(v, dt.datetime) and v.tzinfo is not None:
        return v.astimezone(dt.timezone.utc).replace(tzinfo=None)
    return v


def ts(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)
