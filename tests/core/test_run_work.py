"""A run's own work per node stays constant: no walk over a pipeline per write.
Counts, not timings (speed is measured in bench/startup_bench.py)."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq
import pytest

from odibi_dbx import Project
from odibi_dbx.config import checks as checks_module
from odibi_dbx.pipeline import runner as runner_module
from tests.core.work_counts import cli_run_facts, lines_in


def written_chain(folder: Path, nodes: int) -> Path:
    """An incremental CSV read, then a chain of SQL steps each reading the previous node and
    writing its own parquet output (every write is downstream of the incremental read)."""
    folder.mkdir()
    (folder / "orders.csv").write_text("id,updated_at\n1,2024-01-01 00:00:00\n")
    lines = [
        "project: chain",
        "engine: pandas",
        "connections:",
        "  src: {type: local, base_path: .}",
        "story: {connection: src, path: stories, auto_generate: false}",
        "pipelines:",
        "  - pipeline: p",
        "    nodes:",
        "      - name: n0",
        "        read: {connection: src, path: orders.csv, format: csv,",
        "               incremental: {column: updated_at}}",
    ]
    for n in range(1, nodes):
        lines += [f"      - name: n{n}", f"        depends_on: [n{n - 1}]"]
        lines += ["        transform:", "          steps:"]
        lines.append(f"            - SELECT id, updated_at FROM n{n - 1}")
        lines.append(f"        write: {{connection: src, path: out/n{n}, format: parquet}}")
    path = folder / "project.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


def _run_counting_lines(path: Path, files: tuple[str, ...]) -> int:
    """Lines executed in `files` while the project runs (loading excluded), in every thread."""
    with Project.load(path) as project:
        result: list = []
        lines = lines_in(files, lambda: result.append(project.run(progress=False)))
    assert result[0].ok
    return lines


def test_run_work_grows_linearly_with_the_writes(tmp_path):
    # before: the scheduler looked at every pending node whenever one finished, each write
    # walked all its ancestors for the incremental states it stores, and the incremental read
    # walked every write's ancestors for its targets: O(N^2) in a chain
    files = (checks_module.__file__, runner_module.__file__)
    small = _run_counting_lines(written_chain(tmp_path / "small", 15), files)
    large = _run_counting_lines(written_chain(tmp_path / "large", 60), files)
    assert large < 5 * small, (small, large)  # ~4x, not ~16x


def test_every_write_downstream_of_an_incremental_read_stores_its_state(tmp_path):
    path = written_chain(tmp_path / "p", 4)
    with Project.load(path) as project:
        assert project.run(progress=False).ok
    for n in (1, 2, 3):
        out = tmp_path / "p" / "out"
        assert pq.read_table(out / f"n{n}").num_rows == 1
        assert (out / f".n{n}.odibi-incremental.json").read_text().count('"p.n0"') == 1


def test_a_csv_read_sniffs_its_file_once_and_nothing_is_asked_twice(tmp_path, monkeypatch):
    # before: an auto-detecting DESCRIBE and then sniff_csv (two passes of DuckDB's sniffer),
    # the spelled-out read and the view described twice each, and a write-only node took the
    # sample its input's node had already taken
    from odibi_dbx.engines.pandas import PandasEngine

    statements: list[str] = []
    cursor = PandasEngine.con.fget
    assert cursor is not None

    class Counted:
        def __init__(self, cur):
            self._cur = cur

        def execute(self, sql, *args):
            statements.append(sql)
            return self._cur.execute(sql, *args)

        def __getattr__(self, name):
            return getattr(self._cur, name)

    monkeypatch.setattr(PandasEngine, "con", property(lambda self: Counted(cursor(self))))
    folder = tmp_path / "p"
    folder.mkdir()
    rows = "".join(f"{i},2024-01-0{i % 9 + 1} 10:00:00,{i * 1.5},x{i}\n" for i in range(50))
    (folder / "orders.csv").write_text("id,ts,amount,note\n" + rows)
    (folder / "project.yaml").write_text(
        "project: sniff\nengine: pandas\n"
        "connections: {src: {type: local, base_path: .}}\n"
        "story: {connection: src, path: stories}\n"
        "pipelines:\n  - pipeline: p\n    nodes:\n      - name: orders\n"
        "        read: {connection: src, path: orders.csv, format: csv}\n"
        "      - name: clean\n        depends_on: [orders]\n"
        "        transform: {steps: [SELECT * FROM orders WHERE id > 1]}\n"
        "      - name: write_clean\n        depends_on: [clean]\n"
        "        write: {connection: src, path: out, format: parquet}\n"
    )
    with Project.load(folder / "project.yaml") as project:
        result = project.run(progress=False)
    assert result.ok
    sniffing = [
        s for s in statements if "sniff_csv(" in s or ("read_csv(" in s and "auto_detect" not in s)
    ]
    assert len(sniffing) == 1, sniffing
    asked = [s for s in statements if s.startswith("DESCRIBE") or " LIMIT " in s]
    assert sorted(asked) == sorted(set(asked)), [s for s in asked if asked.count(s) > 1]
    types = {f.name: str(f.type) for f in pq.read_schema(folder / "out" / _part(folder / "out"))}
    assert types == {
        "id": "int32",
        "ts": "timestamp[us, tz=UTC]",
        "amount": "double",
        "note": "string",
    }
    samples = {n.name: n.sample for n in result.nodes}
    assert len(samples["clean"]) == 10 and samples["write_clean"] == samples["clean"]


def _part(folder: Path) -> str:
    return next(p.name for p in folder.iterdir() if p.suffix == ".parquet")


def test_a_run_parses_no_builtin_signature(tmp_path):
    # pydantic reads each default factory's signature; for the builtins `list` and `dict` that
    # parsed their text signature and compiled tokenize's large regex (~3 ms of every run)
    project = written_chain(tmp_path / "p", 3)
    probe = "import tokenize\nprint(json.dumps([rc, tokenize._compile.cache_info().misses]))"
    assert cli_run_facts(project, probe) == [0, 0]
    from odibi_dbx.config.models import NodeConfig

    a, b = (NodeConfig(name=n, transform={"steps": ["SELECT 1"]}) for n in "ab")
    assert a.depends_on == [] and a.depends_on is not b.depends_on  # one empty list each


def test_a_cli_run_opens_its_database_once_in_the_background_before_validating(tmp_path):
    # the Pandas engine's database (duckdb.connect and the session time zone, ~30 ms of CPU
    # with the GIL released) opens in a thread while the project is validated; it was opened
    # by the run's engine start, after loading
    setup = (
        "import threading, duckdb\nimport odibi_dbx.config.loader as L\n"
        "from odibi_dbx.engines.pandas import PandasEngine as E\n"
        "events, connects = [], []\n"
        "connect, problems, warm = duckdb.connect, L.project_problems, E.warm_up.__func__\n"
        "def counted(*a, **k):\n"
        "    connects.append(threading.current_thread().name)\n"
        "    return connect(*a, **k)\n"
        "def checked(*a, **k):\n"
        "    events.append('validation')\n"
        "    return problems(*a, **k)\n"
        "def warmed(cls, tz):\n"
        "    events.append('warm_up ' + tz)\n"
        "    return warm(cls, tz)\n"
        "duckdb.connect, L.project_problems, E.warm_up = counted, checked, classmethod(warmed)"
    )
    project = written_chain(tmp_path / "p", 3)
    facts = cli_run_facts(project, "print(json.dumps([rc, events, connects]))", setup)
    assert facts == [0, ["warm_up UTC", "validation"], ["odibi-duckdb-open"]]


@pytest.mark.parametrize("opened_in", ["Asia/Tokyo", "UTC", None])
def test_the_engine_takes_the_database_warm_up_opened_in_its_time_zone_only(opened_in):
    from odibi_dbx.engines import pandas as engine_module

    if opened_in is not None:
        engine_module.PandasEngine.warm_up(opened_in)
    engine = engine_module.PandasEngine(timezone="Asia/Tokyo")
    engine.start()
    try:
        zone = engine.con.execute("SELECT current_setting('TimeZone')").fetchone()
        assert zone == ("Asia/Tokyo",)
        assert engine_module._warm.empty  # taken (or dropped) by this start
    finally:
        engine.stop()
