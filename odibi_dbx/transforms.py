"""The @transform registry and the loading of a project's `imports:`."""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar, overload

F = TypeVar("F", bound=Callable[..., Any])

_REGISTRY: dict[str, Callable[..., Any]] = {}


@overload
def transform(fn: F) -> F: ...
@overload
def transform(*, name: str | None = None) -> Callable[[F], F]: ...
def transform(fn: Any = None, *, name: str | None = None) -> Any:
    """Register a Python function step, called as ``fn(context, **params)``.

    ``context.get("node")`` returns a node's output (pandas on the Pandas engine, a Spark
    DataFrame on Spark); the function returns a DataFrame.
    """

    def register(f: F) -> F:
        key = name or f.__name__
        old = _REGISTRY.get(key)
        if old is not None and _origin(old) != _origin(f):
            raise ValueError(
                f"transform '{key}' is defined twice: in {_origin(old)} and {_origin(f)}; "
                "rename one or use @transform(name=...)"
            )
        _REGISTRY[key] = f  # re-registering the same function (notebook re-run) replaces it
        return f

    return register(fn) if fn is not None else register


def _origin(f: Callable[..., Any]) -> str:
    code = getattr(f, "__code__", None)
    where = code.co_filename if code else getattr(f, "__module__", "?")
    return f"{where}:{getattr(f, '__qualname__', f)}"


def get_transform(name: str) -> Callable[..., Any] | None:
    return _REGISTRY.get(name)


def registered() -> list[str]:
    return sorted(_REGISTRY)


def load_import(entry: str, base_dir: Path) -> None:
    """Import a module name or a .py file (relative to the project folder)."""
    if entry.endswith(".py") or "/" in entry or "\\" in entry:
        path = (base_dir / entry).resolve()
        if not path.is_file():
            raise FileNotFoundError(f"no such file: {path}")
        digest = hashlib.sha1(str(path).encode()).hexdigest()[:8]
        mod_name = f"odibi_user_{path.stem}_{digest}"
        spec = importlib.util.spec_from_file_location(mod_name, path)
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        sys.modules[mod_name] = module
        try:
            spec.loader.exec_module(module)
        except BaseException:
            sys.modules.pop(mod_name, None)
            raise
        return
    if str(base_dir) not in sys.path:
        sys.path.insert(0, str(base_dir))  # modules next to the project file
    importlib.import_module(entry)
