"""Who is calling Azure: decode an access token's claims for display (never for authorization).

The Databricks setup helpers and the Key Vault error advice both show the principal's object id
(`oid`, what grants need), application id (`appid` in v1 tokens, `azp` in v2), tenant (`tid`) and,
for managed identities, the ARM resource id (`xms_mirid`).
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any

VAULT_SCOPE = "https://vault.azure.net/.default"


def jwt_claims(token: str) -> dict[str, Any]:
    """The claims of a JWT, without verifying its signature (display only)."""
    try:
        payload = token.split(".")[1]
        data = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
        claims = json.loads(data)
    except (IndexError, ValueError) as exc:
        raise ValueError("not a JWT (expected header.payload.signature)") from exc
    if not isinstance(claims, dict):
        raise ValueError("JWT payload is not a JSON object")
    return claims


@dataclass(frozen=True)
class Identity:
    object_id: str | None  # use for grants: --object-id / --assignee-object-id
    app_id: str | None
    tenant_id: str | None
    mi_resource_id: str | None = None  # managed identities only
    identity_type: str | None = None  # "app" for app-only tokens

    @classmethod
    def from_claims(cls, claims: dict[str, Any]) -> Identity:
        return cls(
            object_id=claims.get("oid"),
            app_id=claims.get("appid") or claims.get("azp"),
            tenant_id=claims.get("tid"),
            mi_resource_id=claims.get("xms_mirid"),
            identity_type=claims.get("idtyp"),
        )

    @property
    def mi_name(self) -> str | None:
        """The managed identity's name (last segment of xms_mirid), e.g. dbmanagedidentity."""
        return self.mi_resource_id.rstrip("/").rsplit("/", 1)[-1] if self.mi_resource_id else None

    def describe(self) -> str:
        parts = [
            f"object id {self.object_id or '?'}",
            f"application id {self.app_id or '?'}",
            f"tenant {self.tenant_id or '?'}",
        ]
        if self.mi_resource_id:
            parts.append(f"managed identity {self.mi_resource_id}")
        return ", ".join(parts)


def identity_of(credential: Any, scope: str = VAULT_SCOPE) -> Identity:
    """Ask `credential` (any object with get_token) for a token and read who it names."""
    return Identity.from_claims(jwt_claims(credential.get_token(scope).token))
