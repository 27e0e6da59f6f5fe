"""Which errors are worth retrying, and how long to wait. Config and SQL errors never are."""

from __future__ import annotations

import errno
import time
from collections.abc import Callable, Iterator
from typing import TypeVar

T = TypeVar("T")

_TRANSIENT_STATUS = {408, 429, 500, 502, 503, 504}
_TRANSIENT_ERRNO = {
    errno.ECONNRESET,
    errno.ETIMEDOUT,
    errno.EAGAIN,
    errno.EPIPE,
    errno.ECONNABORTED,
    errno.EHOSTUNREACH,
    errno.ENETUNREACH,
}
_TRANSIENT_CLASSES = {
    "ServiceRequestError",
    "ServiceResponseError",
    "ServiceRequestTimeoutError",
    "ServiceResponseTimeoutError",
    "ClientConnectorError",
    "ServerDisconnectedError",
}


def is_refused(exc: BaseException) -> bool:
    """True when a connection was refused (nothing listens there) anywhere in the cause chain:
    a wrong endpoint or a stopped service, which retrying does not mend."""
    for e in _chain(exc):
        if isinstance(e, ConnectionRefusedError) or getattr(e, "errno", None) == errno.ECONNREFUSED:
            return True
        text = str(e)
        if "Connection refused" in text or "Connect call failed" in text:
            return True
    return False


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """The exception and its causes; `raise ... from None` ends the chain (not a cause)."""
    seen = set()
    e: BaseException | None = exc
    while e is not None and id(e) not in seen:
        seen.add(id(e))
        yield e
        e = e.__cause__ or (None if e.__suppress_context__ else e.__context__)


def is_transient(exc: BaseException) -> bool:
    """True for network hiccups, throttling and 5xx anywhere in the exception's cause chain
    (a refused connection is not one: it fails at once)."""
    if is_refused(exc):
        return False
    for e in _chain(exc):
        if getattr(e, "transient", False) is True:
            return True
        if isinstance(e, (TimeoutError, ConnectionError)):
            return True
        if isinstance(e, OSError) and e.errno in _TRANSIENT_ERRNO:
            return True
        if type(e).__name__ in _TRANSIENT_CLASSES:
            return True
        status = getattr(e, "status_code", None) or getattr(e, "status", None)
        if isinstance(status, int) and status in _TRANSIENT_STATUS:
            return True
    return False


def delay(attempt: int, backoff: str, initial: float) -> float:
    """Seconds to wait before attempt `attempt` + 1 (attempt counts from 1)."""
    if backoff == "constant":
        return initial
    if backoff == "linear":
        return initial * attempt
    return initial * (2 ** (attempt - 1))


def call_with_retry(
    fn: Callable[[], T],
    *,
    attempts: int,
    backoff: str,
    initial: float,
    deadline: float | None = None,
    on_retry: Callable[[int, BaseException, float], None] | None = None,
    on_give_up: Callable[[int, BaseException, str], None] | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> T:
    """Call fn; on a transient error wait and try again, up to `attempts` calls in all and never
    past `deadline` (a `clock()` time): a retry whose wait would end after it is not made.
    `on_give_up(attempt, exc, why)` hears why a transient error was not retried."""
    for attempt in range(1, attempts + 1):
        try:
            return fn()
        except Exception as exc:
            if not is_transient(exc):
                raise
            if attempt >= attempts:
                if on_give_up:
                    on_give_up(attempt, exc, f"all {attempts} attempts failed")
                raise
            wait = delay(attempt, backoff, initial)
            if deadline is not None and clock() + wait > deadline:
                if on_give_up:
                    on_give_up(attempt, exc, "the retry time budget would be exceeded")
                raise
            if on_retry:
                on_retry(attempt, exc, wait)
            sleep(wait)
    raise AssertionError("unreachable")
