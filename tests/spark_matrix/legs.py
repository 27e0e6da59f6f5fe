"""The Spark versions Databricks compute runs, as test legs (see docs/spark-engine.md).

Each leg is a small venv (`.venv-spark-<leg>/`, git-ignored, cached) holding only what differs
from the default `.venv`: the leg's pyspark + delta-spark from PyPI (and the runtime's pandas,
numpy, pyarrow where they matter). A `.pth` file then puts the default venv's site-packages
*after* the leg's own, so everything else (pydantic, duckdb, pytest, ...) is shared, not
downloaded again. The leg's Delta jars are resolved by Spark itself into `.ivy2/`.

    python -m tests.spark_matrix.legs build LEG...   # create / refresh the venvs and jars
    python -m tests.spark_matrix.legs python LEG     # print the leg's interpreter
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Leg:
    name: str
    runtime: str  # the Databricks compute it stands for
    packages: dict[str, str] = field(default_factory=dict)  # installed into the leg's venv
    connect: bool = False  # run the tests over a local Spark Connect server

    @property
    def venv(self) -> Path:
        return ROOT / f".venv-spark-{self.name}"

    @property
    def python(self) -> Path:
        return self.venv / "bin" / "python"


LEGS = {
    leg.name: leg
    for leg in (
        Leg(
            "dbr154",
            "DBR 15.4 LTS (Spark 3.5.0, Delta 3.2, its pandas/numpy/pyarrow)",
            {
                "pyspark": "3.5.0",
                "delta-spark": "3.2.0",
                "pandas": "1.5.3",
                "numpy": "1.23.5",
                "pyarrow": "14.0.1",
            },
        ),
        # DBR 16.4 runs 3.5.2 + Delta 3.3; PyPI's delta-spark 3.3.x needs pyspark >= 3.5.3
        Leg(
            "dbr164",
            "DBR 16.4 LTS line (Spark 3.5.3, Delta 3.3, pandas 1.5.3/numpy 1.26.4/pyarrow 15.0.2)",
            {
                "pyspark": "3.5.3",
                "delta-spark": "3.3.2",
                "pandas": "1.5.3",
                "numpy": "1.26.4",
                "pyarrow": "15.0.2",
            },
        ),
        Leg(
            "newest",
            "newest runtime (Spark 4.2, Delta 4.4; 4.4.1 is not on Maven Central yet)",
            {"pyspark": "4.2.0", "delta-spark": "4.4.0", "importlib_metadata": "8.7.1"},
        ),
        # the Spark Connect client of the default pyspark; the server runs from the same package
        Leg(
            "connect",
            "Spark Connect (serverless, standard access mode)",
            {"grpcio": "1.85.3", "grpcio-status": "1.85.3", "googleapis-common-protos": "1.76.0"},
            connect=True,
        ),
    )
}
_STAMP = ".odibi-leg"
_PTH = "zz_odibi_default_venv.pth"  # zz: read after the leg's own packages


def _default_site() -> str:
    """The default venv's site-packages, resolved: a worktree's `.venv` may be a symlink to a
    shared one, and the stamp and `.pth` must name the same place from either path."""
    return str(Path(sysconfig.get_paths()["purelib"]).resolve())


def _site(leg: Leg) -> Path:
    out = subprocess.run(
        [str(leg.python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    )
    return Path(out.stdout.strip())


def ready(leg: Leg) -> bool:
    stamp = leg.venv / _STAMP
    return leg.python.exists() and stamp.exists() and stamp.read_text() == _spec(leg)


def _spec(leg: Leg) -> str:
    return json.dumps({"packages": leg.packages, "base": _default_site()}, sort_keys=True)


def build(leg: Leg) -> None:
    """Create the leg's venv (idempotent: a matching stamp means nothing to do)."""
    if ready(leg):
        return
    if not leg.python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(leg.venv)], check=True)
    pth = _site(leg) / _PTH
    pth.unlink(missing_ok=True)  # pip must see only the leg's own packages
    pins = [f"{k}=={v}" for k, v in leg.packages.items()]
    pip = [str(leg.python), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    subprocess.run([*pip, *pins], check=True)
    pth.write_text(_default_site() + "\n")
    if not leg.connect:  # the leg's Delta jars, resolved by its own Spark (the server's are
        # the default venv's: make spark-jars)
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        fetch = [str(leg.python), "-m", "odibi_dbx.engines.spark_session", "--fetch"]
        subprocess.run(fetch, check=True, env=env, cwd=ROOT)
    (leg.venv / _STAMP).write_text(_spec(leg))


def main(argv: list[str]) -> int:
    cmd, names = argv[0], argv[1:] or list(LEGS)
    legs = [LEGS[n] for n in names]
    if cmd == "build":
        for leg in legs:
            print(f"leg {leg.name}: {leg.venv}", flush=True)
            build(leg)
    elif cmd == "python":
        print(*(leg.python for leg in legs))
    else:
        return 2
    return 0


if __name__ == "__main__":
    os.chdir(ROOT)
    sys.exit(main(sys.argv[1:]))
