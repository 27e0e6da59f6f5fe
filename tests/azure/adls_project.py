"""Helpers for the ADLS tests: connection objects and project files over the fakes."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
CLI = [sys.executable, "-m", "odibi_dbx"]


def uid(prefix: str) -> str:
    """A unique container name (3-63 lowercase letters/digits)."""
    return f"{prefix}{uuid.uuid4().hex[:10]}"


def adls_config(**fields: Any):
    from odibi_dbx.connections.adls import AdlsConnectionConfig

    fields.setdefault("type", "azure_adls")
    fields.setdefault("container", "data")
    return AdlsConnectionConfig(**fields)


def kv_connection(name: str, vault_url: str, secret: str, account: str = "acct", **kw: Any):
    from odibi_dbx.connections.adls import AdlsConnection

    return AdlsConnection(
        name, adls_config(account=account, key_vault_url=vault_url, secret_name=secret, **kw)
    )


def key_connection(name: str, account: str, key: str, **kw: Any):
    from odibi_dbx.connections.adls import AdlsConnection

    return AdlsConnection(
        name, adls_config(account=account, auth_mode="direct_key", account_key=key, **kw)
    )


def container_connection(acct: Any, prefix: str, name: str = "lake") -> tuple[Any, str]:
    """A new container on an Azurite account, and a direct-key connection `name` to it."""
    container = uid(prefix)
    acct.create_container(container)
    conn = key_connection(
        name, acct.name, acct.key, container=container, endpoint=acct.blob_endpoint
    )
    return conn, container


def write_project(folder: Path, body: str) -> Path:
    path = folder / "project.yaml"
    path.write_text(textwrap.dedent(body).lstrip())
    return path


def run_cli(args: list[str], env: dict[str, str], cwd: Path, timeout: int = 180):
    """`python -m odibi_dbx ...` in a subprocess, from a folder other than the project's."""
    env = {**env, "PYTHONPATH": str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")}
    return subprocess.run(
        [*CLI, *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout
    )
