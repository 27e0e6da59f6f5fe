"""Functions marked with the node types they act on, so that a walk over a query's nodes calls
each one only on nodes of those types (the rewrite rules, the portability checks)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from sqlglot import exp

F = TypeVar("F", bound=Callable)
E = TypeVar("E", bound="exp.Expr")


def copy_tree(node: E) -> E:
    """The same as node.copy(), a deep copy, without copy.deepcopy's memo and keep-alive
    bookkeeping (sqlglot's __deepcopy__ uses neither): that costs as much as copying a type."""
    return node.__deepcopy__({})  # type: ignore[return-value]


def on(*types: type) -> Callable[[F], F]:
    """Declare the node types (and their subclasses) a function acts on: it returns None for
    any other node, so the walk tries it only on these (see for_type)."""

    def mark(function: F) -> F:
        function.node_types = types  # type: ignore[attr-defined]
        return function

    return mark


def for_type(functions: Iterable[F], node_type: type) -> tuple[F, ...]:
    """The functions, in order, that can act on a node of this type (unmarked ones always)."""
    return tuple(f for f in functions if issubclass(node_type, getattr(f, "node_types", object)))
