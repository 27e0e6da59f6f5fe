"""The story builder: a run listener that writes the story, the history and `index.html` when
the run ends (failed or not)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from odibi_dbx.errors import OdibiError, first_line
from odibi_dbx.pipeline.events import RunListener, RunResult
from odibi_dbx.story import history
from odibi_dbx.story.html import render_html
from odibi_dbx.story.model import story_doc
from odibi_dbx.story.store import StoryStore


class StoryListener(RunListener):
    def __init__(
        self,
        store: StoryStore,
        baseline: Mapping[str, dict[str, Any]] | None = None,
        keep_last: int = 100,
    ):
        self.store = store
        self.baseline = baseline  # as read before the run (the runner's gates saw the same)
        self.keep_last = keep_last
        self.last_doc: dict | None = None

    def run_finished(self, result: RunResult) -> None:
        try:
            base = self.baseline if self.baseline is not None else history.baselines(self.store)
            doc = story_doc(result, base)
            self.last_doc = doc
            result.story_path, result.story_html_path = self.store.write(
                result.run_id, doc, render_html(doc)
            )
            history.record(self.store, doc, self.keep_last)  # and index.html
        except Exception as exc:  # the runner records it as a listener failure: a warning
            raise OdibiError(
                f"the story could not be written to {self.store.root}: {first_line(exc)}"
            ) from exc
