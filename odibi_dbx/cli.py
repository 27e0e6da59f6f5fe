"""`odibi-dbx` (also `python -m odibi_dbx`; a python_wheel_task entry point on Databricks).

Exit codes: 0 success, 1 a node failed (or nothing ran), 2 the project or the command line
(an unknown --pipeline / --node) is invalid, 3 the run succeeded but its story could not be
written and --require-story was given (without it that is a warning on stderr).
"""

from __future__ import annotations

import argparse
import gc
import sys
import traceback
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from typing import TYPE_CHECKING, Any

from odibi_dbx.errors import ConfigError, OdibiError, did_you_mean
from odibi_dbx.redact import redact
from odibi_dbx.registry import ENGINES

if TYPE_CHECKING:
    from odibi_dbx.project import Project
    from odibi_dbx.story.store import StoryStore


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="odibi-dbx", description="Run YAML data pipelines on Spark or Pandas."
    )
    p.add_argument("--version", action="store_true", help="print the version and exit")
    sub = p.add_subparsers(dest="command")

    def common(sp: argparse.ArgumentParser) -> None:
        sp.add_argument("project", help="the project YAML file")
        sp.add_argument("--env", help="environment from the project's environments: to apply")
        sp.add_argument("--engine", choices=list(ENGINES), help="override the project's engine")

    v = sub.add_parser("validate", help="check the project; exit 2 listing every problem")
    common(v)

    r = sub.add_parser("run", help="run pipelines and write a story")
    common(r)
    r.add_argument(
        "--pipeline",
        action="append",
        dest="pipelines",
        metavar="NAME",
        help="run only this pipeline (repeatable; default: all, in order)",
    )
    r.add_argument(
        "--node",
        action="append",
        dest="nodes",
        metavar="NAME",
        help="run only this node (NAME or PIPELINE.NAME) and what it needs upstream in its "
        "pipeline (repeatable)",
    )
    r.add_argument(
        "--require-story",
        action="store_true",
        help="exit 3 when the run succeeded but its story could not be written",
    )
    r.add_argument(
        "--full-refresh",
        action="store_true",
        help="incremental reads ignore their stored watermark and read everything",
    )
    r.add_argument("--verbose", "-v", action="store_true", help="show tracebacks of failed nodes")

    s = sub.add_parser("story", help="list stories, show one, or diff two runs")
    s.add_argument("action", choices=["list", "show", "diff"])
    common(s)
    s.add_argument(
        "run_ids",
        nargs="*",
        metavar="RUN_ID",
        help="show: a run id (default: latest); diff: RUN_A RUN_B (default: the last two runs)",
    )
    s.add_argument("--json", action="store_true", help="print JSON")

    pl = sub.add_parser(
        "plan",
        help="what a run would read and write, without running (exit 1: a write would fail)",
    )
    common(pl)
    pl.add_argument("--json", action="store_true", help="print the plan as JSON")

    i = sub.add_parser("init", help="create a new project that runs at once")
    i.add_argument("directory", help="the folder to create (must be empty unless --force)")
    i.add_argument("--engine", choices=list(ENGINES), default="pandas", help="the project's engine")
    i.add_argument(
        "--force", action="store_true", help="write into a non-empty folder (same names replaced)"
    )

    from odibi_dbx.setup.cli import add_setup_parser

    add_setup_parser(sub)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.version:
        from odibi_dbx import __version__

        print(f"odibi-dbx {__version__}")
        return 0
    if not args.command:
        _parser().print_help()
        return 2
    try:
        return _dispatch(args)
    except BrokenPipeError:  # `odibi-dbx story list | head`: the reader left, nothing to say
        _silence_stdout()
        return 0
    except ConfigError as exc:
        _err(str(exc))
        return 2
    except OdibiError as exc:
        _err(f"error: {exc}")
        return 2
    except KeyboardInterrupt:
        _err("interrupted")
        return 130
    except Exception as exc:  # a bug or an environment problem: short message, no traceback
        _err(f"unexpected error: {type(exc).__name__}: {exc}")
        if getattr(args, "verbose", False):
            _err(traceback.format_exc())
        else:
            _err("(add --verbose for the traceback)")
        return 1


def _silence_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush cannot raise again."""
    import os

    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())


def _err(text: str) -> None:
    print(redact(text), file=sys.stderr)


def _dispatch(args: argparse.Namespace) -> int:
    if args.command == "init":
        from odibi_dbx.scaffold.init import init_project

        print("\n".join(init_project(args.directory, engine=args.engine, force=args.force)))
        print(
            f"\nnext:  cd {args.directory} && odibi-dbx validate project.yaml && "
            "odibi-dbx run project.yaml   (README.md: notebooks, bundle)"
        )
        return 0
    if args.command == "setup":
        from odibi_dbx.setup.cli import run_setup

        return run_setup(args)
    if args.command == "run" and args.verbose:  # before the engine's warm-up starts a JVM
        _jvm_output_shown()
    with _collector_paused():
        from odibi_dbx.config import load_project

        check_only = args.command == "validate"  # nothing runs: no SQL kept for a run
        loaded = load_project(
            args.project,
            env=args.env,
            engine=args.engine,
            check_only=check_only,
            on_settings=_warm_up_engine if args.command == "run" else None,
        )
        if args.command == "run":  # the run's own modules and engine library are long-lived too
            import odibi_dbx.project  # noqa: F401
            from odibi_dbx.registry import engine_class

            engine_class(loaded.config.engine)
    if args.command == "validate":
        cfg = loaded.config
        nodes = sum(len(p.nodes) for p in cfg.pipelines)
        print(
            f"OK  {loaded.file.name}: project '{cfg.project}', engine {cfg.engine}, "
            f"{len(cfg.pipelines)} pipeline(s), {nodes} node(s), {len(cfg.connections)} connection(s)"
        )
        return 0
    if args.command == "plan":
        from odibi_dbx.dryrun import plan_project

        report = plan_project(loaded)
        print(redact(report.json() if args.json else report.text()))
        return 0 if report.ok else 1
    from odibi_dbx.project import Project

    if args.command == "story":
        return _story(Project(loaded, keep_outputs=False), args)
    return _run(Project(loaded, keep_outputs=False), args)


def _jvm_output_shown() -> None:
    """A local Spark JVM prints its own output (Ivy, warnings) to this process's streams."""
    import os

    from odibi_dbx.engines.spark_session import VERBOSE_ENV

    os.environ[VERBOSE_ENV] = "1"


def _warm_up_engine(settings: Mapping[str, Any]) -> None:
    """Before the project is validated: load the run's engine and let it open its session in
    the background (Engine.warm_up), meanwhile validation parses and checks in Python.
    Only a head start: if it fails (say the engine's package is missing), validation reports
    first as before, and the run meets the same error where it always did."""
    from odibi_dbx.config.models import ProjectConfig
    from odibi_dbx.registry import engine_class

    fields = ProjectConfig.model_fields
    engine = settings.get("engine", fields["engine"].default)
    timezone = settings.get("timezone", fields["timezone"].default)
    if isinstance(engine, str) and engine in ENGINES and isinstance(timezone, str):
        with suppress(Exception):
            engine_class(engine).warm_up(timezone)


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Loading a project imports the engine's libraries and builds the config, the plan and
    every parsed SQL step: many long-lived objects. The cyclic collector's repeated passes over
    them (and the one at exit) cost ~20% of a small run's CPU. So it pauses while loading and
    what loading built is frozen (never scanned again); the pipelines run with the collector on
    as usual. No full pass before the freeze: it costs ~20 ms and would free only the few
    thousand objects loading leaves behind (kept until the process exits instead)."""
    if not gc.isenabled():  # the caller manages the collector
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        gc.enable()


def _run(project: Project, args: argparse.Namespace) -> int:
    import logging
    import warnings

    from odibi_dbx.cli_progress import progress_listener
    from odibi_dbx.errors import RunWarning

    log = logging.getLogger("odibi_dbx")
    if project.config.logging.structured:  # JSON lines for log collectors (e.g. job logs)
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(message)s"))
        log.addHandler(handler)
    else:  # the progress display already says it; no duplicate lines via logging's last resort
        log.addHandler(logging.NullHandler())

    # a live (redrawn) table only when nothing else writes to the terminal meanwhile
    live = sys.stdout.isatty() and not project.config.logging.structured
    with project, progress_listener(live) as progress, warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always", RunWarning)  # printed below, with the run's summary
        result = project.run(
            args.pipelines,
            nodes=args.nodes,
            listeners=[progress],
            full_refresh=args.full_refresh,
            progress=False,  # the CLI's own display
        )
    failed = [n for n in result.nodes if n.status == "failed"]
    skipped = [n for n in result.nodes if n.status == "skipped"]
    ok = len(result.nodes) - len(failed) - len(skipped)
    # rows the successful nodes' rules removed (a failed node removed nothing: it wrote nothing)
    checked = [n.quality for n in result.nodes if n.status == "success" and n.quality]
    removed = (
        f"; {sum(q.get('dropped', 0) for q in checked):,} rows dropped, "
        f"{sum(q.get('quarantined', 0) for q in checked):,} quarantined"
        if checked
        else ""
    )
    print(
        f"\nrun {result.run_id}: {result.status} — {ok} succeeded, {len(failed)} failed, "
        f"{len(skipped)} skipped{removed}"
    )
    for note in result.run.notes:  # run-level facts, e.g. serverless storage access
        print(f"note: {note}")
    for n in failed:
        e = n.error
        assert e is not None
        lines = [f"  ✗ {n.pipeline}.{n.name} failed at {e.stage}: {e.message}"]
        if e.detail:
            lines.append(f"      {e.detail}")
        if e.hint:
            lines.append(f"      hint: {e.hint}")
        if args.verbose:
            lines.append("      " + e.traceback.replace("\n", "\n      "))
        _err("\n".join(lines))
    for n in skipped:
        _err(f"  - {n.pipeline}.{n.name} skipped: {n.skipped_because}")
    written = [(n, n.write) for n in result.nodes if n.write]
    if written:
        print("outputs:")
        for n, out in written:
            print(f"  {n.pipeline}.{n.name}: {out['target']} ({out['rows']} rows)")
    if result.story_html_path:
        print(f"story: {result.story_html_path}")
        print(f"       {result.story_path}")
    if failed and not args.verbose:
        _err("(tracebacks are in the story; add --verbose to print them)")
    for w in seen:
        if issubclass(w.category, RunWarning):
            _err(f"warning: {w.message}")
        else:
            warnings.showwarning(w.message, w.category, w.filename, w.lineno)
    if not result.ok:
        return 1
    no_story = project.config.story.auto_generate and result.story_path is None
    return 3 if no_story and args.require_story else 0


def _story(project: Project, args: argparse.Namespace) -> int:
    import json

    store = project.story_store()
    runs = store.runs()
    if args.action == "list":
        if not runs:
            print(f"no stories under {store.root}")
            return 0
        docs = [store.read(run_id) for run_id in runs]
        if args.json:
            keys = ("run_id", "status", "engine", "started", "seconds", "pipelines", "summary")
            print(json.dumps([{k: d.get(k) for k in keys} for d in docs], indent=2))
            return 0
        for doc in docs:
            s = doc["summary"]
            print(
                f"{doc['run_id']}  {doc['status']:<8} {doc['engine']:<7} {doc['seconds']:>8.2f}s  "
                f"{s['success']}/{s['nodes']} ok  {', '.join(doc['pipelines'])}"
            )
        return 0
    if args.action == "diff":
        return _story_diff(store, runs, args)
    wanted = args.run_ids[0] if args.run_ids else "latest"
    run_id = runs[-1] if wanted == "latest" and runs else wanted
    if run_id == "latest" or run_id not in runs:
        raise OdibiError(f"no story '{wanted}' under {store.root}")
    doc = store.read(run_id)
    if args.json:
        print(json.dumps(doc, indent=2))
        return 0
    print(
        f"run {doc['run_id']}  {doc['status']}  project {doc['project']}  engine {doc['engine']}  "
        f"{doc['seconds']:.2f}s"
    )
    for note in doc.get("notes") or []:
        print(f"note: {note}")
    print(_node_table(doc["nodes"]))
    print(f"html: {store.html_path(run_id)}")
    return 0


def _node_table(nodes: list[dict]) -> str:
    """status, node, rows in/out, seconds, note: columns as wide as their widest cell."""
    rows = [("status", "node", "rows in", "rows out", "seconds", "")]
    for n in nodes:
        note = n["error"]["message"] if n.get("error") else (n.get("skipped_because") or "")
        rows.append(
            (
                n["status"],
                f"{n['pipeline']}.{n['name']}",
                "-" if n.get("rows_in") is None else f"{n['rows_in']:,}",
                "-" if n.get("rows_out") is None else f"{n['rows_out']:,}",
                f"{n['seconds']:.2f}",
                note,
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    right = {2, 3, 4}
    return "\n".join(
        "  "
        + "  ".join(
            c.rjust(w) if i in right else c.ljust(w)
            for i, (c, w) in enumerate(zip(r, widths, strict=False))
        )
        + (f"  {r[5]}" if r[5] else "")
        for r in rows
    )


def _story_diff(store: StoryStore, runs: list[str], args: argparse.Namespace) -> int:
    import json

    from odibi_dbx.story.diff import diff_runs, diff_text

    ids = args.run_ids or runs[-2:]
    if len(ids) != 2:
        raise OdibiError(
            f"story diff needs two runs (RUN_A RUN_B); {len(runs)} stories under {store.root}"
        )
    for r in ids:
        if r not in runs:
            raise OdibiError(
                f"no story '{r}' under {store.root} ({did_you_mean(r, runs) or 'see: story list'})"
            )
    a, b = store.read(ids[0]), store.read(ids[1])
    rows = diff_runs(a, b)
    print(json.dumps(rows, indent=2, ensure_ascii=False) if args.json else diff_text(a, b, rows))
    return 0
