"""Incremental reads: a watermark column or a Delta change data feed, whose state is stored with
the writes that consume the rows (see docs/incremental.md)."""
