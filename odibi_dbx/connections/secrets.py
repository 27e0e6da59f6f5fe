"""Fetch the account keys of key_vault connections: each (vault, secret) once, all in parallel.

Runs once per run, before the first node. Retries: the SDK's own retry policy is off (see
keyvault.client_kwargs); this module retries transient failures (429, 5xx, timeouts, dropped
connections) up to ATTEMPTS times with exponential backoff, honouring Retry-After up to
MAX_DELAY. Permission, not-found and credential errors fail at once. Every failing connection
is reported in one SecretFetchError, each with what to do.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from odibi_dbx.connections import keyvault as kv
from odibi_dbx.errors import OdibiError

log = logging.getLogger(__name__)

ATTEMPTS = 4  # calls per secret, in all
INITIAL_DELAY = 0.5  # seconds before the 2nd attempt; doubles each time (with jitter)
MAX_DELAY = 10.0
MAX_WORKERS = 16


@dataclass
class SecretFailure:
    connections: list[str]
    vault: str
    secret: str
    kind: str
    advice: str
    error: str
    attempts: int

    def __str__(self) -> str:
        names = ", ".join(f"'{c}'" for c in self.connections)
        text = (
            f"connection {names}: secret '{self.secret}' in vault {self.vault} "
            f"[{self.kind}, {self.attempts} attempt{'s' * (self.attempts != 1)}]\n"
            f"      error: {self.error}\n      what to do: "
        )
        return text + self.advice.replace("\n", "\n        ")


class SecretFetchError(OdibiError):
    """Key Vault secrets could not be read; nothing has run. Lists every failing connection."""

    def __init__(self, failures: list[SecretFailure]):
        self.failures = failures
        n = len(failures)
        head = f"could not read {n} Key Vault secret{'s' * (n != 1)}; no node has run"
        super().__init__(head + "\n" + "\n".join(f"  - {f}" for f in failures))


@dataclass
class _Group:
    vault: str
    secret: str
    connections: list[Any] = field(default_factory=list)


def fetch_all(
    connections: Iterable[Any],
    credential: Any = None,
    *,
    attempts: int = ATTEMPTS,
    initial_delay: float = INITIAL_DELAY,
    max_delay: float = MAX_DELAY,
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    """Fetch and set the secret of every connection with `needs_secret`.

    credential: any token credential (an object with get_token), e.g. a Unity Catalog service
    credential from dbutils.credentials.getServiceCredentialsProvider(name); default
    DefaultAzureCredential().
    """
    groups: dict[tuple[str, str], _Group] = {}
    for conn in connections:
        if getattr(conn, "needs_secret", False) and getattr(conn, "vault_url", None):
            key = (conn.vault_url.lower(), conn.secret_name)
            group = groups.setdefault(key, _Group(conn.vault_url, conn.secret_name))
            group.connections.append(conn)
    if not groups:
        return
    user_credential = credential is not None
    cred = credential if user_credential else kv.default_credential()
    clients: dict[str, Any] = {}
    lock = threading.Lock()

    def client(url: str) -> Any:
        with lock:  # one client per vault, shared by its threads
            if url.lower() not in clients:
                clients[url.lower()] = kv.secret_client(url, cred)
            return clients[url.lower()]

    def fetch(group: _Group) -> str | SecretFailure:
        return _fetch_one(
            client(group.vault),
            group,
            cred,
            user_credential,
            attempts,
            initial_delay,
            max_delay,
            sleep,
        )

    t0 = time.monotonic()
    try:
        with ThreadPoolExecutor(min(len(groups), MAX_WORKERS), "odibi-kv") as pool:
            results = list(pool.map(fetch, groups.values()))
    finally:
        for c in clients.values():
            c.close()
        if not user_credential and hasattr(cred, "close"):
            cred.close()
    failures = []
    for group, result in zip(groups.values(), results, strict=True):
        if isinstance(result, SecretFailure):
            failures.append(result)
        else:
            for conn in group.connections:
                conn.set_secret(result)
    log.info(
        "fetched %d Key Vault secret(s) for %d connection(s) in %.2fs",
        len(groups) - len(failures),
        sum(len(g.connections) for g in groups.values()),
        time.monotonic() - t0,
    )
    if failures:
        raise SecretFetchError(failures)


def _fetch_one(
    client: Any,
    group: _Group,
    cred: Any,
    user_credential: bool,
    attempts: int,
    initial_delay: float,
    max_delay: float,
    sleep: Callable[[float], None],
) -> str | SecretFailure:
    names = [c.name for c in group.connections]
    for attempt in range(1, attempts + 1):
        try:
            value = client.get_secret(group.secret).value
            if not value:
                return SecretFailure(
                    names,
                    group.vault,
                    group.secret,
                    kv.OTHER,
                    "store the storage account key as the secret's value",
                    "the secret is empty",
                    attempt,
                )
            from odibi_dbx import redact

            redact.register_secret(value)  # the moment it is known
            return value
        except Exception as exc:  # classified below; anything unexpected is reported, not lost
            oid = kv.oid_from_message(str(exc))
            if oid is None and getattr(exc, "status_code", None) == 403:
                oid = _oid_of(cred)
            kind, advice = kv.classify_error(
                exc,
                vault=group.vault,
                secret=group.secret,
                oid=oid,
                user_credential=user_credential,
            )
            if kind not in kv.RETRYABLE or attempt >= attempts:
                return SecretFailure(
                    names,
                    group.vault,
                    group.secret,
                    kind,
                    advice,
                    f"{type(exc).__name__}: {kv.first_line(str(exc))}",
                    attempt,
                )
            wait = _delay(exc, attempt, initial_delay, max_delay)
            log.warning(
                "Key Vault %s, secret '%s': attempt %d failed (%s); retrying in %.1fs",
                group.vault,
                group.secret,
                attempt,
                kv.first_line(str(exc), 120),
                wait,
            )
            sleep(wait)
    raise AssertionError("unreachable")


def _delay(exc: Exception, attempt: int, initial: float, max_delay: float) -> float:
    wait = initial * (2 ** (attempt - 1)) * random.uniform(0.8, 1.2)
    response = getattr(exc, "response", None)
    retry_after = getattr(response, "headers", {}).get("Retry-After") if response else None
    try:
        wait = max(wait, float(retry_after)) if retry_after else wait
    except ValueError:  # an HTTP date: ignore, use our backoff
        pass
    return min(wait, max_delay)


def _oid_of(cred: Any) -> str | None:
    """The credential's object id, for grant commands (best effort; tokens are cached)."""
    try:
        from odibi_dbx.connections.identity import identity_of

        return identity_of(cred).object_id
    except Exception:  # advice falls back to <object-id>
        return None
