"""Shared plumbing for the stdlib fakes: a threaded HTTP(S) server on 127.0.0.1."""

from __future__ import annotations

import base64
import json
import socket
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def jwt_claims(token: str) -> dict[str, Any]:
    """Decode a JWT payload WITHOUT verifying it (test display/authorization of fakes only)."""
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64
    ssl_context: ssl.SSLContext | None = None

    def finish_request(self, request, client_address):
        # TLS handshake in the per-connection thread, so one slow client cannot block accept().
        if self.ssl_context is None:
            return super().finish_request(request, client_address)
        tls = self.ssl_context.wrap_socket(request, server_side=True)
        try:
            self.RequestHandlerClass(tls, client_address, self)
        finally:
            tls.close()

    def handle_error(self, request, client_address) -> None:
        pass  # clients that drop connections or fail TLS are not our business


class QuietHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, like the real services

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def send_json(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body).encode() if body is not None else b""
        self.send_response(status)
        if body is not None:
            self.send_header("Content-Type", "application/json; charset=utf-8")
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if data and self.command != "HEAD":
            self.wfile.write(data)


class BackgroundServer:
    """Serve `handler` on 127.0.0.1 in a daemon thread; handlers reach us as `self.server.owner`."""

    handler: type[BaseHTTPRequestHandler]

    def __init__(self, port: int = 0, ssl_context: ssl.SSLContext | None = None) -> None:
        self._port = port
        self._ssl_context = ssl_context
        self._httpd: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        if not self._port:
            raise RuntimeError(f"{type(self).__name__} is not started")
        return self._port

    @property
    def running(self) -> bool:
        return self._httpd is not None

    def start(self):
        if self._httpd is not None:
            return self
        httpd = self._bind()
        httpd.ssl_context = self._ssl_context
        httpd.owner = self  # type: ignore[attr-defined]
        self._port = httpd.server_address[1]
        self._httpd = httpd
        self._thread = threading.Thread(
            target=httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            daemon=True,
            name=f"{type(self).__name__}:{self._port}",
        )
        self._thread.start()
        return self

    def _bind(self) -> _Server:
        return _Server(("127.0.0.1", self._port), self.handler)

    def stop(self) -> None:
        httpd, self._httpd = self._httpd, None
        if httpd is not None:
            httpd.shutdown()
            httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
