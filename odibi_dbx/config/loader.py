"""Load a project file: read YAML, substitute ${VAR}, apply the environment, validate everything."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from odibi_dbx.config.checks import project_problems
from odibi_dbx.config.models import ProjectConfig
from odibi_dbx.config.source import Source, apply_environment, load_yaml, substitute_env
from odibi_dbx.config.structure import structure_problems
from odibi_dbx.errors import ConfigError, Problem
from odibi_dbx.sql import cache as sql_cache
from odibi_dbx.transforms import Functions

if TYPE_CHECKING:
    from odibi_dbx.pipeline.plan import Plan


@dataclass(frozen=True)
class LoadedProject:
    """A validated project: its config, where it came from, which environment was applied, and
    its compiled plan (odibi_dbx.pipeline.plan: every pipeline as one graph, SQL parsed once)."""

    config: ProjectConfig
    file: Path
    environment: str | None
    plan: Plan
    functions: Functions = field(default_factory=Functions)  # what function steps can call

    @property
    def base_dir(self) -> Path:
        return self.file.parent


def load_project(
    path: str | os.PathLike[str],
    *,
    env: str | None = None,
    engine: str | None = None,
    environ: dict[str, str] | None = None,
    check_only: bool = False,
    on_settings: Callable[[Mapping[str, Any]], None] | None = None,
) -> LoadedProject:
    """Validate the project at `path`; raise one ConfigError listing every problem found.

    `check_only` (odibi-dbx validate): the project is checked, not run, so no parsed SQL is
    kept for a run (each step is checked without a copy) and the plan's nodes carry none.
    `on_settings` is called with the file's top-level settings (after ${VAR} substitution,
    the environment and `engine`), not yet validated, before validation starts: the CLI's
    `run` opens the engine's session meanwhile."""
    file = Path(path).expanduser().resolve()
    shown = _shown(file)
    try:
        data = file.read_bytes()
    except FileNotFoundError:
        raise ConfigError([Problem(f"project file not found: {file}")]) from None
    except OSError as exc:
        raise ConfigError([Problem(f"cannot read project file {file}: {exc}")]) from None
    text = _decode(data, shown)
    src = load_yaml(text, shown)
    if src.problems and src.data is None:
        raise ConfigError(src.problems, shown)
    if not isinstance(src.data, dict):
        raise ConfigError(
            [Problem("a project file is a mapping (project:, connections:, ...)", shown, 1)], shown
        )
    substitute_env(src, environ)
    apply_environment(src, env)
    if engine is not None:
        src.data["engine"] = engine
    if on_settings is not None:
        on_settings(src.data)
    functions = Functions()
    trees: dict[tuple[int, int, int], Any] | None = None if check_only else {}
    try:
        config, problems = _validate(src, file.parent, functions, trees)
    finally:
        sql_cache.flush()  # what the SQL checks found, for the next run (odibi_dbx.sql.cache)
    if problems or config is None:
        raise ConfigError(problems, shown)
    return LoadedProject(config, file, env, _compile(src, config, trees, shown), functions)


def _compile(src: Source, config: ProjectConfig, trees: dict | None, shown: str) -> Plan:
    """The run graph; a cycle through `pipeline.node` dependencies is a config problem."""
    from odibi_dbx.pipeline.plan import PlanCycle, compile_plan

    try:
        return compile_plan(config, trees)
    except PlanCycle as exc:
        pipes = [p.pipeline for p in config.pipelines]
        pipe, _, node = exc.keys[0].partition(".")
        pi = pipes.index(pipe)
        ni = [n.name for n in config.pipelines[pi].nodes].index(node)
        where = ("pipelines", pi, "nodes", ni, "depends_on")
        problem = src.problem(
            where, f"{exc} (each depends on the next)", "remove one of these dependencies"
        )
        raise ConfigError([problem], shown) from None


def _validate(
    src: Source, base_dir: Path, functions: Functions, trees: dict | None
) -> tuple[ProjectConfig | None, list[Problem]]:
    problems = list(src.problems)
    config = None
    try:
        config = ProjectConfig.model_validate(src.data)
    except ValidationError as exc:
        problems += structure_problems(src, exc)
    engine = src.data.get("engine", "pandas")
    problems += project_problems(
        src, base_dir, engine if isinstance(engine, str) else None, functions, trees
    )
    problems.sort(key=lambda p: p.line or 0)
    return config, _dedupe(problems)


def _dedupe(problems: list[Problem]) -> list[Problem]:
    seen, out = set(), []
    for p in problems:
        key = (p.line, p.key, p.message)
        if key not in seen:
            seen.add(key)
            out.append(p)
    return out


def _decode(data: bytes, shown: str) -> str:
    """The file as UTF-8 text; other bytes are a problem at their line and column."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = data[: exc.start]
        line, col = before.count(b"\n") + 1, exc.start - (before.rfind(b"\n") + 1) + 1
        raise ConfigError(
            [
                Problem(
                    f"byte 0x{data[exc.start]:02x} at column {col} is not UTF-8",
                    shown,
                    line,
                    hint="save the file as UTF-8 (editors: 'Save with encoding'; "
                    "iconv -f latin1 -t utf-8 in.yaml > out.yaml)",
                )
            ],
            shown,
        ) from None


def _shown(file: Path) -> str:
    try:
        return str(file.relative_to(Path.cwd()))
    except ValueError:
        return str(file)
