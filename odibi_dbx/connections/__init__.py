"""Connections by type: one module each (registered in odibi_dbx.registry), built from the
validated config."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from odibi_dbx.connections.base import Connection
from odibi_dbx.registry import connection_class

if TYPE_CHECKING:  # the config models are built from the connection types, not the reverse
    from odibi_dbx.config.models import ProjectConfig


def build_connections(config: ProjectConfig, base_dir: Path) -> dict[str, Connection]:
    """Connection objects for every configured connection (no network: secrets come later)."""
    out: dict[str, Connection] = {}
    for name, cfg in config.connections.items():
        out[name] = connection_class(cfg.type)(name, cfg, base_dir)
    return out


def resolve_secrets(
    connections: dict[str, Connection], credential: Any = None, dbutils: Any = None
) -> None:
    """Fetch every secret the connections need, once, before the first node runs: Key Vault
    secrets in parallel (with `credential`), secret scope keys through dbutils (default: the
    runtime's, see odibi_dbx.runtime.get_dbutils)."""
    needing = [c for c in connections.values() if c.needs_secret]
    scoped = [c for c in needing if getattr(c, "auth_mode", None) == "secret_scope"]
    if scoped:
        from odibi_dbx.connections.secret_scope import fetch_scoped

        fetch_scoped(scoped, dbutils)
    vaulted = [c for c in needing if c not in scoped]
    if vaulted:
        from odibi_dbx.connections.secrets import fetch_all

        fetch_all(vaulted, credential)


__all__ = ["Connection", "build_connections", "resolve_secrets"]
