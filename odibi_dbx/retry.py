"""Which errors are worth retrying, and how long to wait. Config and SQL errors never are."""

from __future__ import annotations

import errno
import time
from collections.abc import Callable
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


def is_transient(exc: BaseException) -> bool:
    """True for network hiccups, throttling and 5xx anywhere in the exception's cause chain."""
    seen = set()
    e: BaseException | None = exc
    while e is not None and id(e) not in seen:
        seen.add(id(e))
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
        e = e.__cause__ or e.__context__
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
    on_retry: Callable[[int, BaseException, float], None] | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """Call fn; on a transient error wait and try again, up to `attempts` calls in all."""
    for attempt in range(1, attempts + 1):
        try:
            return fn()
        except Exception as exc:
            if attempt >= attempts or not is_transient(exc):
                raise
            wait = delay(attempt, backoff, initial)
            if on_retry:
                on_retry(attempt, exc, wait)
            sleep(wait)
    raise AssertionError("unreachable")
