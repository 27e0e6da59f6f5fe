"""Read a YAML file into plain data plus a map from key paths to line numbers.

Also substitutes ``${VAR}`` / ``${VAR:-default}`` from the environment in scalar values (so never
inside comments, which the YAML parser has already dropped) and merges ``environments:``
overrides over the base, keeping the line of whichever file position a value came from.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml

from odibi_dbx.errors import Problem

Path_ = tuple  # a key path: ("pipelines", 0, "nodes", 1, "write")
_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


@dataclass
class Source:
    """Parsed YAML: the data, the line of every key path, and problems found while reading."""

    file: str
    data: Any
    lines: dict[Path_, int] = field(default_factory=dict)
    raw: Any = None  # the data before ${VAR} substitution (to tell references from literals)
    problems: list[Problem] = field(default_factory=list)
    plain: set[Path_] = field(default_factory=set)  # unquoted scalars holding ${VAR}: retyped

    def line(self, path: Path_) -> int | None:
        """Line of the key path, or of its nearest ancestor that has one."""
        path = tuple(path)
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return self.lines.get(())

    def problem(self, path: Path_, message: str, hint: str | None = None) -> Problem:
        return Problem(message, self.file, self.line(path), format_path(path, self.data), hint)


MAX_DEPTH = 64  # nesting deeper than this is no project file (and would exhaust the stack)
_SYNTAX_HINT = (
    "check the indentation and quoting on this line and the one before; quote values that "
    "contain ': ', ' #', or start with {, [, *, &, !, %, @ or `"
)


def load_yaml(text: str, file: str) -> Source:
    """Parse YAML text; a syntax error becomes one Problem with its line."""
    deep = _flow_too_deep(text)
    if deep is not None:  # PyYAML's scanner is quadratic in flow depth: refuse it first
        return Source(file, None, problems=[_depth_problem(file, deep)])
    try:
        node = _compose(text)
    except yaml.YAMLError as exc:
        return Source(file, None, problems=[_syntax_problem(exc, text, file)])
    except RecursionError:
        return Source(file, None, problems=[_too_deep(text, file)])
    src = Source(file, None)
    if node is None:
        src.problems.append(Problem("the file is empty", file, 1))
        return src
    try:
        src.data = _Builder(src).build(node, ())
    except _TooBig as exc:
        src.data = None
        src.problems.append(exc.problem)
        return src
    src.raw = src.data
    return src


_C_LOADER = getattr(yaml, "CSafeLoader", None)  # libyaml: composes ~10x faster than PyYAML
# libyaml's composer recurses in C (no RecursionError): use it only where block nesting is
# surely shallow. A block collection nested in another starts right of it (at worst one level
# per column), and flow brackets are counted by _flow_too_deep first.
_C_MAX_COLUMN = 512
_BLOCK_START = re.compile(r"^[ \t?:-]*", re.M)


def _compose(text: str) -> yaml.Node | None:
    """The YAML node graph, with PyYAML's own error messages and positions."""
    if _C_LOADER is not None and max(map(len, _BLOCK_START.findall(text))) <= _C_MAX_COLUMN:
        try:
            return yaml.compose(text, Loader=_C_LOADER)
        except yaml.YAMLError:
            pass  # reported by PyYAML below, with its messages (the documented ones)
    return yaml.compose(text, Loader=yaml.SafeLoader)


def _syntax_problem(exc: yaml.YAMLError, text: str, file: str) -> Problem:
    mark = getattr(exc, "problem_mark", None)
    msg = f"YAML syntax error: {getattr(exc, 'problem', None) or exc}"
    ctx = getattr(exc, "context", None)
    if ctx:
        msg += f" ({ctx})"
    hint = _SYNTAX_HINT
    lines = text.splitlines()
    if mark is not None and mark.line < len(lines) and "${" in lines[mark.line]:
        hint = 'inside {...} quote values that use ${VAR}, e.g. base_path: "${VAR}"'
    return Problem(msg, file, mark.line + 1 if mark else None, hint=hint)


_NOT_SYNTAX = re.compile(r"'(?:[^'\n]|'')*'|\"(?:[^\"\\\n]|\\.)*\"|(?:^|(?<=\s))#[^\n]*", re.M)


def _flow_too_deep(text: str) -> int | None:
    """The line where [ / { brackets (outside quotes and comments) nest past MAX_DEPTH."""
    if text.count("[") + text.count("{") <= MAX_DEPTH:
        return None
    depth, line = 0, 1
    for m in re.finditer(r"[\[\]{}\n]", _NOT_SYNTAX.sub("", text)):
        ch = m.group(0)
        if ch == "\n":
            line += 1
        elif ch in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                return line
        else:
            depth = max(0, depth - 1)
    return None


def _too_deep(text: str, file: str) -> Problem:
    """Where the nesting first passes MAX_DEPTH (parser events are produced without recursion)."""
    depth, line = 0, None
    try:
        for event in yaml.parse(text, Loader=yaml.SafeLoader):
            if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
                depth += 1
                if depth > MAX_DEPTH:
                    line = event.start_mark.line + 1
                    break
            elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                depth -= 1
    except yaml.YAMLError:
        pass
    return _depth_problem(file, line)


def _depth_problem(file: str, line: int | None) -> Problem:
    return Problem(
        f"the YAML nests deeper than {MAX_DEPTH} levels",
        file,
        line,
        hint="a project file is a few levels deep; look for runaway [ or { brackets here",
    )


_STR = "tag:yaml.org,2002:str"


class _TooBig(Exception):
    def __init__(self, problem: Problem):
        self.problem = problem


class _Builder:
    """Plain data from the composed YAML graph, recording lines. Aliases are expanded on every
    use, so their total expansion is bounded: a few aliases nesting each other (an "alias
    bomb") would otherwise build billions of values."""

    SLACK = 10_000  # expanded values allowed beyond twice the document's own

    def __init__(self, src: Source):
        self.src = src
        self.loader = yaml.SafeLoader("")
        self.seen: set[int] = set()
        self.visits = 0

    def build(self, node: yaml.Node, path: Path_) -> Any:
        src = self.src
        self.visits += 1
        self.seen.add(id(node))
        if self.visits > 2 * len(self.seen) + self.SLACK:
            raise _TooBig(
                Problem(
                    "YAML aliases (*name) expand to far more data than the file holds",
                    src.file,
                    node.start_mark.line + 1,
                    hint="an alias that refers to other aliases multiplies its size; "
                    "write the values out or use fewer levels of aliases",
                )
            )
        if len(path) > MAX_DEPTH:
            raise _TooBig(_depth_problem(src.file, node.start_mark.line + 1))
        src.lines.setdefault(path, node.start_mark.line + 1)
        if isinstance(node, yaml.MappingNode):
            out: dict[Any, Any] = {}
            self.loader.flatten_mapping(node)  # resolves YAML merge keys (<<)
            for key_node, value_node in node.value:
                key = self.scalar(key_node)
                if key in out:
                    src.problems.append(
                        Problem(
                            f"duplicate key '{key}'",
                            src.file,
                            key_node.start_mark.line + 1,
                            format_path(path + (key,), None),
                            "a key may appear once per mapping; the later one would win silently",
                        )
                    )
                src.lines[path + (key,)] = key_node.start_mark.line + 1
                out[key] = self.build(value_node, path + (key,))
            return out
        if isinstance(node, yaml.SequenceNode):
            return [self.build(v, path + (i,)) for i, v in enumerate(node.value)]
        if not node.style and "${" in node.value:  # plain: None (PyYAML) or "" (libyaml)
            src.plain.add(path)
        return self.scalar(node)

    def scalar(self, node: yaml.Node) -> Any:
        """The value of a node (a key or a scalar). A string's is its text, as SafeLoader's
        constructor returns it, without a pass through that constructor (most of a project's
        scalars are strings)."""
        if node.tag == _STR and isinstance(node, yaml.ScalarNode):
            return node.value
        return self.loader.construct_object(node)


def yaml_typed(text: str) -> Any:
    """`text` typed as YAML types an unquoted scalar (0.2 -> float, true -> bool, x -> str)."""
    loader = yaml.SafeLoader("")
    tag = loader.resolve(yaml.ScalarNode, text, (True, False))
    return loader.construct_object(yaml.ScalarNode(tag, text))


def substitute_env(src: Source, env: Mapping[str, str] | None = None) -> None:
    """Replace ${VAR} in string scalars from the environment, in place on src.data."""
    env = os.environ if env is None else env

    def sub(value: Any, path: Path_) -> Any:
        if isinstance(value, dict):
            return {k: sub(v, path + (k,)) for k, v in value.items()}
        if isinstance(value, list):
            return [sub(v, path + (i,)) for i, v in enumerate(value)]
        if isinstance(value, str) and "${" in value:

            def one(m: re.Match) -> str:
                name, default = m.group(1), m.group(2)
                if name in env:
                    return env[name]
                if default is not None:
                    return default
                src.problems.append(
                    src.problem(
                        path,
                        f"environment variable {name} is not set",
                        f"export {name}=... or write ${{{name}:-default}}",
                    )
                )
                return m.group(0)

            out = _VAR.sub(one, value)
            return yaml_typed(out) if path in src.plain and out != value else out
        return value

    src.raw = src.data
    src.data = sub(src.data, ())


def apply_environment(src: Source, env_name: str | None) -> None:
    """Merge environments[env_name] over the base (dicts merge deeply, lists are replaced)."""
    data = src.data
    if not isinstance(data, dict):
        return
    envs = data.get("environments") or {}
    if env_name is None:
        return
    if not isinstance(envs, dict) or env_name not in envs:
        from odibi_dbx.errors import did_you_mean

        names = list(envs) if isinstance(envs, dict) else []
        hint = did_you_mean(env_name, names) or (
            f"environments defined: {', '.join(names)}"
            if names
            else "the project defines no environments:"
        )
        src.problems.append(
            Problem(
                f"unknown environment '{env_name}'",
                src.file,
                src.line(("environments",)),
                "environments",
                hint,
            )
        )
        return
    override = envs[env_name] or {}
    if not isinstance(override, dict):
        src.problems.append(
            src.problem(
                ("environments", env_name), "an environment is a mapping of settings to override"
            )
        )
        return
    if "environments" in override or "project" in override:
        src.problems.append(
            src.problem(
                ("environments", env_name),
                "an environment may not override 'environments' or 'project'",
            )
        )
    prefix = ("environments", env_name)
    for path, line in list(src.lines.items()):
        if path[:2] == prefix and len(path) > 2:
            src.lines[path[2:]] = line
    src.data = _merge(data, override)
    src.raw = _merge(src.raw, ((src.raw or {}).get("environments") or {}).get(env_name) or {})


def _merge(base: Any, over: Any) -> Any:
    if isinstance(base, dict) and isinstance(over, dict):
        out = dict(base)
        for k, v in over.items():
            out[k] = _merge(base[k], v) if k in base else v
        return out
    return over


def format_path(path: Path_, data: Any) -> str:
    """pipelines[bronze].nodes[clean].write — list items named by their name when they have one."""
    out = ""
    cur = data
    for part in path:
        if isinstance(part, int):
            label = str(part)
            if isinstance(cur, list) and part < len(cur) and isinstance(cur[part], dict):
                item = cur[part]
                named = item.get("name", item.get("pipeline"))
                if isinstance(named, str):
                    label = named
            out += f"[{label}]"
        else:
            out += f".{part}" if out else str(part)
        try:
            cur = cur[part]
        except (KeyError, IndexError, TypeError):
            cur = None
    return out
