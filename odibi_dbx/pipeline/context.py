"""What a Python function step receives as `context`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from odibi_dbx.errors import did_you_mean


class Context:
    """``context.get(name)`` returns a node's output as the engine's DataFrame
    (pandas on the Pandas engine, a Spark DataFrame on Spark). Inside a node, ``"this"`` is the
    previous step's result (or the node's read)."""

    def __init__(
        self, node: str, frames: dict[str, Any], to_user: Callable[[Any], Any], engine: Any
    ):
        self.node = node
        self._frames = frames
        self._to_user = to_user
        self._cache: dict[str, Any] = {}
        self.engine = engine.name
        self.spark = getattr(engine, "spark", None)

    def get(self, name: str) -> Any:
        if name not in self._frames:
            hint = did_you_mean(name, self._frames) or (
                f"visible: {', '.join(sorted(self._frames))}" if self._frames else "no inputs"
            )
            raise KeyError(
                f"node '{self.node}' cannot see '{name}' ({hint}); "
                "a function sees the nodes its node depends on"
            )
        if name not in self._cache:
            self._cache[name] = self._to_user(self._frames[name])
        return self._cache[name]

    def names(self) -> list[str]:
        return sorted(self._frames)

    def __contains__(self, name: str) -> bool:
        return name in self._frames

    def __repr__(self) -> str:
        return f"<Context node={self.node!r} inputs={self.names()}>"
