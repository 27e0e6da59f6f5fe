"""Can the job read the account keys of `auth_mode: secret_scope` connections? Reads each key
through dbutils.secrets.get, as a run does (the value is registered for redaction, never shown)."""

from __future__ import annotations

from typing import Any

from odibi_dbx.connections.secret_scope import advice, error_text
from odibi_dbx.redact import register_secret
from odibi_dbx.setup.report import FAIL, OK, SKIP, WARN, Section


def check_scopes(s: Section, connections: list[tuple[str, Any]], dbutils: Any) -> dict:
    """Add a check per (scope, key) the connections use; return {(scope, key): value} read."""
    used: dict[tuple[str, str], list[str]] = {}
    for name, cfg in connections:
        if cfg.auth_mode == "secret_scope":
            used.setdefault((cfg.secret_scope, cfg.secret_key), []).append(name)
    if not used:
        s.add("secret scopes", SKIP, "no connection uses auth_mode: secret_scope")
        return {}
    keys = {}
    for (scope, key), names in used.items():
        label = f"read key '{key}' in secret scope '{scope}' (used by {', '.join(names)})"
        if not dbutils:
            s.add(
                label,
                FAIL,
                "dbutils is not available here (not on Databricks)",
                "Run this setup on Databricks (the notebook or the bundle's setup job), where "
                "the pipeline reads the key too.",
                "Off Databricks give this environment's connection auth_mode: key_vault "
                "(key_vault_name + secret_name) or auth_mode: direct_key "
                "(account_key: ${ENV_VAR}).",
            )
            continue
        try:
            value = dbutils.secrets.get(scope=scope, key=key)
        except Exception as exc:  # reported with what to do; the cause is not chained
            text = error_text(exc)
            s.add(label, FAIL, text, advice(scope, key, text))
            continue
        register_secret(value)
        if value:
            keys[(scope, key)] = value
        s.add(
            label,
            OK if value else WARN,
            "readable (value not shown)" if value else "the key is empty",
        )
    return keys
