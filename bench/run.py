"""Benchmark odibi-dbx against hand-written DuckDB / PySpark baselines (see bench/README.md).

Usage: python bench/run.py [--sizes 1000,1000000] [--repeats 5] [--variants odibi,duckdb]
                           [--delta] [--timeout 1800]
Each run is a fresh subprocess; variants alternate within each repeat.
Writes bench/out/results.json.
"""

from __future__ import annotations

import argparse
import compileall
import importlib.util
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
PY = sys.executable
# variant -> the yardstick it is held to; *-layers: project/layers.yaml vs baseline_duckdb_layers.py
BASELINE = {"odibi": "duckdb", "odibi-spark": "pyspark", "odibi-layers": "duckdb-layers"}
SPARK_VARIANTS = {"odibi-spark", "pyspark"}
GOLD_KEYS = ["region", "month"]


def command(variant: str, data: Path, out: Path, delta: bool) -> tuple[list[str], dict[str, str]]:
    """The subprocess command line and extra environment for one run of a variant."""
    if variant in ("odibi", "odibi-spark", "odibi-layers"):
        yaml = "layers.yaml" if variant == "odibi-layers" else "bench.yaml"
        cmd = [PY, "-m", "odibi_dbx", "run", str(BENCH / "project" / yaml)]
        if variant == "odibi-spark":
            cmd += ["--engine", "spark"]
        env = {  # absolute: the project resolves relative folders against its own folder
            "BENCH_DATA": str(data.resolve()),
            "BENCH_OUT": str(out.resolve()),
            "BENCH_SILVER_FORMAT": "delta" if delta else "parquet",
        }
        return cmd, env
    script = {
        "duckdb": "baseline_duckdb.py",
        "pyspark": "baseline_pyspark.py",
        "duckdb-layers": "baseline_duckdb_layers.py",
    }[variant]
    layered = variant == "duckdb-layers"  # always parquet
    return [PY, str(BENCH / script), "--data", str(data), "--out", str(out)] + (
        ["--delta"] if delta and not layered else []
    ), {}


def run_once(
    cmd: list[str], env: dict[str, str], timeout: float, tree: bool, cwd: Path = ROOT
) -> dict:
    """Run cmd; return wall and CPU seconds, peak RSS (MiB), return code and the stderr tail.

    Peak RSS is the child's ru_maxrss from wait4 (exact for one process). With tree=True
    (Spark: the JVM is a grandchild, which the child never reaps, so wait4 misses its CPU) the
    RSS and CPU time of the whole process tree are also sampled every 0.1 s and the larger
    values are kept.
    """
    with tempfile.TemporaryFile() as err:
        t0 = time.perf_counter()
        p = subprocess.Popen(
            cmd, cwd=cwd, env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=err
        )
        sampled, stop = [0, 0.0], threading.Event()
        if tree:
            threading.Thread(target=_sample_tree, args=(p.pid, sampled, stop), daemon=True).start()
        timer = threading.Timer(timeout, p.kill)
        timer.start()
        _, status, usage = os.wait4(p.pid, 0)
        wall = time.perf_counter() - t0
        timer.cancel()
        stop.set()
        p.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        tail = err.read().decode(errors="replace").strip().splitlines()[-15:]
    rss = max(usage.ru_maxrss * 1024, sampled[0]) / 2**20  # ru_maxrss is KiB on Linux
    cpu = max(usage.ru_utime + usage.ru_stime, sampled[1])  # the child, reaped descendants
    return {
        "wall_s": round(wall, 3),
        "cpu_s": round(cpu, 3),
        "rss_mib": round(rss, 1),
        "rc": p.returncode,
        "stderr_tail": "\n".join(tail),
    }


def _sample_tree(pid: int, peak: list, stop: threading.Event) -> None:
    """peak[0]: the tree's largest RSS seen; peak[1]: the CPU seconds of every process of the
    tree, each as last seen alive (up to 0.1 s of a process's end is missed)."""
    try:
        import psutil
    except ImportError:
        return
    cpu: dict[int, float] = {}
    try:
        root = psutil.Process(pid)
        while not stop.wait(0.1):
            total = 0
            for proc in [root, *root.children(recursive=True)]:
                try:
                    total += proc.memory_info().rss
                    t = proc.cpu_times()
                    cpu[proc.pid] = t.user + t.system
                except psutil.Error:
                    pass
            peak[0] = max(peak[0], total)
            peak[1] = sum(cpu.values())
    except psutil.Error:
        pass


def read_gold(out: Path):
    """The gold table of a run, normalised for comparison (pandas DataFrame, sorted)."""
    import pandas as pd
    import pyarrow.parquet as pq

    df = pq.read_table(out / "gold" / "revenue.parquet").to_pandas()
    df.columns = [c.lower() for c in df.columns]
    month = pd.to_datetime(df["month"])
    if month.dt.tz is not None:  # TIMESTAMPTZ / Spark instants: compare as UTC wall time
        month = month.dt.tz_convert("UTC").dt.tz_localize(None)
    df["month"] = month.astype("datetime64[us]")
    df["region"] = df["region"].astype(str)
    df["order_count"] = df["order_count"].astype("int64")
    df["revenue"] = df["revenue"].astype("float64")
    return df[["region", "month", "revenue", "order_count"]].sort_values(
        GOLD_KEYS, ignore_index=True
    )


def compare_gold(a: Path, b: Path) -> str | None:
    """None when both gold outputs agree (revenue to 1e-9 relative); else what differs."""
    import numpy as np

    try:
        x, y = read_gold(a), read_gold(b)
    except Exception as exc:  # a missing or malformed output is a mismatch, not a crash
        return f"cannot read gold output: {type(exc).__name__}: {exc}"
    if len(x) != len(y):
        return f"{len(x)} rows vs {len(y)} rows"
    for col in ("region", "month", "order_count"):
        bad = (x[col] != y[col]).to_numpy()
        if bad.any():
            i = int(bad.argmax())
            first = f"{x.iloc[i].to_dict()} vs {y.iloc[i].to_dict()}"
            return f"{bad.sum()} rows differ in {col}; first: {first}"
    if not np.allclose(x["revenue"], y["revenue"], rtol=1e-9, atol=1e-6):
        i = int(np.abs(x["revenue"] - y["revenue"]).argmax())
        return f"revenue differs; worst: {x.iloc[i].to_dict()} vs {y.iloc[i].to_dict()}"
    return None


def import_time(n: int = 10) -> dict:
    """Median cost of `import odibi_dbx`: -X importtime cumulative, process wall, bare python."""
    cum, walls, bare, heavy = [], [], [], set()
    for _ in range(n):
        t0 = time.perf_counter()
        subprocess.run([PY, "-c", "pass"], check=True)
        bare.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        r = subprocess.run(
            [PY, "-X", "importtime", "-c", "import odibi_dbx"],
            cwd=ROOT,
            capture_output=True,
            text=True,
        )
        walls.append(time.perf_counter() - t0)
        if r.returncode != 0:
            return {"error": r.stderr.strip().splitlines()[-1:]}
        for line in r.stderr.splitlines():
            m = re.match(r"import time:\s+\d+ \|\s+(\d+) \|( *)(\S+)", line)
            if m and m.group(3) == "odibi_dbx":
                cum.append(int(m.group(1)) / 1000)
            if m and m.group(3).split(".")[0] in (
                "pyspark",
                "duckdb",
                "pandas",
                "pyarrow",
                "numpy",
                "deltalake",
                "sqlglot",
                "azure",
            ):
                heavy.add(m.group(3).split(".")[0])
    return {
        "cumulative_ms": round(statistics.median(cum), 1) if cum else None,
        "process_wall_ms": round(1000 * statistics.median(walls), 1),
        "bare_python_ms": round(1000 * statistics.median(bare), 1),
        "heavy_modules_imported": sorted(heavy),
    }


def ensure_data(size: int, data_root: Path) -> Path:
    folder = data_root / str(size)
    if not (folder / "orders.csv").exists():
        sys.path.insert(0, str(BENCH))
        from generate import generate

        print(f"generating {folder} ...", flush=True)
        generate(size, data_root)
    return folder


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="1000,1000000,5000000")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument(
        "--variants",
        default=None,
        help="default odibi,duckdb (+ odibi-spark,pyspark when pyspark is importable)",
    )
    ap.add_argument("--delta", action="store_true", help="write silver as Delta in every variant")
    ap.add_argument("--timeout", type=float, default=1800, help="seconds per run")
    ap.add_argument("--data", type=Path, default=BENCH / "data")
    ap.add_argument("--out", type=Path, default=BENCH / "out")
    a = ap.parse_args()

    has_spark = importlib.util.find_spec("pyspark") is not None
    variants = (
        a.variants.split(",")
        if a.variants
        else ["odibi", "duckdb"] + (["odibi-spark", "pyspark"] if has_spark else [])
    )
    unknown = set(variants) - set(BASELINE) - set(BASELINE.values())
    if unknown:
        ap.error(
            f"unknown variants {sorted(unknown)}; "
            f"choose from {', '.join(sorted({*BASELINE, *BASELINE.values()}))}"
        )
    missing = (
        "pyspark"
        if not has_spark
        else ("delta-spark" if a.delta and importlib.util.find_spec("delta") is None else None)
    )
    if missing and SPARK_VARIANTS & set(variants):
        print(f"skipping {sorted(SPARK_VARIANTS & set(variants))}: {missing} is not importable")
        variants = [v for v in variants if v not in SPARK_VARIANTS]
    sizes = [int(s) for s in a.sizes.split(",")]

    results: dict = {
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "delta": a.delta,
        "repeats": a.repeats,
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "sizes": {},
        "mismatches": [],
    }
    load = os.getloadavg()[0]
    results["machine"]["loadavg_1min_at_start"] = round(load, 2)
    if load > 0.5:
        print(
            f"WARNING: 1-min load average is {load:.1f} on {os.cpu_count()} CPUs: "
            "other work is running and timings will be noisy",
            flush=True,
        )
    # the package's bytecode, as an installed wheel has it (pip compiles at install): without
    # it every odibi run recompiles the package (~0.45 s CPU) where the baselines compile nothing
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    compileall.compile_dir(ROOT / "odibi_dbx", quiet=1)
    print("import odibi_dbx ...", flush=True)
    results["import"] = import_time()
    print(f"  {results['import']}", flush=True)

    for size in sizes:
        data = ensure_data(size, a.data)
        runs: dict[str, list[dict]] = {v: [] for v in variants}
        outs = {v: a.out / "runs" / str(size) / v for v in variants}
        for r in range(a.repeats):
            for v in variants:  # alternate: odibi, duckdb, odibi, duckdb, ...
                shutil.rmtree(outs[v], ignore_errors=True)
                cmd, env = command(v, data, outs[v], a.delta)
                res = run_once(cmd, env, a.timeout, tree=v in SPARK_VARIANTS)
                runs[v].append(res)
                state = "ok" if res["rc"] == 0 else f"FAILED rc={res['rc']}"
                print(
                    f"size={size} repeat={r + 1} {v:<14} {res['wall_s']:8.2f}s "
                    f"cpu {res['cpu_s']:7.2f}s "
                    f"{res['rss_mib']:8.1f} MiB  {state}",
                    flush=True,
                )
        results["sizes"][size] = summarise(runs)
        check_outputs(size, variants, outs, results)

    print_table(results, variants, sizes)
    a.out.mkdir(parents=True, exist_ok=True)
    (a.out / "results.json").write_text(json.dumps(results, indent=2, default=str))
    print(f"\nresults: {a.out / 'results.json'}")
    return 1 if results["mismatches"] else 0


def summarise(runs: dict[str, list[dict]]) -> dict:
    out = {}
    for v, rs in runs.items():
        ok = [r for r in rs if r["rc"] == 0]
        failed = [r for r in rs if r["rc"] != 0]
        out[v] = {
            "ok": len(ok),
            "runs": rs,
            "median_wall_s": _median(ok, "wall_s", 3),
            "median_cpu_s": _median(ok, "cpu_s", 3),
            "median_rss_mib": _median(ok, "rss_mib", 1),
            "error": failed[0]["stderr_tail"] if failed else None,
        }
    for v, base in BASELINE.items():
        if v in out and base in out and out[v]["ok"] and out[base]["ok"]:
            out[v]["ratio_wall"] = round(out[v]["median_wall_s"] / out[base]["median_wall_s"], 2)
            out[v]["ratio_rss"] = round(out[v]["median_rss_mib"] / out[base]["median_rss_mib"], 2)
            out[v]["ratio_cpu"] = round(
                out[v]["median_cpu_s"] / max(out[base]["median_cpu_s"], 1e-3), 2
            )
    return out


def _median(runs: list[dict], key: str, digits: int) -> float | None:
    return round(statistics.median(r[key] for r in runs), digits) if runs else None


def check_outputs(size: int, variants: list[str], outs: dict[str, Path], results: dict) -> None:
    """Compare each variant's gold (from its last run) with the reference variant's."""
    stats = results["sizes"][size]
    done = [v for v in variants if stats[v]["ok"] and stats[v]["runs"][-1]["rc"] == 0]
    if len(done) < 2:
        return
    ref = "duckdb" if "duckdb" in done else done[0]
    for v in done:
        if v == ref:
            continue
        diff = compare_gold(outs[v], outs[ref])
        stats[v]["gold_equal_to"] = {ref: diff is None}
        if diff:
            results["mismatches"].append(
                {"size": size, "variant": v, "reference": ref, "diff": diff}
            )
            print(
                f"\n{'!' * 70}\nGOLD MISMATCH size={size}: {v} vs {ref}: {diff}\n{'!' * 70}\n",
                flush=True,
            )
        else:
            print(f"size={size}: gold of {v} equals {ref}", flush=True)


def print_table(results: dict, variants: list[str], sizes: list[int]) -> None:
    imp = results["import"]
    print(
        "\nimport odibi_dbx:",
        f"failed ({imp['error']})"
        if "error" in imp
        else f"{imp['cumulative_ms']} ms cumulative (-X importtime), "
        f"process {imp['process_wall_ms']} ms vs bare python {imp['bare_python_ms']} ms; "
        f"heavy modules pulled in: {', '.join(imp['heavy_modules_imported']) or 'none'}",
    )
    print(
        f"\n{'size':>9}  {'variant':<14} {'ok':>5} {'wall s':>8} {'cpu s':>7} {'peak MiB':>9} "
        f"{'x wall':>7} {'x cpu':>6} {'x RSS':>6}  (x = ratio vs baseline; medians of ok runs)"
    )
    for size in sizes:
        for v in variants:
            s = results["sizes"][size][v]
            n = f"{s['ok']}/{len(s['runs'])}"
            if not s["ok"]:
                tail = " | ".join(s["error"].splitlines()[-3:])
                print(f"{size:>9}  {v:<14} {n:>5}  {v}: failed ({tail})")
                continue
            ratio = (
                f"{s['ratio_wall']:>7.2f} {s['ratio_cpu']:>6.2f} {s['ratio_rss']:>6.2f}"
                if "ratio_wall" in s
                else " " * 21
            )
            flag = "" if all(s.get("gold_equal_to", {}).values()) else "  GOLD MISMATCH"
            if s["error"]:
                flag += f"  (some runs failed: {s['error'].splitlines()[0][:80]})"
            print(
                f"{size:>9}  {v:<14} {n:>5} {s['median_wall_s']:>8.2f} {s['median_cpu_s']:>7.2f} "
                f"{s['median_rss_mib']:>9.1f} {ratio}{flag}"
            )
    for m in results["mismatches"]:
        print(f"MISMATCH size={m['size']} {m['variant']} vs {m['reference']}: {m['diff']}")


if __name__ == "__main__":
    sys.exit(main())
