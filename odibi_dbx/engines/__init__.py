"""Engines: one module per engine, registered by name in odibi_dbx.registry, loaded when used."""

from __future__ import annotations

from odibi_dbx.engines.base import Engine, EngineCapabilities, ReadSpec, Summary, WriteSpec
from odibi_dbx.registry import ENGINES
from odibi_dbx.registry import engine_class as _engine_class


def engine_class(name: str) -> type[Engine]:
    cls: type[Engine] = _engine_class(name)
    return cls


__all__ = [
    "ENGINES",
    "Engine",
    "EngineCapabilities",
    "ReadSpec",
    "Summary",
    "WriteSpec",
    "engine_class",
]
