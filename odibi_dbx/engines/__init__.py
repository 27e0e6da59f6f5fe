"""Engine registry: one module per engine, loaded by name only when used."""

from __future__ import annotations

import importlib

from odibi_dbx.engines.base import Engine, EngineCapabilities, ReadSpec, Summary, WriteSpec

ENGINES: dict[str, str] = {
    "pandas": "odibi_dbx.engines.pandas:PandasEngine",
    "spark": "odibi_dbx.engines.spark:SparkEngine",
}


def engine_class(name: str) -> type[Engine]:
    try:
        target = ENGINES[name]
    except KeyError:
        from odibi_dbx.errors import OdibiError, did_you_mean

        hint = did_you_mean(name, ENGINES) or ""
        raise OdibiError(
            f"unknown engine '{name}'; engines: {', '.join(ENGINES)}. {hint}"
        ) from None
    module, _, cls = target.partition(":")
    return getattr(importlib.import_module(module), cls)


__all__ = [
    "ENGINES",
    "Engine",
    "EngineCapabilities",
    "ReadSpec",
    "Summary",
    "WriteSpec",
    "engine_class",
]
