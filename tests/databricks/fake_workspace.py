"""A small local stand-in for the Databricks workspace REST API, driven by databricks-sdk.

    with FakeWorkspace(scopes=[...]) as ws:
        env: DATABRICKS_HOST=ws.url, DATABRICKS_TOKEN=ws.token, DATABRICKS_CONFIG_FILE=/nonexistent

Routes: SCIM Me (with the X-Databricks-Org-Id header the SDK reads the workspace id from),
secret scopes list, Unity Catalog credentials list. Anything else: 404 like the service.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from tests.azure_fakes._http import BackgroundServer, QuietHandler

ME = "/api/2.0/preview/scim/v2/Me"
SCOPES = "/api/2.0/secrets/scopes/list"
CREDENTIALS = "/api/2.1/unity-catalog/credentials"


class _Handler(QuietHandler):
    server: Any

    def do_GET(self) -> None:
        self.server.owner._handle(self)


class FakeWorkspace(BackgroundServer):
    handler = _Handler

    def __init__(
        self,
        *,
        user: str = "dev@example.com",
        workspace_id: int = 1234567890123456,
        scopes: list[dict[str, Any]] | None = None,
        credentials: list[dict[str, Any]] | None = None,
        token: str = "dapi-fake-token",
    ):
        super().__init__()
        self.user, self.workspace_id, self.token = user, workspace_id, token
        self.scopes = scopes or []
        self.credentials = credentials or []
        self.paths: list[str] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def env(self) -> dict[str, str]:
        return {
            "DATABRICKS_HOST": self.url,
            "DATABRICKS_TOKEN": self.token,
            "DATABRICKS_CONFIG_FILE": "/nonexistent",
        }

    def _handle(self, h: _Handler) -> None:
        path = urlsplit(h.path).path
        self.paths.append(path)
        if path.startswith("/.well-known/"):
            return h.send_json(404, {"error_code": "NOT_FOUND", "message": "no such route"})
        if h.headers.get("Authorization") != f"Bearer {self.token}":
            return h.send_json(401, {"error_code": "UNAUTHENTICATED", "message": "bad token"})
        if path == ME:
            return h.send_json(
                200,
                {"userName": self.user, "displayName": "Dev", "id": "42"},
                {"X-Databricks-Org-Id": str(self.workspace_id)},
            )
        if path == SCOPES:
            return h.send_json(200, {"scopes": self.scopes})
        if path == CREDENTIALS:
            return h.send_json(200, {"credentials": self.credentials})
        return h.send_json(
            404, {"error_code": "ENDPOINT_NOT_FOUND", "message": f"No API for {path}"}
        )
