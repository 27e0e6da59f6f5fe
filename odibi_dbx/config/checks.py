"""Checks across the whole project that a schema cannot express: names, references, the DAG, SQL.

They run on the raw (substituted) YAML so that every problem is reported, even when another part
of the file failed its schema; each check skips values of the wrong shape (already reported).
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any, get_args

from pydantic import SecretStr

from odibi_dbx import registry
from odibi_dbx.config.models import env_default, is_env_reference
from odibi_dbx.config.source import Source
from odibi_dbx.errors import Problem, did_you_mean
from odibi_dbx.transforms import Functions


def project_problems(
    src: Source,
    base_dir: Path,
    engine_name: str | None,
    functions: Functions,
    trees: dict[tuple[int, int, int], Any] | None = None,
) -> list[Problem]:
    """All cross-cutting problems; `functions` gets the modules the project imports and `trees`
    each SQL step's parsed tree by (pipeline, node, step) index (SQL is parsed only here).
    Without `trees` nothing is kept, so the engine checks each parsed tree itself, not a copy."""
    data = src.data if isinstance(src.data, dict) else {}
    out: list[Problem] = []
    connections: dict = data["connections"] if isinstance(data.get("connections"), dict) else {}
    out += _secret_literals(src)
    out += _connection_refs(src, data, list(connections))
    out += _write_paths(src, data)
    out += _imports(src, data, base_dir, functions)
    engine = _engine_checks(engine_name)
    names: set[str] = set()
    every = _pipeline_nodes(data)
    declared = _declared_tables(data)
    for pi, pipe in _items(data.get("pipelines")):
        pname = pipe.get("pipeline")
        if isinstance(pname, str):
            if pname in names:
                out.append(
                    src.problem(("pipelines", pi, "pipeline"), f"duplicate pipeline '{pname}'")
                )
            names.add(pname)
        out += _pipeline(src, pi, pipe, engine, declared, functions, every, trees)
    return out


def _pipeline_nodes(data: dict) -> dict[str, list[str]]:
    """Pipeline name -> its node names (for `depends_on: [pipeline.node]`)."""
    out: dict[str, list[str]] = {}
    for _, pipe in _items(data.get("pipelines")):
        if isinstance(pipe.get("pipeline"), str):
            names = [n.get("name") for _, n in _items(pipe.get("nodes"))]
            out.setdefault(pipe["pipeline"], []).extend(n for n in names if isinstance(n, str))
    return out


def _other_pipeline_dep(dep: str, every: dict[str, list[str]]) -> tuple[str, str | None] | None:
    """None when `dep` names an existing node of another pipeline; else (message, hint)."""
    pipe, _, node = dep.partition(".")
    if pipe not in every:
        return f"unknown pipeline '{pipe}' in '{dep}'", did_you_mean(pipe, every) or (
            f"pipelines: {', '.join(every)}"
        )
    if node not in every[pipe]:
        return f"unknown node '{node}' in pipeline '{pipe}'", did_you_mean(node, every[pipe]) or (
            f"nodes in '{pipe}': {', '.join(every[pipe])}"
        )
    return None


def _items(value: Any) -> Iterator[tuple[int, dict]]:
    if isinstance(value, list):
        for i, item in enumerate(value):
            if isinstance(item, dict):
                yield i, item


def _nodes(data: dict) -> Iterator[tuple[tuple, dict]]:
    for pi, pipe in _items(data.get("pipelines")):
        for ni, node in _items(pipe.get("nodes")):
            yield ("pipelines", pi, "nodes", ni), node


def _engine_checks(name: str | None) -> Any:  # what validation asks of the engine, not the engine
    from odibi_dbx.registry import engine_checks

    try:
        return engine_checks(name or "pandas")
    except Exception:  # unknown engine: reported by the schema
        return None


def _secret_literals(src: Source) -> list[Problem]:
    """A secret field (SecretStr in its connection type's model) must be one ${VAR}."""
    out = []
    raw = src.raw if isinstance(src.raw, dict) else {}
    conns = raw.get("connections")
    models = registry.connection_configs()
    for name, conn in (conns or {}).items() if isinstance(conns, dict) else []:
        model = models.get(str(conn.get("type"))) if isinstance(conn, dict) else None
        if model is None:
            continue  # not a mapping, or an unknown type: reported by the schema
        for key in _secret_fields(model):
            if key in conn:
                out += _literal_secret(src, name, key, conn[key], model.secret_hint)
    return out


def _secret_fields(model: Any) -> list[str]:
    return [
        name
        for name, f in model.model_fields.items()
        if SecretStr in (f.annotation, *get_args(f.annotation))
    ]


def _literal_secret(src: Source, conn: str, key: str, value: Any, advice: str) -> list[Problem]:
    if not is_env_reference(value):
        what = key.replace("_", " ")
        message = f"a literal {what} in YAML is not allowed (config files get committed)"
    elif env_default(value):
        message = (
            f"the default in ${{VAR:-...}} of {key} is a literal key (config files get committed)"
        )
    else:
        return []
    hint = f"write {key}: ${{ENV_VAR}} (no default) {advice}".strip()
    return [src.problem(("connections", conn, key), message, hint)]


def _connection_refs(src: Source, data: dict, names: list[str]) -> list[Problem]:
    out = []

    def check(path: tuple, value: Any) -> None:
        if isinstance(value, str) and names and value not in names:
            hint = did_you_mean(value, names) or f"connections: {', '.join(names)}"
            out.append(src.problem(path, f"unknown connection '{value}'", hint))

    story = data.get("story")
    if isinstance(story, dict):
        check(("story", "connection"), story.get("connection"))
    for path, node in _nodes(data):
        for part in ("read", "write"):
            if isinstance(node.get(part), dict):
                check(path + (part, "connection"), node[part].get("connection"))
        quarantine = (
            (node.get("validation") or {}) if isinstance(node.get("validation"), dict) else {}
        )
        if isinstance(quarantine.get("quarantine"), dict):
            check(
                path + ("validation", "quarantine", "connection"),
                quarantine["quarantine"].get("connection"),
            )
    return out


def _write_paths(src: Source, data: dict) -> list[Problem]:
    """Writes stay inside their connection: no absolute path, no `..` climbing out of it."""
    out = []
    places = [(path + ("write",), node.get("write")) for path, node in _nodes(data)]
    for path, node in _nodes(data):  # the rows quarantined by row rules are written too
        validation = node.get("validation")
        if isinstance(validation, dict) and isinstance(validation.get("quarantine"), dict):
            places.append((path + ("validation", "quarantine"), validation["quarantine"]))
    places.append((("story",), data.get("story")))
    for where, spec in places:
        value = spec.get("path") if isinstance(spec, dict) else None
        if isinstance(spec, dict) and isinstance(value, str) and escapes(value):
            conn = spec.get("connection")
            out.append(
                src.problem(
                    where + ("path",),
                    f"write path '{value}' leaves connection '{conn}'",
                    "paths are relative to the connection's base_path (or container and "
                    "path_prefix); to write elsewhere, add a connection for that location",
                )
            )
    return out


def escapes(path: str) -> bool:
    """True for an absolute path or one whose `..` climbs above where it starts."""
    p = path.replace("\\", "/")
    if p.startswith(("/", "~")) or re.match(r"^[A-Za-z]:", p) or "://" in p:
        return True
    return posixpath.normpath(p).split("/")[0] == ".."


def _imports(src: Source, data: dict, base_dir: Path, functions: Functions) -> list[Problem]:
    from odibi_dbx.transforms import load_import

    out = []
    for i, entry in enumerate(data.get("imports") or []):
        if not isinstance(entry, str):
            continue
        try:
            functions.modules += load_import(entry, base_dir)
        except Exception as exc:  # any failure of user code at import time
            out.append(
                src.problem(
                    ("imports", i),
                    f"cannot import '{entry}': {type(exc).__name__}: {exc}",
                    "a module name on sys.path, or a .py file relative to the project file",
                )
            )
    return out


def _declared_tables(data: dict) -> set[str]:
    """Catalog tables the project names in read/write `table:` — SQL may reference them."""
    out = set()
    for _, node in _nodes(data):
        for part in ("read", "write"):
            t = node.get(part, {}).get("table") if isinstance(node.get(part), dict) else None
            if isinstance(t, str):
                out.add(t.lower())
    return out


def _pipeline(
    src: Source,
    pi: int,
    pipe: dict,
    engine: Any,
    declared: set[str],
    functions: Functions,
    every: dict[str, list[str]],
    trees: dict[tuple[int, int, int], Any] | None,
) -> list[Problem]:
    out: list[Problem] = []
    nodes = list(_items(pipe.get("nodes")))
    deps: dict[str, list[str]] = {}
    where: dict[str, tuple] = {}
    folded: dict[str, str] = {}  # SQL names views case-insensitively
    for ni, node in nodes:
        path = ("pipelines", pi, "nodes", ni)
        name = node.get("name")
        if not isinstance(name, str):
            continue
        if name in deps:
            out.append(
                src.problem(
                    path + ("name",),
                    f"duplicate node '{name}' in this pipeline",
                    "node names are unique within a pipeline",
                )
            )
            continue
        other = folded.setdefault(name.lower(), name)
        if other != name:
            out.append(
                src.problem(
                    path + ("name",),
                    f"node '{name}' differs from node '{other}' only in case",
                    "node names become SQL view names, which SQL compares ignoring case: "
                    "rename one of them",
                )
            )
        out += _reserved_name(src, path + ("name",), name)
        d = node.get("depends_on") or []
        deps[name] = [x for x in d if isinstance(x, str)] if isinstance(d, list) else []
        where[name] = path
    for name, d in deps.items():
        for i, dep in enumerate(d):
            if dep == name:
                out.append(
                    src.problem(where[name] + ("depends_on", i), f"node '{name}' depends on itself")
                )
            elif "." in dep:  # pipeline.node: an ordering edge across pipelines
                bad = _other_pipeline_dep(dep, every)
                if bad:
                    out.append(src.problem(where[name] + ("depends_on", i), bad[0], bad[1]))
            elif dep not in deps:
                hint = did_you_mean(dep, deps) or f"nodes in this pipeline: {', '.join(deps)}"
                out.append(
                    src.problem(where[name] + ("depends_on", i), f"unknown node '{dep}'", hint)
                )
    cycle = find_cycle({n: [x for x in d if x in deps and x != n] for n, d in deps.items()})
    if cycle:
        out.append(
            src.problem(
                where[cycle[0]] + ("depends_on",),
                "dependency cycle: "
                + " -> ".join(cycle + [cycle[0]])
                + " (each depends on the next)",
                "remove one of these depends_on entries",
            )
        )
    for ni, node in nodes:  # duplicates too: their other problems are worth knowing
        if isinstance(node.get("name"), str):
            path = ("pipelines", pi, "nodes", ni)
            out += _node(src, path, node, deps, engine, declared, functions, trees)
    out += _incremental(src, pi, nodes, deps)
    return out


def _incremental(
    src: Source, pi: int, nodes: list[tuple[int, dict]], deps: dict[str, list[str]]
) -> list[Problem]:
    """An incremental read keeps its watermark with the writes downstream of it: it needs one,
    and a batch is no full snapshot for scd2's deletes: close."""
    out: list[Problem] = []
    by_name = {n["name"]: (ni, n) for ni, n in nodes if isinstance(n.get("name"), str)}
    for name, (ni, node) in by_name.items():
        read = node.get("read")
        if not isinstance(read, dict) or not read.get("incremental"):
            continue
        path = ("pipelines", pi, "nodes", ni, "read", "incremental")
        downstream = descendants(name, deps) | {name}
        writes = [
            (wi, w)
            for other, (wi, w) in by_name.items()
            if isinstance(w.get("write"), dict) and other in downstream
        ]
        if not writes:
            out.append(
                src.problem(
                    path,
                    f"incremental read in '{name}' has no write downstream to keep its watermark",
                    "add a write to this node or to a node that depends on it",
                )
            )
        for wi, w in writes:
            fmt = w["write"].get("format") or "delta"
            if w["write"].get("table") and fmt != "delta":
                out.append(
                    src.problem(
                        ("pipelines", pi, "nodes", wi, "write", "format"),
                        f"the catalog table written by '{w['name']}' is format {fmt}, which "
                        f"cannot keep the watermark of the incremental read in '{name}' "
                        "(it is kept in a Delta commit, or beside a path's files)",
                        "write the table as format: delta, or write to a path",
                    )
                )
            scd2 = w["write"].get("scd2")
            if isinstance(scd2, dict) and scd2.get("deletes") == "close":
                out.append(
                    src.problem(
                        ("pipelines", pi, "nodes", wi, "write", "scd2", "deletes"),
                        f"scd2 deletes: close needs full snapshots, but '{name}' reads "
                        "incrementally: every key missing from a batch would be closed",
                        "drop deletes: close, or read the full snapshot (no incremental)",
                    )
                )
    return out


def _reserved_name(src: Source, path: tuple, name: str) -> list[Problem]:
    from odibi_dbx.sql.keywords import is_reserved

    if not is_reserved(name):
        return []
    return [
        src.problem(
            path,
            f"node name '{name}' is a reserved SQL keyword",
            f"node names become SQL view names; rename it, e.g. '{name.lower()}_data'",
        )
    ]


def _node(
    src: Source,
    path: tuple,
    node: dict,
    deps: dict[str, list[str]],
    engine: Any,
    declared: set[str],
    functions: Functions,
    trees: dict[tuple[int, int, int], Any] | None,
) -> list[Problem]:
    out: list[Problem] = []
    name = node["name"]
    has_read, transform = isinstance(node.get("read"), dict), node.get("transform")
    write = node.get("write")
    local = [d for d in deps[name] if d in deps]  # pipeline.node edges carry no data
    if isinstance(write, dict) and not has_read and not transform and len(local) != 1:
        out.append(
            src.problem(
                path + ("depends_on",),
                f"a write-only node writes its single dependency's output, "
                f"but '{name}' has {len(local)}",
                "depend on exactly one node of its pipeline, or add a transform",
            )
        )
    caps = getattr(engine, "capabilities", None)
    for part in ("read", "write"):
        spec = node.get(part)
        if isinstance(spec, dict) and spec.get("table") and caps and not caps.catalog_tables:
            out.append(
                src.problem(
                    path + (part, "table"),
                    f"catalog tables (table:) need the Spark engine; this run uses {engine.name}",
                    "use path: with a format on the pandas engine, or run with --engine spark",
                )
            )
    out += _rules(src, path, node, engine)
    if not isinstance(transform, dict) or not isinstance(transform.get("steps"), list):
        return out
    for si, step in enumerate(transform["steps"]):
        spath = path + ("transform", "steps", si)
        sql = step if isinstance(step, str) else step.get("sql") if isinstance(step, dict) else None
        if isinstance(sql, str):
            has_this = si > 0 or has_read
            kept = trees is not None
            problems, tree = _sql(src, spath, sql, deps, has_this, declared, engine, name, kept)
            out += problems
            if tree is not None and trees is not None:
                trees[(path[1], path[3], si)] = tree
        elif isinstance(step, dict) and isinstance(step.get("function"), str):
            fn = step["function"]
            try:
                found = functions.get(fn)
            except LookupError as exc:
                out.append(src.problem(spath + ("function",), str(exc)))
                continue
            if found is None:
                hint = did_you_mean(fn, functions.names()) or (
                    "decorate it with @odibi_dbx.transform and list its module under imports:"
                )
                out.append(
                    src.problem(
                        spath + ("function",), f"unknown function '{fn}' in node '{name}'", hint
                    )
                )
    return out


def _rules(src: Source, path: tuple, node: dict, engine: Any) -> list[Problem]:
    """Row rules (validation.rules) are checked like SQL steps; see odibi_dbx.quality."""
    validation = node.get("validation")
    rules = validation.get("rules") if isinstance(validation, dict) else None
    if not isinstance(rules, list):
        return []
    from odibi_dbx.quality.expressions import known_columns, rule_problems

    known = known_columns(node)
    out = []
    for ri, rule in _items(rules):
        expr = rule.get("expr")
        if isinstance(expr, str) and expr.strip():
            label = f"rule '{rule.get('name')}' of node '{node['name']}'"
            for msg, hint in rule_problems(expr, engine, known):
                out.append(
                    src.problem(path + ("validation", "rules", ri, "expr"), f"{label}: {msg}", hint)
                )
    return out


def _sql(
    src: Source,
    path: tuple,
    sql: str,
    deps: dict[str, list[str]],
    has_this: bool,
    declared: set[str],
    engine: Any,
    node: str,
    kept: bool,
) -> tuple[list[Problem], Any]:
    """Problems of one SQL step, and its parsed tree (None when it does not parse; a CachedStep
    when an earlier run's checks answered). Unless the tree is `kept` (for the run), the
    engine's check may change it."""
    found, tree = _analysis(sql, engine, kept)
    if "syntax" in found:
        line, col, message = found["syntax"]
        return [
            src.problem(
                path,
                f"SQL syntax error in node '{node}' (SQL line {line}, col {col}): {message}",
                _STATEMENT_HINT
                if "one SELECT query" in message
                else "SQL steps are Spark SQL (Databricks dialect)",
            )
        ], None
    # files, Java calls, secrets: refused on every engine (the sources are nodes and tables)
    out = [src.problem(path, f"node '{node}': {msg}", advice) for msg, advice in found["sandbox"]]
    sandboxed = not out  # the engine's checks assume a sandboxed step (nothing else matters)
    refs = sorted(set(found["tables"]) - set(found["files"]))
    this = {"this"} if has_this else set()
    named = ancestors_named(node, deps, set(refs) - declared - this)  # terminates on cycles too
    for ref in refs:
        hint: str | None
        if ref not in named and ref not in declared and ref not in this:
            allowed = {v.lower() for v in ancestors(node, deps)} | declared | this
            if ref == "this":
                msg, hint = (
                    "'this' is the previous step's result; this is the first step",
                    "reference the nodes this node depends on by name",
                )
            else:
                msg = f"SQL in node '{node}' references '{ref}', which is not a node it depends on"
                hint = did_you_mean(ref, allowed)
                if hint is None and ref in deps:
                    hint = f"add '{ref}' to depends_on: SQL sees only the nodes a node depends on"
                elif hint is None:
                    close = did_you_mean(ref, deps)
                    hint = (
                        f"{close} (and list it in depends_on)"
                        if close
                        else f"visible here: {', '.join(sorted(allowed))}"
                        if allowed
                        else "SQL sees only the nodes listed in depends_on (and what they depend on)"
                    )
            out.append(src.problem(path, msg, hint))
    if engine is not None and sandboxed:
        for text, advice in found["engine"]:
            out.append(
                src.problem(path, f"node '{node}' on the {engine.name} engine: {text}", advice)
            )
    return out, tree


def _analysis(sql: str, engine: Any, kept: bool) -> tuple[dict[str, Any], Any]:
    """What a step's own checks find (syntax, sandbox, the tables it reads, the engine's
    refusals), as JSON, and its parsed tree; from the cache (odibi_dbx.sql.cache) when an
    earlier run checked the same text for the same engine, with a CachedStep for the tree."""
    from odibi_dbx.sql import cache

    store = cache.shared() if cache.covers(engine) else None
    key = store.key("check", sql, getattr(engine, "name", None)) if store else None
    found = store.get(key) if store and key else None
    if found is not None:
        parsed = "syntax" not in found
        return found, cache.CachedStep(sql, frozenset(found["tables"])) if parsed else None
    found, tree = _analyse(sql, engine, kept)
    if store and key:
        store.put(key, found)
    return found, tree


def _analyse(sql: str, engine: Any, kept: bool) -> tuple[dict[str, Any], Any]:
    from odibi_dbx import sql as S
    from odibi_dbx.sql.sandbox import reads

    try:
        tree = S.parse_spark(sql)
    except S.SqlSyntaxError as exc:
        return {"syntax": [exc.line, exc.col, exc.message]}, None
    found = reads(tree)
    issues = engine.sql_problems(tree, copy=kept) if engine and not found.problems else []
    return {
        "sandbox": [[i.message, i.advice] for i in found.problems],
        "tables": sorted(found.tables),
        "files": sorted(found.files),
        "engine": [
            [getattr(i, "message", None) or str(i), getattr(i, "advice", None)] for i in issues
        ],
    }, tree


# LOAD DATA, ADD JAR, CREATE TABLE ... LOCATION, INSERT, SET ... in a step
_STATEMENT_HINT = (
    "a SQL step is one SELECT over the nodes it depends on: files are read by read nodes "
    "(read: connection/path/format), outputs written by write:, settings go in the project"
)


def ancestors(name: str, deps: dict[str, list[str]]) -> set[str]:
    seen: set[str] = set()
    stack = list(deps.get(name, []))
    while stack:
        n = stack.pop()
        if n not in seen and n in deps:
            seen.add(n)
            stack += deps[n]
    return seen


def ancestors_named(name: str, deps: dict[str, list[str]], wanted: set[str]) -> dict[str, str]:
    """The ancestors of `name` whose lower-cased name is in `wanted` (lower-case -> name). The
    walk stops once all are found: SQL names the nodes near it, so a chain of N nodes costs
    O(N) here where every node's full ancestor set costs O(N^2)."""
    found: dict[str, str] = {}
    seen: set[str] = set()
    stack = list(deps.get(name, [])) if wanted else []
    while stack and len(found) < len(wanted):
        n = stack.pop()
        if n not in seen and n in deps:
            seen.add(n)
            if n.lower() in wanted:
                found.setdefault(n.lower(), n)
            stack += deps[n]
    return found


def descendants(name: str, deps: dict[str, list[str]]) -> set[str]:
    """The nodes that depend on `name`, directly or not (the inverse of ancestors)."""
    children: dict[str, list[str]] = {}
    for n, ds in deps.items():
        for d in ds:
            children.setdefault(d, []).append(n)
    seen: set[str] = set()
    stack = list(children.get(name, []))
    while stack:
        n = stack.pop()
        if n not in seen:
            seen.add(n)
            stack += children.get(n, [])
    return seen


def find_cycle(graph: dict[str, list[str]]) -> list[str] | None:
    """One cycle as a list of nodes, or None (iterative DFS, stable order)."""
    state: dict[str, int] = {}
    for start in graph:
        if state.get(start):
            continue
        stack = [(start, iter(graph[start]))]
        trail = [start]
        state[start] = 1
        while stack:
            node, it = stack[-1]
            nxt = next(it, None)
            if nxt is None:
                state[node] = 2
                stack.pop()
                trail.pop()
            elif state.get(nxt) == 1:
                return trail[trail.index(nxt) :]
            elif not state.get(nxt):
                state[nxt] = 1
                stack.append((nxt, iter(graph[nxt])))
                trail.append(nxt)
    return None
