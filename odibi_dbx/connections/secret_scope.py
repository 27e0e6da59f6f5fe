"""Read the account keys of `auth_mode: secret_scope` connections from Databricks secret scopes.

`dbutils.secrets.get(scope, key)` works on every Databricks compute (serverless and standard
access mode included) and for Key Vault-backed scopes too. dbutils comes from
`odibi_dbx.runtime.get_dbutils()`: the notebook global, databricks-sdk's runtime module or
pyspark.dbutils. Off Databricks there is none, and that is said plainly, naming the connections.
Each (scope, key) is read once per run; every failure is reported at once, before any node runs.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from odibi_dbx import redact
from odibi_dbx.errors import OdibiError

log = logging.getLogger(__name__)


class SecretScopeError(OdibiError):
    """Secret scope keys could not be read; nothing has run."""


def fetch_scoped(connections: Iterable[Any], dbutils: Any = None) -> None:
    """Set the account key of every secret_scope connection that still needs it."""
    groups: dict[tuple[str, str], list[Any]] = {}
    for conn in connections:
        if getattr(conn, "needs_secret", False) and conn.auth_mode == "secret_scope":
            groups.setdefault((conn.secret_scope, conn.secret_key), []).append(conn)
    if not groups:
        return
    if dbutils is None:
        from odibi_dbx.runtime import get_dbutils

        dbutils = get_dbutils()
    if dbutils is None:
        raise SecretScopeError(_no_dbutils([c for g in groups.values() for c in g]))
    failures = []
    for (scope, key), conns in groups.items():
        names = ", ".join(f"'{c.name}'" for c in conns)
        try:
            value = dbutils.secrets.get(scope=scope, key=key)
        except Exception as exc:  # dbutils' own errors: reported without chaining
            failures.append(_failure(names, scope, key, exc))
            continue
        if not value:
            failures.append(
                f"connection {names}: key '{key}' in secret scope '{scope}' is empty\n"
                "      what to do: store the storage account key as its value"
            )
            continue
        redact.register_secret(value)  # the moment it is known
        for conn in conns:
            conn.set_secret(value)
    log.info("read %d secret scope key(s)", len(groups) - len(failures))
    if failures:
        n = len(failures)
        raise SecretScopeError(
            f"could not read {n} secret scope key{'s' * (n != 1)}; no node has run\n"
            + "\n".join(f"  - {f}" for f in failures)
        )


def _no_dbutils(conns: list[Any]) -> str:
    lines = [
        f"  - connection '{c.name}': secret scope '{c.secret_scope}', key '{c.secret_key}'"
        for c in conns
    ]
    return (
        "auth_mode: secret_scope reads the account key with dbutils.secrets.get, and dbutils is "
        "not available here (not on Databricks); no node has run\n"
        + "\n".join(lines)
        + "\n    hint: run on Databricks (a notebook or a job), or use an environment whose "
        "connection has auth_mode: key_vault (key_vault_name + secret_name) or auth_mode: "
        "direct_key (account_key: ${ENV_VAR}) off Databricks"
    )


def _failure(names: str, scope: str, key: str, exc: BaseException) -> str:
    text = error_text(exc)
    return (
        f"connection {names}: key '{key}' in secret scope '{scope}'\n"
        f"      error: {text}\n      what to do: {advice(scope, key, text)}"
    )


def error_text(exc: BaseException) -> str:
    """dbutils' error on one line, redacted (its message could echo a value)."""
    return f"{type(exc).__name__}: " + redact.redact(" ".join(str(exc).split()))[:300]


def advice(scope: str, key: str, error: str) -> str:
    """What to do about a failed dbutils.secrets.get (also used by `odibi-dbx setup`)."""
    lowered = error.lower()
    if (
        "does not exist" in lowered
        or "not found" in lowered
        or "resource_does_not_exist" in lowered
    ):
        return (
            f"check the names: databricks secrets list-scopes; databricks secrets list-secrets "
            f"{scope}; create it with: databricks secrets put-secret {scope} {key}"
        )
    if "permission" in lowered or "forbidden" in lowered or "not authorized" in lowered:
        return (
            f"grant READ on the scope to the identity running the job: databricks secrets "
            f"put-acl {scope} <user-or-group-or-service-principal> READ (a Key Vault-backed "
            "scope also needs the AzureDatabricks app to read the vault's secrets)"
        )
    return f"check secret scope '{scope}' and key '{key}' (databricks secrets list-secrets)"
