"""A session an engine begins in the background before its run (Engine.warm_up), for its
`start` to take: only a head start, never a change of what `start` gives or raises."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any


class Warming:
    """One value made in a background thread; once `done()` returns, `value` or `error`."""

    def __init__(self, key: str, make: Callable[[], Any], *, name: str, daemon: bool) -> None:
        self.key = key
        self.value: Any = None
        self.error: BaseException | None = None
        self._make = make
        self._thread = threading.Thread(target=self._run, name=name, daemon=daemon)
        self._thread.start()

    def _run(self) -> None:
        try:
            self.value = self._make()
        except BaseException as exc:  # kept for the start that takes it
            self.error = exc

    def done(self) -> Warming:
        self._thread.join()
        return self


class WarmSlot:
    """At most one Warming per engine class, until a start takes it."""

    def __init__(self) -> None:
        self._warming: Warming | None = None
        self._lock = threading.Lock()

    def begin(self, key: str, make: Callable[[], Any], *, name: str, daemon: bool = False) -> None:
        with self._lock:
            self._warming = Warming(key, make, name=name, daemon=daemon)

    def take(self) -> Warming | None:
        """The Warming begun (finished), or None when none was (or it was taken already)."""
        with self._lock:
            warming, self._warming = self._warming, None
        return None if warming is None else warming.done()

    @property
    def empty(self) -> bool:
        return self._warming is None
