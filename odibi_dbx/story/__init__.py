"""Run stories: a JSON document and a self-contained HTML page per run."""

from odibi_dbx.story.html import render_html
from odibi_dbx.story.listener import StoryListener
from odibi_dbx.story.model import story_doc
from odibi_dbx.story.store import StoryStore

__all__ = ["StoryListener", "StoryStore", "render_html", "story_doc"]
