"""What validation asks of the Pandas engine (its name, capabilities and the SQL steps it
refuses), kept apart from the engine so that validating a project loads no DuckDB."""

from __future__ import annotations

from typing import TYPE_CHECKING

from odibi_dbx.engines.base import EngineCapabilities, EngineChecks

if TYPE_CHECKING:
    from sqlglot import exp

    from odibi_dbx.sql.errors import NotPortableError

UNKNOWN_TYPE = "unknown operand type"  # NotPortableError.construct for type-dependent SQL


class PandasChecks(EngineChecks):
    name = "pandas"
    capabilities = EngineCapabilities(
        delta_merge=True, catalog_tables=False, max_parallel_nodes=2, frames="pandas"
    )

    @classmethod
    def sql_problems(cls, tree: exp.Expr, *, copy: bool = True) -> list[NotPortableError]:
        from odibi_dbx import sql as S
        from odibi_dbx.sql.node_types import copy_tree
        from odibi_dbx.sql.types import annotate

        # one copy checked and translated, so that a kept tree stays as parsed
        work = copy_tree(tree) if copy else tree
        annotate(work, None)
        problems = list(S.portability_problems(work, annotated=True, sandbox=False))
        if not problems:
            try:
                S.to_duckdb(work, checked=True, copy=False, annotated=True)
            except S.NotPortableError as exc:
                # input types are known only when the node runs; type-dependent checks wait
                if exc.construct != UNKNOWN_TYPE:
                    problems.append(exc)
        return problems
