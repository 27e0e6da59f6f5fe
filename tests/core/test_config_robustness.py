"""Hostile or unusual project files: each fails fast, exit 2, with file:line and a hint."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from urllib.parse import quote

import pytest

from tests.conftest import write

BASE = """\
project: Demo
connections:
  raw: {type: local, base_path: ./data}
story: {connection: raw, path: stories/}
pipelines:
  - pipeline: p
    nodes:
      - name: orders
        read: {connection: raw, path: orders.csv}
"""


def _validate(cli, tmp_path: Path, text: str | bytes, **kw):
    path = tmp_path / "project.yaml"
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return cli("validate", str(path), **kw)


def _has(out: str, *fragments: str) -> None:
    for f in fragments:
        assert f in out, f"{f!r} not in:\n{out}"


def test_alias_bomb_is_refused_quickly(tmp_path, cli):
    lines = ['a0: &a0 ["x", "x", "x", "x", "x", "x", "x", "x", "x"]']
    for i in range(1, 10):  # nine levels: 9**10 strings once expanded
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]")
    text = BASE + "\n".join(lines) + "\n"
    r = _validate(cli, tmp_path, text, timeout=20)
    assert r.returncode == 2, r.stderr
    _has(r.stderr, "project.yaml:1", "aliases (*name) expand to far more data", "hint:")


def test_deep_nesting_is_a_config_error_with_its_line(tmp_path, cli):
    text = BASE + "deep: " + "[" * 5000 + "]" * 5000 + "\n"
    r = _validate(cli, tmp_path, text, timeout=30)
    assert r.returncode == 2, r.stderr
    _has(r.stderr, "project.yaml:10", "nests deeper than 64 levels", "hint:")
    assert "RecursionError" not in r.stderr


@pytest.mark.parametrize(
    "deep",
    [
        "deep:\n" + "- " * 100_000 + "x",  # block sequences on one line
        "deep:\n" + "".join(" " * i + f"k{i}:\n" for i in range(2_000)) + " " * 2_000 + "x\n",
    ],
)
def test_deep_block_nesting_is_a_config_error(tmp_path, cli, deep):
    r = _validate(cli, tmp_path, BASE + deep + "\n", timeout=60)
    assert r.returncode == 2, r.stderr
    _has(r.stderr, "project.yaml:", "nests deeper than 64 levels", "hint:")
    assert "RecursionError" not in r.stderr


def test_non_utf8_bytes_are_a_config_error_with_line_and_column(tmp_path, cli):
    text = BASE.replace("project: Demo", "project: Caf\xe9").encode("latin-1")
    r = _validate(cli, tmp_path, text)
    assert r.returncode == 2, r.stderr
    _has(
        r.stderr,
        "project.yaml:1",
        "byte 0xe9 at column 13 is not UTF-8",
        "hint: save the file as UTF-8",
    )
    assert "UnicodeDecodeError" not in r.stderr


def test_yaml_syntax_error_has_line_and_hint(tmp_path, cli):
    r = _validate(cli, tmp_path, BASE.replace("project: Demo", "project: Demo\n  bad: - x"))
    assert r.returncode == 2, r.stderr
    _has(r.stderr, "project.yaml:", "YAML syntax error", "hint: check the indentation and quoting")


def test_inf_and_nan_get_a_hint(tmp_path, cli):
    text = BASE + "retry: {initial_delay: .inf, max_attempts: .nan}\n"
    r = _validate(cli, tmp_path, text)
    assert r.returncode == 2, r.stderr
    _has(r.stderr, "project.yaml:10  retry.initial_delay", "project.yaml:10  retry.max_attempts")
    assert r.stderr.count("YAML reads .inf / .nan as infinity") == 2, r.stderr


@pytest.mark.parametrize("name", ["select", "Order"])
def test_sql_keywords_are_refused_as_node_names(tmp_path, cli, name):
    r = _validate(cli, tmp_path, BASE.replace("name: orders", f"name: {name}"))
    assert r.returncode == 2, r.stderr
    _has(
        r.stderr,
        "project.yaml:8",
        f"node name '{name}' is a reserved SQL keyword",
        f"rename it, e.g. '{name.lower()}_data'",
    )


def _run_with_params(project_dir: Path, cli, params: str, env: dict[str, str]):
    write(
        project_dir / "steps.py",
        """
        from odibi_dbx import transform

        @transform
        def tag(context, rate, label):
            df = context.get("orders")
            df["rate_type"] = type(rate).__name__
            df["label_type"] = type(label).__name__
            return df
        """,
    )
    text = BASE.replace("pipelines:", "imports: [steps.py]\npipelines:") + (
        "      - name: tagged\n"
        "        depends_on: [orders]\n"
        "        transform:\n"
        "          steps:\n"
        "            - function: tag\n"
        "              params:\n"
        f"                {params}\n"
        "        write: {connection: raw, path: out/tagged.csv}\n"
    )
    project = write(project_dir / "project.yaml", text)
    r = cli("run", str(project), env=env)
    assert r.returncode == 0, r.stderr
    return next((project_dir / "data" / "out" / "tagged.csv").glob("*.csv")).read_text()


def test_env_values_are_typed_as_yaml_types_the_text(project_dir, cli):
    out = _run_with_params(
        project_dir, cli, 'rate: ${RATE:-0.2}\n                label: "${LABEL}"', {"LABEL": "42"}
    )
    first = out.splitlines()[1]
    assert first.endswith(",float,str"), out
    out = _run_with_params(
        project_dir,
        cli,
        "rate: ${RATE}\n                label: ${LABEL}",
        {"RATE": "3", "LABEL": "x"},
    )
    assert out.splitlines()[1].endswith(",int,str"), out


def test_env_default_holding_a_literal_key_is_refused(tmp_path, cli):
    conn = (
        "  lake: {type: azure_adls, account: acme, container: c, auth_mode: direct_key, "
        'account_key: "${UNSET_KEY_X:-c2VjcmV0LWtleS12YWx1ZQ==}"}\n'
    )
    r = _validate(cli, tmp_path, BASE.replace("story:", conn + "story:"))
    assert r.returncode == 2, r.stderr
    _has(r.stderr, "project.yaml:4", "default in ${VAR:-...} of account_key is a literal key")
    assert "c2VjcmV0LWtleS12YWx1ZQ" not in r.stderr


def test_url_encoded_and_base64_forms_of_a_secret_are_masked(project_dir, cli):
    key = "b2RpYmk+PnNlY3JldD8/a2V5fn4="  # base64 (as account keys are) with + / = in it
    forms = {
        "url": quote(key, safe=""),
        "url-lower-hex": quote(key, safe="").replace("%2B", "%2b").replace("%2F", "%2f"),
        "url-keep-slash": quote(key),
        "b64": base64.b64encode(key.encode()).decode(),
        "decoded": "odibi>>secret??key~~",
    }
    write(
        project_dir / "steps.py",
        f"""
        from odibi_dbx import transform

        @transform
        def leak(context):
            raise ValueError("GET https://x/ {" ".join(f"{k}={v}" for k, v in forms.items())}")
        """,
    )
    conn = (
        "  lake: {type: azure_adls, account: acme, container: c, auth_mode: direct_key, "
        'account_key: "${LAKE_KEY}"}\n'
    )
    text = BASE.replace("story:", conn + "story:").replace(
        "pipelines:", "imports: [steps.py]\npipelines:"
    ) + (
        "      - name: leaky\n"
        "        depends_on: [orders]\n"
        "        transform: {steps: [{function: leak}]}\n"
    )
    project = write(project_dir / "project.yaml", text)
    r = cli("run", str(project), "--verbose", env={"LAKE_KEY": key})
    assert r.returncode == 1, r.stderr
    stories = (project_dir / "data" / "stories").glob("*.json")
    story = next(p for p in stories if not p.name.startswith("_")).read_text()  # not the index
    message = json.loads(story)["nodes"][1]["error"]["message"]
    for shown in (r.stderr, story):
        for form in forms.values():
            assert form not in shown
    assert all(f"{k}=***" in message for k in forms), message
