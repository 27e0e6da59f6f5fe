"""Local managed-identity token endpoint (IMDS and App Service routes) issuing fake JWTs.

    with TokenEndpoint(claims={"oid": "..."}) as t:
        monkeypatch / os.environ: apply t.env and remove t.unset_env
        DefaultAzureCredential().get_token("https://vault.azure.net/.default")

IMDS route (what Databricks classic compute uses): `AZURE_POD_IDENTITY_AUTHORITY_HOST` makes
azure-identity/msal call `{host}/metadata/identity/oauth2/token` instead of 169.254.169.254, and
skips the 1 s IMDS probe. `AZURE_TOKEN_CREDENTIALS` keeps DefaultAzureCredential away from the
az CLI / VS Code / shared cache on dev boxes. The variables in UNSET_ENV must be absent: IDENTITY_*
and MSI_* would select another managed-identity source, AZURE_CLIENT_ID changes the IMDS request
(user-assigned identity), and AZURE_TENANT_ID/CLIENT_SECRET/... would let EnvironmentCredential
or WorkloadIdentityCredential answer first.

Tokens are well-formed JWTs (RS256 header, v1 claims) with a random signature: decodable, never
verifiable. Decode with `jwt_claims(token)`.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import threading
import time
from collections import Counter
from typing import Any
from urllib.parse import parse_qs, urlsplit

from ._http import BackgroundServer, QuietHandler, jwt_claims

__all__ = ["DEFAULT_CLAIMS", "UNSET_ENV", "TokenEndpoint", "jwt_claims", "make_jwt"]

DEFAULT_CLAIMS: dict[str, Any] = {
    "tid": "72f988bf-0000-4000-8000-00000000a11e",
    "oid": "0d1b1e2a-0000-4000-8000-0000000000a1",
    "appid": "a99c1b2c-0000-4000-8000-0000000000c1",
    "xms_mirid": (
        "/subscriptions/00000000-0000-4000-8000-000000000000/resourcegroups/databricks-rg-odibi"
        "/providers/Microsoft.ManagedIdentity/userAssignedIdentities/dbmanagedidentity"
    ),
    "idtyp": "app",
}

UNSET_ENV: tuple[str, ...] = (
    "AZURE_CLIENT_ID",
    "AZURE_TENANT_ID",
    "AZURE_CLIENT_SECRET",
    "AZURE_CLIENT_CERTIFICATE_PATH",
    "AZURE_CLIENT_CERTIFICATE_PASSWORD",
    "AZURE_USERNAME",
    "AZURE_PASSWORD",
    "AZURE_FEDERATED_TOKEN_FILE",
    "AZURE_AUTHORITY_HOST",
    "IDENTITY_ENDPOINT",
    "IDENTITY_HEADER",
    "IDENTITY_SERVER_THUMBPRINT",
    "IMDS_ENDPOINT",
    "MSI_ENDPOINT",
    "MSI_SECRET",
)

IMDS_PATH = "/metadata/identity/oauth2/token"
APP_SERVICE_PATH = "/msi/token"
MULTIPLE_IDENTITIES = (
    "Multiple user assigned identities exist, please specify the clientId / resourceId of the "
    "identity in the token request"
)
_SELECTORS = ("client_id", "object_id", "msi_res_id", "mi_res_id", "principal_id")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def make_jwt(claims: dict[str, Any]) -> str:
    header = {"typ": "JWT", "alg": "RS256", "kid": "odibi-fake"}
    return ".".join(
        [
            _b64(json.dumps(header).encode()),
            _b64(json.dumps(claims).encode()),
            _b64(secrets.token_bytes(64)),
        ]
    )


class _Handler(QuietHandler):
    server: Any

    def do_GET(self) -> None:
        self.server.owner._handle(self)


class TokenEndpoint(BackgroundServer):
    """Fake IMDS + App Service token endpoint.

    claims: merged over DEFAULT_CLAIMS (a value of None removes the claim); `aud` defaults to the
      requested resource and `iss` to https://sts.windows.net/<tid>/.
    identities: claims per selector value (client_id / object_id / msi_res_id), used when the
      request names a user-assigned identity; an unknown selector gets 400 like IMDS.
    multiple_identities: answer 400 "Multiple user assigned identities exist..." when the request
      names no identity (a VM/cluster with several user-assigned identities).
    credentials: value for AZURE_TOKEN_CREDENTIALS ("ManagedIdentityCredential" or "prod").
    """

    handler = _Handler

    def __init__(
        self,
        claims: dict[str, Any] | None = None,
        *,
        identities: dict[str, dict[str, Any]] | None = None,
        multiple_identities: bool = False,
        expires_in: int = 3600,
        credentials: str = "ManagedIdentityCredential",
        identity_header: str = "odibi-fake-identity-header",
        port: int = 0,
    ) -> None:
        super().__init__(port)
        self.claims = {**DEFAULT_CLAIMS, **(claims or {})}
        self.identities = dict(identities or {})
        self.multiple_identities = multiple_identities
        self.expires_in = expires_in
        self.credentials = credentials
        self.identity_header = identity_header
        self._lock = threading.Lock()
        self._failure: tuple[int, int | None] | None = None
        self.counts: Counter[str] = Counter()  # "imds" / "app_service" / "other"
        self.requests: list[dict[str, Any]] = []  # {"route","query","headers","status"}
        self.issued: list[str] = []

    # -- configuration -------------------------------------------------------------------------
    def fail(self, status: int | str | None, times: int | None = None) -> None:
        """Inject a failure for the next `times` requests (None = until cleared).

        status: an HTTP status (400 = "multiple identities" body, 500, 503, ...), "refused"
        (stop listening: connection refused; `fail(None)` listens again on the same port) or None.
        """
        if status == "refused":
            self.stop()
            return
        if status is None:
            with self._lock:
                self._failure = None
            if not self.running:
                self.start()
            return
        with self._lock:
            self._failure = (int(status), times)

    @property
    def request_count(self) -> int:
        return sum(self.counts.values())

    def reset(self) -> None:
        with self._lock:
            self.counts.clear()
            self.requests.clear()
            self.issued.clear()
            self._failure = None

    # -- env -------------------------------------------------------------------------------------
    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def env(self) -> dict[str, str]:
        """Variables for the IMDS route; also remove every name in `unset_env`."""
        return {
            "AZURE_POD_IDENTITY_AUTHORITY_HOST": self.url,
            "AZURE_TOKEN_CREDENTIALS": self.credentials,
        }

    @property
    def app_service_env(self) -> dict[str, str]:
        """Variables for the App Service route (IDENTITY_ENDPOINT + IDENTITY_HEADER)."""
        return {
            "IDENTITY_ENDPOINT": self.url + APP_SERVICE_PATH,
            "IDENTITY_HEADER": self.identity_header,
            "AZURE_TOKEN_CREDENTIALS": self.credentials,
        }

    unset_env = UNSET_ENV

    def apply_env(self, monkeypatch: Any, *, app_service: bool = False) -> None:
        """Set the env on a pytest MonkeyPatch (or anything with setenv/delenv)."""
        for name in UNSET_ENV:
            monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv("AZURE_POD_IDENTITY_AUTHORITY_HOST", raising=False)
        for k, v in (self.app_service_env if app_service else self.env).items():
            monkeypatch.setenv(k, v)

    def env_for_subprocess(self, base: dict[str, str] | None = None) -> dict[str, str]:
        env = {
            k: v for k, v in (os.environ if base is None else base).items() if k not in UNSET_ENV
        }
        env.update(self.env)
        return env

    # -- serving ---------------------------------------------------------------------------------
    def _handle(self, h: _Handler) -> None:
        parts = urlsplit(h.path)
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        route = {IMDS_PATH: "imds", APP_SERVICE_PATH: "app_service"}.get(parts.path, "other")
        status, body = self._respond(route, query, h.headers)
        with self._lock:
            self.counts[route] += 1
            self.requests.append(
                {"route": route, "query": query, "headers": dict(h.headers), "status": status}
            )
        h.send_json(status, body)

    def _respond(self, route: str, query: dict[str, str], headers: Any) -> tuple[int, Any]:
        if route == "other":
            return 404, {"error": "not_found", "error_description": "no such route"}
        if route == "imds" and headers.get("Metadata", "").lower() != "true":
            return 400, {
                "error": "invalid_request",
                "error_description": "Required metadata header not specified",
            }
        if route == "app_service" and headers.get("X-IDENTITY-HEADER") != self.identity_header:
            return 401, {"statusCode": 401, "message": "Unauthorized: missing X-IDENTITY-HEADER"}
        with self._lock:
            failure = self._failure
            if failure is not None:
                status, times = failure
                if times is not None:
                    self._failure = (status, times - 1) if times > 1 else None
        if failure is not None:
            if failure[0] == 400:
                return 400, {"error": "invalid_request", "error_description": MULTIPLE_IDENTITIES}
            return failure[0], {
                "error": "unknown_error",
                "error_description": f"Injected failure {failure[0]}",
            }
        resource = query.get("resource")
        if not resource:
            return 400, {
                "error": "invalid_resource",
                "error_description": "AADSTS50001: resource is required",
            }
        selector = next((query[k] for k in _SELECTORS if query.get(k)), None)
        if selector is None and self.multiple_identities:
            return 400, {"error": "invalid_request", "error_description": MULTIPLE_IDENTITIES}
        if selector is not None and self.identities:
            if selector not in self.identities:
                return 400, {"error": "invalid_request", "error_description": "Identity not found"}
            base = {**self.claims, **self.identities[selector]}
        else:
            base = dict(self.claims)
        now = int(time.time())
        claims = {
            "aud": resource,
            "iss": f"https://sts.windows.net/{base.get('tid')}/",
            "iat": now,
            "nbf": now,
            "exp": now + self.expires_in,
            "ver": "1.0",
            **base,
        }
        claims = {k: v for k, v in claims.items() if v is not None}
        token = make_jwt(claims)
        with self._lock:
            self.issued.append(token)
        body = {
            "access_token": token,
            "refresh_token": "",
            "expires_on": str(now + self.expires_in),
            "not_before": str(now),
            "resource": resource,
            "token_type": "Bearer",
        }
        if route == "imds":
            body["expires_in"] = str(self.expires_in)  # IMDS sends strings
            body["ext_expires_in"] = str(self.expires_in)
        else:
            body["client_id"] = claims.get("appid", "")
        return 200, body
