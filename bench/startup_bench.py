"""Small-run costs: `import odibi_dbx`, the 1k-row runs against hand-written jobs, and
validating a generated 1,000-node project (bench/README.md, "Small runs").

Usage: python bench/startup_bench.py [--repeats 7] [--trees PATH[,PATH]] [--out DIR]
Each measurement is a fresh subprocess (wall from start to exit, CPU from wait4); the cases
and the trees alternate within each repeat and medians are reported. `--trees` compares
checkouts of odibi-dbx (e.g. main and a branch) in one interleaved run. PYTHONDONTWRITEBYTECODE
is removed from the children's environment and one unmeasured warm-up run per case writes the
bytecode, as an installed wheel has it (otherwise every run recompiles the package, ~0.45 s),
and fills the case's SQL cache; each odibi-dbx case also runs "cold", with that cache off.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import duckdb

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
from run import ensure_data, run_once  # noqa: E402

PY = sys.executable
CACHE_ENV = "ODIBI_DBX_CACHE_DIR"  # odibi_dbx.sql.cache.ENV (the bench imports no odibi_dbx)
DEMO_GOLD = "gold/revenue_by_region_month/*.parquet"


def big_project(folder: Path, pipelines: int = 10, nodes: int = 100) -> Path:
    """A project of pipelines x nodes: a CSV read, then a chain of distinct SQL steps."""
    lines = ["project: big", "engine: pandas", "connections:", "  src: {type: local, base_path: .}"]
    lines += ["story: {connection: src, path: stories}", "pipelines:"]
    for p in range(pipelines):
        lines += [f"  - pipeline: p{p}", "    nodes:", "      - name: n0"]
        lines.append("        read: {connection: src, path: orders.csv, format: csv}")
        for n in range(1, nodes):
            lines += [f"      - name: n{n}", f"        depends_on: [n{n - 1}]"]
            lines += ["        transform:", "          steps:"]
            lines.append(
                f"            - SELECT order_id, quantity * {n} AS q{n}, CAST(order_ts AS "
                f"TIMESTAMP) AS ts, coalesce(status, 'x{p}') AS status FROM n{n - 1} "
                f"WHERE quantity > {n % 7}"
            )
    path = folder / "big.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


def cases(tree: Path, work: Path, data1k: Path, big: Path) -> dict[str, tuple[list, dict, Path]]:
    """name -> (command, extra environment, working folder) for one checkout. Each odibi-dbx
    case runs twice: with its SQL cache (odibi_dbx.sql.cache) filled by the warm-up run, as
    every run after a project's first, and "cold" with the cache off, as a project's first run."""
    odibi = [PY, "-m", "odibi_dbx"]  # cwd=tree: `-m` puts the working folder first on sys.path
    bench_env = {"BENCH_DATA": str(data1k), "BENCH_OUT": str(work / "bench1k")}
    runs = {
        "demo": (
            [*odibi, "run", "examples/sales/project.yaml"],
            {"SALES_LAKE_PATH": str(work / "demo")},
        ),
        "bench1k": ([*odibi, "run", "bench/project/bench.yaml"], bench_env),
        "validate1000": ([*odibi, "validate", str(big)], {}),
    }
    out: dict[str, tuple[list, dict, Path]] = {"import": ([PY, "-c", "import odibi_dbx"], {}, tree)}
    for name, (cmd, env) in runs.items():
        out[name] = (cmd, {**env, CACHE_ENV: str(work / "sql-cache")}, tree)
        out[f"{name} cold"] = (cmd, {**env, CACHE_ENV: "off"}, tree)
    return out


BASELINES = {  # case -> (hand-written job, its arguments)
    "demo": ("baseline_demo_duckdb.py", ["--data", "examples/sales/data/bronze"]),
    "bench1k": ("baseline_duckdb.py", []),
}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--trees", default=str(BENCH.parent), help="odibi-dbx checkouts, by comma")
    ap.add_argument("--out", type=Path, default=Path(tempfile.gettempdir()) / "odibi-startup")
    a = ap.parse_args()
    trees = [Path(t).resolve() for t in a.trees.split(",")]
    data1k = ensure_data(1000, BENCH / "data").resolve()
    a.out.mkdir(parents=True, exist_ok=True)
    big = big_project(a.out)
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    jobs: dict[str, tuple[list, dict, Path]] = {}
    for i, tree in enumerate(trees):
        work = a.out / f"tree{i}"
        for case, (cmd, env, cwd) in cases(tree, work, data1k, big).items():
            jobs[f"{case} [{tree.name}]" if len(trees) > 1 else case] = (
                cmd,
                {**env, "PYTHONPATH": str(tree)},
                cwd,
            )
    for case, (script, args) in BASELINES.items():
        data = ["--data", str(data1k)] if case == "bench1k" else args
        root = BENCH.parent
        jobs[f"{case}: hand-written"] = (
            [PY, str(BENCH / script), *data, "--out", str(a.out / "base" / case)],
            {},
            root,
        )
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs", flush=True)
    for name, (cmd, env, cwd) in jobs.items():  # warm-up: bytecode written, caches filled
        res = run_once(cmd, env, 600, tree=False, cwd=cwd)
        if res["rc"] != 0:
            print(f"{name} failed (rc={res['rc']}):\n{res['stderr_tail']}")
            return 1
    runs: dict[str, list[dict]] = {n: [] for n in jobs}
    for _ in range(a.repeats):
        for name, (cmd, env, cwd) in jobs.items():
            runs[name].append(run_once(cmd, env, 600, tree=False, cwd=cwd))
    report(runs, trees)
    return check_demo_gold(a.out, len(trees))


def report(runs: dict[str, list[dict]], trees: list[Path]) -> None:
    def med(name: str, key: str) -> float:
        return statistics.median(r[key] for r in runs[name] if r["rc"] == 0)

    print(f"\n{'case':<34} {'ok':>5} {'wall s':>7} {'cpu s':>7}  x wall  x cpu  (medians)")
    for name, rs in runs.items():
        ok = sum(r["rc"] == 0 for r in rs)
        line = (
            f"{name:<34} {ok:>2}/{len(rs):<2} {med(name, 'wall_s'):7.3f} {med(name, 'cpu_s'):7.3f}"
        )
        base = f"{name.split(' ')[0]}: hand-written"
        if base in runs and base != name:
            line += f"  {med(name, 'wall_s') / med(base, 'wall_s'):5.2f}"
            line += f"  {med(name, 'cpu_s') / med(base, 'cpu_s'):5.2f}"
        print(line)
    print(f"\ntrees: {', '.join(str(t) for t in trees)}; at {time.strftime('%H:%M:%S')}")


def check_demo_gold(out: Path, trees: int) -> int:
    """The demo's gold equals the hand-written job's (same rows after sorting)."""
    want = duckdb.sql(f"FROM '{out / 'base' / 'demo' / 'gold' / 'revenue.parquet'}' ORDER BY ALL")
    rows = want.fetchall()
    for i in range(trees):
        got = duckdb.sql(f"FROM '{out / f'tree{i}' / 'demo' / DEMO_GOLD}' ORDER BY ALL").fetchall()
        if got != rows:
            print(f"DEMO GOLD MISMATCH (tree {i}): {got[:2]} vs {rows[:2]}")
            return 1
    print("demo gold equals the hand-written job's")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
