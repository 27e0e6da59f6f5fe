"""Validation's work per node stays constant: each SQL step parsed once and copied once (the
checked copy; none for `validate`, which keeps no tree), no pass over a pipeline grows with the
square of its nodes, and validating loads no engine library.
Counts, not timings (speed is measured in bench/startup_bench.py). The SQL cache is off here:
these count the work of a first run (tests/core/test_sql_cache.py counts a later run's)."""

from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlglot import exp

import odibi_dbx.sql as S
from odibi_dbx import cli, registry
from odibi_dbx.config import checks as checks_module
from odibi_dbx.config import load_project
from odibi_dbx.errors import ConfigError
from odibi_dbx.pipeline import plan as plan_module
from odibi_dbx.sql import cache, parse_spark, to_duckdb
from odibi_dbx.sql import portability as portability_module
from odibi_dbx.sql import sandbox as sandbox_module
from odibi_dbx.sql import types as types_module
from odibi_dbx.sql.sandbox import sandbox_problems
from tests.core.work_counts import lines_in


@pytest.fixture(autouse=True)
def no_sql_cache(monkeypatch):
    monkeypatch.setenv(cache.ENV, cache.OFF)


class CopyProbe:
    """Kept in a tree's meta: sqlglot deep-copies the meta with every copy of the tree."""

    def __init__(self) -> None:
        self.copies = 0

    def __deepcopy__(self, memo: dict) -> CopyProbe:
        self.copies += 1
        return self


def chain_project(folder: Path, nodes: int, pipelines: int = 1) -> Path:
    """Pipelines each of a CSV read, then a chain of SQL steps each reading the previous node."""
    lines = [
        "project: chain",
        "engine: pandas",
        "connections:",
        "  src: {type: local, base_path: .}",
        "story: {connection: src, path: stories}",
        "pipelines:",
    ]
    for p in range(pipelines):
        lines += [f"  - pipeline: p{p}", "    nodes:", "      - name: n0"]
        lines.append("        read: {connection: src, path: orders.csv, format: csv}")
        for n in range(1, nodes):
            lines += [f"      - name: n{n}", f"        depends_on: [n{n - 1}]"]
            lines += ["        transform:", "          steps:"]
            lines.append(f"            - SELECT order_id, amount * {n} AS a FROM n{n - 1}")
    path = folder / f"chain{pipelines}x{nodes}.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_translation_copies_the_tree_once_and_not_at_all_when_asked_not_to():
    tree = parse_spark("SELECT id, CAST(ts AS TIMESTAMP) AS t FROM orders WHERE qty > 1")
    probe = tree.meta["probe"] = CopyProbe()
    to_duckdb(tree)
    assert probe.copies == 1  # its own copy; the SQL generator does not copy it again
    to_duckdb(tree.copy(), copy=False)
    assert probe.copies == 2  # the caller's copy only


def probe_parses(monkeypatch: pytest.MonkeyPatch) -> list[CopyProbe]:
    """Every tree parse_spark gives from now on carries a CopyProbe (listed in parse order)."""
    parsed: list[CopyProbe] = []

    def parse_and_probe(sql: str):
        tree = parse_spark(sql)
        parsed.append(CopyProbe())
        tree.meta["probe"] = parsed[-1]
        return tree

    monkeypatch.setattr(S, "parse_spark", parse_and_probe)
    return parsed


def test_validation_parses_each_sql_step_once_and_copies_it_once(tmp_path, monkeypatch):
    sandboxed: list[int] = []
    reads = sandbox_module.reads

    def sandbox_counted(tree):
        sandboxed.append(1)
        return reads(tree)

    monkeypatch.setattr(sandbox_module, "reads", sandbox_counted)  # (sandbox_problems calls it)
    parsed = probe_parses(monkeypatch)
    loaded = load_project(chain_project(tmp_path, 30))
    assert len(parsed) == 29  # one per SQL step
    assert [p.copies for p in parsed] == [1] * 29  # the engine's checked copy only
    assert len(sandboxed) == 29  # checked once for every engine, not again by the engine
    kept = [tree for node in loaded.plan.nodes.values() for tree in node.sql]
    assert [t.meta["probe"] for t in kept] == parsed  # the plan keeps the parsed trees


def _lines_run(path: Path, files: tuple[str, ...]) -> int:
    """Lines executed in `files` while loading `path` (a deterministic measure of work)."""
    return lines_in(files, lambda: load_project(path))


@pytest.mark.parametrize("module", [checks_module, plan_module])
@pytest.mark.parametrize("shape", ["one long chain", "many pipelines"])
def test_validation_work_grows_linearly_with_the_nodes(tmp_path, module, shape):
    # before: every node's full ancestor set (for SQL names and the plan's views) and the
    # declared tables collected once per pipeline over the whole project: O(N^2)
    files = (module.__file__,)
    if shape == "one long chain":
        small, large = chain_project(tmp_path, 60), chain_project(tmp_path, 240)
    else:
        small, large = chain_project(tmp_path, 3, 20), chain_project(tmp_path, 3, 80)
    small_lines, large_lines = _lines_run(small, files), _lines_run(large, files)
    assert large_lines < 5 * small_lines, (small_lines, large_lines)  # ~4x, not ~16x


@pytest.mark.parametrize("command", ["validate", "run"])
def test_loading_freezes_what_it_built_without_a_collector_pass(tmp_path, monkeypatch, command):
    # a full collection after loading costs ~20 ms of a small run and frees a few thousand objects
    (tmp_path / "orders.csv").write_text("order_id,amount\n1,2.5\n")
    passes = []
    monkeypatch.setattr(gc, "collect", lambda *a: passes.append(a) or 0)
    try:
        assert cli.main([command, str(chain_project(tmp_path, 2))]) == 0
        frozen = gc.get_freeze_count()
    finally:
        gc.unfreeze()
    assert passes == []
    assert frozen > 0 and gc.isenabled()


def test_annotation_tries_only_the_typing_rules_of_each_node_class():
    # before: every node (an identifier, a column, a FROM) ran down the ~45 isinstance tests
    # of one long function: 1043 lines for this 29-node step; now its class's rules (~300)
    tree = parse_spark(
        "SELECT order_id, quantity * 3 AS q, CAST(ts AS TIMESTAMP) AS t, "
        "coalesce(status, 'x') AS s FROM n WHERE quantity > 1"
    )
    nodes = len(list(tree.walk()))
    types_module.annotate(tree.copy(), None)  # each class's rules are looked up once per process
    lines = lines_in((types_module.__file__,), lambda: types_module.annotate(tree, None))
    assert lines < 15 * nodes, (lines, nodes)
    for plain in (exp.Identifier, exp.Column, exp.Table, exp.From, exp.Where, exp.Select):
        assert types_module._rules_for(plain) == ()
    assert _alias_types(tree) == {"q": None, "t": "TIMESTAMP", "s": None}  # still typed


def _alias_types(tree: exp.Expr) -> dict[str, str | None]:
    out = {}
    for alias in tree.find_all(exp.Alias):
        t = types_module.type_of(alias)
        out[alias.alias] = None if t is None else t.sql("databricks")
    return out


def test_validating_loads_no_engine_library(tmp_path):
    # what validation asks of the Pandas engine lives apart from it: before, validating
    # imported DuckDB (and the engine's modules) only to reach PandasEngine.sql_problems
    code = (
        "import sys\n"
        "from odibi_dbx import cli\n"
        f"assert cli.main(['validate', {str(chain_project(tmp_path, 5))!r}]) == 0\n"
        "print(sorted(m for m in ('duckdb', 'odibi_dbx.engines.pandas', 'pandas', 'pyarrow',"
        " 'deltalake') if m in sys.modules))\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    assert out.stdout.splitlines()[-1] == "[]", out.stdout


@pytest.mark.parametrize("name", list(registry.ENGINES))
def test_each_engine_derives_from_the_checks_validation_loads(name):
    checks = registry.engine_checks(name)
    assert issubclass(registry.engine_class(name), checks)  # one answer, run or validate
    assert checks.name == name


def test_validate_checks_each_sql_step_without_the_copy_a_run_keeps(tmp_path, monkeypatch):
    # validate runs nothing: the engine checks the parsed tree itself (before: one copy each)
    parsed = probe_parses(monkeypatch)
    try:
        assert cli.main(["validate", str(chain_project(tmp_path, 30))]) == 0
    finally:
        gc.unfreeze()
    assert len(parsed) == 29 and [p.copies for p in parsed] == [0] * 29


def test_a_check_only_load_reports_the_same_problems(tmp_path):
    steps = [
        "SELECT id, 1 = '1' AS same FROM n0",  # the engine refuses it
        "SELECT * FROM zz",  # not a node it depends on
        "SELECT * FROM read_csv('/etc/passwd')",  # sandbox
        "SELECT datediff('day', a, b) AS d FROM n0",  # quoted unit
        "SELECT id FROM n0 WHERE",  # syntax
    ]
    lines = ["project: p", "engine: pandas", "connections:", "  src: {type: local, base_path: .}"]
    lines.append("story: {connection: src, path: stories}")
    lines += ["pipelines:", "  - pipeline: p", "    nodes:", "      - name: n0"]
    lines.append("        read: {connection: src, path: a.csv, format: csv}")
    for i, sql in enumerate(steps, 1):
        lines += [f"      - name: n{i}", "        depends_on: [n0]", "        transform:"]
        lines += ["          steps:", f"            - {json.dumps(sql)}"]
    path = tmp_path / "bad.yaml"
    path.write_text("\n".join(lines) + "\n")
    found = []
    for check_only in (False, True):
        with pytest.raises(ConfigError) as err:
            load_project(path, check_only=check_only)
        found.append([(p.line, p.message, p.hint) for p in err.value.problems])
    assert len(found[0]) == len(steps)
    assert found[0] == found[1]


def test_a_check_only_plan_orders_and_keeps_no_sql(tmp_path):
    plan = load_project(chain_project(tmp_path, 4, 2), check_only=True).plan
    assert plan.topological_order()[:2] == ["p0.n0", "p0.n1"]
    assert all(node.sql == () and node.views == () for node in plan.nodes.values())


def test_each_thread_parses_with_one_tokenizer_and_parser(monkeypatch):
    # before: every step built a tokenizer and a parser (about as much work as tokenizing it)
    from odibi_dbx.sql.parse import SparkSQL

    built: list[str] = []
    for name in ("tokenizer", "parser"):
        real = getattr(SparkSQL, name)

        def counted(self, *args, _real=real, _name=name, **kwargs):
            built.append(_name)
            return _real(self, *args, **kwargs)

        monkeypatch.setattr(SparkSQL, name, counted)
    steps = [
        f"SELECT order_id, CAST(ts AS TIMESTAMP) AS t FROM n{i} WHERE q > {i}" for i in range(29)
    ]
    steps.append("SELECT datediff(day, a, b) AS d FROM n")  # a marked call reuses the parser too
    with ThreadPoolExecutor(1) as pool:  # a thread that has parsed nothing yet
        trees = list(pool.map(parse_spark, steps))
    assert sorted(built) == ["parser", "tokenizer"]
    assert [t.sql("databricks") for t in trees] == [parse_spark(s).sql("databricks") for s in steps]
    with pytest.raises(S.SqlSyntaxError):  # an error leaves nothing behind for the next parse
        parse_spark("SELECT (a FROM n")
    assert parse_spark(steps[0]).sql("databricks") == trees[0].sql("databricks")


def test_translation_looks_the_duckdb_dialect_up_once(monkeypatch):
    # before: tree.sql(dialect="duckdb") built a DuckDB dialect for every step
    from sqlglot.dialects.dialect import Dialect

    steps = [f"SELECT order_id, amount * {i} AS a FROM n{i} WHERE q > {i}" for i in range(30)]
    to_duckdb(steps[0])  # the rules' templates and types are parsed once, on first use
    looked_up: list[object] = []
    real = Dialect.get_or_raise.__func__

    def counted(cls, dialect):
        looked_up.append(dialect)
        return real(cls, dialect)

    monkeypatch.setattr(Dialect, "get_or_raise", classmethod(counted))
    for sql in steps[1:]:
        to_duckdb(sql)
    assert [d for d in looked_up if isinstance(d, str)] == []  # (an instance is no look-up)


def _calls(monkeypatch: pytest.MonkeyPatch, module: object, name: str) -> list[str]:
    """The class name of the argument of every call of module.name from now on, in order (a
    class's own name when the argument is a class)."""
    seen: list[str] = []
    real = getattr(module, name)

    def counted(arg):
        seen.append((arg if isinstance(arg, type) else type(arg)).__name__)
        return real(arg)

    monkeypatch.setattr(module, name, counted)
    return seen


def _sandbox_checks(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The class of every node the sandbox checks from now on (listed in order)."""
    return _calls(monkeypatch, sandbox_module, "_offending")


def test_the_sandbox_checks_only_the_nodes_that_can_read_files(monkeypatch):
    # before: every node of the step went through the sandbox's checks (29 here)
    seen = _sandbox_checks(monkeypatch)
    tree = parse_spark(
        "SELECT order_id, quantity * 3 AS q, CAST(ts AS TIMESTAMP) AS t, "
        "coalesce(status, 'x') AS s FROM n WHERE quantity > 1"
    )
    assert sandbox_problems(tree) == []
    assert seen == ["Table"]
    refused = sandbox_problems(parse_spark("SELECT a FROM n JOIN read_csv('/x.csv') ON true"))
    assert [p.construct for p in refused] == [sandbox_module.FILE_ACCESS]


def test_each_portability_check_runs_only_on_the_node_classes_it_refuses(monkeypatch):
    # before: all six checks ran on every node but names and literals (72 calls for this step)
    calls: list[str] = []

    def counted(check):
        def run(node):
            calls.append(check.__name__)
            return check(node)

        if hasattr(check, "node_types"):
            run.node_types = check.node_types  # type: ignore[attr-defined]
        return run

    checks = [counted(c) for c in portability_module._CHECKS]
    monkeypatch.setattr(portability_module, "_CHECKS", checks)
    portability_module._checks_for.cache_clear()
    try:
        tree = parse_spark(
            "SELECT order_id, quantity * 3 AS q, CAST(ts AS TIMESTAMP) AS t, "
            "coalesce(status, 'x') AS s FROM n WHERE quantity > 1"
        )
        assert S.portability_problems(tree) == []
        assert len(calls) == 17, calls  # the allow-list on 12 nodes; 5 more where they apply
        refused = S.portability_problems(
            parse_spark("SELECT row_number() OVER (PARTITION BY a) FROM t")
        )
        assert [p.construct for p in refused] == ["window function without ORDER BY"]
    finally:
        portability_module._checks_for.cache_clear()


def test_a_cast_does_not_parse_its_type_names_again_for_each_step(monkeypatch):
    # sqlglot 30.30's Hive parser checks every CAST's type with is_type("char", "varchar"),
    # which parsed both names with a new dialect, tokenizer and parser: 2 parses per CAST
    import sqlglot

    from odibi_dbx.sql import type_names

    parsed: list[str] = []
    real = sqlglot.parse_one

    def counted(sql, *args, **kwargs):
        if kwargs.get("into") is exp.DataType:
            parsed.append(sql)
        return real(sql, *args, **kwargs)

    monkeypatch.setattr(sqlglot, "parse_one", counted)
    type_names._parsed.cache_clear()
    steps = [f"SELECT CAST(ts AS TIMESTAMP) AS t, CAST(q AS INT) AS q FROM n{i}" for i in range(30)]
    trees = [parse_spark(sql) for sql in steps]
    assert sorted(parsed) == ["char", "varchar"]  # once per process, not 2 x 2 per step
    assert sqlglot.parse_one is counted  # sqlglot's own again outside the parse
    assert trees[-1].sql("databricks") == steps[-1]


def test_only_a_step_naming_a_marked_function_is_searched_for_its_calls(monkeypatch):
    # before: every step went through the case-insensitive regex of datediff, dateadd, ... calls
    from odibi_dbx.sql import parse as parse_module

    searched: list[str] = []
    real = parse_module._MARKED_CALL

    class Counted:
        def search(self, sql: str):
            searched.append(sql)
            return real.search(sql)

    monkeypatch.setattr(parse_module, "_MARKED_CALL", Counted())
    for i in range(30):
        parse_spark(f"SELECT order_id, CAST(ts AS TIMESTAMP) AS t FROM n{i} WHERE q > {i}")
    assert searched == []
    tree = parse_spark("SELECT DateDiff('day', a, b) AS d FROM n")
    assert len(searched) == 1
    assert tree.find(exp.Func).meta[parse_module.UNIT_WRITTEN] == "quoted"  # still marked


def test_validation_looks_at_each_table_a_step_reads_once(tmp_path, monkeypatch):
    # before: the sandbox, the file paths in FROM and the tables read were three walks over the
    # step, and each table was checked for a file path twice
    seen = _sandbox_checks(monkeypatch)
    load_project(chain_project(tmp_path, 30), check_only=True)
    assert seen == ["Table"] * 29


def test_a_step_with_at_most_one_angle_bracket_of_each_kind_is_not_walked_for_shifts():
    # `a > > b` is refused (sqlglot reads it as a shift): only a step with two '<' or two '>'
    # can hold one, so the others are not walked for shifts (~1 walk per step)
    walks: list[tuple] = []

    def count_finds(frame, event, arg):
        if event == "c_call" and getattr(arg, "__name__", "") == "find":
            walks.append(arg)

    sys.setprofile(count_finds)
    try:
        parse_spark("SELECT a, b * 2 AS c FROM n WHERE a > 1 AND b < 3")
        single = len(walks)
        parse_spark("SELECT a FROM n WHERE a > 1 AND b > 3")
    finally:
        sys.setprofile(None)
    assert (single, len(walks) - single) == (0, 1)
    with pytest.raises(S.SqlSyntaxError, match="is not an operator"):
        parse_spark("SELECT a > > 1 AS x FROM n")
    assert parse_spark("SELECT a >> 1 AS x FROM n").find(exp.BitwiseRightShift)


def _tree_deepcopies(work) -> int:
    """How many times `work()` passes a sqlglot tree through copy.deepcopy (Expr.copy does)."""
    import copy

    seen = 0

    def profile(frame, event, arg):
        nonlocal seen
        if event == "call" and frame.f_code is copy.deepcopy.__code__:
            seen += isinstance(frame.f_locals.get("x"), exp.Expr)

    sys.setprofile(profile)
    try:
        work()
    finally:
        sys.setprofile(None)
    return seen


def test_validation_copies_types_and_trees_without_copy_deepcopy(tmp_path):
    # before: every type inferred (5 a step here) and each CAST's type names went through
    # copy.deepcopy, whose memo and keep-alive list cost about as much as copying a type
    steps = [f"SELECT CAST(ts AS TIMESTAMP) AS t, q * {i} AS q, 'x' AS s FROM n" for i in range(30)]
    trees = [parse_spark(sql) for sql in steps]
    assert _tree_deepcopies(lambda: [parse_spark(sql) for sql in steps]) == 0
    checked = [S.portability_problems(tree) for tree in trees]  # copies and types each tree
    assert _tree_deepcopies(lambda: [S.portability_problems(tree) for tree in trees]) == 0
    translated = [to_duckdb(tree) for tree in trees]  # (sqlglot parses a few things at first use)
    assert _tree_deepcopies(lambda: [to_duckdb(tree) for tree in trees]) == 0
    assert checked == [[]] * 30 and len(set(translated)) == 30
    assert to_duckdb(trees[0]) == to_duckdb(trees[0].copy())  # the same translation
    probe = trees[0].meta["probe"] = CopyProbe()
    assert to_duckdb(trees[0]) and probe.copies == 1  # still a deep copy, meta included


def test_a_string_scalar_is_read_without_the_yaml_constructor(monkeypatch):
    # before: every key and string value went through SafeLoader.construct_object
    import yaml

    from odibi_dbx.config.source import load_yaml

    text = (
        "base: &b {n: 1, on: yes, x: ~, f: 1.5}\n"
        "a:\n  <<: *b\n  s: text\n  q: '2'\n  t: !!str 3\n  d: 2024-01-01\n"
        "  l: [x, 2, null, 'y']\n  = : v\n"
    )
    expected = yaml.safe_load(text)
    constructed: list[str] = []
    real = yaml.SafeLoader.construct_object

    def counted(self, node, deep=False):
        constructed.append(node.tag.rsplit(":", 1)[-1])
        return real(self, node, deep)

    monkeypatch.setattr(yaml.SafeLoader, "construct_object", counted)
    src = load_yaml(text, "p.yaml")
    assert src.data == expected and not src.problems
    # keys and string values are their text (the merged mapping's values are built again)
    assert sorted(constructed) == sorted(
        ["int", "bool", "bool", "null", "float"] * 2 + ["timestamp", "int", "null"]
    )


STEP = (
    "SELECT order_id, quantity * {i} AS q, CAST(ts AS TIMESTAMP) AS t, "
    "coalesce(status, 'x') AS s FROM n WHERE quantity > 1"
)


def test_the_sandbox_tells_a_node_class_from_its_suspects_once_per_process(monkeypatch):
    # before: find_all ran 11 isinstance tests on each of a step's 29 nodes
    tested = _calls(monkeypatch, sandbox_module, "_is_suspect")
    monkeypatch.setattr(sandbox_module, "_SUSPECT_CLASS", {})
    trees = [parse_spark(STEP.format(i=i)) for i in range(30)]
    found = [sandbox_module.reads(tree) for tree in trees]
    classes = {type(node).__name__ for node in trees[0].walk()}
    assert sorted(tested) == sorted(classes)  # 14 classes, once each (not 30 x 29 nodes)
    assert {frozenset(f.tables) for f in found} == {frozenset({"n"})}
    bad = parse_spark("SELECT a FROM n JOIN read_csv('/x.csv') ON true WHERE reflect('a', 'b')")
    assert len(sandbox_module.reads(bad).problems) == 2  # a file function and a Java call


def test_annotation_calls_inference_only_on_nodes_whose_class_has_typing_rules(monkeypatch):
    # before: infer was called on every node (29 here), most of them names and clauses
    tree = parse_spark(STEP.format(i=3))
    types_module.annotate(tree.copy(), None)  # each class's rules are looked up once per process
    inferred = _calls(monkeypatch, types_module, "infer")
    types_module.annotate(tree, None)
    typed = [n for n in tree.walk() if types_module._RULES_BY_CLASS[type(n)]]
    assert len(inferred) == len(typed) < len(list(tree.walk())) // 2, inferred
    assert _alias_types(tree) == {"q": None, "t": "TIMESTAMP", "s": None}  # still typed
