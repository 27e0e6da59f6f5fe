"""The base of every config model (project settings here, connection types in their modules):
unknown keys are errors, instances are frozen."""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict


def no_items() -> list[Any]:
    """An empty list per instance: `Field(default_factory=no_items)`. pydantic inspects a
    factory's signature; for the builtins `list` and `dict` that means parsing their text
    signature, which compiles tokenize's large regex (~3 ms of every run). A Python function's
    signature is read directly."""
    return []


def no_options() -> dict[str, Any]:
    """An empty dict per instance (see no_items)."""
    return {}


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class ConnectionModel(Model):
    """A connection type's config model: its module (odibi_dbx.registry.CONNECTION_TYPES)
    subclasses this with `type: Literal["<its tag>"]` and its own fields."""

    type: str
    # advice added to the literal-secret error of this type's SecretStr fields
    secret_hint: ClassVar[str] = ""
