"""The two helpers the design notes name, over the setup checks:

from odibi_dbx.setup import get_databricks_identity_info, print_keyvault_setup_instructions
info = get_databricks_identity_info()        # compute, route, object/application/tenant ids
print_keyvault_setup_instructions("acme-kv") # grant commands for both permission models
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from odibi_dbx import runtime
from odibi_dbx.setup.grants import Vault, grant_text, which_model_command
from odibi_dbx.setup.identity import find_identity

OID_PLACEHOLDER = "<object-id>"


@dataclass(frozen=True)
class IdentityInfo:
    """Where we run and which identity reached Key Vault. Ids come from the token's claims,
    decoded WITHOUT verification: for display and grants, never for authorization."""

    runtime: str  # databricks / jupyter / ci / local
    compute: str | None  # classic / standard / serverless on Databricks
    route: str | None  # service_credential / default_credential / developer_login; None: none
    credential: str | None  # e.g. "DefaultAzureCredential", answered by ManagedIdentityCredential
    object_id: str | None  # oid: the id to grant
    application_id: str | None  # appid / azp
    tenant_id: str | None  # tid
    managed_identity: str | None  # xms_mirid: the managed identity's resource id
    principal_type: str  # for az role assignment --assignee-principal-type
    problems: tuple[str, ...] = ()  # why each route that failed did

    @property
    def found(self) -> bool:
        return self.object_id is not None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def get_databricks_identity_info(
    *,
    service_credential: str | None = None,
    client_id: str | None = None,
    dbutils: Any = None,
) -> IdentityInfo:
    """Detect the compute, then find the identity that gets a Key Vault token: a Unity Catalog
    service credential (if named), DefaultAzureCredential (the cluster's managed identity on
    classic compute; off Databricks your login), then the Azure CLI login off Databricks."""
    info = runtime.detect()
    on_dbx = info.kind == "databricks"
    if dbutils is None and service_credential:
        dbutils = runtime.get_dbutils()
    result = find_identity(
        service_credential=service_credential,
        dbutils=dbutils,
        client_id=client_id,
        on_databricks=on_dbx,
    )
    chosen = result.chosen
    claims = chosen.claims if chosen else {}
    return IdentityInfo(
        runtime=info.kind,
        compute=info.compute,
        route=chosen.route if chosen else None,
        credential=(f"{chosen.label}, answered by {chosen.answered_by}" if chosen else None),
        object_id=claims.get("oid"),
        application_id=chosen.app_id if chosen else None,
        tenant_id=claims.get("tid"),
        managed_identity=claims.get("xms_mirid"),
        principal_type=chosen.principal_type if chosen else "ServicePrincipal",
        problems=tuple(f"{a.label}: {a.detail}" for a in result.attempts if not a.ok),
    )


def keyvault_setup_instructions(vault: str, identity: IdentityInfo | None = None) -> str:
    """The grant commands for `vault` (name or URL) and the identity (found when not given)."""
    identity = identity or get_databricks_identity_info()
    v = Vault.parse(vault)
    if identity.found:
        assert identity.object_id is not None
        head = f"Identity: {identity.credential} (tenant {identity.tenant_id})."
        return head + "\n" + grant_text(v.cli_name, identity.object_id, identity.principal_type)
    lines = [
        "No identity could get a Key Vault token here, so the object id is not known:",
        *(f"  - {p}" for p in identity.problems),
        "Find it (the workspace's managed identity on classic compute):",
        "  az identity show -g <workspace-managed-resource-group> -n dbmanagedidentity "
        "--query principalId -o tsv",
        "then run, with that id:",
        grant_text(v.cli_name, OID_PLACEHOLDER),
    ]
    return "\n".join(lines)


def print_keyvault_setup_instructions(vault: str, identity: IdentityInfo | None = None) -> str:
    """Print (and return) the grant commands for `vault`, both permission models: Azure RBAC
    (`az role assignment create --role "Key Vault Secrets User" ...`) and access policies
    (`az keyvault set-policy ... --secret-permissions get list`)."""
    text = keyvault_setup_instructions(vault, identity)
    print(text)  # the point of this helper: notebooks and terminals
    return text


__all__ = [
    "IdentityInfo",
    "get_databricks_identity_info",
    "keyvault_setup_instructions",
    "print_keyvault_setup_instructions",
    "which_model_command",
]
