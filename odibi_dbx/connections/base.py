"""Where data lives. Engines ask a connection for URIs and credentials, never for raw fields."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import Any

SECRET_OPTIONS = frozenset({"account_key", "connection_string", "sas_token", "client_secret"})


class StorageOptions(dict):
    """fsspec/adlfs options: a plain dict to pandas, with secret values masked in its repr."""

    def __repr__(self) -> str:
        shown = {k: ("***" if k in SECRET_OPTIONS else v) for k, v in self.items()}
        return f"StorageOptions({shown!r})"

    __str__ = __repr__


class Connection(ABC):
    type: str

    def __init__(self, name: str):
        self.name = name

    @property
    def is_local(self) -> bool:
        return False

    @abstractmethod
    def uri(self, path: str) -> str:
        """Absolute location of `path` under this connection (a file path or an abfss:// URL)."""

    def storage_options(self) -> dict[str, Any]:
        """fsspec/adlfs options for pandas-side I/O (empty for local files)."""
        return {}

    def pandas_storage_options(self) -> StorageOptions:
        """The options the Pandas engine passes to pandas/fsspec for this connection, merged
        with the user's own (`options: {storage_options: ...}`, the user's win). Printable:
        secret values show as ***."""
        return StorageOptions(self.storage_options())

    def delta_storage_options(self) -> dict[str, str]:
        """delta-rs (object_store) options."""
        return {}

    def spark_conf(self) -> dict[str, str]:
        """Spark conf this connection needs at engine start (secrets included: never log it)."""
        return {}

    def filesystem(self, options: Mapping[str, Any] | None = None) -> Any:
        """An fsspec filesystem for this connection's URIs (`options`: the user's
        storage_options, merged over the connection's)."""
        import fsspec

        return fsspec.filesystem("file")

    def explain(self, exc: BaseException) -> BaseException | None:
        """An error that tells what to check when `exc` is this connection's fault (a refused
        key, say); None to let `exc` speak for itself."""
        return None

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r}>"
