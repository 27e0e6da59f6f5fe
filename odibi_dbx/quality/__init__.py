"""Data quality rules with quarantine (SPEC 1.1): one pass over a node's output computes every
rule; `fail` rules and `max_failed_fraction` are decided before anything is written; rows
failing `quarantine` rules are appended to the quarantine target before the main write.

- `rules`: the shared semantics (flags, counts -> results, the node's verdict);
- `expressions`: rule expressions checked like SQL steps (at validation and at run time);
- `duck` / `spark`: how each engine computes the flags and counts in one pass;
- `gate`: the runner's one entry point (`apply`). See docs/data-quality.md.
"""

from __future__ import annotations

from odibi_dbx.quality.gate import Gate, apply

__all__ = ["Gate", "apply"]
