"""Staging tables -> validated `events` and `conversations`, the same for every source format.

Set-based: one pass of SQL decides, for every staged row, either a quarantine reason or a place
in the event log. Nothing is dropped silently: each staged row ends up in exactly one of them.
"""

from __future__ import annotations

import duckdb

from auditor.engine import first_row, sql_string
from auditor.errors import InputError
from auditor.schema import ACTOR_ROLES, EVENT_TYPES, VENDOR_STATES


def _in_list(values: tuple[str, ...]) -> str:
    return "(" + ", ".join(sql_string(v) for v in values) + ")"


# First failing check wins; (field, reason) of NULL means the row is valid.
CHECKS = f"""
    CASE
        WHEN conversation_id IS NULL OR trim(conversation_id) = '' THEN 'conversation_id'
        WHEN created_at IS NULL THEN 'created_at'
        WHEN actor_role IS NULL OR lower(trim(actor_role)) NOT IN {_in_list(ACTOR_ROLES)}
            THEN 'actor_role'
        WHEN event_type IS NULL OR lower(trim(event_type)) NOT IN {_in_list(EVENT_TYPES)}
            THEN 'event_type'
        WHEN rating_raw IS NOT NULL AND coalesce(try_cast(rating_raw AS DOUBLE) NOT IN
            (1, 2, 3, 4, 5), true) THEN 'rating'
    END
"""

REASON = f"""
    CASE problem_field
        WHEN 'conversation_id' THEN 'conversation_id is missing'
        WHEN 'created_at' THEN CASE WHEN created_at_raw IS NULL OR trim(created_at_raw) = ''
            THEN 'created_at is missing'
            ELSE 'cannot parse ''' || created_at_raw || ''' as a timestamp '
                 || '(expected ISO 8601 or epoch seconds)' END
        WHEN 'actor_role' THEN 'unknown actor_role ''' || coalesce(actor_role, '') || ''' (expected '
            || {sql_string(', '.join(ACTOR_ROLES))} || ')'
        WHEN 'event_type' THEN 'unknown event_type ''' || coalesce(event_type, '') || ''' (expected '
            || {sql_string(', '.join(EVENT_TYPES))} || ')'
        WHEN 'rating' THEN 'rating ''' || rating_raw || ''' is not a whole number from 1 to 5'
    END
"""


def finish_ingest(con: duckdb.DuckDBPyConnection) -> tuple[int, int, int]:
    """Build `events` and `conversations`; return (events, conversations, quarantine rows)."""
    _check_rows(con)
    _build_events(con)
    _build_conversations(con)
    con.execute("DROP TABLE stage_checked")
    counts = [con.execute(f"SELECT count(*) FROM {t}").fetchall()[0][0]  # type: ignore[index]
              for t in ("events", "conversations", "quarantine")]
    return counts[0], counts[1], counts[2]


def _check_rows(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(f"""
        CREATE TEMP TABLE stage_checked AS
        SELECT *, CASE WHEN event_id IS NOT NULL AND problem_field IS NULL THEN row_number() OVER (
                   PARTITION BY trim(conversation_id), event_id, problem_field IS NULL
                   ORDER BY source_file, source_ord) END AS id_rank
        FROM (SELECT *, {CHECKS} AS problem_field FROM stage_events)
    """)
    con.execute(f"""
        INSERT INTO quarantine
        SELECT source_file, source_record, problem_field, {REASON}
        FROM stage_checked WHERE problem_field IS NOT NULL
        UNION ALL
        SELECT source_file, source_record, 'event_id',
               'duplicate event_id ''' || event_id || ''' in conversation ''' || conversation_id
               || ''' (first seen earlier; this copy is ignored)'
        FROM stage_checked WHERE id_rank > 1
        ORDER BY 1, 2
    """)
    _reject_hopeless_files(con)
    con.execute("DELETE FROM stage_events")


def _reject_hopeless_files(con: duckdb.DuckDBPyConnection) -> None:
    """A file in which no event row is valid is a file problem, not a few bad records."""
    first_bad = first_row(con, f"""
        WITH per_file AS (
            SELECT source_file FROM stage_checked GROUP BY source_file
            HAVING count(*) FILTER (problem_field IS NULL) = 0
        )
        SELECT source_file, source_record, problem_field, {REASON}
        FROM stage_checked JOIN per_file USING (source_file)
        ORDER BY source_file, source_ord LIMIT 1
    """)
    if first_bad:
        file, record, field, reason = first_bad
        raise InputError(file, f"{reason}; no row in this file is valid", record=record,
                         field=field)


def _build_events(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("""
        CREATE TABLE events AS
        SELECT trim(conversation_id) AS conversation_id,
               coalesce(event_id, '#' || row_number() OVER (
                   PARTITION BY trim(conversation_id)
                   ORDER BY created_at, source_file, source_ord)) AS event_id,
               created_at,
               lower(trim(actor_role)) AS actor_role,
               actor_id,
               lower(trim(event_type)) AS event_type,
               body,
               CAST(try_cast(rating_raw AS DOUBLE) AS INTEGER) AS rating,
               channel, source_file, source_ord
        FROM stage_checked
        WHERE problem_field IS NULL AND coalesce(id_rank, 1) = 1
        ORDER BY conversation_id, created_at, source_file, source_ord
    """)


def _build_conversations(con: duckdb.DuckDBPyConnection) -> None:
    states = _in_list(VENDOR_STATES)
    con.execute(f"""
        CREATE TABLE conversations AS
        WITH attrs AS (
            SELECT trim(conversation_id) AS conversation_id,
                   first(customer_id ORDER BY source_file, source_ord) AS customer_id,
                   first(channel ORDER BY source_file, source_ord) AS channel,
                   first(vendor_label ORDER BY source_file, source_ord) AS vendor_label,
                   first(lower(vendor_state) ORDER BY source_file, source_ord)
                       FILTER (WHERE lower(vendor_state) IN {states}) AS vendor_state,
                   coalesce(bool_or(is_preview), false) AS is_preview
            FROM stage_conversations
            WHERE conversation_id IS NOT NULL AND trim(conversation_id) <> ''
            GROUP BY 1
        ),
        ids AS (
            SELECT conversation_id FROM attrs UNION SELECT DISTINCT conversation_id FROM events
        )
        SELECT ids.conversation_id, attrs.customer_id, attrs.channel, attrs.vendor_label,
               attrs.vendor_state, coalesce(attrs.is_preview, false) AS is_preview
        FROM ids LEFT JOIN attrs USING (conversation_id)
        ORDER BY ids.conversation_id
    """)
    con.execute("DELETE FROM stage_conversations")
