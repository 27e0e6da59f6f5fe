"""The extension points by name: engines and connection types. One entry each, loaded lazily.

A new engine is one module (a subclass of odibi_dbx.engines.base.Engine) plus one line in
ENGINES; a new connection type is one module (a subclass of odibi_dbx.connections.base.Connection,
built as ``cls(name, config, base_dir)``) plus one line in CONNECTION_TYPES, next to its config
model in the ConnectionConfig union of odibi_dbx.config.models. Nothing here imports an engine or
a connection until it is asked for, so `import odibi_dbx` and validation stay light.
"""

from __future__ import annotations

import importlib
from typing import Any

ENGINES: dict[str, str] = {
    "pandas": "odibi_dbx.engines.pandas:PandasEngine",
    "spark": "odibi_dbx.engines.spark:SparkEngine",
}

CONNECTION_TYPES: dict[str, str] = {
    "local": "odibi_dbx.connections.local:LocalConnection",
    "azure_adls": "odibi_dbx.connections.adls:AdlsConnection",
}


def engine_class(name: str) -> Any:
    """The engine class registered as `name` (an OdibiError listing the engines otherwise)."""
    return _load(ENGINES, name, "engine")


def connection_class(type_name: str) -> Any:
    return _load(CONNECTION_TYPES, type_name, "connection type")


def _load(table: dict[str, str], name: str, what: str) -> Any:
    try:
        target = table[name]
    except KeyError:
        from odibi_dbx.errors import OdibiError, did_you_mean

        hint = did_you_mean(name, table) or ""
        raise OdibiError(f"unknown {what} '{name}'; {what}s: {', '.join(table)}. {hint}") from None
    module, _, cls = target.partition(":")
    return getattr(importlib.import_module(module), cls)
