"""Start/stop Azurite's blob service (npm `azurite`, installed by `make azurite`) for tests.

    with Azurite(accounts=("odibitest1", "odibitest2")) as az:
        acct = az.accounts["odibitest1"]
        acct.create_container("raw")
        pd.read_parquet("abfss://raw@odibitest1.dfs.core.windows.net/x.parquet",
                        storage_options=acct.adlfs_options())
        write_deltalake("abfss://raw@odibitest1.dfs.core.windows.net/t", df,
                        storage_options=acct.delta_options())

Accounts come from env AZURITE_ACCOUNTS="name:base64key[:key2];name2:key" (Azurite's
AccountDataStore). Setting it REPLACES the well-known devstoreaccount1, so it is added back
explicitly when keep_default=True (delta-rs' `use_emulator` and many snippets assume it).
Azurite serves the blob endpoint only (no dfs/ADLS Gen2 API): adlfs and delta-rs only need blob.
"""

from __future__ import annotations

import atexit
import base64
import hashlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ._http import free_port
from .certs import TlsFiles, make_tls_files

__all__ = [
    "DEVSTORE_ACCOUNT",
    "DEVSTORE_KEY",
    "Azurite",
    "StorageAccount",
    "azurite_command",
    "missing_reason",
    "repo_root",
]

DEVSTORE_ACCOUNT = "devstoreaccount1"
DEVSTORE_KEY = (
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)
AZURITE_VERSION = "3.35.0"


def repo_root() -> Path:
    return Path(__file__).resolve().parents[2]


def account_key(name: str) -> str:
    """A deterministic 64-byte base64 key per account name (stable across runs, fake anyway)."""
    return base64.b64encode(hashlib.sha512(f"odibi-fake:{name}".encode()).digest()).decode()


def azurite_command(root: Path | None = None) -> list[str] | None:
    """argv prefix for azurite-blob: $AZURITE_BLOB_BIN, <repo>/node_modules, or PATH."""
    node = shutil.which("node")
    candidates = [
        os.environ.get("AZURITE_BLOB_BIN"),
        str((root or repo_root()) / "node_modules/.bin/azurite-blob"),
        shutil.which("azurite-blob"),
    ]
    for c in candidates:
        if c and Path(c).exists():
            return [node, str(Path(c).resolve())] if node else None
    return None


def missing_reason(root: Path | None = None) -> str | None:
    if shutil.which("node") is None:
        return "node is not installed (Azurite needs Node 20)"
    if azurite_command(root) is None:
        return (
            f"Azurite is not installed: run `make azurite` (npm install azurite@"
            f"{AZURITE_VERSION} into {(root or repo_root()) / 'node_modules'})"
        )
    return None


@dataclass(frozen=True)
class StorageAccount:
    name: str
    key: str
    blob_endpoint: str  # e.g. http://127.0.0.1:PORT/name (path-style, as Azurite expects)
    ca_path: Path | None = None  # set when Azurite runs over HTTPS

    @property
    def https(self) -> bool:
        return self.blob_endpoint.startswith("https://")

    @property
    def connection_string(self) -> str:
        proto = "https" if self.https else "http"
        return (
            f"DefaultEndpointsProtocol={proto};AccountName={self.name};"
            f"AccountKey={self.key};BlobEndpoint={self.blob_endpoint};"
        )

    def abfss(self, container: str, path: str = "") -> str:
        """Production-shaped URL; adlfs/delta-rs route it to Azurite via the storage options."""
        return f"abfss://{container}@{self.name}.dfs.core.windows.net/{path.lstrip('/')}"

    def adlfs_options(self, *, style: str = "auto") -> dict[str, str]:
        """fsspec/adlfs storage_options (pandas, pyarrow.fs via fsspec).

        "connection_string" works over http and https. "account_host" (account_name/key +
        host) only works over https, because adlfs hard-codes https://{account_host}, and only
        when SSL_CERT_FILE=ca_path was set before aiohttp was imported (it builds its default
        SSLContext at import time).
        """
        if style == "auto":
            style = "connection_string"
        if style == "connection_string":
            return {"connection_string": self.connection_string}
        if style == "account_host":
            host = self.blob_endpoint.split("://", 1)[1]
            return {"account_name": self.name, "account_key": self.key, "account_host": host}
        raise ValueError(f"unknown style {style!r}")

    def delta_options(self) -> dict[str, str]:
        """delta-rs (object_store) storage_options."""
        opts = {"account_name": self.name, "account_key": self.key, "endpoint": self.blob_endpoint}
        if not self.https:
            opts["allow_http"] = "true"
        return opts

    def blob_service_client(self, **kwargs: Any):
        from azure.storage.blob import BlobServiceClient

        if self.ca_path is not None:
            kwargs.setdefault("connection_verify", str(self.ca_path))
        return BlobServiceClient.from_connection_string(self.connection_string, **kwargs)

    def create_container(self, name: str, *, exist_ok: bool = True) -> None:
        from azure.core.exceptions import ResourceExistsError

        try:
            self.blob_service_client().create_container(name)
        except ResourceExistsError:
            if not exist_ok:
                raise


class AzuriteError(RuntimeError):
    pass


class Azurite:
    """One azurite-blob process on 127.0.0.1, in memory, in its own process group.

    accounts: names (keys derived with account_key()) or a {name: base64 key} dict.
    https: serve TLS with a throw-away CA (see `ca_path`); adlfs' account_host style needs it.
    """

    def __init__(
        self,
        accounts: Any = ("odibitest1", "odibitest2"),
        *,
        https: bool = False,
        keep_default: bool = True,
        port: int = 0,
        startup_timeout: float = 30.0,
        tls: TlsFiles | None = None,
        root: Path | None = None,
    ) -> None:
        if isinstance(accounts, dict):
            keys = dict(accounts)
        else:
            keys = {name: account_key(name) for name in accounts}
        if keep_default:
            keys.setdefault(DEVSTORE_ACCOUNT, DEVSTORE_KEY)
        for name in keys:
            if not (3 <= len(name) <= 24 and name.isalnum() and name.islower()):
                raise ValueError(f"storage account name {name!r}: 3-24 lowercase letters/digits")
        self.keys = keys
        self.https = https
        self._requested_port = port
        self.port = 0
        self.startup_timeout = startup_timeout
        self.tls = tls
        self.root = root
        self.proc: subprocess.Popen[bytes] | None = None
        self._workdir: Path | None = None
        self._own_tls = False

    # -- info ------------------------------------------------------------------------------------
    @property
    def blob_url(self) -> str:
        return f"{'https' if self.https else 'http'}://127.0.0.1:{self.port}"

    @property
    def ca_path(self) -> Path | None:
        return self.tls.ca_path if (self.https and self.tls) else None

    @property
    def accounts(self) -> dict[str, StorageAccount]:
        return {
            n: StorageAccount(n, k, f"{self.blob_url}/{n}", self.ca_path)
            for n, k in self.keys.items()
        }

    @property
    def accounts_env(self) -> str:
        return ";".join(f"{n}:{k}" for n, k in self.keys.items())

    @property
    def env(self) -> dict[str, str]:
        """Env for delta-rs' `use_emulator` (devstoreaccount1) and TLS trust when https."""
        env = {"AZURITE_BLOB_STORAGE_URL": self.blob_url}
        if self.ca_path:
            env.update(SSL_CERT_FILE=str(self.ca_path), REQUESTS_CA_BUNDLE=str(self.ca_path))
        return env

    @property
    def log(self) -> str:
        if self._workdir is None:
            return ""
        path = self._workdir / "azurite.log"
        return path.read_text(errors="replace") if path.exists() else ""

    # -- lifecycle -------------------------------------------------------------------------------
    def start(self) -> Azurite:
        if self.proc is not None:
            return self
        reason = missing_reason(self.root)
        if reason:
            raise AzuriteError(reason)
        self._workdir = Path(tempfile.mkdtemp(prefix="odibi-azurite-"))
        if self.https and self.tls is None:
            self.tls = make_tls_files(self._workdir / "tls")
            self._own_tls = True
        attempts = 1 if self._requested_port else 3
        for attempt in range(attempts):
            self.port = self._requested_port or free_port()
            try:
                self._spawn()
                return self
            except AzuriteError:
                # a port grabbed between free_port() and Azurite's bind: try another one
                if attempt == attempts - 1 or "EADDRINUSE" not in self.log:
                    self._cleanup_dir()
                    raise
        return self

    def _spawn(self) -> None:
        assert self._workdir is not None
        cmd = [
            *azurite_command(self.root),  # type: ignore[misc]
            "--blobHost",
            "127.0.0.1",
            "--blobPort",
            str(self.port),
            "--inMemoryPersistence",
            "--skipApiVersionCheck",
            "--loose",
            "--disableTelemetry",
            "--silent",
            "--disableProductStyleUrl",
        ]
        if self.https:
            assert self.tls is not None
            cmd += ["--cert", str(self.tls.cert_path), "--key", str(self.tls.key_path)]
        env = {**os.environ, "AZURITE_ACCOUNTS": self.accounts_env}
        with open(self._workdir / "azurite.log", "wb") as log:
            self.proc = subprocess.Popen(
                cmd,
                cwd=self._workdir,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        atexit.register(self._kill)  # also on Ctrl-C / a crashed test session
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                code = self.proc.returncode
                self.proc = None
                raise AzuriteError(
                    f"Azurite exited with code {code} while starting "
                    f"({' '.join(cmd)}):\n{self.log[-4000:]}"
                )
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.05)
        log = self.log
        self._kill()
        raise AzuriteError(
            f"Azurite did not listen on 127.0.0.1:{self.port} within "
            f"{self.startup_timeout}s:\n{log[-4000:]}"
        )

    def _kill(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        for sig, wait in ((signal.SIGTERM, 5), (signal.SIGKILL, 5)):
            try:
                os.killpg(proc.pid, sig)  # our own session/group: start_new_session=True
            except ProcessLookupError:
                return
            try:
                proc.wait(timeout=wait)
                return
            except subprocess.TimeoutExpired:
                continue

    def _cleanup_dir(self) -> None:
        if self._workdir is not None:
            shutil.rmtree(self._workdir, ignore_errors=True)
            self._workdir = None
        if self._own_tls:
            self.tls, self._own_tls = None, False

    def stop(self) -> None:
        atexit.unregister(self._kill)
        self._kill()
        self._cleanup_dir()

    def __enter__(self) -> Azurite:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
