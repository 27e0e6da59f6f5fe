"""Story costs: column profiles on the Pandas engine, and writing the story + index of a big run.

    .venv/bin/python bench/story_bench.py [--rows 5000000] [--columns 10] [--repeats 3]

1. One node that reads `--rows` rows of `--columns` columns (Parquet; a third of the columns
   strings, some NULLs), filters them in SQL and writes Parquet, run with
   `story.profile_columns: 0` and with `--columns`, alternating; the node's median time over
   `--repeats` runs of each, with the load average (the machine may be shared).
2. The story JSON + HTML + index.html of a 60-node run (tests/story/big_project.py), best of
   `--repeats` calls to the story listener.
Spark: the profile adds no job (tests/spark/test_spark_engine.py::test_story_adds_no_spark_job
counts jobs per node against hand-written PySpark).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PROJECT = """
project: profile bench
connections:
  data: {{type: local, base_path: ./data}}
  out: {{type: local, base_path: ./out}}
story: {{connection: out, path: stories/, max_sample_rows: 10, profile_columns: {profile}}}
retry: {{enabled: false}}
pipelines:
  - pipeline: p
    nodes:
      - name: copy
        read: {{connection: data, path: wide.parquet}}
        transform: {{steps: ["SELECT * FROM this WHERE c0 % 10 <> 3"]}}
        write: {{connection: out, path: wide_out.parquet}}
"""


def make_data(folder: Path, rows: int, columns: int) -> None:
    import duckdb

    (folder / "data").mkdir(parents=True, exist_ok=True)
    cols = ["i AS c0"] + [
        f"CASE WHEN i % {7 + c} = 0 THEN NULL ELSE (i * {c + 3}) % 100003 END AS c{c}"
        if c % 3
        else f"'v' || (i % {97 + c}) AS c{c}"
        for c in range(1, columns)
    ]
    duckdb.sql(
        f"COPY (SELECT {', '.join(cols)} FROM range({rows}) t(i)) "
        f"TO '{folder / 'data' / 'wide.parquet'}' (FORMAT parquet)"
    )


def profile_cost(rows: int, columns: int, repeats: int) -> dict[int, list[float]]:
    """The node's seconds per run, by profile_columns; runs alternate between the two settings
    so that the load of a shared machine hits both alike."""
    from odibi_dbx import Project

    out: dict[int, list[float]] = {0: [], columns: []}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        make_data(folder, rows, columns)
        for _ in range(repeats):
            for profile in (0, columns):
                (folder / "project.yaml").write_text(PROJECT.format(profile=profile))
                with Project.load(folder / "project.yaml") as p:
                    res = p.run()
                assert res.ok, [n.error_message for n in res.nodes]
                out[profile].append(res.node("copy").seconds)
    return out


def story_cost(repeats: int) -> float:
    from odibi_dbx import Project
    from odibi_dbx.story import StoryListener
    from tests.story.big_project import big_project

    with tempfile.TemporaryDirectory() as tmp:
        path = big_project(Path(tmp))
        with Project.load(path) as p:
            p.run()  # a baseline for the comparison
            result = p.run()
            listener = StoryListener(p.story_store())
            best = float("inf")
            for _ in range(repeats):
                t0 = time.perf_counter()
                listener.run_finished(result)
                best = min(best, time.perf_counter() - t0)
    return best


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=5_000_000)
    ap.add_argument("--columns", type=int, default=10)
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    got = profile_cost(args.rows, args.columns, args.repeats)
    off, on = statistics.median(got[0]), statistics.median(got[args.columns])
    print(
        f"{args.rows:,} rows x {args.columns} columns, node time (read, SQL, write), median of "
        f"{args.repeats} alternating runs (load average {os.getloadavg()[0]:.1f}):"
    )
    print(f"  no profile      {off:.3f}s  (runs: {', '.join(f'{t:.2f}' for t in got[0])})")
    print(
        f"  {args.columns} profiled    {on:.3f}s  ({100 * (on - off) / off:+.1f}%)  "
        f"(runs: {', '.join(f'{t:.2f}' for t in got[args.columns])})"
    )
    print(f"story JSON + HTML + index for 60 nodes: {story_cost(args.repeats):.3f}s")


if __name__ == "__main__":
    main()
