"""Bounded failure against real Azure SDK clients: a storage endpoint answering 503 is retried
only by our loop (the SDK's own retries are off), within retry.max_seconds, every attempt in
the story; a refused connection fails at once."""

from __future__ import annotations

import json
import socket
import threading
from pathlib import Path

import pytest

from tests.azure.adls_project import run_cli, write_project
from tests.azure_fakes._http import BackgroundServer, QuietHandler

pytestmark = pytest.mark.azure
KEY = "b2RpYmktdGVzdC1rZXktbm90LWEtcmVhbC1vbmU="


class Unavailable(BackgroundServer):
    """Answers every request with 503, counting them."""

    def __init__(self) -> None:
        super().__init__()
        self.requests = 0
        self.lock = threading.Lock()

    class handler(QuietHandler):
        def _answer(self) -> None:
            with self.server.owner.lock:  # type: ignore[attr-defined]
                self.server.owner.requests += 1  # type: ignore[attr-defined]
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                self.rfile.read(length)
            self.send_json(503, {"error": "ServerBusy"})

        do_GET = do_HEAD = do_PUT = do_POST = do_DELETE = _answer


@pytest.fixture
def unavailable():
    with Unavailable() as server:
        yield server


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _run(tmp_path: Path, endpoint: str, retry: str):
    project = write_project(
        tmp_path,
        f"""
        project: bounded
        connections:
          raw: {{type: local, base_path: ./data}}
          lake:
            type: azure_adls
            account: acct
            container: data
            auth_mode: direct_key
            account_key: "${{LAKE_KEY}}"
            endpoint: "{endpoint}"
        story: {{connection: raw, path: stories/}}
        retry: {retry}
        pipelines:
          - pipeline: p
            nodes:
              - name: orders
                read: {{connection: lake, path: orders.csv}}
        """,
    )
    r = run_cli(["run", str(project)], env={"LAKE_KEY": KEY}, cwd=tmp_path, timeout=60)
    assert r.returncode == 1, r.stderr
    stories = (tmp_path / "data" / "stories").glob("*.json")
    story = json.loads(next(p for p in stories if not p.name.startswith("_")).read_text())
    return r, story["nodes"][0]


def test_503_is_retried_by_our_loop_only_and_every_attempt_is_in_the_story(unavailable, tmp_path):
    r, node = _run(
        tmp_path,
        f"http://127.0.0.1:{unavailable.port}/acct",
        "{max_attempts: 3, backoff: constant, initial_delay: 0.1}",
    )
    assert node["attempts"] == 3
    outcomes = [a["outcome"] for a in node["retries"]]
    assert outcomes == ["retried", "retried", "gave up: all 3 attempts failed"], node["retries"]
    assert all(a["error"].endswith("Service Unavailable") for a in node["retries"])
    # one request per storage call: the SDK does not retry inside each of our attempts
    assert 3 <= unavailable.requests <= 3 * 3, unavailable.requests
    assert "gave up after 3 attempts" in r.stderr and "the story lists every attempt" in r.stderr


def test_retries_stop_at_the_time_budget(unavailable, tmp_path):
    _, node = _run(
        tmp_path,
        f"http://127.0.0.1:{unavailable.port}/acct",
        "{max_attempts: 20, backoff: constant, initial_delay: 0.5, max_seconds: 5}",
    )
    assert 2 <= node["attempts"] < 12, node["retries"]
    assert node["retries"][-1]["outcome"] == "gave up: the retry time budget would be exceeded"
    assert "retry.max_seconds 5" in node["error"]["hint"]


def test_refused_connection_fails_at_once(tmp_path):
    r, node = _run(
        tmp_path,
        f"http://127.0.0.1:{_closed_port()}/acct",
        "{max_attempts: 5, backoff: constant, initial_delay: 1}",
    )
    assert node["attempts"] == 1 and node["retries"] == []
    assert "connection was refused" in node["error"]["hint"]
    assert "refused connections are not retried" in r.stderr
