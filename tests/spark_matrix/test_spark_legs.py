"""The Spark engine on each Spark that Databricks compute runs (tests/spark_matrix/legs.py).

The default `.venv` (Spark 4.0.1 + Delta 4.0.1, DBR 17.3 LTS) runs the whole suite; each leg
here runs a representative subset in its own venv: every write mode and format, catalog
tables, SQL and function steps, validation, stories, no-extra-job counts (tests/spark) and the
cross-engine parity projects (tests/parity). The Connect leg runs them over a local Spark
Connect server. `make test-spark-legs` prepares the venvs and jars (`make spark-legs`) and runs
the legs (ODIBI_SPARK_LEGS=1; not yet part of `make test`); asked for but not set up, a leg
skips locally and fails in CI. Each leg's log: .tmp/spark-matrix/<leg>.log.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess

import pytest

from tests.spark_matrix.connect_server import ConnectServer
from tests.spark_matrix.legs import LEGS, ROOT, Leg, ready

pytestmark = [
    pytest.mark.spark,
    pytest.mark.slow,
    pytest.mark.skipif(
        not os.environ.get("ODIBI_SPARK_LEGS"),
        reason="the Spark version legs run with `make test-spark-legs` (ODIBI_SPARK_LEGS=1)",
    ),
]
SUBSET = ["tests/spark", "tests/parity"]
LOGS = ROOT / ".tmp" / "spark-matrix"


def _missing(leg: Leg) -> str | None:
    if shutil.which("java") is None:
        return "no `java` on PATH"
    if not ready(leg):
        return f"the {leg.name} leg is not set up: run `make spark-legs`"
    return None


def _run_subset(leg: Leg, env: dict[str, str]) -> tuple[int, str]:
    log = LOGS / f"{leg.name}.log"
    cmd = [str(leg.python), "-m", "pytest", *SUBSET, "-q", "-p", "no:cacheprovider", "-rfE"]
    full = {**os.environ, **env, "PYTHONPATH": str(ROOT)}
    with log.open("w") as out:
        proc = subprocess.run(cmd, cwd=ROOT, env=full, stdout=out, stderr=subprocess.STDOUT)
    text = log.read_text(errors="replace")
    summary = [ln for ln in text.splitlines() if re.search(r"\d+ (passed|failed|error)", ln)]
    return proc.returncode, summary[-1] if summary else "(no summary)"


@pytest.mark.parametrize("name", list(LEGS))
def test_leg(name: str):
    leg = LEGS[name]
    reason = _missing(leg)
    if reason:
        if os.environ.get("CI"):
            pytest.fail(f"Spark leg {name} cannot run in CI: {reason}")
        pytest.skip(reason)
    LOGS.mkdir(parents=True, exist_ok=True)
    if leg.connect:
        with ConnectServer(LOGS / f"{name}-server.log") as server:
            code, summary = _run_subset(leg, {"SPARK_REMOTE": server.remote})
    else:
        code, summary = _run_subset(leg, {})
    (LOGS / f"{name}.summary").write_text(f"{leg.runtime}: {summary}\n")
    assert code == 0, f"{leg.runtime}: {summary} (log: {LOGS / f'{name}.log'})"
    assert "passed" in summary and "skipped" not in summary, summary
