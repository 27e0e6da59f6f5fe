"""Local HTTPS Key Vault (secrets data plane) for the real azure-keyvault-secrets SecretClient.

    with TokenEndpoint() as t, KeyVault({"adls-key": "..."}) as kv:
        SecretClient(kv.url, DefaultAzureCredential(), verify_challenge_resource=False,
                     connection_verify=str(kv.ca_path)).get_secret("adls-key")

Protocol as the SDK needs it: HTTPS only (azure-core refuses bearer tokens over http); a request
without a bearer token gets the 401 challenge naming the tenant and resource; routes
GET /secrets/{name}[/{version}] and GET /secrets (paged with nextLink). Error bodies follow the
service's shapes so callers can tell RBAC from access-policy vaults (error.innererror.code).
"""

from __future__ import annotations

import shutil
import ssl
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import parse_qs, quote, urlsplit

from ._http import BackgroundServer, QuietHandler, _Server, jwt_claims
from .certs import TlsFiles, make_tls_files

__all__ = ["BEHAVIOURS", "KeyVault"]

BEHAVIOURS = (
    "latency",
    "forbidden_rbac",
    "forbidden_access_policy",
    "not_found",
    "throttle",
    "unavailable",
)
_ROUTES = ("get", "list")


@dataclass
class _Rule:
    behaviour: str
    secret: str | None  # None: any secret (and the list route)
    route: str | None  # "get" / "list" / None = both
    times: int | None  # remaining; None = always
    seconds: float = 0.0  # latency
    retry_after: int = 1  # throttle

    def matches(self, route: str, secret: str | None) -> bool:
        return (self.route in (None, route)) and (self.secret is None or self.secret == secret)


@dataclass
class _Secret:
    value: str
    version: str
    content_type: str | None = None
    enabled: bool = True
    tags: dict[str, str] = field(default_factory=dict)
    created: int = field(default_factory=lambda: int(time.time()))


class _Handler(QuietHandler):
    server: Any

    def do_GET(self) -> None:
        try:
            self.server.owner._handle(self)
        except Exception as exc:  # a bug in the fake must show up as a 500, not a hang
            self.server.owner.errors.append(repr(exc))
            self.send_json(500, {"error": {"code": "FakeError", "message": repr(exc)}})


class KeyVault(BackgroundServer):
    """Fake Key Vault.

    secrets: initial name -> value.
    allowed_oids: when set, a token whose `oid` is not in it gets 403 in `denied_shape`
      ("rbac" or "access_policy").
    page_size: items per page of GET /secrets (the service's default is 25; `maxresults` wins).
    tenant_id: named in the 401 challenge (`authorization="https://login.microsoftonline.com/<tid>"`).
    """

    handler = _Handler
    # every port a fake of this process has served on: the SDK caches each vault's challenge per
    # host:port for the process, so a fake on a used port would see no 401 on its first request
    ports_used: ClassVar[set[int]] = set()

    def __init__(
        self,
        secrets: dict[str, str] | None = None,
        *,
        allowed_oids: set[str] | list[str] | None = None,
        denied_shape: str = "rbac",
        page_size: int = 25,
        tenant_id: str = "72f988bf-0000-4000-8000-00000000a11e",
        vault_name: str = "kv-odibi-test",
        tls: TlsFiles | None = None,
        port: int = 0,
    ) -> None:
        self._own_tls = tls is None
        self.tls = tls or make_tls_files()
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(self.tls.cert_path, self.tls.key_path)
        super().__init__(port, ctx)
        self.allowed_oids = set(allowed_oids) if allowed_oids is not None else None
        self.denied_shape = denied_shape
        self.page_size = page_size
        self.tenant_id = tenant_id
        self.vault_name = vault_name
        self._lock = threading.Lock()
        self._secrets: dict[str, list[_Secret]] = {}
        self._rules: list[_Rule] = []
        self.counts: Counter[tuple[str, str | None]] = Counter()  # (route, secret) -> requests
        self.log: list[dict[str, Any]] = []
        self.errors: list[str] = []
        self._in_flight = 0
        self.max_in_flight = 0  # highest number of concurrent authenticated requests seen
        for name, value in (secrets or {}).items():
            self.set_secret(name, value)

    # -- state -----------------------------------------------------------------------------------
    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}/"

    @property
    def ca_path(self) -> Path:
        return self.tls.ca_path

    @property
    def env(self) -> dict[str, str]:
        """TLS trust for clients that take it from the environment (requests / OpenSSL)."""
        return {"REQUESTS_CA_BUNDLE": str(self.ca_path), "SSL_CERT_FILE": str(self.ca_path)}

    def _bind(self) -> _Server:
        if self._port:  # the caller chose the port
            return super()._bind()
        held: list[_Server] = []  # kept bound so the kernel hands out another port
        try:
            while (httpd := super()._bind()).server_address[1] in KeyVault.ports_used:
                held.append(httpd)
        finally:
            for used in held:
                used.server_close()
        KeyVault.ports_used.add(httpd.server_address[1])
        return httpd

    def stop(self) -> None:
        super().stop()
        if self._own_tls:
            shutil.rmtree(self.tls.ca_path.parent, ignore_errors=True)

    def set_secret(
        self,
        name: str,
        value: str,
        *,
        content_type: str | None = None,
        enabled: bool = True,
        tags: dict[str, str] | None = None,
    ) -> str:
        """Add a new (current) version of a secret; returns the version id."""
        version = uuid.uuid4().hex
        with self._lock:
            self._secrets.setdefault(name, []).append(
                _Secret(value, version, content_type, enabled, dict(tags or {}))
            )
        return version

    def delete_secret(self, name: str) -> None:
        with self._lock:
            self._secrets.pop(name, None)

    def inject(
        self,
        behaviour: str,
        *,
        secret: str | None = None,
        route: str | None = None,
        times: int | None = None,
        seconds: float = 0.0,
        retry_after: int = 1,
    ) -> None:
        """Make matching requests misbehave: for the next `times` of them, or always (None).

        behaviour: latency (sleep `seconds`, then answer normally; combines with the others),
          forbidden_rbac / forbidden_access_policy (403), not_found (404 SecretNotFound),
          throttle (429 + Retry-After: `retry_after`), unavailable (503).
        secret: only requests for this secret (None = all, including the list route).
        route: "get" / "list" / None (both).
        """
        if behaviour not in BEHAVIOURS:
            raise ValueError(f"unknown behaviour {behaviour!r}; one of {BEHAVIOURS}")
        if route not in (None, *_ROUTES):
            raise ValueError(f"route must be one of {_ROUTES} or None")
        with self._lock:
            self._rules.append(_Rule(behaviour, secret, route, times, seconds, retry_after))

    def clear_injections(self) -> None:
        with self._lock:
            self._rules.clear()

    def count(self, route: str | None = None, secret: str | None = None) -> int:
        """Authenticated requests, optionally filtered by route and/or secret."""
        with self._lock:
            return sum(
                n for (r, s), n in self.counts.items() if route in (None, r) and secret in (None, s)
            )

    def reset(self) -> None:
        with self._lock:
            self.counts.clear()
            self.log.clear()
            self._rules.clear()
            self.errors.clear()
            self.max_in_flight = 0

    # -- serving ---------------------------------------------------------------------------------
    def _take_rules(self, route: str, secret: str | None) -> list[_Rule]:
        taken = []
        with self._lock:
            for rule in list(self._rules):
                if rule.matches(route, secret):
                    if rule.behaviour != "latency" and any(r.behaviour != "latency" for r in taken):
                        continue  # one failure per request; the next rule waits its turn
                    taken.append(rule)
                    if rule.times is not None:
                        rule.times -= 1
                        if rule.times <= 0:
                            self._rules.remove(rule)
        return taken

    def _handle(self, h: _Handler) -> None:
        parts = urlsplit(h.path)
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        segs = [s for s in parts.path.split("/") if s]
        route, secret, version = "other", None, None
        if segs[:1] == ["secrets"] and len(segs) == 1:
            route = "list"
        elif segs[:1] == ["secrets"] and len(segs) in (2, 3):
            route, secret = "get", segs[1]
            version = segs[2] if len(segs) == 3 else None
        entry: dict[str, Any] = {
            "route": route,
            "secret": secret,
            "path": h.path,
            "api_version": query.get("api-version"),
            "oid": None,
            "start": time.time(),
        }
        status, body, headers = self._dispatch(h, route, secret, version, query, entry)
        entry.update(status=status, end=time.time())
        with self._lock:
            self.log.append(entry)
        h.send_json(status, body, headers)

    def _dispatch(self, h, route, secret, version, query, entry):
        if "api-version" not in query:
            return 400, _err("BadParameter", "The 'api-version' query parameter is missing."), {}
        auth = h.headers.get("Authorization", "")
        if not auth.startswith("Bearer "):
            return (
                401,
                _err("Unauthorized", "AKV10000: Request is missing a Bearer or PoP token."),
                {"WWW-Authenticate": self._challenge()},
            )
        try:
            claims = jwt_claims(auth[7:])
        except Exception:
            return (
                401,
                _err("Unauthorized", "AKV10021: Invalid token format."),
                {"WWW-Authenticate": self._challenge()},
            )
        entry["oid"] = claims.get("oid")
        aud = str(claims.get("aud", "")).rstrip("/")
        if aud not in ("https://vault.azure.net", "https://vault.azure.net/.default"):
            return (
                401,
                _err(
                    "Unauthorized",
                    f"AKV10022: Invalid audience. Expected https://vault.azure.net, found: {aud}.",
                ),
                {"WWW-Authenticate": self._challenge()},
            )
        if route == "other":
            return 400, _err("BadParameter", "Unknown route"), {}

        with self._lock:
            self.counts[(route, secret)] += 1
            self._in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self._in_flight)
        try:
            failure = None
            for rule in self._take_rules(route, secret):
                if rule.behaviour == "latency":
                    time.sleep(rule.seconds)
                else:
                    failure = rule
            if failure is not None:
                return self._failure(failure, claims, route, secret)
            if self.allowed_oids is not None and claims.get("oid") not in self.allowed_oids:
                shape = (
                    "forbidden_rbac" if self.denied_shape == "rbac" else "forbidden_access_policy"
                )
                return self._failure(_Rule(shape, None, None, None), claims, route, secret)
            if route == "list":
                return 200, self._list_page(query), {}
            return self._get(secret, version)
        finally:
            with self._lock:
                self._in_flight -= 1

    def _challenge(self) -> str:
        return (
            f'Bearer authorization="https://login.microsoftonline.com/{self.tenant_id}", '
            f'resource="https://vault.azure.net"'
        )

    def _vault_ref(self) -> str:
        return f"{self.vault_name};location=westeurope"

    def _failure(self, rule: _Rule, claims: dict[str, Any], route: str, secret: str | None):
        action = "getSecret" if route == "get" else "readMetadata"
        perm = "get" if route == "get" else "list"
        caller = f"appid={claims.get('appid')};oid={claims.get('oid')};iss={claims.get('iss')}"
        if rule.behaviour == "forbidden_rbac":
            scope = (
                f"/subscriptions/00000000-0000-4000-8000-000000000000/resourcegroups/rg-odibi"
                f"/providers/microsoft.keyvault/vaults/{self.vault_name}"
            )
            if secret:
                scope += f"/secrets/{secret}"
            msg = (
                "Caller is not authorized to perform action on resource.\r\nIf role assignments, "
                "deny assignments or role definitions were changed recently, please observe "
                f"propagation time.\r\nCaller: {caller}\r\n"
                f"Action: 'Microsoft.KeyVault/vaults/secrets/{action}/action'\r\n"
                f"Resource: '{scope}'\r\nAssignment: (not found)\r\nDenyAssignmentId: null\r\n"
                f"DecisionReason: null \r\nVault: {self._vault_ref()}\r\n"
            )
            return 403, _err("Forbidden", msg, "ForbiddenByRbac"), {}
        if rule.behaviour == "forbidden_access_policy":
            msg = (
                f"The user, group or application '{caller}' does not have secrets {perm} "
                f"permission on key vault '{self._vault_ref()}'. For help resolving this "
                "issue, please see https://go.microsoft.com/fwlink/?linkid=2125287"
            )
            return 403, _err("Forbidden", msg, "AccessDenied"), {}
        if rule.behaviour == "not_found":
            return self._not_found(secret)
        if rule.behaviour == "throttle":
            return (
                429,
                _err(
                    "Throttled",
                    "Request was not processed because too many requests "
                    "were received. Reason: VaultRequestTypeLimitReached",
                ),
                {"Retry-After": str(rule.retry_after)},
            )
        return 503, _err("ServiceUnavailable", "The service is temporarily unavailable."), {}

    def _not_found(self, secret: str | None):
        return (
            404,
            _err(
                "SecretNotFound",
                f"A secret with (name/id) {secret} was not found in "
                "this key vault. If you recently deleted this secret you may be able to "
                "recover it using the correct recovery command. For help resolving this "
                "issue, please see https://go.microsoft.com/fwlink/?linkid=2125182",
            ),
            {},
        )

    def _attributes(self, s: _Secret) -> dict[str, Any]:
        return {
            "enabled": s.enabled,
            "created": s.created,
            "updated": s.created,
            "recoveryLevel": "Recoverable+Purgeable",
            "recoverableDays": 90,
        }

    def _get(self, name: str, version: str | None):
        with self._lock:
            versions = list(self._secrets.get(name, []))
        match = [v for v in versions if version in (None, v.version)]
        if not match:
            return self._not_found(name if version is None else f"{name}/{version}")
        s = match[-1]
        if not s.enabled:
            return (
                403,
                _err(
                    "Forbidden",
                    "Operation get is not allowed on a disabled secret.",
                    "SecretDisabled",
                ),
                {},
            )
        body: dict[str, Any] = {
            "value": s.value,
            "id": f"{self.url}secrets/{name}/{s.version}",
            "attributes": self._attributes(s),
            "tags": s.tags,
        }
        if s.content_type:
            body["contentType"] = s.content_type
        return 200, body, {}

    def _list_page(self, query: dict[str, str]) -> dict[str, Any]:
        size = int(query.get("maxresults") or self.page_size)
        skip = int(query.get("$skiptoken") or 0)
        with self._lock:
            items = sorted((n, v[-1]) for n, v in self._secrets.items())
        page = items[skip : skip + size]
        value = []
        for name, s in page:
            item: dict[str, Any] = {
                "id": f"{self.url}secrets/{name}",
                "attributes": self._attributes(s),
                "tags": s.tags,
            }
            if s.content_type:
                item["contentType"] = s.content_type
            value.append(item)
        next_link = None
        if skip + size < len(items):
            next_link = (
                f"{self.url}secrets?api-version={quote(query['api-version'])}"
                f"&$skiptoken={skip + size}&maxresults={size}"
            )
        return {"value": value, "nextLink": next_link}


def _err(code: str, message: str, inner: str | None = None) -> dict[str, Any]:
    error: dict[str, Any] = {"code": code, "message": message}
    if inner:
        error["innererror"] = {"code": inner}
    return {"error": error}
