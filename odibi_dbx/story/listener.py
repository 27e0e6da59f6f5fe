"""The story builder: a run listener that writes the story when the run ends (failed or not)."""

from __future__ import annotations

import logging

from odibi_dbx.pipeline.events import RunListener, RunResult
from odibi_dbx.story.html import render_html
from odibi_dbx.story.model import story_doc
from odibi_dbx.story.store import StoryStore

log = logging.getLogger("odibi_dbx.story")


class StoryListener(RunListener):
    def __init__(self, store: StoryStore):
        self.store = store
        self.last_doc: dict | None = None

    def run_finished(self, result: RunResult) -> None:
        doc = story_doc(result)
        self.last_doc = doc
        try:
            result.story_path, result.story_html_path = self.store.write(
                result.run_id, doc, render_html(doc)
            )
        except Exception as exc:  # a story that cannot be written must not hide the run's result
            log.error("could not write the story to %s: %s", self.store.root, exc)
