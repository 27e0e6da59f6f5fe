"""Where stories are kept: `story.connection` + `story.path`, one JSON and one HTML per run,
plus `index.html` and two small files the next run reads instead of every old story:
`_index.json` (one line of facts per run) and `_baselines.json` (each node as it was in its
last successful run)."""

from __future__ import annotations

import contextlib
import json
import os
import posixpath
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from odibi_dbx.connections.base import Connection, OutputBusy
from odibi_dbx.errors import OdibiError

LOCK_WAIT = 60.0  # seconds a run waits for another run's history update (it takes milliseconds)


class StoryStore:
    def __init__(self, connection: Connection, path: str):
        self.connection = connection
        self.root = connection.uri(path)
        self._history = posixpath.join(path, "history")  # the lock's name, under the connection
        self._local = connection.is_local
        self._fs = None if self._local else connection.filesystem()

    @property
    def _remote(self) -> Any:
        """The connection's fsspec filesystem (only remote stores use one)."""
        if self._fs is None:
            raise AssertionError("a local story store has no remote filesystem")
        return self._fs

    def _join(self, name: str) -> str:
        if self._local:
            return str(Path(self.root) / name)
        return posixpath.join(self.root.rstrip("/"), name)

    def _put(self, final: str, text: str) -> None:
        """Write whole or not at all: a temp file renamed into place."""
        tmp = self._join(f".{posixpath.basename(final)}.{uuid.uuid4().hex[:8]}.tmp")
        if self._local:
            Path(tmp).write_text(text, encoding="utf-8")
            os.replace(tmp, final)
        else:
            with self._remote.open(tmp, "w", encoding="utf-8") as f:
                f.write(text)
            self._remote.mv(tmp, final)

    @contextlib.contextmanager
    def locked(self, owner: str) -> Iterator[None]:
        """One run at a time updates the side files (read, change, write back): the
        connection's writer lock on `history` beside the stories (`.history.odibi-lock`: a
        flock locally, a blob lease on ADLS), waited for up to LOCK_WAIT seconds. A killed
        holder frees it (the OS drops the lock; a lease lapses)."""
        deadline = time.monotonic() + LOCK_WAIT
        with contextlib.ExitStack() as stack:
            while True:
                try:
                    stack.enter_context(self.connection.write_lock(self._history, owner))
                    break
                except OutputBusy:
                    self._wait(deadline, owner)
            yield

    def _wait(self, deadline: float, owner: str) -> None:
        if time.monotonic() > deadline:
            raise OdibiError(
                f"{owner}: another run has held the story history lock under {self.root} for "
                f"{LOCK_WAIT:.0f}s; the story was written, the index and baselines not updated"
            )
        time.sleep(0.05)

    def write(self, run_id: str, doc: dict[str, Any], html: str) -> tuple[str, str]:
        if self._local:
            Path(self.root).mkdir(parents=True, exist_ok=True)
        else:
            self._remote.makedirs(self.root, exist_ok=True)
        json_path, html_path = self._join(f"{run_id}.json"), self._join(f"{run_id}.html")
        self._put(json_path, json.dumps(doc, indent=2, ensure_ascii=False))
        self._put(html_path, html)
        return json_path, html_path

    def put_text(self, name: str, text: str) -> str:
        path = self._join(name)
        self._put(path, text)
        return path

    def get_json(self, name: str) -> Any:
        """A side file as JSON; None when it is missing or unreadable (it is rebuilt)."""
        path = self._join(name)
        try:
            if self._local:
                return json.loads(Path(path).read_text(encoding="utf-8"))
            with self._remote.open(path, "r", encoding="utf-8") as f:
                return json.load(f)
        except (OSError, ValueError):
            return None

    def remove(self, run_id: str) -> None:
        """Delete one run's story (JSON and HTML)."""
        for path in (self._join(f"{run_id}.json"), self._join(f"{run_id}.html")):
            try:
                if self._local:
                    Path(path).unlink()
                else:
                    self._remote.rm(path)
            except FileNotFoundError:
                pass

    def runs(self) -> list[str]:
        """Run ids, oldest first (run ids sort by time)."""
        try:
            names = (
                os.listdir(self.root)
                if self._local
                else [posixpath.basename(str(n)) for n in self._remote.ls(self.root, detail=False)]
            )
        except FileNotFoundError:
            return []
        return sorted(n[:-5] for n in names if n.endswith(".json") and not n.startswith((".", "_")))

    def read(self, run_id: str) -> dict[str, Any]:
        path = self._join(f"{run_id}.json")
        if self._local:
            return json.loads(Path(path).read_text(encoding="utf-8"))
        with self._remote.open(path, "r", encoding="utf-8") as f:
            return json.load(f)

    def html_path(self, run_id: str) -> str:
        return self._join(f"{run_id}.html")

    def latest(self) -> str | None:
        runs = self.runs()
        return runs[-1] if runs else None
