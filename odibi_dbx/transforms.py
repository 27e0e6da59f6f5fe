"""The @transform registry and the loading of a project's `imports:`.

Functions are registered under the module that defines them, so two projects loaded in one
process (tests, a notebook) may each have their own `clean` without clashing.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TypeVar, overload

F = TypeVar("F", bound=Callable[..., Any])

_REGISTRY: dict[str, dict[str, Callable[..., Any]]] = {}  # module -> name -> function


@overload
def transform(fn: F) -> F: ...
@overload
def transform(
    *, name: str | None = None, engine: str | None = None, narwhals: bool = False
) -> Callable[[F], F]: ...
def transform(
    fn: Any = None, *, name: str | None = None, engine: str | None = None, narwhals: bool = False
) -> Any:
    """Register a Python function step, called as ``fn(context, **params)``.

    ``context.get("node")`` returns a node's output (pandas on the Pandas engine, a Spark
    DataFrame on Spark); the function returns a DataFrame.

    * ``narwhals=True``: written once for both engines. ``context.get`` returns a Narwhals
      LazyFrame (over DuckDB on the Pandas engine, over Spark on Spark); return a Narwhals frame.
    * ``engine="pandas"`` / ``"spark"``: written for one engine; on the other one the node fails
      with a message saying so, before the function runs.
    """
    from odibi_dbx.registry import ENGINES  # here: `import odibi_dbx` stays light

    if engine is not None and engine not in ENGINES:
        raise ValueError(f"@transform(engine={engine!r}): expected one of {', '.join(ENGINES)}")
    if engine is not None and narwhals:
        raise ValueError("@transform: narwhals=True runs on both engines; drop engine=")

    def register(f: F) -> F:
        f.__odibi_engine__ = engine  # type: ignore[attr-defined]
        f.__odibi_narwhals__ = narwhals  # type: ignore[attr-defined]
        module = getattr(f, "__module__", None) or "__main__"
        _REGISTRY.setdefault(module, {})[name or f.__name__] = f  # re-running a cell replaces it
        return f

    return register(fn) if fn is not None else register


def load_import(entry: str, base_dir: Path) -> list[str]:
    """Import a module name or a .py file (relative to the project folder); return the modules
    whose functions the project sees."""
    if entry.endswith(".py") or "/" in entry or "\\" in entry:
        path = (base_dir / entry).resolve()
        if not path.is_file():
            raise FileNotFoundError(f"no such file: {path}")
        digest = hashlib.sha1(str(path).encode()).hexdigest()[:8]
        mod_name = f"odibi_user_{path.stem}_{digest}"
        spec = importlib.util.spec_from_file_location(mod_name, path)
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        _REGISTRY.pop(mod_name, None)  # the file may have changed since the last load
        sys.modules[mod_name] = module
        try:
            spec.loader.exec_module(module)
        except BaseException:
            sys.modules.pop(mod_name, None)
            raise
        return [mod_name]
    if str(base_dir) not in sys.path:
        sys.path.insert(0, str(base_dir))  # modules next to the project file
    importlib.import_module(entry)
    return [m for m in _REGISTRY if m == entry or m.startswith(entry + ".")]


class Functions:
    """The function steps one project can call: its imports first, then functions registered
    anywhere else (e.g. a notebook cell) when the name is unambiguous."""

    def __init__(self, modules: Iterable[str] = ()):
        self.modules = list(dict.fromkeys(modules))

    def _candidates(self, name: str, modules: Iterable[str]) -> list[Callable[..., Any]]:
        return [_REGISTRY[m][name] for m in modules if name in _REGISTRY.get(m, {})]

    def get(self, name: str) -> Callable[..., Any] | None:
        own = self._candidates(name, self.modules)
        if len(own) > 1:
            raise LookupError(
                f"function '{name}' is defined in several imported modules: "
                f"{', '.join(f.__module__ for f in own)}; rename one or use @transform(name=...)"
            )
        if own:
            return own[0]
        others = self._candidates(name, [m for m in _REGISTRY if m not in self.modules])
        return others[0] if len(others) == 1 else None

    def names(self) -> list[str]:
        return sorted({n for m in _REGISTRY.values() for n in m})


# --- how a function step sees and returns frames ------------------------------------------


def engine_mismatch(fn: Callable[..., Any], engine: str) -> str | None:
    """Why `fn` cannot run on `engine` (declared for the other one), else None."""
    declared = getattr(fn, "__odibi_engine__", None)
    if declared and declared != engine:
        return (
            f"function '{fn.__name__}' is written for the {declared} engine "
            f"(@transform(engine='{declared}')) and this run uses the {engine} engine"
        )
    return None


def frame_adapters(
    fn: Callable[..., Any], engine: Any
) -> tuple[Callable[[Any], Any], Callable[[Any], Any]]:
    """(what context.get returns for a frame, what the engine gets back from the result)."""
    if not getattr(fn, "__odibi_narwhals__", False):
        return engine.to_user, lambda out: out
    import narwhals.stable.v2 as nw

    def to_user(frame: Any) -> Any:
        return nw.from_native(engine.to_lazy(frame))

    def to_native(out: Any) -> Any:
        if isinstance(out, (nw.DataFrame, nw.LazyFrame)):
            return nw.to_native(out)
        return out

    return to_user, to_native
