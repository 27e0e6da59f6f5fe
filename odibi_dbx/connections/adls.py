"""`type: azure_adls` — an ADLS Gen2 container (one storage account) with its account key.

The key comes from Key Vault (auth_mode key_vault, the default: fetched once per run by
`secrets.fetch_all` before the first node runs), from a Databricks secret scope (secret_scope:
`secret_scope.fetch_scoped`, through dbutils, also before the first node) or from the config
(direct_key, normally ${ENV_VAR}). Either way it is registered with `redact` the moment it is
known, and nothing here prints it: repr()/str() show the account, container and auth mode only.

Every connection scopes its credentials to its own account, so any number of accounts work
side by side: Spark conf keys carry the account name, Pandas-side I/O gets per-connection
storage options.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, ClassVar, Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, model_validator

from odibi_dbx import redact
from odibi_dbx.config.base import ConnectionModel
from odibi_dbx.connections.base import Connection
from odibi_dbx.connections.keyvault import vault_url
from odibi_dbx.errors import MissingExtraError, OdibiError

log = logging.getLogger(__name__)
DFS_SUFFIX = "dfs.core.windows.net"
# Our retry loop (the runner's, bounded by retry.max_seconds) owns retries, so the storage SDK's
# own policy (3 retries per request, backing off from 15 s) is off, and connecting times out in
# seconds, as for Key Vault (keyvault.client_kwargs).
STORAGE_CLIENT_KWARGS: dict[str, Any] = {
    "retry_total": 0,
    "connection_timeout": 10,
    "read_timeout": 120,
}
DELTA_CLIENT_OPTIONS = {"max_retries": "0", "connect_timeout": "10s"}  # delta-rs object_store
# Spark's ABFS driver (hadoop-azure) retries each request up to 30 times, backing off to 30 s.
# Set per account (hadoop-azure reads `<key>.<account host>` first): two retries within ~5 s, not
# off, since one Spark write is thousands of requests and our retry redoes the whole node (the
# reasoning, from hadoop-azure's source: docs/spark-engine.md "ABFS retries").
ABFS_RETRY_CONF = {
    "fs.azure.io.retry.max.retries": "2",
    "fs.azure.io.retry.min.backoff.interval": "500",  # ms
    "fs.azure.io.retry.backoff.interval": "1000",
    "fs.azure.io.retry.max.backoff.interval": "4000",
}


class AdlsConnectionConfig(ConnectionModel):
    type: Literal["azure_adls"]
    account: str = Field(min_length=3, max_length=24, pattern=r"^[a-z0-9]+$")
    container: str = Field(min_length=1)
    path_prefix: str = ""
    auth_mode: Literal["key_vault", "direct_key", "secret_scope"] = "key_vault"
    key_vault_name: str | None = None
    key_vault_url: str | None = None
    secret_name: str | None = None
    account_key: SecretStr | None = None
    secret_scope: str | None = None  # a Databricks secret scope (also Key Vault-backed ones)
    secret_key: str | None = None  # the key's name in that scope (not the account key itself)
    endpoint: str | None = None  # blob endpoint URL: sovereign clouds, private endpoints, emulators
    secret_hint: ClassVar[str] = "or use auth_mode: key_vault"

    @model_validator(mode="after")
    def _auth_fields(self) -> AdlsConnectionConfig:
        fields = {  # what each auth mode needs; the others' fields are errors
            "key_vault": ("key_vault_name", "key_vault_url", "secret_name"),
            "direct_key": ("account_key",),
            "secret_scope": ("secret_scope", "secret_key"),
        }
        if self.auth_mode == "key_vault":
            missing = []
            if not (self.key_vault_name or self.key_vault_url):
                missing.append("key_vault_name (or key_vault_url)")
            if not self.secret_name:
                missing.append("secret_name")
            if missing:
                raise ValueError(
                    f"auth_mode key_vault needs {' and '.join(missing)}; "
                    "or set auth_mode: direct_key with account_key: ${ENV_VAR}"
                )
        elif self.auth_mode == "direct_key":
            if self.account_key is None:
                raise ValueError("auth_mode direct_key needs account_key: ${ENV_VAR}")
        else:
            missing = [f for f in fields["secret_scope"] if not getattr(self, f)]
            if missing:
                raise ValueError(
                    f"auth_mode secret_scope needs {' and '.join(missing)} (the Databricks "
                    "secret scope and the name of the key in it that holds the account key)"
                )
            for f in fields["secret_scope"]:
                _check_scope_name(f, getattr(self, f))
        for mode, names in fields.items():
            given = [n for n in names if mode != self.auth_mode and getattr(self, n) is not None]
            if given:
                verb = "is" if len(given) == 1 else "are"
                raise ValueError(f"{'/'.join(given)} {verb} only used with auth_mode: {mode}")
        return self


_SCOPE_NAME = re.compile(r"^[A-Za-z0-9_.@-]{1,128}$")  # Databricks' rule for scope and key names


def _check_scope_name(field: str, value: str) -> None:
    if len(value) >= 64 and re.fullmatch(r"[A-Za-z0-9+/]+={0,2}", value):  # keys: 88 chars
        raise ValueError(
            f"{field} looks like an account key itself: give the name of the key in the secret "
            "scope (e.g. secret_key: adls-account-key), never the key (config files get "
            "committed)"
        )
    if _SCOPE_NAME.match(value):
        return
    raise ValueError(
        f"{field} {value!r} is not a Databricks secret scope/key name (letters, digits, "
        "'-', '_', '.', '@'; at most 128 characters)"
    )


class SecretNotFetched(OdibiError):
    """A key_vault or secret_scope connection was used before its key was fetched."""


class AdlsConnection(Connection):
    type = "azure_adls"
    config_model = AdlsConnectionConfig
    extras = ("azure",)

    def __init__(self, name: str, config: AdlsConnectionConfig, base_dir: Path | None = None):
        super().__init__(name)
        self.account = config.account
        self.container = config.container
        self.path_prefix = config.path_prefix.strip("/")
        self.auth_mode = config.auth_mode
        self.secret_name = config.secret_name
        self.secret_scope = config.secret_scope
        self.secret_key = config.secret_key
        self.endpoint = config.endpoint.rstrip("/") if config.endpoint else None
        self.vault_url = (
            vault_url(config.key_vault_name, config.key_vault_url)
            if config.auth_mode == "key_vault"
            else None
        )
        self._key: str | None = None
        if config.auth_mode == "direct_key":
            assert config.account_key is not None  # the model validator guarantees it
            self._set_key(config.account_key.get_secret_value())
            if os.environ.get("ODIBI_ENV", "").lower() == "production":
                log.warning(
                    "connection '%s' uses auth_mode: direct_key in production; "
                    "auth_mode: key_vault is recommended (the key then never sits in "
                    "job parameters or environment variables)",
                    name,
                )

    # -- secrets --
    @property
    def needs_secret(self) -> bool:
        return self.auth_mode in ("key_vault", "secret_scope") and self._key is None

    def set_secret(self, value: str) -> None:
        """Called with the account key read from Key Vault (secrets.fetch_all) or a secret
        scope (secret_scope.fetch_scoped)."""
        self._set_key(value)

    def _set_key(self, value: str) -> None:
        redact.register_secret(value)
        self._key = value

    @property
    def account_key(self) -> str:
        if self._key is None:
            raise SecretNotFetched(
                f"connection '{self.name}': the account key ({self.key_source}) has not been "
                "fetched yet. Project.run() fetches it; when using "
                "connections directly, call odibi_dbx.connections.resolve_secrets(connections) "
                "first"
            )
        return self._key

    @property
    def key_source(self) -> str:
        """Where the account key comes from, for messages (names only, never the key)."""
        if self.auth_mode == "key_vault":
            return f"Key Vault secret '{self.secret_name}' in {self.vault_url}"
        if self.auth_mode == "secret_scope":
            return f"key '{self.secret_key}' in Databricks secret scope '{self.secret_scope}'"
        return "account_key (direct_key)"

    # -- locations --
    @property
    def dfs_host(self) -> str:
        """<account>.dfs.<suffix>: the endpoint's cloud suffix when it names one (sovereign
        clouds), else the public cloud's (emulators and IP endpoints keep production URLs)."""
        if self.endpoint:
            host = (urlsplit(self.endpoint).hostname or "").lower()
            head = f"{self.account}.blob."
            if host.startswith(head) and not host.startswith(f"{self.account}.blob.privatelink"):
                return f"{self.account}.dfs.{host[len(head) :]}"
        return f"{self.account}.{DFS_SUFFIX}"

    def uri(self, path: str) -> str:
        return f"abfss://{self.container}@{self.dfs_host}/{self._blob_path(path)}"

    # -- credentials for each client --
    def storage_options(self) -> dict[str, Any]:
        """fsspec/adlfs options. With an endpoint override a connection string carries it
        (adlfs has no endpoint/http option of its own; the connection string wins over the
        account in the URL, so production-shaped abfss:// URLs keep working)."""
        key = self.account_key
        if not self.endpoint:
            return {"account_name": self.account, "account_key": key}
        proto = urlsplit(self.endpoint).scheme or "https"
        return {
            "account_name": self.account,
            "connection_string": (
                f"DefaultEndpointsProtocol={proto};AccountName={self.account};AccountKey={key};"
                f"BlobEndpoint={self.endpoint};"
            ),
        }

    def delta_storage_options(self) -> dict[str, str]:
        """delta-rs (object_store) options."""
        opts = {"account_name": self.account, "account_key": self.account_key}
        opts.update(DELTA_CLIENT_OPTIONS)
        if self.endpoint:
            opts["endpoint"] = self.endpoint
            if self.endpoint.startswith("http://"):
                opts["allow_http"] = "true"
        return opts

    def spark_conf(self) -> dict[str, str]:
        """The account-scoped key for Spark's ABFS driver. An http/IP endpoint (an emulator) has
        no ABFS equivalent: the key is still set for the production host, and I/O will fail.
        The driver's own retries are bounded for this account (ABFS_RETRY_CONF)."""
        conf = {f"{key}.{self.dfs_host}": value for key, value in ABFS_RETRY_CONF.items()}
        return {f"fs.azure.account.key.{self.dfs_host}": self.account_key, **conf}

    def filesystem(self, options: Mapping[str, Any] | None = None) -> Any:
        """An adlfs AzureBlobFileSystem with this connection's credentials (the user's
        storage_options merged over them)."""
        return make_filesystem({**self.storage_options(), **(options or {})})

    # -- writes: through the blob API with this connection's key (adls_blob) --
    @contextlib.contextmanager
    def write_lock(self, path: str, owner: str) -> Iterator[None]:
        """A blob lease on `.<name>.odibi-lock` beside the output (see adls_blob)."""
        from odibi_dbx.connections import adls_blob

        with adls_blob.leased(self, self.container, self._blob_path(path), owner):
            yield

    def folders(self, path: str) -> tuple[Any, str]:
        """adlfs, which cannot rename (see adls_blob.BlobFolders)."""
        from odibi_dbx.connections import adls_blob

        return adls_blob.BlobFolders(self.filesystem()), f"{self.container}/{self._blob_path(path)}"

    def _blob_path(self, path: str) -> str:
        return "/".join(p for p in (self.path_prefix, path.strip("/")) if p)

    def commit(self, staged: list[str], dests: list[str]) -> None:
        """Server-side blob copies ("container/path" names, as filesystem() lists them)."""
        from odibi_dbx.connections import adls_blob

        adls_blob.commit(self, staged, dests)

    def explain(self, exc: BaseException) -> BaseException | None:
        """The storage service refused the key: say which secret to check."""
        text = str(exc)
        status = getattr(exc, "status_code", None)
        if not (
            status == 403 or "failed to authenticate" in text or "AuthorizationFailure" in text
        ):
            return None
        where = self.key_source
        first = text.strip().splitlines()[0] if text.strip() else type(exc).__name__
        return PermissionError(
            f"storage account '{self.account}' refused the key of connection "
            f"'{self.name}' ({first}). Check that the {where} holds a current key of "
            f"account '{self.account}' (keys rotate), and that the account's firewall "
            "allows this network"
        )

    def blob_service_client(self) -> Any:
        """An azure-storage-blob BlobServiceClient for this account."""
        try:
            from azure.storage.blob import BlobServiceClient
        except ImportError:
            raise MissingExtraError(
                f"connection '{self.name}'", "azure", "azure-storage-blob"
            ) from None
        opts = self.storage_options()
        if "connection_string" in opts:
            return BlobServiceClient.from_connection_string(
                opts["connection_string"], **STORAGE_CLIENT_KWARGS
            )
        return BlobServiceClient(
            f"https://{self.account}.blob.core.windows.net",
            credential={"account_name": self.account, "account_key": self.account_key},
            **STORAGE_CLIENT_KWARGS,
        )

    def __repr__(self) -> str:
        auth = {
            "key_vault": f"key_vault {self.vault_url} secret {self.secret_name!r}",
            "secret_scope": f"secret_scope {self.secret_scope!r} key {self.secret_key!r}",
        }.get(self.auth_mode, self.auth_mode)
        return f"<AdlsConnection {self.name!r} {self.uri('')} auth={auth}>"

    __str__ = __repr__


def make_filesystem(storage_options: dict[str, Any]) -> Any:
    return _filesystem_class()(**storage_options)


@functools.cache
def _filesystem_class() -> type:
    """adlfs' filesystem with the storage SDK's retries off (adlfs passes no client options)."""
    try:
        import adlfs
        from azure.storage.blob.aio import BlobServiceClient
    except ImportError:
        raise MissingExtraError("ADLS on the pandas engine", "azure", "adlfs") from None

    class AzureBlobFileSystem(adlfs.AzureBlobFileSystem):
        def do_connect(self) -> None:
            if self.connection_string:
                self.service_client = BlobServiceClient.from_connection_string(
                    self.connection_string, **STORAGE_CLIENT_KWARGS
                )
            elif self.account_name and self.account_key and not hasattr(self, "account_host"):
                self.service_client = BlobServiceClient(
                    f"https://{self.account_name}.blob.core.windows.net",
                    credential={"account_name": self.account_name, "account_key": self.account_key},
                    **STORAGE_CLIENT_KWARGS,
                )
            else:  # other options the user gave: adlfs' own client
                super().do_connect()

    return AzureBlobFileSystem
