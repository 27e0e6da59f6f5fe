"""Find the identity that reaches Key Vault, trying each route in order and keeping every attempt.

1. a Unity Catalog service credential named by the user (`dbutils.credentials.
   getServiceCredentialsProvider(name)`): the supported route on DBR 16.2+;
2. `DefaultAzureCredential`: on classic compute it reaches the cluster's managed identity
   through IMDS, which works but is not an officially documented route;
3. off Databricks, the developer's own `az login` (AzureCliCredential).

Token claims are decoded WITHOUT verification, for display only.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from odibi_dbx.connections.identity import VAULT_SCOPE, jwt_claims
from odibi_dbx.errors import MissingExtraError

MULTIPLE_IDENTITIES = "Multiple user assigned identities exist"
_CHAIN_LINE = re.compile(r"^\s+(\w+Credential): (.*)$", re.M)
CLAIMS_SHOWN = ("oid", "appid", "azp", "tid", "xms_mirid", "idtyp", "upn", "unique_name")


def token_claims(token: str) -> dict[str, Any]:
    """The JWT's payload, NOT verified: for display, never for authorization."""
    try:
        return jwt_claims(token)
    except ValueError:
        return {}


@dataclass
class Attempt:
    route: str  # "service_credential" / "default_credential" / "developer_login"
    label: str
    ok: bool
    detail: str = ""
    credential: Any = field(default=None, repr=False)
    claims: dict[str, Any] = field(default_factory=dict)
    answered_by: str | None = None  # the credential class inside DefaultAzureCredential

    @property
    def oid(self) -> str | None:
        return self.claims.get("oid")

    @property
    def app_id(self) -> str | None:
        return self.claims.get("appid") or self.claims.get("azp")

    @property
    def is_managed_identity(self) -> bool:
        return "xms_mirid" in self.claims

    @property
    def principal_type(self) -> str:
        """For `az role assignment create --assignee-principal-type`."""
        return (
            "User"
            if self.claims.get("idtyp") == "user" or "upn" in self.claims
            else "ServicePrincipal"
        )

    def shown_claims(self) -> dict[str, Any]:
        return {k: self.claims[k] for k in CLAIMS_SHOWN if k in self.claims}


@dataclass
class IdentityResult:
    attempts: list[Attempt]

    @property
    def chosen(self) -> Attempt | None:
        return next((a for a in self.attempts if a.ok), None)

    @property
    def credential(self) -> Any:
        return self.chosen.credential if self.chosen else None


def _azure_identity() -> Any:  # the azure.identity module
    try:
        import azure.identity as ai
    except ImportError as exc:
        raise MissingExtraError(
            "Finding the Key Vault identity", "azure", "azure-identity"
        ) from exc
    return ai


@contextmanager
def _quiet_azure_logs() -> Iterator[None]:
    """azure-identity logs every failed credential at WARNING; the report says it once."""
    log = logging.getLogger("azure.identity")
    level = log.level
    log.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        log.setLevel(level)


def _probe(route: str, label: str, credential: Any) -> Attempt:
    try:
        with _quiet_azure_logs():
            token = credential.get_token(VAULT_SCOPE)
    except Exception as exc:  # every failure is a finding, reported with its text
        return Attempt(route, label, False, _short(exc))
    inner = getattr(credential, "_successful_credential", None)
    return Attempt(
        route,
        label,
        True,
        credential=credential,
        claims=token_claims(token.token),
        answered_by=type(inner).__name__ if inner is not None else type(credential).__name__,
    )


def _short(exc: BaseException) -> str:
    """One line; for a DefaultAzureCredential chain, the managed identity's answer first."""
    text = str(exc).strip() or type(exc).__name__
    if MULTIPLE_IDENTITIES.lower() in text.lower():
        return f"{type(exc).__name__}: {MULTIPLE_IDENTITIES} (the managed identity must be named)"
    tried = dict(_CHAIN_LINE.findall(text))
    if tried:
        first = (
            "ManagedIdentityCredential"
            if "ManagedIdentityCredential" in tried
            else next(iter(tried))
        )
        why = tried[first].split(". ")[0].strip().rstrip(".")
        others = [n for n in tried if n != first]
        return (f"{first}: {why}" + (f" (also tried: {', '.join(others)})" if others else ""))[:400]
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    return f"{type(exc).__name__}: " + " ".join(lines)[:400]


def find_identity(
    *,
    service_credential: str | None = None,
    dbutils: Any = None,
    client_id: str | None = None,
    on_databricks: bool = False,
    developer_login: bool | None = None,
) -> IdentityResult:
    """Try each route in order; stop at the first that gets a Key Vault token."""
    attempts: list[Attempt] = []
    if service_credential:
        label = f"Unity Catalog service credential '{service_credential}'"
        if dbutils is None or not hasattr(dbutils, "credentials"):
            attempts.append(
                Attempt(
                    "service_credential",
                    label,
                    False,
                    "dbutils.credentials is not available here (Databricks only)",
                )
            )
        else:
            try:
                cred = dbutils.credentials.getServiceCredentialsProvider(service_credential)
            except Exception as exc:
                attempts.append(Attempt("service_credential", label, False, _short(exc)))
            else:
                attempts.append(_probe("service_credential", label, cred))
    if not any(a.ok for a in attempts):
        ai = _azure_identity()
        kwargs = {"managed_identity_client_id": client_id} if client_id else {}
        label = "DefaultAzureCredential" + (
            f" (managed identity client id {client_id})" if client_id else ""
        )
        attempts.append(_probe("default_credential", label, ai.DefaultAzureCredential(**kwargs)))
    if developer_login is None:
        developer_login = not on_databricks
    if developer_login and not any(a.ok for a in attempts):
        ai = _azure_identity()
        attempts.append(
            _probe("developer_login", "developer login (az login)", ai.AzureCliCredential())
        )
    return IdentityResult(attempts)
