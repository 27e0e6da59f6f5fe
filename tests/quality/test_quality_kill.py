"""kill -9 between the quarantine write and the main write: the main output stays the previous
version, the quarantine keeps the dead run's rows under its _run_id, and the next run works."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

from deltalake import DeltaTable

from tests.conftest import ROOT, write
from tests.quality.quality_fixtures import expected, make_project, orders, read_table

# the CLI, killed with SIGKILL the moment the main write starts (the quarantine is written)
KILLER = """
import os, signal, sys
from odibi_dbx.engines.pandas import PandasEngine

_write = PandasEngine._write

def killing_write(self, frame, spec):
    if spec.path == "silver/orders":
        os.kill(os.getpid(), signal.SIGKILL)
    return _write(self, frame, spec)

PandasEngine._write = killing_write
from odibi_dbx.cli import main
sys.exit(main(sys.argv[1:]))
"""


def _cli(script, *args):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, str(script), *args], env=env, capture_output=True, text=True, timeout=300
    )


def test_kill_9_between_quarantine_and_main_write(tmp_path):
    killer = write(tmp_path / "killer.py", KILLER)
    plain = write(tmp_path / "plain.py", "from odibi_dbx.cli import main\nraise SystemExit(main())")
    path = make_project(tmp_path / "p")
    lake = tmp_path / "p" / "lake"
    first = _cli(plain, "run", str(path))
    assert first.returncode == 0, first.stdout + first.stderr
    main_version = DeltaTable(str(lake / "silver" / "orders")).version()
    before = read_table(lake / "silver" / "orders")
    n_quarantined = len(expected(orders())["quarantined"])

    # the next run's data differs: if its main write had landed, the output would change
    smaller = orders(120)
    make_project(tmp_path / "p", data=smaller)
    killed = _cli(killer, "run", str(path))
    assert killed.returncode == -signal.SIGKILL, killed.stdout + killed.stderr

    assert DeltaTable(str(lake / "silver" / "orders")).version() == main_version
    after = read_table(lake / "silver" / "orders")
    assert sorted(after.order_id) == sorted(before.order_id)
    q = read_table(lake / "quarantine" / "orders")
    runs = q._run_id.value_counts()
    assert len(runs) == 2  # the first run's rows and the killed run's rows
    dead = next(r for r in runs.index if r not in first.stdout)
    assert runs[dead] == len(expected(smaller)["quarantined"])
    assert sum(runs) == n_quarantined + runs[dead]

    again = _cli(plain, "run", str(path))
    assert again.returncode == 0, again.stdout + again.stderr
    assert sorted(read_table(lake / "silver" / "orders").order_id) == expected(smaller)["kept"]
    assert len(read_table(lake / "quarantine" / "orders")._run_id.unique()) == 3
