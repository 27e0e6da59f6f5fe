"""Where the Spark variants spend their work: jobs, stages and executor CPU per node, from
Spark's own event log (bench/README.md, "Spark jobs per node").

Usage: python bench/spark_events.py [--size 1000000] [--variants odibi-spark,pyspark]
                                    [--delta] [--out bench/out/events]
Runs each variant once with the event log on (a spark-defaults.conf in a temporary
SPARK_CONF_DIR: uncompressed, one file), then prints per SQL execution its jobs, the stages
that ran (of those planned: the rest were skipped, their shuffle output reused, or ran for an
earlier execution that shares them, where they are counted), tasks and the executors' CPU
seconds. odibi-dbx's executions are named by the node whose write target the plan names, else
by the node(s) running when they started (from the run's story). Counts are exact; executor
CPU is the tasks' own (JVM thread CPU). Then the whole run's CPU by thread: executor tasks,
JIT compiler, GC, py4j calls (planning, session start) and the Python process, which is where
run.py's process-tree CPU goes.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import sys
import tempfile
import threading
from collections import Counter
from datetime import datetime
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
from run import SPARK_VARIANTS, command, ensure_data, run_once  # noqa: E402


def event_conf(log_dir: Path) -> str:
    return (
        "spark.eventLog.enabled true\n"
        f"spark.eventLog.dir {log_dir.resolve().as_uri()}\n"
        "spark.eventLog.compress false\n"
        "spark.eventLog.rolling.enabled false\n"
    )


def read_log(path: Path) -> dict:
    """SQL executions (id -> description, start ms), jobs and completed stages of one log."""
    execs: dict[int, dict] = {}
    jobs: dict[int, dict] = {}
    stages: dict[int, dict] = {}
    with path.open(encoding="utf-8") as f:
        for line in f:
            e = json.loads(line)
            kind = e["Event"]
            if kind.endswith("SQLExecutionStart"):
                execs[e["executionId"]] = {
                    "desc": e.get("description", ""),
                    "plan": e.get("physicalPlanDescription", ""),
                    "start": e["time"],
                }
            elif kind == "SparkListenerJobStart":
                props = e.get("Properties") or {}
                jobs[e["Job ID"]] = {
                    "exec": int(props.get("spark.sql.execution.id", -1)),
                    "stages": [s["Stage ID"] for s in e["Stage Infos"]],
                }
            elif kind == "SparkListenerStageCompleted":
                info = e["Stage Info"]
                acc = {a["Name"]: a.get("Value") for a in info.get("Accumulables", [])}
                stages[info["Stage ID"]] = {
                    "tasks": info["Number of Tasks"],
                    "cpu_s": int(acc.get("internal.metrics.executorCpuTime") or 0) / 1e9,
                }
    return {"execs": execs, "jobs": jobs, "stages": stages}


def node_windows(out: Path) -> list[tuple[str, float, float, str | None]]:
    """(node, started ms, ended ms, written folder/name) from the run's story, if any."""
    stories = [p for p in (out / "stories").glob("*.json") if not p.name.startswith("_")]
    if not stories:
        return []
    doc = json.loads(stories[0].read_text(encoding="utf-8"))
    ms = lambda s: datetime.fromisoformat(s).timestamp() * 1000  # noqa: E731
    return [
        (
            n["name"],
            ms(n["started"]),
            ms(n["ended"]),
            _written((n.get("write") or {}).get("target")),
        )
        for n in doc["nodes"]
        if n.get("started") and n.get("ended")
    ]


def _written(target: str | None) -> str | None:
    return f"{Path(target).parent.name}/{Path(target).name}" if target else None


def _nodes_of(info: dict, nodes: list) -> list[str]:
    """The node whose write target the execution's plan names (a staging sibling
    `.name.odibi-tmp-*` counts; the latest such node, since a plan may also read what an
    earlier node wrote), else every node running when it started."""
    plan = info.get("plan", "")
    for name, _, _, written in sorted(nodes, key=lambda n: n[1], reverse=True):
        folder, _, leaf = (written or "").rpartition("/")
        if written and (written in plan or f"{folder}/.{leaf}" in plan):
            return [name]
    start = info["start"]
    return [n for n, a, b, _ in nodes if start is not None and a - 50 <= start <= b + 50]


def summarise(log: dict, nodes: list) -> list[dict]:
    """One row per SQL execution. A stage that several jobs list (a shuffle or a cached
    relation that concurrent writes share) ran once: it counts for the first execution listing it."""
    rows, counted = [], set()
    for ex in sorted({j["exec"] for j in log["jobs"].values()}):
        jobs = [j for i, j in sorted(log["jobs"].items()) if j["exec"] == ex]
        planned = [s for j in jobs for s in j["stages"]]
        ran = [log["stages"][s] for s in planned if s in log["stages"] and s not in counted]
        counted.update(planned)
        info = log["execs"].get(ex, {"desc": "(no SQL execution)", "start": None})
        names = _nodes_of(info, nodes)
        rows.append(
            {
                "node": "|".join(names) or "-",
                "what": info["desc"].split(" at ")[0][:28],
                "jobs": len(jobs),
                "stages": f"{len(ran)}/{len(planned)}",
                "tasks": sum(s["tasks"] for s in ran),
                "cpu_s": round(sum(s["cpu_s"] for s in ran), 2),
            }
        )
    return rows


def thread_group(name: str, in_jvm: bool) -> str:
    """A thread's share of the work, by the name the JVM (or Python) gives it."""
    if not in_jvm:
        return "python (driver script)"
    if name.startswith("Executor task"):
        return "jvm: executor tasks"
    if name.startswith(("C1 Compiler", "C2 Compiler", "C1 CompilerThre", "C2 CompilerThre")):
        return "jvm: JIT compiler"
    if "GC" in name or name.startswith("G1"):
        return "jvm: GC"
    if re.fullmatch(r"Thread-\d+", name):
        return "jvm: py4j calls (planning, session start)"
    return "jvm: other threads"


class ThreadCpu:
    """CPU seconds of every thread of this process's descendants (the run's Python process and
    its JVM), each as last seen alive, sampled every 0.1 s (Linux /proc; a thread's last
    0.1 s before it ends is missed). Load-independent, unlike wall time."""

    def __init__(self) -> None:
        self.seen: dict[tuple[int, int], tuple[str, float]] = {}
        self.stop = threading.Event()
        self.root: int | None = None
        self.tick = os.sysconf("SC_CLK_TCK")

    def __enter__(self) -> ThreadCpu:
        threading.Thread(target=self._loop, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()

    def _loop(self) -> None:
        import psutil

        me = psutil.Process()
        while not self.stop.wait(0.1):
            for proc in me.children(recursive=True):
                self.root = self.root or proc.pid  # the first child: the run's Python process
                self._sample(proc.pid)

    def _sample(self, pid: int) -> None:
        try:
            tids = os.listdir(f"/proc/{pid}/task")
        except OSError:
            return
        for tid in tids:
            try:
                with open(f"/proc/{pid}/task/{tid}/stat", encoding="utf-8") as f:
                    stat = f.read()
            except OSError:
                continue
            name = stat[stat.index("(") + 1 : stat.rindex(")")]
            fields = stat[stat.rindex(")") + 2 :].split()
            self.seen[(pid, int(tid))] = (name, (int(fields[11]) + int(fields[12])) / self.tick)

    def groups(self) -> Counter:
        out: Counter = Counter()
        for (pid, _), (name, cpu) in self.seen.items():
            out[thread_group(name, in_jvm=pid != self.root)] += cpu
        return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, default=1000000)
    ap.add_argument("--variants", default="odibi-spark,pyspark")
    ap.add_argument("--delta", action="store_true")
    ap.add_argument("--data", type=Path, default=BENCH / "data")
    ap.add_argument("--out", type=Path, default=BENCH / "out" / "events")
    a = ap.parse_args()
    data = ensure_data(a.size, a.data)
    for variant in a.variants.split(","):
        if variant not in SPARK_VARIANTS:
            ap.error(f"{variant}: only {sorted(SPARK_VARIANTS)} run Spark")
        out, logs = a.out / variant / "output", a.out / variant / "events"
        for folder in (out, logs):
            shutil.rmtree(folder, ignore_errors=True)
        logs.mkdir(parents=True)
        with tempfile.TemporaryDirectory() as conf_dir:
            Path(conf_dir, "spark-defaults.conf").write_text(event_conf(logs))
            cmd, env = command(variant, data, out, a.delta)
            with ThreadCpu() as threads:
                res = run_once(cmd, {**env, "SPARK_CONF_DIR": conf_dir}, 1800, tree=True)
        print(f"\n{variant}: rc {res['rc']}, wall {res['wall_s']} s, cpu {res['cpu_s']} s")
        files = sorted(p for p in logs.iterdir() if p.is_file() and not p.name.startswith("."))
        if res["rc"] != 0 or not files:
            print(res["stderr_tail"])
            continue
        rows = summarise(read_log(files[0]), node_windows(out))
        print(
            f"  {'node':<26} {'execution':<28} {'jobs':>4} {'stages':>7} {'tasks':>5} {'cpu s':>6}"
        )
        for r in rows:
            print(
                f"  {r['node']:<26} {r['what']:<28} {r['jobs']:>4} {r['stages']:>7} "
                f"{r['tasks']:>5} {r['cpu_s']:>6.2f}"
            )
        total = sum(r["cpu_s"] for r in rows)
        print(f"  total: {sum(r['jobs'] for r in rows)} jobs, executor cpu {total:.2f} s")
        groups = threads.groups()
        print(f"  process-tree CPU by thread ({sum(groups.values()):.2f} s sampled):")
        for group, cpu in groups.most_common():
            print(f"    {group:<44} {cpu:6.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
