"""Helpers for the Databricks onboarding tests."""

from __future__ import annotations

from pathlib import Path


def adls_project(
    path: Path,
    vault_url: str,
    *,
    account: str = "odibitest1",
    container: str = "raw",
    secret: str = "adls-key",
    endpoint: str | None = None,
    extra: str = "",
) -> Path:
    """A project with one key_vault ADLS connection (vault named kv-odibi-test, reached by URL)."""
    path.mkdir(parents=True, exist_ok=True)
    ep = f"\n    endpoint: {endpoint}" if endpoint else ""
    text = f"""\
project: Setup Test
connections:
  local: {{type: local, base_path: ./data}}
  lake:
    type: azure_adls
    account: {account}
    container: {container}
    key_vault_name: kv-odibi-test
    key_vault_url: {vault_url}
    secret_name: {secret}{ep}
{extra}story: {{connection: local, path: stories/}}
pipelines:
  - pipeline: p
    nodes:
      - name: a
        read: {{connection: local, path: a.csv}}
"""
    f = path / "project.yaml"
    f.write_text(text, encoding="utf-8")
    return f
