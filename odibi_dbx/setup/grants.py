"""Exact grant commands for a Key Vault, for both permission models, and what a failure means."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

SECRETS_USER_ROLE = "Key Vault Secrets User"  # 4633458b-17de-408a-b874-0445c86b69e6
_VAULT_SUFFIXES = (
    ".vault.azure.net",
    ".vault.azure.cn",
    ".vault.usgovcloudapi.net",
    ".vault.microsoftazure.de",
)


@dataclass(frozen=True)
class Vault:
    """A vault as the project names it: `name` for az commands, `url` for the data plane."""

    name: str | None
    url: str

    @classmethod
    def parse(cls, value: str, url: str | None = None) -> Vault:
        """`value` is a vault name or URL; `url` (e.g. key_vault_url) wins for access."""
        if value.startswith(("https://", "http://")):
            return cls(vault_name_from_url(value), value.rstrip("/") + "/")
        return cls(value, (url or f"https://{value}.vault.azure.net").rstrip("/") + "/")

    @property
    def label(self) -> str:
        return self.name or self.url

    @property
    def cli_name(self) -> str:
        return self.name or "<vault-name>"


def vault_name_from_url(url: str) -> str | None:
    host = urlsplit(url).hostname or ""
    for suffix in _VAULT_SUFFIXES:
        if host.endswith(suffix):
            return host[: -len(suffix)]
    return None


def which_model_command(vault: str) -> str:
    return f"az keyvault show --name {vault} --query properties.enableRbacAuthorization -o tsv"


def rbac_command(vault: str, oid: str, principal_type: str = "ServicePrincipal") -> str:
    return (
        f'az role assignment create --role "{SECRETS_USER_ROLE}" --assignee-object-id {oid} '
        f"--assignee-principal-type {principal_type} "
        f'--scope "$(az keyvault show --name {vault} --query id -o tsv)"'
    )


def access_policy_command(vault: str, oid: str) -> str:
    return f"az keyvault set-policy --name {vault} --object-id {oid} --secret-permissions get list"


def grant_text(vault: str, oid: str, principal_type: str = "ServicePrincipal") -> str:
    """The block the report and notebook print: which model, then the command for each."""
    return "\n".join(
        [
            f"Grant read access to Key Vault '{vault}' (object id {oid}).",
            "Which permission model does the vault use? (true = Azure RBAC, "
            "false/empty = access policies)",
            f"  {which_model_command(vault)}",
            "Azure RBAC vault:",
            f"  {rbac_command(vault, oid, principal_type)}",
            "Access-policy vault:",
            f"  {access_policy_command(vault, oid)}",
            "(RBAC assignments can take a few minutes to apply.)",
        ]
    )


def classify(exc: BaseException) -> str:
    """forbidden_rbac / forbidden_access_policy / forbidden / not_found / throttled /
    identity / network / other: what a Key Vault call's failure means for the user."""
    try:  # the connections' own classifier when it is there (one copy of this knowledge)
        from odibi_dbx.connections.keyvault import classify_error  # type: ignore[attr-defined]
    except ImportError:
        classify_error = None
    if classify_error is not None:
        kind = _from_shared(classify_error, exc)
        if kind:
            return kind
    name = type(exc).__name__
    status = getattr(exc, "status_code", None)
    text = str(exc)
    if name in ("CredentialUnavailableError", "ClientAuthenticationError") and status is None:
        return "identity"
    if status == 403:
        inner = _inner_code(exc)
        if inner == "ForbiddenByRbac" or "ForbiddenByRbac" in text:
            return "forbidden_rbac"
        if inner == "AccessDenied" or "does not have secrets" in text:
            return "forbidden_access_policy"
        return "forbidden"
    if status == 404 or name == "ResourceNotFoundError":
        return "not_found"
    if status == 429:
        return "throttled"
    if name in ("ServiceRequestError", "ServiceRequestTimeoutError", "ConnectionError"):
        return "network"
    return "other"


def _from_shared(fn, exc: BaseException) -> str | None:
    try:
        got = fn(exc)
    except Exception:
        return None
    kind = getattr(got, "kind", None) or getattr(got, "value", None) or got
    return kind if isinstance(kind, str) else None


def _inner_code(exc: BaseException) -> str | None:
    err = getattr(exc, "error", None)
    inner = getattr(err, "innererror", None)
    return inner.get("code") if isinstance(inner, dict) else None


def next_steps(
    kind: str, vault: Vault, oid: str | None, principal_type: str, secret: str | None = None
) -> list[str]:
    """What to do after a failed Key Vault call."""
    who = oid or "<object-id>"
    v = vault.cli_name
    if kind == "forbidden_rbac":
        return [
            "The vault uses Azure RBAC and the identity has no data-plane role. Run:",
            rbac_command(v, who, principal_type),
        ]
    if kind == "forbidden_access_policy":
        return [
            "The vault uses access policies and the identity has no secret permissions. Run:",
            access_policy_command(v, who),
        ]
    if kind == "forbidden":
        return [
            "Access denied. Check the model, then grant it:",
            which_model_command(v),
            rbac_command(v, who, principal_type),
            access_policy_command(v, who),
        ]
    if kind == "not_found" and secret:
        return [
            f"The secret '{secret}' does not exist in '{vault.label}'. Create it (value from a "
            "file, never on the command line):",
            f"az keyvault secret set --vault-name {v} --name {secret} --file <file-with-the-key>",
            "or fix secret_name in the project.",
        ]
    if kind == "throttled":
        return ["Key Vault throttled the requests (429): wait a minute and run setup again."]
    if kind == "network":
        return [
            f"Could not reach {vault.url}: check the vault name/URL, DNS, private endpoints and "
            "firewall ('az keyvault network-rule list'), and TLS trust (REQUESTS_CA_BUNDLE)."
        ]
    if kind == "identity":
        return ["No identity could get a token: see the identity section above."]
    return []
