"""Staged rows -> validated `events` and `conversations`, the same for every source format.

Set-based: one query over everything staged normalises roles and event types and decides for
every row either a quarantine reason or a place in the event log. Rows with a reason go to
`quarantine`, the others are the `events` view. Nothing is dropped silently: each staged row
ends up in exactly one of the two.
"""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

import duckdb

from auditor.engine import (
    QUARANTINE_SORT_KEY, first_row, record_label, scalar, sql_string, staged, staged_events,
    staged_events_rescannable,
)
from auditor.errors import InputError
from auditor.schema import ACTOR_ROLES, EVENT_TYPES, LABEL_STATES, TOKEN_COLUMNS, VENDOR_STATES
from auditor.warehouse.dialects import ascii_lower_sql


def _in_list(values: tuple[str, ...]) -> str:
    return "(" + ", ".join(sql_string(v) for v in values) + ")"


def _normalised(column: str, enum_type: str) -> str:
    # A cast to the ENUM is one lookup; only values that miss are case-folded (ASCII letters only,
# as a warehouse engine folds them) and tried again.
    # NULL means not an allowed value. Events keep the ENUM: compact, and cheap to compare.
    return (f"coalesce(try_cast({column} AS {enum_type}), "
            f"try_cast({ascii_lower_sql(f'trim({column})')} AS {enum_type}))")


def _count(column: str) -> str:
    """A token count as read: a whole number, or NULL when empty or not one."""
    return f"try_cast(nullif(trim({column}), '') AS BIGINT)"


# Token counts (optional): a value that is not a whole number of 0 or more quarantines its record.
TOKEN_CHECKS = " ".join(
    f"WHEN nullif(trim({c}), '') IS NOT NULL AND coalesce({_count(c)} < 0, true) THEN '{c}'"
    for c in TOKEN_COLUMNS)
TOKEN_REASONS = " ".join(
    f"WHEN '{c}' THEN '{c} ' || {sql_string(chr(39))} || {c} || {sql_string(chr(39))} "
    "|| ' is not a whole number of 0 or more'" for c in TOKEN_COLUMNS)


# First failing check wins; NULL means the row is valid. Reads the normalised role and type.
CHECKS = f"""
    CASE
        WHEN conversation_id IS NULL OR conversation_id = '' THEN 'conversation_id'
        WHEN created_at IS NULL THEN 'created_at'
        -- Beyond these, durations in hours overflow; and no helpdesk export has such dates.
        WHEN created_at NOT BETWEEN TIMESTAMP '1970-01-01' AND TIMESTAMP '2200-01-01'
            THEN 'created_at'
        WHEN role IS NULL THEN 'actor_role'
        WHEN kind IS NULL THEN 'event_type'
        WHEN rating_raw IS NOT NULL AND coalesce(try_cast(rating_raw AS DOUBLE) NOT IN
            (1, 2, 3, 4, 5), true) THEN 'rating'
        {TOKEN_CHECKS}
    END
"""

REASON = f"""
    CASE problem_field
        WHEN 'conversation_id' THEN 'conversation_id is missing'
        WHEN 'created_at' THEN CASE
            WHEN created_at IS NOT NULL THEN 'created_at ' || strftime(created_at, '%Y-%m-%d')
                || ' is outside the years 1970-2199'
            WHEN created_at_raw IS NULL OR trim(created_at_raw) = ''
            THEN 'created_at is missing'
            ELSE 'cannot parse ''' || created_at_raw || ''' as a timestamp '
                 || '(expected ISO 8601 or epoch seconds)' END
        WHEN 'actor_role' THEN 'unknown actor_role ''' || coalesce(actor_role, '') || ''' (expected '
            || {sql_string(', '.join(ACTOR_ROLES))} || ')'
        WHEN 'event_type' THEN 'unknown event_type ''' || coalesce(event_type, '') || ''' (expected '
            || {sql_string(', '.join(EVENT_TYPES))} || ')'
        WHEN 'rating' THEN 'rating ''' || rating_raw || ''' is not a whole number from 1 to 5'
        {TOKEN_REASONS}
    END
"""


class IngestCounts(NamedTuple):
    events: int
    conversations: int | None  # None when not counted (see finish_ingest)
    quarantined: int
    last_event_at: datetime | None  # the latest valid event; None when unknown or no events


def finish_ingest(con: duckdb.DuckDBPyConnection,
                  count_conversations: bool = True) -> IngestCounts:
    """Build `events` and `conversations`; return their counts and the last event's time.

    `events` is a view of the valid staged rows. Staged Parquet is read again by whatever reads
    the events (the facts, once): copying every event with its text into a table cost more
    than repeating the checks. Staged text files are checked into a table once.
    `conversations` is a view over the attribute table `conversation_attrs` and the ids that
    only events name; counting it costs a pass over the events, so a caller that learns the
    number later (the audit: one facts row per conversation) can skip it (None).
    """
    materialised = _check_staged_events(con)
    survey = _survey(con)
    if survey.invalid:
        _quarantine_invalid_rows(con)
        _reject_hopeless_files(con)
    con.execute(f"CREATE VIEW valid_events AS SELECT {EVENT_LOG_COLUMNS} FROM checked_events "
                "WHERE problem_field IS NULL")
    con.execute("CREATE VIEW events AS SELECT * FROM valid_events")
    rows, last_event_at = survey.rows - survey.invalid, survey.last_valid_at
    # Ids distinct among all staged rows are distinct among the valid ones.
    if survey.missing_ids or survey.rows != survey.distinct_ids:
        # Ids to derive, or maybe the same id twice: the exact way, on the valid rows.
        rows, missing, distinct = _id_counts(con, "events")
        if missing:
            _derive_missing_ids(con)
            rows, _, distinct = _id_counts(con, "events")
        if rows != distinct:
            rows -= _quarantine_duplicate_ids(con)
            last_event_at = None  # the ignored copies may have held it
    # The count the facts check their sum against when read in ranges (facts._write_by_ranges).
    con.execute(f"CREATE OR REPLACE TABLE event_count AS SELECT {int(rows)} AS events")
    _build_conversations(con)
    _build_unjudgeable(con)
    if materialised:  # the staged rows live on in checked_events
        con.execute("DELETE FROM stage_events")
    con.execute("DELETE FROM stage_conversations")
    quarantined = int(scalar(con, "SELECT count(*) FROM quarantine"))  # type: ignore[arg-type]
    conversations = (int(scalar(con, "SELECT count(*) FROM conversations"))  # type: ignore[arg-type]
                     if count_conversations else None)
    return IngestCounts(rows, conversations, quarantined, last_event_at)


# (rows, rows without an event_id, distinct hashes of (conversation_id, event_id)).
ID_COUNTS = ("count(*), count(*) FILTER (event_id IS NULL), "
             "count(DISTINCT hash(conversation_id, event_id))")


class Survey(NamedTuple):
    rows: int  # every checked row, valid or not
    invalid: int
    missing_ids: int
    distinct_ids: int  # distinct hashes of (conversation_id, event_id)
    last_valid_at: datetime | None


def _survey(con: duckdb.DuckDBPyConnection) -> Survey:
    """One pass over the checked rows: how many have a problem, whether their ids may repeat
    (equal counts of rows and of distinct hashes prove every id unique; a hash collision can
    only make them say "maybe", and then the exact check runs), and the last valid event."""
    rows, missing, distinct, invalid, last = con.execute(f"""
        SELECT {ID_COUNTS}, count(*) FILTER (problem_field IS NOT NULL),
               max(created_at) FILTER (problem_field IS NULL)
        FROM checked_events
    """).fetchall()[0]
    return Survey(int(rows), int(invalid), int(missing), int(distinct), last)


def _id_counts(con: duckdb.DuckDBPyConnection, relation: str) -> tuple[int, int, int]:
    """ID_COUNTS of `relation`."""
    rows, missing, distinct = con.execute(f"SELECT {ID_COUNTS} FROM {relation}").fetchall()[0]
    return int(rows), int(missing), int(distinct)


# The event log's columns (docs/canonical-schema.md), typed, with each row's lineage.
EVENT_LOG_COLUMNS = ("conversation_id, event_id, created_at, actor_role, actor_id, event_type, "
                     f"body, rating, channel, {', '.join(TOKEN_COLUMNS)}, source_file, source_ord")


def _check_staged_events(con: duckdb.DuckDBPyConnection) -> bool:
    """`checked_events`: every staged row, normalised, with its problem (NULL when valid).

    A view when the staged rows are cheap to read again, else a table; returns whether it is
    a table.
    """
    materialised = not staged_events_rescannable(con)
    con.execute(f"""
        CREATE {'TABLE' if materialised else 'VIEW'} checked_events AS
        SELECT conversation_id, event_id, created_at, role AS actor_role,
               nullif(trim(actor_id), '') AS actor_id,
               kind AS event_type, body,
               CAST(try_cast(rating_raw AS DOUBLE) AS INTEGER) AS rating,
               channel, {", ".join(f"{_count(c)} AS {c}" for c in TOKEN_COLUMNS)},
               source_file, source_ord, problem_field,
               CASE WHEN problem_field IS NOT NULL THEN source_record END AS problem_record,
               CASE WHEN problem_field IS NOT NULL THEN {REASON} END AS problem_reason
        FROM (SELECT *, {CHECKS} AS problem_field
              FROM (SELECT *, {_normalised('actor_role', 'actor_role_enum')} AS role,
                           {_normalised('event_type', 'event_type_enum')} AS kind
                    FROM {staged_events(con)}))
    """)
    return materialised


def _quarantine_invalid_rows(con: duckdb.DuckDBPyConnection) -> None:
    """Rows with a problem go to quarantine."""
    con.execute(f"""
        INSERT INTO quarantine (source_file, source_record, conversation_id, field, reason)
        SELECT source_file, {record_label('source_file', 'source_ord', 'problem_record')},
               nullif(conversation_id, ''), problem_field, problem_reason
        FROM checked_events WHERE problem_field IS NOT NULL
    """)


def _reject_hopeless_files(con: duckdb.DuckDBPyConnection) -> None:
    """A file in which no event row is valid is a file problem, not a few bad records."""
    first_bad = first_row(con, f"""
        WITH hopeless AS (
            SELECT source_file FROM checked_events
            WHERE source_file IN (SELECT source_file FROM quarantine)
            GROUP BY source_file
            HAVING count(*) FILTER (problem_field IS NULL) = 0
        )
        SELECT source_file, {record_label('source_file', 'source_ord', 'problem_record')},
               problem_field, problem_reason
        FROM checked_events JOIN hopeless USING (source_file)
        ORDER BY source_file, source_ord LIMIT 1
    """)
    if first_bad:
        file, record, field, reason = first_bad
        raise InputError(file, f"{reason}; no row in this file is valid", record=record,
                         field=field)


def _derive_missing_ids(con: duckdb.DuckDBPyConnection) -> None:
    """Ids for rows that brought none: '#n' in time order within the conversation."""
    con.execute("""
        CREATE TABLE events_with_ids AS
        SELECT * REPLACE (coalesce(event_id, '#' || row_number() OVER (
            PARTITION BY conversation_id ORDER BY created_at, source_file, source_ord))
            AS event_id)
        FROM valid_events
    """)
    con.execute("CREATE OR REPLACE VIEW valid_events AS SELECT * FROM events_with_ids")


DUPLICATE_COPIES = """
    CREATE TABLE duplicate_copies AS
    SELECT source_file, source_ord, conversation_id, event_id FROM (
        SELECT e.source_file, e.source_ord, e.conversation_id, e.event_id,
               row_number() OVER (PARTITION BY e.conversation_id, e.event_id
                                  ORDER BY e.source_file, e.source_ord) AS copy_no
        FROM events e SEMI JOIN (
            SELECT conversation_id, event_id FROM events
            GROUP BY ALL HAVING count(*) > 1) d USING (conversation_id, event_id))
    WHERE copy_no > 1
"""
DUPLICATE_REASON = (
    "'duplicate event_id ''' || d.event_id || ''' in conversation ''' || d.conversation_id "
    "|| ''' (first seen earlier; this copy is ignored)'"
)


def _quarantine_duplicate_ids(con: duckdb.DuckDBPyConnection) -> int:
    """Keep the first copy of a repeated (conversation_id, event_id); quarantine the rest and
    return how many there were."""
    con.execute(DUPLICATE_COPIES)
    copies = int(scalar(con, "SELECT count(*) FROM duplicate_copies"))  # type: ignore[call-overload]
    if not copies:
        return 0
    con.execute(f"""
        INSERT INTO quarantine
        SELECT s.source_file, {record_label('s.source_file', 's.source_ord', 's.source_record')},
               d.conversation_id, 'event_id', {DUPLICATE_REASON}, true
        FROM duplicate_copies d JOIN {staged_events(con)} s USING (source_file, source_ord)
    """)
    con.execute("CREATE OR REPLACE VIEW events AS SELECT * FROM valid_events "
                "ANTI JOIN duplicate_copies USING (source_file, source_ord)")
    return copies


def _agreed(column: str, one_row: bool = False) -> str:
    """A conversation's attribute: when rows disagree, the smallest non-empty value
    (deterministic). A blank value is a missing one: a blank customer id never matches
    another conversation's. With `one_row` (every conversation has one row) the row's value."""
    value = f"nullif(trim({column}), '')"
    return value if one_row else f"min({value})"


def _label_state(label: str) -> str:
    """The state a known vendor label means (LABEL_STATES), else NULL."""
    cases = " ".join(f"WHEN {sql_string(k)} THEN {sql_string(v)}" for k, v in LABEL_STATES.items())
    return f"CASE {ascii_lower_sql(f'trim({label})')} {cases} END"


def _attributes(staged: str, one_row: bool) -> str:
    """Each conversation's attributes from its `staged` rows; with `one_row` the same values
    without the GROUP BY (the aggregates of a single row are its values)."""
    state = ascii_lower_sql("vendor_state")
    known = f"CASE WHEN {state} IN {_in_list(VENDOR_STATES)} THEN {state} END"
    return f"""
        SELECT conversation_id,
               {_agreed('customer_id', one_row)} AS customer_id,
               {_agreed('channel', one_row)} AS channel,
               {_agreed('vendor_label', one_row)} AS vendor_label,
               {known if one_row else f"min({known})"} AS known_state,
               coalesce({'is_preview' if one_row else 'bool_or(is_preview)'}, false) AS is_preview,
               {'ai_answered' if one_row else 'bool_or(ai_answered)'} AS ai_answered
        FROM {staged}
        WHERE conversation_id IS NOT NULL AND conversation_id <> ''
        {'' if one_row else 'GROUP BY 1'}
    """


def _build_conversations(con: duckdb.DuckDBPyConnection) -> None:
    # Exports usually have one row per conversation: then no aggregate is needed (the string
    # aggregates cost seconds on a million conversations; counting distinct ids does not).
    conversations = staged(con, "stage_conversations")
    one_row = bool(scalar(con, "SELECT count(conversation_id) = count(DISTINCT conversation_id) "
                               f"FROM {conversations} WHERE conversation_id <> ''"))
    con.execute(f"""
        CREATE TABLE conversation_attrs AS
            SELECT conversation_id, customer_id, channel, vendor_label,
                   coalesce(known_state, {_label_state('vendor_label')}) AS vendor_state,
                   is_preview, ai_answered
            FROM ({_attributes(conversations, one_row)})
    """)
    # Conversations known only from their events have empty attributes. A view: facts find
    # them in their own pass over the events, without this one.
    con.execute("""
        CREATE VIEW conversations AS
        SELECT * FROM conversation_attrs
        UNION ALL
        SELECT conversation_id, NULL, NULL, NULL, NULL, false, NULL FROM (
            SELECT DISTINCT conversation_id FROM events
            ANTI JOIN conversation_attrs USING (conversation_id))
    """)


# Why a conversation cannot be judged, in the order reasons are listed.
UNJUDGEABLE_REASONS: dict[str, str] = {
    "incomplete_export": "The export has the conversation but not (all) its messages, so it "
                         "cannot be judged.",
    "quarantined_records": "Some of the conversation's records were quarantined (see "
                           "quarantine.csv), so it is not judged on the rest.",
}


def _build_unjudgeable(con: duckdb.DuckDBPyConnection) -> None:
    """`unjudgeable`: conversations the data cannot support a verdict on, with reasons and
    evidence. Their facts are still computed, but no billed line is confirmed or disputed on
    them: reconciliation makes those lines unverifiable."""
    con.execute(f"""
        CREATE OR REPLACE TABLE unjudgeable AS
        WITH quarantined AS (
            SELECT conversation_id, count(*) AS n,
                   arg_min(source_file || ', ' || source_record
                           || coalesce(', field ' || field, '') || ': ' || reason,
                           ({QUARANTINE_SORT_KEY})) AS first_problem
            FROM quarantine
            WHERE conversation_id IS NOT NULL AND NOT coalesce(redundant, false)
            GROUP BY 1
        ),
        incomplete AS (
            SELECT conversation_id, min(detail) AS detail FROM incomplete_conversations
            WHERE conversation_id IS NOT NULL GROUP BY 1
        )
        SELECT conversation_id,
            list_concat(
                CASE WHEN i.conversation_id IS NOT NULL THEN ['incomplete_export'] ELSE [] END,
                CASE WHEN q.conversation_id IS NOT NULL THEN ['quarantined_records'] ELSE [] END
            ) AS reasons,
            concat_ws('; ', 'incomplete export: ' || i.detail,
                CASE WHEN q.n = 1 THEN '1 record quarantined (' || q.first_problem || ')'
                     WHEN q.n > 1 THEN q.n || ' records quarantined, the first ('
                                       || q.first_problem || ')' END) AS evidence
        FROM incomplete i FULL JOIN quarantined q USING (conversation_id)
    """)
