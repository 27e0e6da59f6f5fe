"""Incremental reads and SCD2 on the Pandas engine, timed against the full alternatives.

1. A Delta source of N rows (written in 50 appends, as data arriving over time) read with
   `incremental: {column: ts}` into a Delta append target: the first (full) run, then a run
   after 1% new rows were appended. Target: the incremental run <= 10% of the full run.
2. SCD2 of K keys with 1% of them changed (a full snapshot), against a plain Delta merge of the
   same snapshot, alternating, R repeats, medians. Target: <= 1.5x the plain merge.

Usage: python bench/incremental_bench.py [--rows 5000000] [--keys 1000000] [--repeats 5]
       [--out DIR] [--only incremental|scd2]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import textwrap
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
from deltalake import DeltaTable, write_deltalake

from odibi_dbx import Project

HEAD = """
project: incremental bench
connections:
  lake: {type: local, base_path: ./lake}
story: {connection: lake, path: stories/, max_sample_rows: 0}
retry: {enabled: false}
pipelines:
  - pipeline: p
    nodes:
"""


def _project(folder: Path, node: str) -> Path:
    body = textwrap.indent(textwrap.dedent(node).strip("\n"), " " * 6)
    path = folder / "project.yaml"
    path.write_text(HEAD.lstrip("\n") + body + "\n")
    return path


def _timed_run(project: Path) -> float:
    with Project.load(project, engine="pandas", keep_outputs=False) as p:
        t0 = time.perf_counter()
        res = p.run()
        seconds = time.perf_counter() - t0
    if not res.ok:
        raise SystemExit(f"run failed: {[n.error_message for n in res.nodes]}")
    return seconds


def _events(start: int, n: int, t0: int) -> pa.Table:
    rng = np.random.default_rng(start)
    ids = np.arange(start, start + n, dtype=np.int64)
    return pa.table(
        {
            "id": ids,
            "ts": pa.array(t0 + ids * 1_000_000, pa.timestamp("us", "UTC")),  # 1 s apart
            "amount": rng.random(n),
            "status": pa.array(rng.choice(["new", "paid", "shipped"], n)),
        }
    )


def bench_incremental(root: Path, rows: int) -> None:
    lake = root / "incr" / "lake"
    src = str(lake / "src")
    t0 = 1_700_000_000_000_000
    step = rows // 50
    for i in range(50):
        write_deltalake(src, _events(i * step, step, t0), mode="append")
    proj = _project(
        root / "incr",
        """
        - name: load
          read: {connection: lake, path: src, format: delta, incremental: {column: ts}}
          write: {connection: lake, path: out, format: delta, mode: append}
        """,
    )
    full = _timed_run(proj)
    new = rows // 100
    write_deltalake(src, _events(50 * step, new, t0), mode="append")
    incr = _timed_run(proj)
    got = DeltaTable(str(lake / "out")).count() if hasattr(DeltaTable, "count") else None
    print(
        f"incremental: source {rows:,} rows + {new:,} new: full run {full:.2f}s, "
        f"incremental run {incr:.2f}s = {incr / full:.1%} of the full run"
        + (f" (target {got:,} rows)" if got is not None else "")
    )


def _snapshot(keys: int, changed: int, day: int) -> pa.Table:
    ids = np.arange(keys, dtype=np.int64)
    region = np.array(["EU", "US", "APAC"])[ids % 3]
    if changed:
        region = region.copy()
        region[ids % (keys // changed) == 0] = "CHANGED"
    return pa.table(
        {
            "id": ids,
            "email": pa.array([f"user{i}@x" for i in ids]),
            "region": pa.array(region),
            "score": ids % 97,
            "updated_at": pa.array(
                np.full(keys, (1_700_000_000 + day * 86400) * 1_000_000), pa.timestamp("us", "UTC")
            ),
        }
    )


def bench_scd2(root: Path, keys: int, repeats: int) -> None:
    """Day 0 builds both tables; each repeat starts from copies of them and times the scd2 node
    and the plain merge one after the other (alternating, so load changes hit both), then
    reports medians and the load average."""
    folder = root / "scd2"
    lake = folder / "lake"
    lake.mkdir(parents=True)
    changed = keys // 100
    snap = str(lake / "snapshot")
    write_deltalake(snap, _snapshot(keys, 0, 0))
    nodes = {
        "dim": """
        - name: dim
          read: {connection: lake, path: snapshot, format: delta}
          write:
            connection: lake
            path: dim
            format: delta
            mode: scd2
            merge_keys: [id]
            scd2: {track: [email, region], valid_from: updated_at}
        """,
        "plain": """
        - name: plain
          read: {connection: lake, path: snapshot, format: delta}
          write: {connection: lake, path: plain, format: delta, mode: merge, merge_keys: [id]}
        """,
    }
    projects = {}
    for name, node in nodes.items():
        (folder / name).mkdir()
        (folder / name / "lake").symlink_to(lake)
        projects[name] = _project(folder / name, node)
        _timed_run(projects[name])  # day 0: the table is created
        shutil.copytree(lake / name, lake / f"{name}.day0")
    write_deltalake(snap, _snapshot(keys, changed, 1), mode="overwrite")
    secs: dict[str, list[float]] = {"dim": [], "plain": []}
    loads = []
    for i in range(repeats):
        for name in ("dim", "plain") if i % 2 == 0 else ("plain", "dim"):
            shutil.rmtree(lake / name)
            shutil.copytree(lake / f"{name}.day0", lake / name)
            loads.append(os.getloadavg()[0])
            secs[name].append(_timed_run(projects[name]))
    dim, plain = statistics.median(secs["dim"]), statistics.median(secs["plain"])
    print(
        f"scd2: {keys:,} keys, {changed:,} changed, {repeats} alternating repeats: scd2 median "
        f"{dim:.2f}s {[round(s, 2) for s in secs['dim']]}, plain merge of the same snapshot "
        f"median {plain:.2f}s {[round(s, 2) for s in secs['plain']]}: {dim / plain:.2f}x; "
        f"load average {min(loads):.1f}-{max(loads):.1f} on {os.cpu_count()} cores"
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=5_000_000)
    ap.add_argument("--keys", type=int, default=1_000_000)
    ap.add_argument("--out", type=Path, default=Path("/tmp/odibi-incremental-bench"))
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--only", choices=["incremental", "scd2"])
    args = ap.parse_args()
    shutil.rmtree(args.out, ignore_errors=True)
    args.out.mkdir(parents=True)
    if args.only != "scd2":
        bench_incremental(args.out, args.rows)
    if args.only != "incremental":
        bench_scd2(args.out, args.keys, args.repeats)


if __name__ == "__main__":
    main()
