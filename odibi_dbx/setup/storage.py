"""Can an ADLS connection reach its container? Uses the connection's own storage options
(the same the Pandas engine uses), and falls back to options built from the config."""

from __future__ import annotations

from typing import Any

from odibi_dbx.errors import MissingExtraError
from odibi_dbx.setup.report import FAIL, OK, WARN


def storage_options(name: str, cfg: Any, key: str, loaded: Any) -> tuple[dict[str, Any], str]:
    """(adlfs-style options, where they came from)."""
    try:
        from odibi_dbx.connections.adls import AdlsConnection
    except ImportError:
        AdlsConnection = None
    if AdlsConnection is not None:
        try:
            conn = AdlsConnection(name, cfg)
            _give_key(conn, key)
            opts = dict(conn.storage_options())
            if opts.get("account_key") or opts.get("connection_string"):
                return opts, "connection storage options"
        except Exception:  # the connection API differs: fall back to the config's own fields
            pass
    opts: dict[str, Any] = {"account_name": cfg.account, "account_key": key}
    if cfg.endpoint:
        opts["account_url"] = cfg.endpoint.rstrip("/")
    return opts, "project config"


def _give_key(conn: Any, key: str) -> None:
    for attr in ("set_account_key", "set_secret", "set_key"):
        fn = getattr(conn, attr, None)
        if callable(fn):
            fn(key)
            return
    conn.account_key = key


def blob_service(opts: dict[str, Any], account: str) -> Any:
    try:
        from azure.storage.blob import BlobServiceClient
    except ImportError as exc:
        raise MissingExtraError("Checking ADLS containers", "azure", "azure-storage-blob") from exc
    if opts.get("connection_string"):
        return BlobServiceClient.from_connection_string(opts["connection_string"])
    url = opts.get("account_url")
    if not url and opts.get("account_host"):
        url = f"https://{opts['account_host']}"
    url = url or f"https://{opts.get('account_name') or account}.blob.core.windows.net"
    cred = {"account_name": opts.get("account_name") or account, "account_key": opts["account_key"]}
    return BlobServiceClient(url, credential=cred)


def container_check(
    name: str, cfg: Any, key: str, loaded: Any, info: Any
) -> tuple[str, str, list[str]]:
    opts, source = storage_options(name, cfg, key, loaded)
    steps: list[str] = []
    if info.account_keys_allowed is False:
        steps.append(
            f"Note: on {info.compute} compute the Spark engine cannot use account keys: "
            "read and write through a Unity Catalog external location (or volume) instead."
        )
    try:
        with blob_service(opts, cfg.account) as svc:
            props = svc.get_container_client(cfg.container).get_container_properties()
    except MissingExtraError:
        raise
    except Exception as exc:
        return FAIL, _short(exc), _storage_steps(exc, cfg) + steps
    when = getattr(props, "last_modified", None)
    detail = f"reachable ({source}{f', last modified {when:%Y-%m-%d}' if when else ''})"
    return (WARN if steps else OK), detail, steps


def _storage_steps(exc: BaseException, cfg: Any) -> list[str]:
    code = str(getattr(exc, "error_code", "") or "")
    status = getattr(exc, "status_code", None)
    a, c = cfg.account, cfg.container
    if code == "ContainerNotFound" or status == 404:
        return [
            f"The container does not exist: az storage container create --account-name {a} "
            f"--name {c} --auth-mode login"
        ]
    if code in ("AuthenticationFailed", "AuthorizationFailure") or status == 403:
        where = (
            f"the Key Vault secret '{cfg.secret_name}'"
            if cfg.auth_mode == "key_vault"
            else "account_key"
        )
        return [
            f"The account refused the key from {where}: it is not a current key of '{a}', or "
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
