"""The base of every config model (project settings here, connection types in their modules):
unknown keys are errors, instances are frozen."""

from __future__ import annotations

from typing import ClassVar

from pydantic import BaseModel, ConfigDict


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class ConnectionModel(Model):
    """A connection type's config model: its module (odibi_dbx.registry.CONNECTION_TYPES)
    subclasses this with `type: Literal["<its tag>"]` and its own fields."""

    type: str
    # advice added to the literal-secret error of this type's SecretStr fields
    secret_hint: ClassVar[str] = ""
