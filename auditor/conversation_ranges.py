"""Ranges of conversation ids that split per-conversation work into pieces that fit in memory.

The facts are one hash aggregate over every event, keyed by conversation. At 10M conversations
its state (a few hundred bytes per conversation) is several times DuckDB's memory limit, so
DuckDB spills it to disk and reads it back. When the event files are Parquet ordered (or just
clustered) by conversation id, as exports and `auditor ingest` write them, each row group holds
a narrow band of ids, and its statistics say which: the facts can then be computed one band of
conversations at a time, each reading only the row groups that band covers, each aggregate small
enough to stay in memory (10M conversations: 21-24 s in 3 to 17 ranges against 37-50 s at
once).

The split never changes a result: `conversation_id >= lo AND conversation_id < hi` is exact
whatever the order of the rows, and every conversation falls in exactly one range. Order only
decides whether splitting is cheaper, so files whose row groups overlap much are not split.
DuckDB skips the row groups whose statistics put them outside a range; in case a writer got
them wrong, the facts check that their ranges add up to every event (facts._write_by_ranges).
"""

from __future__ import annotations

from typing import NamedTuple

import duckdb

from auditor.engine import scalar, sql_string

# Events per range: about 700k conversations, whose aggregate fits in the default memory limit
# with room for the rest (engine.DEFAULT_MEMORY_LIMIT).
EVENTS_PER_RANGE = 4_000_000
# Splitting may read a row group twice where it straddles a boundary; beyond this share of
# extra rows read, the files are not clustered enough to gain from it.
MAX_EXTRA_READ = 0.25


class IdRange(NamedTuple):
    """Conversation ids from `low` (inclusive) to `high` (exclusive); None: unbounded."""

    low: str | None
    high: str | None

    def condition(self, column: str = "conversation_id") -> str:
        """SQL true for the ids in this range."""
        parts = ([f"{column} >= {sql_string(self.low)}"] if self.low is not None else []) + (
            [f"{column} < {sql_string(self.high)}"] if self.high is not None else [])
        return " AND ".join(parts) or "true"


EVERYTHING = [IdRange(None, None)]


def conversation_ranges(con: duckdb.DuckDBPyConnection,
                        events_per_range: int = EVENTS_PER_RANGE) -> list[IdRange]:
    """Ranges covering every conversation id, from the staged Parquet files' row-group
    statistics; one range (everything) unless the events are all in Parquet files clustered by
    conversation id and more than two ranges' worth."""
    groups = _row_groups(con)
    # Up to twice a range, one aggregate still fits in memory, and splitting costs more than
    # it saves (1M conversations, 5.8M events: facts 3.51 s in two ranges, 3.36 s at once).
    if groups is None or _total(groups) <= 2 * events_per_range:
        return EVERYTHING
    bounds: list[str] = []
    in_range, highest = 0, ""
    for low, high, rows in sorted(groups):
        # A clean cut leaves every id before it in earlier row groups. Writers cut row groups
        # by row count, often inside a conversation; cutting a range there reads that row group
        # twice, so it is done only when no clean cut came soon enough.
        clean = low > highest
        if in_range >= (1 if clean else 2) * events_per_range and (not bounds or low > bounds[-1]):
            bounds.append(low)
            in_range = 0
        in_range, highest = in_range + rows, max(highest, high)
    ranges = [IdRange(lo, hi) for lo, hi in zip([None, *bounds], [*bounds, None], strict=True)]
    return ranges if _rows_read(groups, ranges) <= (1 + MAX_EXTRA_READ) * _total(groups) \
        else EVERYTHING


def _row_groups(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str, int]] | None:
    """(smallest id, largest id, rows) of every row group of the staged event files; None when
    some events are not in such files or their ids have no string statistics."""
    if scalar(con, "SELECT count(*) FROM stage_events"):
        return None  # rows staged as copies (text formats): no statistics
    files = [r[0] for r in con.execute(
        "SELECT parquet_file FROM staged_views WHERE staged_table = 'stage_events'").fetchall()]
    if not files or None in files:
        return None
    listed = ", ".join(sql_string(f) for f in files)
    # Only files whose ids are text are listed (sources/canonical.py): numbers would sort
    # differently from the text the ranges compare.
    rows = con.execute(f"""
        SELECT stats_min_value, stats_max_value, row_group_num_rows
        FROM parquet_metadata([{listed}]) WHERE lower(path_in_schema) = 'conversation_id'
    """).fetchall()
    if not rows or any(low is None or high is None for low, high, _ in rows):
        return None
    return [(str(low), str(high), int(n)) for low, high, n in rows]


def _total(groups: list[tuple[str, str, int]]) -> int:
    return sum(rows for _, _, rows in groups)


def _rows_read(groups: list[tuple[str, str, int]], ranges: list[IdRange]) -> int:
    """Rows read over all ranges: each range reads every row group its ids overlap."""
    return sum(rows for low, high, rows in groups for r in ranges
               if (r.high is None or low < r.high) and (r.low is None or high >= r.low))
