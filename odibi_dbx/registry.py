"""The extension points by name: engines and connection types. One entry each, loaded lazily.

A new engine is one module (a subclass of odibi_dbx.engines.base.Engine) plus one line in
ENGINES; what validation asks of it (EngineChecks: name, capabilities, SQL it refuses) may live
in a light module of its own, so that validating loads none of the engine's libraries.
A new connection type is one module plus one line in CONNECTION_TYPES (or a call to
`register_connection_type`): a subclass of odibi_dbx.connections.base.Connection, built as
``cls(name, config, base_dir)``, whose `config_model` (a odibi_dbx.config.base.ConnectionModel
tagged `type: Literal["<name>"]`) the project config's connection union is built from. That
module holds everything of the type: config, credentials, options per engine, writer lock and
remote commit. Engines load only when asked for, so `import odibi_dbx` stays light.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any, NamedTuple, get_args


class EngineEntry(NamedTuple):
    engine: str  # "module:Class", the Engine subclass
    checks: str  # "module:Class", the EngineChecks it derives from (validation loads only this)


ENGINES: dict[str, EngineEntry] = {
    "pandas": EngineEntry(
        "odibi_dbx.engines.pandas:PandasEngine", "odibi_dbx.engines.pandas_checks:PandasChecks"
    ),
    "spark": EngineEntry(
        "odibi_dbx.engines.spark:SparkEngine", "odibi_dbx.engines.spark:SparkEngine"
    ),
}

CONNECTION_TYPES: dict[str, str] = {
    "local": "odibi_dbx.connections.local:LocalConnection",
    "azure_adls": "odibi_dbx.connections.adls:AdlsConnection",
}


def engine_class(name: str) -> Any:
    """The engine class registered as `name` (an OdibiError listing the engines otherwise)."""
    return _load({k: e.engine for k, e in ENGINES.items()}, name, "engine")


def engine_checks(name: str) -> Any:
    """What validation asks of the engine `name` (its EngineChecks), without loading the engine."""
    return _load({k: e.checks for k, e in ENGINES.items()}, name, "engine")


def connection_class(type_name: str) -> Any:
    return _load(CONNECTION_TYPES, type_name, "connection type")


def connection_configs() -> dict[str, Any]:
    """type tag -> config model of every registered connection type (imports their modules:
    connection modules import no engine and no Azure SDK at module level)."""
    out = {}
    for name in CONNECTION_TYPES:
        model = connection_class(name).config_model
        tag = get_args(model.model_fields["type"].annotation)
        if tag != (name,):
            raise TypeError(
                f"connection type '{name}': {model.__name__}.type must be Literal['{name}']"
            )
        out[name] = model
    return out


def register_connection_type(name: str, target: str) -> None:
    """Add a connection type ("package.module:ConnectionClass") at run time, e.g. from a plugin
    or a test; project configs loaded afterwards accept `type: <name>`."""
    CONNECTION_TYPES[name] = target
    models = sys.modules.get("odibi_dbx.config.models")
    if models is not None:  # already built: rebuild its connection union
        models.refresh_connection_types()


def _load(table: dict[str, str], name: str, what: str) -> Any:
    try:
        target = table[name]
    except KeyError:
        from odibi_dbx.errors import OdibiError, did_you_mean

        hint = did_you_mean(name, table) or ""
        raise OdibiError(f"unknown {what} '{name}'; {what}s: {', '.join(table)}. {hint}") from None
    module, _, cls = target.partition(":")
    return getattr(importlib.import_module(module), cls)
