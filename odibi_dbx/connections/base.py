"""Where data lives. Engines ask a connection for URIs, credentials, a writer lock and remote
commits, never for raw fields. A connection type is one module (see odibi_dbx.registry)."""

from __future__ import annotations

import builtins
import contextlib
import logging
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from odibi_dbx.errors import OdibiError

if TYPE_CHECKING:
    from odibi_dbx.config.base import ConnectionModel
    from odibi_dbx.connections.leftovers import Folders

log = logging.getLogger(__name__)
# what writers leave beside an output `<name>`: `.<name>.odibi-tmp-<run>-<id>` (staging) and
# `.<name>.odibi-old-<run>-<id>` (the previous output, moved aside during an overwrite)
STAGING = ".odibi-tmp-"
ASIDE = ".odibi-old-"


class OutputBusy(OdibiError):
    """Another writer holds the output's lock."""

    hint = (
        "another run (or node) is writing this output; wait for it to finish, or give each "
        "writer its own output path"
    )


SECRET_OPTIONS = frozenset({"account_key", "connection_string", "sas_token", "client_secret"})


class StorageOptions(dict):
    """fsspec/adlfs options: a plain dict to pandas, with secret values masked in its repr."""

    def __repr__(self) -> str:
        shown = {k: ("***" if k in SECRET_OPTIONS else v) for k, v in self.items()}
        return f"StorageOptions({shown!r})"

    __str__ = __repr__


class Connection(ABC):
    type: str
    config_model: ClassVar[builtins.type[ConnectionModel]]  # the `type: <tag>` model of this type
    extras: ClassVar[tuple[str, ...]] = ()  # odibi_dbx[...] extras a job using this type needs

    def __init__(self, name: str):
        self.name = name

    # -- credentials: resolved once per run, before the first node --
    @property
    def needs_secret(self) -> bool:
        """True while a Key Vault secret (`vault_url`, `secret_name`) is still to be fetched;
        connections.resolve_secrets then hands it to `set_secret`."""
        return False

    def set_secret(self, value: str) -> None:
        raise OdibiError(f"connection '{self.name}' ({self.type}) takes no secret")

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

    # -- writes --
    def write_lock(self, path: str, owner: str) -> contextlib.AbstractContextManager[None]:
        """Hold the one-writer lock of the output at `path` (relative to this connection) while
        writing; raise OutputBusy at once when another writer holds it. `owner` (run and node)
        is shown to a refused writer. Under it the engine repairs what killed writers left
        beside the output (connections.leftovers)."""
        raise OdibiError(
            f"connection '{self.name}' ({self.type}) has no writer lock, so it cannot promise "
            "one writer per output; its connection type must implement write_lock"
        )

    def folders(self, path: str) -> tuple[Folders, str] | None:
        """How the driver moves and removes what writers leave beside the output at `path`
        (connections.leftovers), and the output's name there; None: it cannot."""
        return None

    def commit(self, staged: list[str], dests: list[str]) -> None:
        """Copy staged files (filesystem() paths) to their final names, server-side where the
        store can; on failure remove what was copied and re-raise (the previous output stays)."""
        fs = self.filesystem()
        with undo_copies(fs) as done:
            for src, dst in zip(staged, dests, strict=True):
                fs.copy(src, dst)
                done.append(dst)

    def explain(self, exc: BaseException) -> BaseException | None:
        """An error that tells what to check when `exc` is this connection's fault (a refused
        key, say); None to let `exc` speak for itself."""
        return None

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r}>"


@contextlib.contextmanager
def undo_copies(fs: Any) -> Iterator[list[str]]:
    done: list[str] = []
    try:
        yield done
    except BaseException:
        if done:
            log.warning(
                "write failed while committing; removing %d copied file(s), the previous "
                "output is untouched",
                len(done),
            )
            try:
                fs.rm(done)
            except Exception as exc:  # cleanup must not hide the real outcome
                log.warning("could not remove %s: %s", done, exc)
        raise
