"""The history beside the stories: one index entry per run and each node's last successful
state (the baseline the next run compares with), kept in two small JSON files so a run never
reads every old story. Both are rebuilt from the stories when missing."""

from __future__ import annotations

from typing import Any

from odibi_dbx.pipeline.baseline import node_key
from odibi_dbx.story.store import StoryStore

INDEX = "_index.json"
BASELINES = "_baselines.json"
_BASELINE_FIELDS = ("rows_in", "rows_out", "columns", "profile", "seconds")


def index_entry(doc: dict[str, Any]) -> dict[str, Any]:
    """What `index.html` shows of a run: status, time, duration and rows per pipeline (the
    rows its writing nodes wrote; a pipeline that writes nothing: its last nodes' rows out)."""
    rows: dict[str, int | None] = {}
    for pipe in doc["pipelines"]:
        nodes = [n for n in doc["nodes"] if n["pipeline"] == pipe]
        used = {u for n in nodes for u in n.get("upstream", [])}
        ends = [n for n in nodes if n.get("write")] or [
            n for n in nodes if node_key(pipe, n["name"]) not in used
        ]
        counted = [n["rows_out"] for n in ends if n["status"] == "success"]
        rows[pipe] = sum(counted) if counted and None not in counted else None
    return {
        "run_id": doc["run_id"],
        "status": doc["status"],
        "started": doc["started"],
        "seconds": doc["seconds"],
        "engine": doc["engine"],
        "environment": doc.get("environment"),
        "summary": doc["summary"],
        "rows": rows,
    }


def baselines(store: StoryStore) -> dict[str, dict[str, Any]]:
    """ "pipeline.node" -> the node as it was in its last successful run."""
    got = store.get_json(BASELINES)
    if isinstance(got, dict):
        return got
    out: dict[str, dict[str, Any]] = {}
    for run_id in store.runs():  # oldest first: later runs overwrite
        _absorb(out, store.read(run_id))
    return out


def _absorb(base: dict[str, dict[str, Any]], doc: dict[str, Any]) -> None:
    for n in doc["nodes"]:
        if n["status"] == "success":
            entry = {k: n.get(k) for k in _BASELINE_FIELDS}
            base[node_key(n["pipeline"], n["name"])] = {"run_id": doc["run_id"], **entry}


def record(store: StoryStore, doc: dict[str, Any], keep_last: int) -> list[dict[str, Any]]:
    """Add a written story to the history, drop stories beyond `keep_last` and rewrite
    `index.html`, under the history lock: runs sharing a story folder each re-read the side
    files and add to them, none loses another's update. Returns the index entries, oldest first."""
    from odibi_dbx.story.index import render_index

    with store.locked(f"run {doc['run_id']}"):
        base = baselines(store)
        _absorb(base, doc)
        store.put_text(BASELINES, _dumps(base))
        entries = store.get_json(INDEX)
        if not isinstance(entries, list):
            entries = [index_entry(store.read(r)) for r in store.runs() if r != doc["run_id"]]
        entries = [e for e in entries if e["run_id"] != doc["run_id"]] + [index_entry(doc)]
        entries.sort(key=lambda e: e["run_id"])
        runs = store.runs()
        for old in runs[: max(0, len(runs) - keep_last)]:
            store.remove(old)
        kept = set(runs[max(0, len(runs) - keep_last) :])
        entries = [e for e in entries if e["run_id"] in kept]
        store.put_text(INDEX, _dumps(entries))
        store.put_text("index.html", render_index(doc["project"], entries))
    return entries


def _dumps(value: Any) -> str:
    import json

    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
