"""Turn pydantic's ValidationError into Problems with file:line, key path and a hint."""

from __future__ import annotations

import math
import re
import unicodedata
from typing import Any

from pydantic import BaseModel, ValidationError

from odibi_dbx import registry
from odibi_dbx.config import models as m
from odibi_dbx.config.source import Source
from odibi_dbx.errors import Problem, did_you_mean

_NODE_PARTS: dict[str, type[BaseModel]] = {
    "read": m.ReadConfig,
    "write": m.WriteConfig,
    "transform": m.TransformConfig,
    "validation": m.ValidationConfig,
}
_TOP: dict[str, type[BaseModel]] = {
    "story": m.StoryConfig,
    "retry": m.RetryConfig,
    "logging": m.LoggingConfig,
}


def structure_problems(src: Source, exc: ValidationError) -> list[Problem]:
    out = []
    for err in exc.errors(include_url=False):
        path = _raw_path(src.data, err["loc"])
        out.append(_problem(src, err, path))
    return out


def _raw_path(data: Any, loc: tuple) -> tuple:
    """Drop pydantic's union tags from loc, keeping only keys that exist in the YAML."""
    path: list[Any] = []
    cur = data
    for i, part in enumerate(loc):
        last = i == len(loc) - 1
        if isinstance(cur, dict) and part in cur:
            path.append(part)
            cur = cur[part]
        elif isinstance(cur, list) and isinstance(part, int) and part < len(cur):
            path.append(part)
            cur = cur[part]
        elif last and isinstance(part, str) and not _is_tag(part):
            path.append(part)  # a missing key
    return tuple(path)


def _is_tag(part: str) -> bool:
    return part in ("sql", "function") or part in registry.CONNECTION_TYPES


def _problem(src: Source, err: Any, path: tuple) -> Problem:
    kind, msg = err["type"], err["msg"]
    key = path[-1] if path else None
    hint = None
    if kind == "extra_forbidden":
        allowed = _allowed_keys(src.data, path[:-1])
        hint = did_you_mean(str(key), allowed) if allowed else None
        if hint is None and allowed:
            hint = f"allowed keys here: {', '.join(sorted(allowed))}"
        msg = f"unknown key '{key}'"
    elif kind == "missing":
        msg = f"missing required key '{key}'"
    elif kind == "union_tag_invalid":
        tag = err.get("ctx", {}).get("tag")
        msg = f"unknown connection type '{tag}'"
        types = registry.CONNECTION_TYPES
        hint = did_you_mean(str(tag), types) or f"types: {', '.join(types)}"
        path = path + ("type",)
    elif kind == "union_tag_not_found":
        msg = f"a connection needs type: {' | '.join(registry.CONNECTION_TYPES)}"
    elif kind == "value_error":
        msg = msg.removeprefix("Value error, ")
        if ". did you mean" in msg:
            msg, _, rest = msg.partition(". did you mean")
            hint = "did you mean" + rest
        elif msg.endswith(". "):
            msg = msg[:-2]
    elif kind == "step":
        pass
    elif kind == "string_pattern_mismatch" and key in ("name", "pipeline"):
        msg = (
            "names are ASCII letters, digits and _ (and - for pipelines), starting with a "
            "letter or _"
        )
        hint = "node names become SQL view names, so they must be plain identifiers"
        if "nodes" in path and isinstance(err.get("input"), str):
            hint += f": rename it, e.g. '{_plain_identifier(err['input'])}'"
    elif kind == "string_pattern_mismatch" and key == "account":
        msg = "a storage account name is 3-24 lower-case letters and digits"
    elif kind.endswith(("_type", "_parsing")) and not _sensitive(path):
        shown = repr(err.get("input"))
        msg += f" (got {shown if len(shown) <= 60 else shown[:57] + '...'})"
    if hint is None and _not_finite(err.get("input")):
        hint = (
            "YAML reads .inf / .nan as infinity / not-a-number; give a finite number, "
            "or quote the value ('.nan') if you meant text"
        )
    return Problem(msg, src.file, src.line(path), _fmt(src, path), hint)


def _plain_identifier(name: str) -> str:
    """`name` as letters, digits and _ (accents dropped), starting with a letter or _."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    plain = re.sub(r"[^A-Za-z0-9_]+", "_", ascii_name).strip("_") or "node"
    return f"_{plain}" if plain[0].isdigit() else plain


def _not_finite(value: Any) -> bool:
    return isinstance(value, float) and not math.isfinite(value)


def _sensitive(path: tuple) -> bool:
    return any(
        isinstance(p, str) and any(w in p.lower() for w in ("key", "secret", "password", "token"))
        for p in path
    )


def _fmt(src: Source, path: tuple) -> str:
    from odibi_dbx.config.source import format_path

    return format_path(path, src.data)


def _allowed_keys(data: Any, parent: tuple) -> list[str]:
    model = _model_at(data, parent)
    if model is None:
        return []
    return [f.alias or name for name, f in model.model_fields.items()]


def _model_at(data: Any, path: tuple) -> type[BaseModel] | None:
    """Which config model describes the mapping at `path` of the raw YAML."""
    n = len(path)
    if n == 0:
        return m.ProjectConfig
    head = path[0]
    if n == 1:
        return _TOP.get(head)
    if head == "connections" and n == 2:
        try:
            return registry.connection_configs().get(data["connections"][path[1]].get("type"))
        except (KeyError, TypeError, AttributeError):
            return None
    if head != "pipelines":
        return None
    if n == 2:
        return m.PipelineConfig
    if n == 4 and path[2] == "nodes":
        return m.NodeConfig
    if n == 5 and path[2] == "nodes":
        return _NODE_PARTS.get(path[4])
    if n == 7 and path[4] == "transform" and path[5] == "steps":
        return m.FunctionStep
    return None
