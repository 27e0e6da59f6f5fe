"""Workspace facts through databricks-sdk (the `databricks` extra): host, workspace id, current
user, Key Vault-backed secret scopes and Unity Catalog service credentials."""

from __future__ import annotations

import logging
import os
from typing import Any

from odibi_dbx.errors import MissingExtraError
from odibi_dbx.setup.report import FAIL, INFO, OK, SKIP, WARN, Section

AZURE_DATABRICKS_APP_ID = "2ff814a6-3304-4ab8-85cb-cd0e6f879c1d"  # reads KV-backed scopes [U]


def workspace_client() -> Any:
    try:
        from databricks.sdk import WorkspaceClient
    except ImportError as exc:
        raise MissingExtraError("Reading workspace facts", "databricks", "databricks-sdk") from exc
    return WorkspaceClient()


def check_workspace(s: Section, *, on_databricks: bool, vault_hosts: set[str]) -> None:
    if not on_databricks and not os.environ.get("DATABRICKS_HOST"):
        s.add("workspace", SKIP, "not on Databricks and DATABRICKS_HOST is not set")
        return
    sdk_log = logging.getLogger("databricks.sdk")
    level = sdk_log.level
    # the SDK warns when a workspace has no /.well-known/databricks-config; the report says enough
    sdk_log.setLevel(logging.ERROR)
    try:
        _facts(s, vault_hosts)
    finally:
        sdk_log.setLevel(level)


def _facts(s: Section, vault_hosts: set[str]) -> None:
    try:
        w = workspace_client()
        me = w.current_user.me()
    except MissingExtraError as exc:
        s.add("databricks-sdk", WARN, str(exc).splitlines()[0], exc.command)
        return
    except Exception as exc:
        s.add(
            "workspace",
            FAIL,
            _short(exc),
            "Check DATABRICKS_HOST and DATABRICKS_TOKEN (or ~/.databrickscfg); in a notebook "
            "the runtime's own authentication is used.",
        )
        return
    try:
        wid = w.get_workspace_id()
    except Exception:  # the id is a nicety
        wid = None
    s.add("workspace", OK, f"{w.config.host}" + (f" (id {wid})" if wid else ""))
    s.add("current user", INFO, me.user_name or me.display_name or "?")
    _scopes(s, w, vault_hosts)
    _service_credentials(s, w)


def _scopes(s: Section, w: Any, vault_hosts: set[str]) -> None:
    try:
        scopes = list(w.secrets.list_scopes())
    except Exception as exc:
        s.add("secret scopes", WARN, _short(exc))
        return
    kv = [
        sc
        for sc in scopes
        if str(getattr(sc.backend_type, "value", sc.backend_type)) == "AZURE_KEYVAULT"
    ]
    if not kv:
        s.add(
            "Key Vault-backed secret scopes",
            INFO,
            f"none ({len(scopes)} Databricks-backed scope(s))",
        )
        return
    for sc in kv:
        dns = sc.keyvault_metadata.dns_name if sc.keyvault_metadata else "?"
        host = (dns or "").split("//")[-1].split("/")[0].lower()
        mine = " — the project's vault" if host in vault_hosts else ""
        s.add(f"secret scope '{sc.name}'", INFO, f"Key Vault-backed: {dns}{mine}")
    s.notes.append(
        "Key Vault-backed scopes are read by the AzureDatabricks first-party app "
        f"(usually appId {AZURE_DATABRICKS_APP_ID}); on an RBAC vault it needs "
        "'Key Vault Secrets User'. Read with dbutils.secrets.get(scope, key)."
    )


CREDENTIALS_API = "/api/2.1/unity-catalog/credentials"


def list_service_credentials(w: Any) -> list[dict[str, Any]]:
    """Unity Catalog service credentials, through the REST route itself: the typed
    `w.credentials.list_credentials()` is missing from the databricks-sdk of DBR 15.4 (0.20)
    and 16.4 (0.30), while `api_client.do` works on every version the runtimes ship."""
    out: list[dict[str, Any]] = []
    query: dict[str, Any] = {"purpose": "SERVICE"}
    while True:
        page = w.api_client.do("GET", CREDENTIALS_API, query=query) or {}
        out += [c for c in page.get("credentials", []) if c.get("purpose", "SERVICE") == "SERVICE"]
        token = page.get("next_page_token")
        if not token:
            return out
        query = {**query, "page_token": token}


def _service_credentials(s: Section, w: Any) -> None:
    try:
        service = list_service_credentials(w)
    except Exception as exc:  # older workspaces or no Unity Catalog
        s.add("service credentials", INFO, f"not listed ({_short(exc)})")
        return
    if not service:
        s.add("service credentials", INFO, "none in Unity Catalog")
        return
    for c in service:
        who = (c.get("azure_managed_identity") or {}).get("access_connector_id")
        s.add(
            f"service credential '{c.get('name')}'",
            INFO,
            f"access connector {who}" if who else "",
        )


def _short(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {' '.join(str(exc).split())[:300]}"
