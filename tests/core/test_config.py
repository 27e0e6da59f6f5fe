"""Loading and validating project files: every problem at once, with file:line, key and hint."""

from __future__ import annotations

from pathlib import Path

import pytest

from odibi_dbx import ConfigError, load_project
from tests.conftest import write

BASE = """
project: Demo
connections:
  raw: {type: local, base_path: ./data}
story: {connection: raw, path: stories/}
pipelines:
  - pipeline: p
    nodes:
      - name: orders
        read: {connection: raw, path: orders.csv}
      - name: clean
        depends_on: [orders]
        transform:
          steps:
            - "SELECT * FROM orders WHERE amount > 0"
"""


def problems(tmp_path: Path, text: str, **kw) -> list:
    path = write(tmp_path / "project.yaml", text)
    with pytest.raises(ConfigError) as info:
        load_project(path, **kw)
    return info.value.problems


def one(probs: list, fragment: str):
    found = [p for p in probs if fragment in p.message]
    assert found, f"no problem mentioning {fragment!r} in:\n" + "\n".join(map(str, probs))
    return found[0]


def test_valid_project_loads_with_defaults(tmp_path):
    loaded = load_project(write(tmp_path / "project.yaml", BASE))
    cfg = loaded.config
    assert cfg.engine == "pandas" and cfg.timezone == "UTC"
    assert cfg.retry.max_attempts == 3 and cfg.story.max_sample_rows == 10
    assert [n.name for n in cfg.pipelines[0].nodes] == ["orders", "clean"]
    assert loaded.base_dir == tmp_path.resolve()


def test_every_problem_is_reported_at_once_with_lines_and_hints(tmp_path):
    probs = problems(
        tmp_path,
        """
        project: Demo
        engine: pandsa
        connections:
          raw: {type: local, base_path: ./data}
          lake: {type: azure_adls, account: acme, contaner: bronze, key_vault_name: kv, secret_name: s}
        story: {connection: rwa, path: stories/}
        pipelines:
          - pipeline: p
            nodes:
              - name: orders
                read: {connection: raw, path: orders.csv}
              - name: clean
                dependson: [orders]
                transform: {steps: ["SELECT * FROM orders"]}
              - name: save
                depends_on: [clen]
                write: {connection: raw, path: out, format: delta, mode: merge}
        """,
    )
    assert len(probs) >= 6
    assert one(probs, "unknown engine").line == 2
    assert (
        "did you mean 'pandas'"
        in (one(probs, "unknown engine").hint or "") + one(probs, "unknown engine").message
    )
    typo = one(probs, "unknown key 'contaner'")
    assert typo.line == 5 and "container" in typo.hint and typo.key == "connections.lake.contaner"
    assert one(probs, "missing required key 'container'").line == 5
    story = one(probs, "unknown connection 'rwa'")
    assert story.line == 6 and "did you mean 'raw'" in story.hint
    dep = one(probs, "unknown key 'dependson'")
    assert (
        dep.line == 13
        and "depends_on" in dep.hint
        and dep.key == "pipelines[p].nodes[clean].dependson"
    )
    clen = one(probs, "unknown node 'clen'")
    assert clen.line == 16 and "did you mean 'clean'" in clen.hint
    merge = one(probs, "merge_keys")
    assert merge.line == 17
    assert all(p.file and p.file.endswith("project.yaml") for p in probs)


def test_dag_problems(tmp_path):
    probs = problems(
        tmp_path,
        """
        project: Demo
        connections: {raw: {type: local}}
        story: {connection: raw}
        pipelines:
          - pipeline: p
            nodes:
              - {name: a, depends_on: [c], transform: {steps: ["SELECT * FROM c"]}}
              - {name: b, depends_on: [a], transform: {steps: ["SELECT * FROM a"]}}
              - {name: c, depends_on: [b], transform: {steps: ["SELECT * FROM b"]}}
              - {name: a, read: {connection: raw, path: x.csv}}
              - {name: w, depends_on: [a, b], write: {connection: raw, path: y.csv}}
              - {name: nothing}
              - {name: r, read: {connection: raw}}
        """,
    )
    cycle = one(probs, "dependency cycle")
    assert "a -> c -> b -> a (each depends on the next)" in cycle.message
    assert one(probs, "duplicate node 'a'").line == 10
    assert one(probs, "write-only node").line == 11
    assert one(probs, "at least one of read, transform, write").line == 12
    assert one(probs, "needs path").line == 13


def test_sql_is_parsed_at_validation(tmp_path):
    probs = problems(
        tmp_path,
        """
        project: Demo
        connections: {raw: {type: local}}
        story: {connection: raw}
        pipelines:
          - pipeline: p
            nodes:
              - {name: orders, read: {connection: raw, path: orders.csv}}
              - name: bad_syntax
                depends_on: [orders]
                transform:
                  steps:
                    - "SELEC * FROM orders"
              - name: bad_ref
                depends_on: [orders]
                transform:
                  steps:
                    - "SELECT * FROM ordres"
              - name: not_upstream
                transform:
                  steps:
                    - "SELECT * FROM orders"
              - name: first_this
                depends_on: [orders]
                transform:
                  steps:
                    - "SELECT * FROM this"
              - name: ok
                depends_on: [orders]
                transform:
                  steps:
                    - "WITH x AS (SELECT * FROM orders) SELECT * FROM x"
                    - "SELECT * FROM this"
        """,
    )
    syntax = one(probs, "SQL syntax error in node 'bad_syntax'")
    assert syntax.line == 12
    ref = one(probs, "references 'ordres'")
    assert "did you mean 'orders'" in ref.hint and ref.line == 17
    assert "add 'orders' to depends_on" in one(probs, "node 'not_upstream'").hint
    assert one(probs, "'this' is the previous step").line == 26
    assert not [p for p in probs if "'ok'" in p.message]


def test_yaml_syntax_error_shows_line(tmp_path):
    probs = problems(tmp_path, "project: Demo\nconnections:\n  raw: {type: local\nstory: x\n")
    assert len(probs) == 1 and "YAML syntax error" in probs[0].message
    assert probs[0].line in (3, 4)


def test_unquoted_env_reference_in_flow_mapping_gets_a_hint(tmp_path):
    text = BASE.replace("base_path: ./data", "base_path: ${DATA_DIR}")
    p = one(problems(tmp_path, text), "YAML syntax error")
    assert p.line == 3 and 'base_path: "${VAR}"' in p.hint


def test_duplicate_yaml_keys_are_errors(tmp_path):
    probs = problems(tmp_path, BASE.replace("project: Demo", "project: Demo\nproject: Other"))
    assert one(probs, "duplicate key 'project'").line == 2


def test_env_substitution_and_missing_variables(tmp_path, monkeypatch):
    monkeypatch.setenv("DATA_DIR", "./data")
    text = (
        BASE.replace("base_path: ./data", 'base_path: "${DATA_DIR}"') + "# ${NOT_SET_IN_COMMENT}\n"
    )
    cfg = load_project(write(tmp_path / "project.yaml", text)).config
    assert cfg.connections["raw"].base_path == "./data"
    text = BASE.replace("base_path: ./data", 'base_path: "${MISSING_VAR_X}"')
    miss = one(problems(tmp_path, text), "MISSING_VAR_X")
    assert miss.line == 3 and "export MISSING_VAR_X" in miss.hint
    text = BASE.replace("base_path: ./data", 'base_path: "${MISSING_VAR_X:-./fallback}"')
    assert (
        load_project(write(tmp_path / "project.yaml", text)).config.connections["raw"].base_path
        == "./fallback"
    )


def test_environments_override_and_unknown_environment(tmp_path):
    text = (
        BASE
        + """
environments:
  prod:
    logging: {level: warning, structured: true}
    story: {max_sample_rows: 0}
"""
    )
    path = write(tmp_path / "project.yaml", text)
    base = load_project(path).config
    prod = load_project(path, env="prod").config
    assert (
        base.logging.level == "INFO" and prod.logging.level == "WARNING" and prod.logging.structured
    )
    assert prod.story.max_sample_rows == 0 and prod.story.connection == "raw"  # deep merge
    with pytest.raises(ConfigError, match="unknown environment 'prd'") as info:
        load_project(path, env="prd")
    assert "did you mean 'prod'" in info.value.problems[0].hint


def test_environment_errors_point_at_the_override_line(tmp_path):
    text = BASE + "environments:\n  prod:\n    retry: {max_attemps: 5}\n"
    probs = problems(tmp_path, text, env="prod")
    assert one(probs, "unknown key 'max_attemps'").line == 17


def test_literal_account_key_is_rejected_but_env_reference_is_fine(tmp_path, monkeypatch):
    conn = (
        "  lake: {type: azure_adls, account: acme, container: c, auth_mode: direct_key, "
        "account_key: %s}\n"
    )
    text = BASE.replace("story:", conn % "c2VjcmV0LWtleS12YWx1ZQ==" + "story:")
    p = one(problems(tmp_path, text), "literal account key")
    assert p.line == 4 and "${ENV_VAR}" in p.hint
    monkeypatch.setenv("LAKE_KEY", "c2VjcmV0LWtleS12YWx1ZQ==")
    cfg = load_project(
        write(tmp_path / "project.yaml", BASE.replace("story:", conn % '"${LAKE_KEY}"' + "story:"))
    ).config
    assert "c2VjcmV0" not in repr(cfg) and "c2VjcmV0" not in str(cfg.connections["lake"])


def test_adls_connection_fields_are_checked_eagerly(tmp_path):
    text = BASE.replace("story:", "  lake: {type: azure_adls, account: acme, container: c}\nstory:")
    p = one(problems(tmp_path, text), "auth_mode key_vault needs")
    assert "key_vault_name" in p.message and "secret_name" in p.message and p.line == 4


def test_imports_register_functions_and_unknown_functions_are_reported(tmp_path):
    write(
        tmp_path / "lib" / "steps.py",
        """
        from odibi_dbx import transform

        @transform
        def double_amount(context, factor=2):
            df = context.get("orders")
            df["amount"] = df["amount"] * factor
            return df
    """,
    )
    text = BASE.replace("pipelines:", "imports: [lib/steps.py]\npipelines:").replace(
        '- "SELECT * FROM orders WHERE amount > 0"',
        "- {function: double_amout, params: {factor: 3}}",
    )
    p = one(problems(tmp_path, text), "unknown function 'double_amout'")
    assert "did you mean 'double_amount'" in p.hint
    text = text.replace("double_amout", "double_amount")
    load_project(write(tmp_path / "project.yaml", text))  # valid now


def test_broken_import_is_a_problem_not_a_crash(tmp_path):
    write(tmp_path / "broken.py", "raise RuntimeError('boom at import')\n")
    text = BASE.replace("pipelines:", "imports: [broken.py, no_such_module_xyz]\npipelines:")
    probs = problems(tmp_path, text)
    assert "boom at import" in one(probs, "cannot import 'broken.py'").message
    assert one(probs, "cannot import 'no_such_module_xyz'").line == 5


def test_missing_file_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="project file not found"):
        load_project(tmp_path / "nope.yaml")


def test_pandas_engine_rejects_catalog_tables_at_validation(tmp_path):
    text = BASE.replace("path: orders.csv", "table: main.sales.orders")
    p = one(problems(tmp_path, text), "catalog tables")
    assert "--engine spark" in p.hint
    load_project(write(tmp_path / "project.yaml", text), engine="spark")  # fine on Spark


def test_non_portable_sql_is_rejected_at_validation_with_advice(tmp_path):
    text = BASE.replace(
        '"SELECT * FROM orders WHERE amount > 0"',
        '"SELECT approx_count_distinct(customer_id) AS n FROM orders"',
    )
    p = one(problems(tmp_path, text), "pandas engine")
    assert p.line == 14 and "approx_count_distinct" in p.message and "count(DISTINCT" in p.hint
    load_project(write(tmp_path / "project.yaml", text), engine="spark")  # Spark runs it as is


def test_type_dependent_sql_waits_for_the_input_types(tmp_path):
    # round() of an expression depends on its type: checked when the node runs, not refused here
    text = BASE.replace(
        '"SELECT * FROM orders WHERE amount > 0"',
        '"SELECT round(amount * 1.5, 1) AS r FROM orders"',
    )
    load_project(write(tmp_path / "project.yaml", text))
