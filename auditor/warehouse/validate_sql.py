"""Validation of canonical events inside the engine: what auditor/sources/validate.py does for
the local run, in the portable subset, from a source's two relations (auditor/warehouse/
sources.py): `src_events` and `src_conversations`, with a `record` column naming each row.

The same statuses as local ingest: roles and event types normalised (exact, else trimmed and
ASCII lower-cased), events without a conversation, time, known role or type quarantined, times
outside 1970-2199 and ratings outside 1-5 quarantined, a repeated (conversation_id, event_id)
kept once (the other copies quarantined as redundant), and conversations with quarantined
records made unjudgeable (quarantined_records). Differences, because a table has no file order:
of repeated event ids the copy kept is the first by time and content, not by position in a file;
derived event ids ('#n') follow time and content; records are named by event id, not line.
"""

from __future__ import annotations

from auditor.schema import ACTOR_ROLES, EVENT_TYPES, LABEL_STATES, VENDOR_STATES
from auditor.warehouse import lint
from auditor.warehouse.facts_sql import Statement


def _in_list(values: tuple[str, ...] | list[str]) -> str:
    return "(" + ", ".join(_string(v) for v in values) + ")"


def _string(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _normalised(column: str, allowed: tuple[str, ...]) -> str:
    folded = f"AUD_LOWER(TRIM({column}))"
    return (f"CASE WHEN {column} IN {_in_list(allowed)} THEN {column} "
            f"WHEN {folded} IN {_in_list(allowed)} THEN {folded} END")


CHECKED = f"""
SELECT conversation_id, event_id, created_at, role AS actor_role, actor_id, kind AS event_type,
    body, rating, channel, record, problem_field,
    CASE problem_field
        WHEN 'conversation_id' THEN 'conversation_id is missing'
        WHEN 'created_at' THEN CASE
            WHEN created_at IS NOT NULL THEN 'created_at '
                || CAST(CAST(created_at AS DATE) AS VARCHAR) || ' is outside the years 1970-2199'
            ELSE 'created_at is missing' END
        WHEN 'actor_role' THEN 'unknown actor_role ''' || COALESCE(actor_role_raw, '')
            || ''' (expected {', '.join(ACTOR_ROLES)})'
        WHEN 'event_type' THEN 'unknown event_type ''' || COALESCE(event_type_raw, '')
            || ''' (expected {', '.join(EVENT_TYPES)})'
        WHEN 'rating' THEN 'rating ''' || CAST(rating AS VARCHAR)
            || ''' is not a whole number from 1 to 5'
    END AS problem_reason
FROM (
    SELECT s.*,
        CASE
            WHEN conversation_id IS NULL OR conversation_id = '' THEN 'conversation_id'
            WHEN created_at IS NULL THEN 'created_at'
            WHEN created_at < CAST('1970-01-01 00:00:00' AS TIMESTAMP)
              OR created_at > CAST('2200-01-01 00:00:00' AS TIMESTAMP) THEN 'created_at'
            WHEN role IS NULL THEN 'actor_role'
            WHEN kind IS NULL THEN 'event_type'
            WHEN rating IS NOT NULL AND rating NOT IN (1, 2, 3, 4, 5) THEN 'rating'
        END AS problem_field
    FROM (
        SELECT conversation_id, event_id, created_at, actor_role AS actor_role_raw,
            event_type AS event_type_raw, {_normalised('actor_role', ACTOR_ROLES)} AS role,
            {_normalised('event_type', EVENT_TYPES)} AS kind,
            CASE WHEN TRIM(actor_id) = '' THEN NULL ELSE TRIM(actor_id) END AS actor_id,
            body, rating, channel, record
        FROM {{p}}src_events
    ) AS s
) AS c
"""

# Valid rows; one copy of a repeated event id; missing ids derived in time order.
EVENTS = """
SELECT conversation_id,
    COALESCE(event_id, '#' || CAST(ROW_NUMBER() OVER (
        PARTITION BY conversation_id, event_id IS NULL
        ORDER BY created_at, AUD_TEXT(actor_role), AUD_TEXT(event_type), AUD_TEXT(body),
                 AUD_TEXT(record)) AS VARCHAR)) AS event_id,
    created_at, actor_role, actor_id, event_type, body, CAST(rating AS INT) AS rating, channel
FROM {p}event_copies
WHERE copy_no = 1
"""

EVENT_COPIES = """
SELECT conversation_id, event_id, created_at, actor_role, actor_id, event_type, body, rating,
    channel, record,
    CASE WHEN event_id IS NULL THEN 1 ELSE ROW_NUMBER() OVER (
        PARTITION BY conversation_id, event_id
        ORDER BY created_at, AUD_TEXT(actor_role), AUD_TEXT(event_type), AUD_TEXT(body),
                 AUD_TEXT(record)) END AS copy_no
FROM {p}checked
WHERE problem_field IS NULL
"""

QUARANTINE = """
SELECT '{source}' AS source_file, record AS source_record,
    CASE WHEN conversation_id = '' THEN NULL ELSE conversation_id END AS conversation_id,
    problem_field AS field, problem_reason AS reason, FALSE AS redundant
FROM {p}checked
WHERE problem_field IS NOT NULL
UNION ALL
SELECT '{source}' AS source_file, record AS source_record, conversation_id, 'event_id' AS field,
    'duplicate event_id ''' || event_id || ''' in conversation ''' || conversation_id
        || ''' (first seen earlier; this copy is ignored)' AS reason, TRUE AS redundant
FROM {p}event_copies
WHERE copy_no > 1
"""


def _agreed(column: str) -> str:
    return (f"MIN(AUD_TEXT(CASE WHEN TRIM({column}) = '' THEN NULL ELSE TRIM({column}) END))")


def _label_state(label: str) -> str:
    cases = " ".join(f"WHEN {_string(k)} THEN {_string(v)}" for k, v in LABEL_STATES.items())
    return f"CASE AUD_LOWER(TRIM({label})) {cases} END"


ATTRS = f"""
SELECT conversation_id, customer_id, channel, vendor_label,
    COALESCE(known_state, {_label_state('vendor_label')}) AS vendor_state,
    is_preview, ai_answered
FROM (
    SELECT conversation_id,
        {_agreed('customer_id')} AS customer_id,
        {_agreed('channel')} AS channel,
        {_agreed('vendor_label')} AS vendor_label,
        MIN(AUD_TEXT(CASE WHEN AUD_LOWER(vendor_state) IN {_in_list(VENDOR_STATES)}
                          THEN AUD_LOWER(vendor_state) END)) AS known_state,
        COALESCE(MAX(CASE WHEN is_preview THEN 1 ELSE 0 END) = 1, FALSE) AS is_preview,
        CASE MAX(CASE WHEN ai_answered THEN 1 WHEN NOT ai_answered THEN 0 END)
             WHEN 1 THEN TRUE WHEN 0 THEN FALSE END AS ai_answered
    FROM {{p}}src_conversations
    WHERE conversation_id IS NOT NULL AND conversation_id <> ''
    GROUP BY conversation_id
) AS a
"""

# Conversations the data cannot support a verdict on; evidence is written by the local run
# from n_quarantined and first_problem (auditor/warehouse/run.py).
UNJUDGEABLE = """
SELECT conversation_id, 'quarantined_records' AS reasons, n_quarantined,
    first_problem
FROM (
    SELECT conversation_id, COUNT(*) OVER (PARTITION BY conversation_id) AS n_quarantined,
        source_file || ', ' || source_record || COALESCE(', field ' || field, '') || ': '
            || reason AS first_problem,
        ROW_NUMBER() OVER (PARTITION BY conversation_id
                           ORDER BY AUD_TEXT(source_record), AUD_TEXT(field)) AS n
    FROM {p}quarantine
    WHERE conversation_id IS NOT NULL AND NOT redundant
) AS q
WHERE n = 1
"""


def validation_statements(prefix: str, source: str) -> list[Statement]:
    """checked, event_copies, events, quarantine, conversation_attrs and unjudgeable."""
    values = dict(p=prefix, source=source.replace("'", "''"))
    return [Statement(f"{prefix}{table}", lint.parse(sql.format(**values))) for table, sql in (
        ("checked", CHECKED), ("event_copies", EVENT_COPIES), ("events", EVENTS),
        ("quarantine", QUARANTINE), ("conversation_attrs", ATTRS),
        ("unjudgeable", UNJUDGEABLE))]
