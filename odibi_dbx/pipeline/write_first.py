"""Write first, then read what was written: the hand-written medallion job's way.

When a write-only node writes a node's output as a Parquet folder and other nodes read that
output too, an engine that can (capability `reads_written_output`: Spark) runs the write
first and lets the others read the folder just written, instead of keeping a copy of the
output in memory for all of them (a Spark cache costs more CPU and heap than the read back,
bench/README.md). The others wait for the write by an ordering edge, which runs them even
when the write fails: they then compute the output from its plan, as without this.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from odibi_dbx.pipeline.plan import Plan


def written_first(
    plan: Plan, keys: Sequence[str], views: Mapping[str, Sequence[str]], readers: Mapping[str, int]
) -> dict[str, str]:
    """{output's node key: the write-only node that writes it first} for each output read by
    more nodes than its writer, written whole (overwrite, no partitions) as Parquet to a path,
    and neither cached on request nor checked (those keep their copy)."""
    out: dict[str, str] = {}
    for key in keys:
        node = plan.nodes[key].config
        w = node.write
        if node.read or node.transform or node.validation or w is None or len(views[key]) != 1:
            continue
        if w.table or w.path is None or w.mode != "overwrite" or w.partition_by:
            continue
        src = views[key][0]
        source = plan.nodes[src].config
        if w.resolved_format != "parquet" or node.depends_on != [plan.nodes[src].name]:
            continue
        if readers[src] < 2 or source.cache or source.validation or source.write or src in out:
            continue
        out[src] = key
    return out
