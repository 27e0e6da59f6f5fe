"""Key Vault: client construction, error classification and the advice users get.

One place for everything that explains a Key Vault failure, shared by connection secret fetching
(`secrets.fetch_all`) and the Databricks setup checks:

    kind, advice = classify_error(exc, vault=url, secret="bronze-key", oid=oid)
    grant_commands("acme-kv", oid, "rbac")     # exact az commands for one permission model
"""

from __future__ import annotations

import ipaddress
import os
import re
from typing import Any, NamedTuple
from urllib.parse import urlsplit

from odibi_dbx.errors import MissingExtraError

# error kinds
NO_IDENTITY = "no_identity"  # the credential found no identity (DefaultAzureCredential chain)
AUTH_FAILED = "auth_failed"  # a token was refused or could not be issued
FORBIDDEN_RBAC = "forbidden_rbac"  # 403, vault uses Azure RBAC
FORBIDDEN_ACCESS_POLICY = "forbidden_access_policy"  # 403, vault uses access policies
FORBIDDEN = "forbidden"  # 403 of another kind (disabled secret, firewall, ...)
NOT_FOUND = "not_found"  # 404: no such secret
UNREACHABLE = "unreachable"  # DNS: no such vault host
TLS = "tls"  # certificate not trusted
CHALLENGE = "challenge"  # the vault's auth challenge does not match its URL
TRANSIENT = "transient"  # 429 / 5xx / timeouts / dropped connections: worth retrying
OTHER = "other"

RETRYABLE = frozenset({TRANSIENT})
SECRETS_USER_ROLE = "Key Vault Secrets User"  # role id 4633458b-17de-408a-b874-0445c86b69e6
_OID_RE = re.compile(r"\boid=([0-9a-fA-F-]{36})")
_VAULT_IN_MESSAGE = re.compile(r"(?:Vault: |key vault ')([A-Za-z0-9-]{3,24});location=")
_DNS_MARKERS = (
    "Name or service not known",
    "nodename nor servname",
    "getaddrinfo failed",
    "Failed to resolve",
    "No address associated with hostname",
    "Temporary failure in name resolution",
)
_NO_IDENTITY_MARKERS = (
    "failed to retrieve a token from the included credentials",
    "authentication unavailable",
)
_TLS_MARKERS = (
    "CERTIFICATE_VERIFY_FAILED",
    "certificate verify failed",
    "SSLError",
    "WRONG_VERSION_NUMBER",
)


class Classified(NamedTuple):
    kind: str
    advice: str

    @property
    def retryable(self) -> bool:
        return self.kind in RETRYABLE


# --- vault URLs and clients ---------------------------------------------------------------------


def vault_url(key_vault_name: str | None = None, key_vault_url: str | None = None) -> str:
    """`key_vault_url` as given (normalized with a trailing /), else https://<name>.vault.azure.net/."""
    if key_vault_url:
        return key_vault_url.rstrip("/") + "/"
    if not key_vault_name:
        raise ValueError("key_vault_name or key_vault_url is needed")
    return f"https://{key_vault_name}.vault.azure.net/"


def vault_name(url_or_name: str, message: str = "") -> str:
    """The vault's name: as a Key Vault error message names it, else the first DNS label of its
    URL (or the name itself); `<vault-name>` for IP/localhost URLs (emulators)."""
    m = _VAULT_IN_MESSAGE.search(message or "")
    if m:
        return m.group(1)
    if "://" not in url_or_name:
        return url_or_name
    host = urlsplit(url_or_name).hostname or url_or_name
    if is_loopback(url_or_name) or _is_ip(host):
        return "<vault-name>"
    return host.split(".", 1)[0]


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        return False


def is_loopback(url: str) -> bool:
    """True for 127.0.0.0/8, ::1 and localhost: emulators, where the challenge check can't pass."""
    host = (urlsplit(url).hostname or "").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def tls_verify_from_env() -> str | None:
    """CA bundle from the standard variables (REQUESTS_CA_BUNDLE, then SSL_CERT_FILE)."""
    for var in ("REQUESTS_CA_BUNDLE", "SSL_CERT_FILE"):
        value = os.environ.get(var)
        if value:
            return value
    return None


def client_kwargs(url: str) -> dict[str, Any]:
    """SecretClient keyword arguments for `url`.

    Our own retry loop (secrets.fetch_all) owns retries, so the SDK's is off (retry_total=0):
    total attempts stay bounded and a 429's Retry-After is honoured once, not per layer.
    """
    kwargs: dict[str, Any] = {"retry_total": 0, "connection_timeout": 10, "read_timeout": 30}
    if is_loopback(url):
        kwargs["verify_challenge_resource"] = False
    ca = tls_verify_from_env()
    if ca:
        kwargs["connection_verify"] = ca
    return kwargs


def secret_client(url: str, credential: Any, **overrides: Any) -> Any:
    try:
        from azure.keyvault.secrets import SecretClient
    except ImportError:
        raise MissingExtraError("Key Vault secrets", "azure", "azure-keyvault-secrets") from None
    return SecretClient(url, credential, **{**client_kwargs(url), **overrides})


def default_credential() -> Any:
    try:
        from azure.identity import DefaultAzureCredential
    except ImportError:
        raise MissingExtraError("Key Vault authentication", "azure", "azure-identity") from None
    return DefaultAzureCredential()


# --- grants --------------------------------------------------------------------------------------


def grant_commands(vault: str, oid: str | None, model: str | None = None) -> list[str]:
    """az CLI commands letting principal `oid` read secrets of `vault` (name or URL).

    model: "rbac" (Azure RBAC vault), "access_policy", or None for both (model unknown; check with
    `az keyvault show --name <vault> --query properties.enableRbacAuthorization -o tsv`).
    """
    name, who = vault_name(vault), oid or "<object-id>"
    rbac = (
        f'az role assignment create --role "{SECRETS_USER_ROLE}" --assignee-object-id {who} '
        f"--assignee-principal-type ServicePrincipal "
        f'--scope "$(az keyvault show --name {name} --query id -o tsv)"'
    )
    policy = f"az keyvault set-policy --name {name} --object-id {who} --secret-permissions get list"
    if model == "rbac":
        return [rbac]
    if model == "access_policy":
        return [policy]
    return [rbac, policy]


def oid_from_message(text: str) -> str | None:
    """The caller's object id as Key Vault names it in a 403 message (`...;oid=<guid>;...`)."""
    m = _OID_RE.search(text or "")
    return m.group(1) if m else None


# --- classification ------------------------------------------------------------------------------


def _inner_code(exc: Any) -> str | None:
    err = getattr(exc, "error", None)
    inner = getattr(err, "innererror", None) if err is not None else None
    if isinstance(inner, dict) and inner.get("code"):
        return str(inner["code"])
    text = str(exc)
    for code in ("ForbiddenByRbac", "AccessDenied", "SecretDisabled", "ForbiddenByFirewall"):
        if code in text:
            return code
    if "does not have secrets" in text:
        return "AccessDenied"
    return None


def classify_error(
    exc: BaseException,
    *,
    vault: str | None = None,
    secret: str | None = None,
    oid: str | None = None,
    user_credential: bool = False,
) -> Classified:
    """What went wrong reaching Key Vault, and what to do about it."""
    text = str(exc)
    vname = vault_name(vault or "<vault-name>", text)
    where = f"vault {vault or '<vault>'}"
    oid = oid or oid_from_message(str(exc))
    status = getattr(exc, "status_code", None)
    cls_names = {c.__name__ for c in type(exc).__mro__}

    if "CredentialUnavailableError" in cls_names or any(m in text for m in _NO_IDENTITY_MARKERS):
        return Classified(NO_IDENTITY, _no_identity_advice(text, user_credential))
    if "ClientAuthenticationError" in cls_names and status != 403:
        return Classified(
            AUTH_FAILED,
            (
                f"authentication to {where} failed: {first_line(text)}. "
                + (
                    "Check the credential you passed (a Unity Catalog service credential needs "
                    "DBR 16.2+ and USE permission on it)."
                    if user_credential
                    else "Check the identity DefaultAzureCredential picked (run `odibi-dbx setup` to see "
                    "it) and that the vault belongs to its tenant."
                )
            ),
        )
    if status == 403:
        inner = _inner_code(exc)
        if inner == "ForbiddenByRbac":
            cmds = "\n".join(grant_commands(vname, oid, "rbac"))
            return Classified(
                FORBIDDEN_RBAC,
                (
                    f"{where} uses Azure RBAC and the identity (object id {oid or '?'}) has no role "
                    f"that reads secrets. Grant '{SECRETS_USER_ROLE}' (propagation can take "
                    f"minutes):\n{cmds}"
                ),
            )
        if inner == "AccessDenied":
            cmds = "\n".join(grant_commands(vname, oid, "access_policy"))
            return Classified(
                FORBIDDEN_ACCESS_POLICY,
                (
                    f"{where} uses access policies and none lets the identity (object id "
                    f"{oid or '?'}) get secrets. Add one:\n{cmds}"
                ),
            )
        if inner == "SecretDisabled":
            return Classified(
                FORBIDDEN,
                (
                    f"secret '{secret}' is disabled in {where}: enable it "
                    f"(az keyvault secret set-attributes --vault-name {vname} --name {secret} "
                    "--enabled true) or point secret_name at an enabled one"
                ),
            )
        return Classified(
            FORBIDDEN,
            (
                f"{where} refused the request ({inner or 'Forbidden'}): {first_line(text)}. If the "
                "vault has a firewall or private endpoint, allow this network; otherwise grant:\n"
                + "\n".join(grant_commands(vname, oid))
            ),
        )
    if status == 404 or "ResourceNotFoundError" in cls_names:
        return Classified(
            NOT_FOUND,
            (
                f"secret '{secret}' does not exist in {where}: check secret_name, or create it with "
                f"az keyvault secret set --vault-name {vname} --name {secret} --value "
                '"$(az storage account keys list -n <account> --query [0].value -o tsv)"'
            ),
        )
    if isinstance(exc, ValueError) and "challenge resource" in text:
        return Classified(
            CHALLENGE,
            (
                f"{where} answered with an authentication challenge for another domain: use the "
                "vault's own DNS name in key_vault_url (https://<name>.vault.azure.net, or your "
                "cloud's vault domain)"
            ),
        )
    if any(m in text for m in _TLS_MARKERS):
        return Classified(
            TLS,
            (
                f"the TLS certificate of {where} is not trusted: set REQUESTS_CA_BUNDLE (or "
                "SSL_CERT_FILE) to the CA bundle that signed it (corporate proxy or emulator)"
            ),
        )
    if any(m in text for m in _DNS_MARKERS):
        return Classified(
            UNREACHABLE,
            (
                f"cannot resolve the host of {where}: check key_vault_name / key_vault_url; for a "
                "private endpoint, check this network's private DNS zone "
                "privatelink.vaultcore.azure.net"
            ),
        )
    if (isinstance(status, int) and (status in (408, 429) or status >= 500)) or cls_names & {
        "ServiceRequestError",
        "ServiceResponseError",
        "ServiceRequestTimeoutError",
        "ServiceResponseTimeoutError",
        "TimeoutError",
        "ConnectionError",
    }:
        return Classified(
            TRANSIENT,
            (
                f"{where} is throttling or unavailable ({first_line(text)}); retried with backoff. "
                "Try again later; if it persists check the vault's service health and network path"
            ),
        )
    return Classified(
        OTHER, f"unexpected error from {where}: {type(exc).__name__}: {first_line(text)}"
    )


def _no_identity_advice(text: str, user_credential: bool) -> str:
    if user_credential:
        return (
            f"the credential you passed found no token: {first_line(text)}. On Databricks "
            "a Unity Catalog service credential needs DBR 16.2+: "
            "dbutils.credentials.getServiceCredentialsProvider('<service-credential>')"
        )
    tried = "\n".join("      " + ln.strip() for ln in text.splitlines()[1:12] if ln.strip())
    return (
        "DefaultAzureCredential found no identity"
        + (f"; it tried:\n{tried}\n" if tried else f": {first_line(text)}. ")
        + "What to do: on Databricks (DBR 16.2+) pass a Unity Catalog service credential, "
        "e.g. Project.load(path, credential=dbutils.credentials.getServiceCredentialsProvider("
        "'<service-credential>')); on classic dedicated compute the cluster's managed identity "
        "answers through IMDS (works, but not an officially documented route; if IMDS reports "
        "several identities set AZURE_CLIENT_ID to the one to use); on a laptop run `az login`; "
        "or use auth_mode: direct_key with account_key: ${ENV_VAR}"
    )


def first_line(text: str, limit: int = 300) -> str:
    line = (text or "").strip().splitlines()[0].rstrip(".") if (text or "").strip() else ""
    return line if len(line) <= limit else line[:limit] + "…"
