"""Grant commands and failure advice for a Key Vault: a thin layer over
`odibi_dbx.connections.keyvault`, which holds that knowledge once for the whole toolkit."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from odibi_dbx.connections import keyvault as kv

PLACEHOLDER = "<vault-name>"


@dataclass(frozen=True)
class Vault:
    """A vault as the project names it: `name` for az commands, `url` for the data plane."""

    name: str | None
    url: str

    @classmethod
    def parse(cls, value: str, url: str | None = None) -> Vault:
        """`value` is a vault name or URL; `url` (e.g. key_vault_url) wins for access."""
        if "://" in value:
            name = kv.vault_name(value)
            return cls(None if name == PLACEHOLDER else name, kv.vault_url(key_vault_url=value))
        return cls(value, kv.vault_url(value, url))

    @property
    def label(self) -> str:
        return self.name or self.url

    @property
    def cli_name(self) -> str:
        return self.name or PLACEHOLDER


def which_model_command(vault: str) -> str:
    return f"az keyvault show --name {vault} --query properties.enableRbacAuthorization -o tsv"


def grant_text(vault: str, oid: str, principal_type: str = "ServicePrincipal") -> str:
    """The block the report and notebook print: how to tell the model, then each command."""
    rbac, policy = (_as(c, principal_type) for c in kv.grant_commands(vault, oid))
    return "\n".join(
        [
            f"Grant read access to Key Vault '{vault}' (object id {oid}).",
            "Which permission model does the vault use? (true = Azure RBAC, "
            "false/empty = access policies)",
            f"  {which_model_command(vault)}",
            "Azure RBAC vault:",
            f"  {rbac}",
            "Access-policy vault:",
            f"  {policy}",
            "(RBAC assignments can take a few minutes to apply.)",
        ]
    )


def _as(command: str, principal_type: str) -> str:
    return command.replace(
        "--assignee-principal-type ServicePrincipal", f"--assignee-principal-type {principal_type}"
    )


def advice(
    exc: BaseException,
    vault: Vault,
    *,
    oid: str | None,
    principal_type: str,
    secret: str | None = None,
    user_credential: bool = False,
) -> tuple[str, list[str]]:
    """(kind, next steps) for a failed Key Vault call."""
    c = kv.classify_error(
        exc, vault=vault.name or vault.url, secret=secret, oid=oid, user_credential=user_credential
    )
    return c.kind, [_as(line, principal_type) for line in c.advice.splitlines() if line.strip()]


def client(vault: Vault, credential: Any) -> Any:
    """A SecretClient for setup: the toolkit's own settings, with the SDK's retries on (setup
    has no retry loop of its own)."""
    return kv.secret_client(vault.url, credential, retry_total=3)
