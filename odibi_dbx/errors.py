"""Errors users see. Each says what went wrong, where, and what to do next."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any


class OdibiError(Exception):
    """Base class of every error odibi-dbx raises on purpose."""


@dataclass(frozen=True)
class Problem:
    """One problem found while validating a project (there may be many)."""

    message: str
    file: str | None = None
    line: int | None = None
    key: str | None = None  # dotted key path, e.g. pipelines[silver].nodes[clean].write.mode
    hint: str | None = None

    def __str__(self) -> str:
        where = ""
        if self.file:
            where = f"{self.file}:{self.line}" if self.line else self.file
        parts = [p for p in (where, self.key) if p]
        head = "  ".join(parts)
        text = f"{head}: {self.message}" if head else self.message
        if self.hint:
            text += f"\n    hint: {self.hint}"
        return text


class ConfigError(OdibiError):
    """The project is invalid. Carries every problem found, not just the first."""

    def __init__(self, problems: Iterable[Problem], source: str | None = None):
        self.problems = list(problems)
        self.source = source
        n = len(self.problems)
        head = f"Invalid project{f' {source}' if source else ''}: {n} problem{'s' * (n != 1)}"
        super().__init__(head + "\n" + "\n".join(f"  - {p}" for p in self.problems))


class MissingExtraError(OdibiError, ImportError):
    """An optional dependency is not installed."""

    def __init__(self, what: str, extra: str, package: str):
        # odibi-dbx is not on PyPI yet: `pip install "odibi-dbx[extra]"` would fail, so the hint
        # names the extra's own packages (from the installed wheel's metadata).
        version, requirements = _installed_extra(extra)
        self.command = "pip install " + (" ".join(f'"{r}"' for r in requirements) or f'"{package}"')
        super().__init__(
            f"{what} needs the '{package}' package, which is not installed.\n"
            f"    hint: {self.command}   (odibi-dbx's [{extra}] extra; or install the "
            f'wheel with it: pip install "odibi_dbx-{version}-py3-none-any.whl[{extra}]")'
        )


def _installed_extra(extra: str) -> tuple[str, list[str]]:
    """odibi-dbx's installed version and the requirements of one extra, from its metadata."""
    from importlib import metadata

    try:
        version, requires = metadata.version("odibi-dbx"), metadata.requires("odibi-dbx") or []
    except metadata.PackageNotFoundError:
        return "<version>", []
    wanted = {f"extra == '{extra}'", f'extra == "{extra}"'}
    found = []
    for line in requires:
        requirement, _, marker = line.partition(";")
        if marker.strip() in wanted:
            found.append(requirement.strip())
    return version, found


class NodeError(OdibiError):
    """A node failed while running. `stage` is read, transform, validation or write."""

    def __init__(
        self,
        message: str,
        *,
        node: str,
        stage: str,
        detail: str | None = None,
        hint: str | None = None,
        transient: bool = False,
    ):
        self.node, self.stage, self.detail, self.hint = node, stage, detail, hint
        self.short = message
        self.transient = transient
        text = f"node '{node}' failed at {stage}: {message}"
        if detail:
            text += f"\n    {detail}"
        if hint:
            text += f"\n    hint: {hint}"
        super().__init__(text)


class ValidationFailed(NodeError):
    """A node's `validation:` checks failed; nothing was written."""


class RunWarning(UserWarning):
    """Something about a run went wrong that did not change its result (e.g. a story that could
    not be written)."""


class RunFailed(OdibiError):
    """Raised by the notebook API when a run had failed nodes."""

    def __init__(self, result: Any) -> None:  # a pipeline.events.RunResult
        self.result = result
        failed = [n for n in result.nodes if n.status == "failed"]
        lines = [f"Run {result.run_id} failed: {len(failed)} node(s) failed"]
        lines += [f"  - {n.pipeline}.{n.name}: {n.error_message}" for n in failed]
        if result.story_path:
            lines.append(f"  story: {result.story_path}")
        super().__init__("\n".join(lines))


def first_line(exc: BaseException, limit: int = 400) -> str:
    """The first line of an exception's message (its type name when it has none)."""
    text = str(exc).strip() or type(exc).__name__
    lines = text.splitlines()
    head = lines[0]
    if _PY4J_CALL.match(head) and len(lines) > 1:  # the JVM's own message is on the next line
        head = _JAVA_EXCEPTION.sub("", lines[1]) or head
    hints = [ln.strip() for ln in lines[1:] if ln.strip().startswith(_ENGINE_HINTS)]
    caret = _caret(lines)
    return " ".join([head, *hints, *([caret] if caret else [])])[:limit]


# py4j's "An error occurred while calling o123.save." + ": org.apache...Exception: <message>"
_PY4J_CALL = re.compile(r"^An error occurred while calling [\w.$]+\.$")
_JAVA_EXCEPTION = re.compile(r"^:?\s*[\w.$]+(Exception|Error):\s*")
# lines of an engine's own message worth keeping on the one line (DuckDB, Spark)
_ENGINE_HINTS = ("Candidate bindings:", "Did you mean", "HINT:")


def _caret(lines: list[str]) -> str | None:
    """DuckDB's `LINE n: <sql>` + `^^^` pair as `(at "<text>")` (the line numbers are the
    executed SQL's, which may differ from the step as written)."""

    for i, ln in enumerate(lines[:-1]):
        m = re.match(r"^LINE (\d+): ", ln)
        nxt = lines[i + 1]
        if m and "^" in nxt:
            start = nxt.index("^")
            text = ln[start : start + len(nxt.strip())].strip()
            return f'(at "{text}")' if text else None
    return None


def did_you_mean(name: str, choices: Iterable[str]) -> str | None:
    """A 'did you mean' hint, or None when nothing is close."""
    choices = list(choices)
    matches = difflib.get_close_matches(name, choices, n=2, cutoff=0.6)
    if not matches:
        return None
    ratio = [difflib.SequenceMatcher(None, name, m).ratio() for m in matches]
    if len(matches) == 2 and ratio[0] == ratio[1]:
        return f"did you mean '{matches[0]}' or '{matches[1]}'?"
    return f"did you mean '{matches[0]}'?"
