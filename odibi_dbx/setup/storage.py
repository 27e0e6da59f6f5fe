"""Can an ADLS connection reach its container? Asks the connection object itself
(`AdlsConnection.blob_service_client()`, built from the same storage options the engines use)."""

from __future__ import annotations

import re
from typing import Any

from odibi_dbx.setup.report import FAIL, OK, WARN


def container_check(name: str, cfg: Any, key: str | None, info: Any) -> tuple[str, str, list[str]]:
    from odibi_dbx.connections.adls import AdlsConnection

    conn = AdlsConnection(name, cfg)
    if key is not None:
        conn.set_secret(key)
    notes: list[str] = []
    if info.account_keys_allowed is False:
        notes.append(external_location_note(conn, info.compute))
    try:
        with conn.blob_service_client() as svc:
            props = svc.get_container_client(cfg.container).get_container_properties()
    except ImportError:
        raise
    except Exception as exc:
        return FAIL, _short(exc), _steps(exc, conn) + notes
    when = getattr(props, "last_modified", None)
    detail = "reachable" + (f" (last modified {when:%Y-%m-%d})" if when else "")
    return (WARN if notes else OK), detail, notes


def external_location_note(conn: Any, compute: str | None) -> str:
    """What serverless / standard access mode compute needs for the Spark engine to reach the
    connection's container: no account key in Spark conf there, a Unity Catalog external
    location instead."""
    url = conn.uri("")
    name = re.sub(r"\W+", "_", f"{conn.account}_{conn.container}_{conn.path_prefix}").strip("_")
    return (
        f"On {compute} compute the Spark engine sets no account key in Spark conf: connection "
        f"'{conn.name}' needs a Unity Catalog external location covering {url}, e.g.\n"
        f"  CREATE EXTERNAL LOCATION IF NOT EXISTS {name} URL '{url}' "
        "WITH (STORAGE CREDENTIAL <storage-credential>);\n"
        f"  GRANT READ FILES, WRITE FILES ON EXTERNAL LOCATION {name} TO `<job-principal>`;\n"
        "(the storage credential: an Access Connector for Azure Databricks with Storage Blob "
        f"Data Contributor on account '{conn.account}')."
    )


def _steps(exc: BaseException, conn: Any) -> list[str]:
    code = str(getattr(exc, "error_code", "") or "")
    status = getattr(exc, "status_code", None)
    a, c = conn.account, conn.container
    if code == "ContainerNotFound" or status == 404:
        return [
            f"The container does not exist: az storage container create --account-name {a} "
            f"--name {c} --auth-mode login"
        ]
    if code in ("AuthenticationFailed", "AuthorizationFailure") or status == 403:
        where = conn.key_source
        return [
            f"The account refused the key from the {where}: it is not a current key of '{a}', or "
            "the storage firewall blocks this network.",
            f"Current key: az storage account keys list --account-name {a} --query [0].value "
            "-o tsv",
            f"Firewall: az storage account show --name {a} --query networkRuleSet",
        ]
    if type(exc).__name__ in ("ServiceRequestError", "ServiceRequestTimeoutError"):
        return [
            f"Could not reach account '{a}': check the account name, DNS/private endpoints "
            "and the endpoint setting."
        ]
    return []


def _short(exc: BaseException) -> str:
    code = getattr(exc, "error_code", None)
    msg = " ".join(str(getattr(exc, "message", None) or exc).split())[:200]
    return f"{type(exc).__name__}{f' {code}' if code else ''}: {msg}"
