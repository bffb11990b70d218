"""SQL for the Intercom adapter, part 1: the JSON shape DuckDB reads, and the records it holds.

Everything here is text; `auditor.sources.intercom` decides which files to read and runs it.
The flow, all set-based:

    ic_raw      one typed row per top-level JSON record, every input file (read once)
    ic_derived  conversations unnested from conversation.list pages, Airbyte records typed
    ic_records  (view) one row per record: a conversation, an Airbyte part, or a quarantine case
    ic_rejects  records the record-by-record read could not use (intercom_checks)
    ic_parts    one row per conversation part, inline or Airbyte, with its conversation's
                attributes (intercom_events_sql)
    -> stage_conversations, stage_events (source message, parts, ratings), quarantine,
       incomplete_conversations (intercom_checks)

Record ordinals come from ic_raw's rowid: with preserve_insertion_order (engine.connect sets
it) rows are stored in file order, so rowid - (rows before this file) + 1 is the line.

Only the fields the mapping needs are typed; everything else in the JSON is skipped by the
reader. Leaves are VARCHAR (timestamps and flags arrive as numbers or strings depending on API
version and exporter) and polymorphic fields are JSON, so a real export rarely fails to read.
An object or a boolean where an id belongs reads as its JSON text ('{"a": 1}', 'true'):
intercom_checks' ic_bad_id tells it from an id.
A file that still fails is read again record by record (intercom_checks.by_record), which sets
each row's rec_ord and label; rows of the typed read leave them NULL (numbered by rowid).
"""

from __future__ import annotations

import json

from auditor.engine import sql_string

# Shapes as json_transform structures (dict = object, [x] = array of x, str = DuckDB type).
AUTHOR: dict = {"type": "VARCHAR", "id": "VARCHAR", "from_ai_agent": "VARCHAR",
                "is_ai_answer": "VARCHAR"}
PART: dict = {
    "id": "VARCHAR", "part_type": "VARCHAR", "body": "VARCHAR", "created_at": "VARCHAR",
    "assigned_to": "JSON", "author": AUTHOR,
    "metadata": {"quick_reply_options": [{"text": "VARCHAR", "uuid": "VARCHAR"}],
                 "quick_reply_uuid": "VARCHAR"},
}
CONVERSATION: dict = {
    "type": "VARCHAR", "id": "VARCHAR", "created_at": "VARCHAR", "updated_at": "VARCHAR",
    "source": {"type": "VARCHAR", "delivered_as": "VARCHAR", "subject": "VARCHAR",
               "body": "VARCHAR", "author": AUTHOR},
    "contacts": {"contacts": [{"id": "VARCHAR"}]},
    "channel": "JSON",
    "ai_agent_participated": "VARCHAR",
    "ai_agent": {"source_type": "VARCHAR", "resolution_state": "VARCHAR",
                 "last_answer_type": "VARCHAR", "rating": "VARCHAR",
                 "rating_remark": "VARCHAR", "created_at": "VARCHAR", "updated_at": "VARCHAR"},
    "conversation_rating": {"rating": "VARCHAR", "remark": "VARCHAR", "created_at": "VARCHAR",
                            "contact": {"id": "VARCHAR"}},
    "statistics": {"count_conversation_parts": "VARCHAR"},
    "conversation_parts": {"conversation_parts": [PART], "total_count": "VARCHAR"},
}
# Top-level columns of one input record: a conversation, a conversation.list page, or an Airbyte
# record (bare `{"stream", "data"}` or wrapped in the protocol's `{"type": "RECORD", "record"}`).
RAW: dict = {**CONVERSATION, "conversations": [CONVERSATION], "stream": "VARCHAR", "data": "JSON",
             "record": {"stream": "VARCHAR", "data": "JSON"}}
CONVERSATION_FIELDS = tuple(k for k in CONVERSATION if k != "conversation_parts")
# Parts of record n sort before those of record n + 1: source_ord = record ordinal * 2^20 + part.
PART_SHIFT = 1 << 20


def sql_type(shape: object) -> str:
    if isinstance(shape, dict):
        return "STRUCT(" + ", ".join(f'"{k}" {sql_type(v)}' for k, v in shape.items()) + ")"
    if isinstance(shape, list):
        return sql_type(shape[0]) + "[]"
    return str(shape)


def raw_table_ddl() -> str:
    columns = ", ".join(f'"{k}" {sql_type(v)}' for k, v in RAW.items())
    return (f"CREATE OR REPLACE TEMP TABLE ic_raw (file_no INTEGER, rec_ord BIGINT, "
            f"label VARCHAR, {columns})")


def read_raw(file_no: int, path: str, json_format: str) -> str:
    """Append one file to ic_raw: one read, with explicit types (no sampling, no guessing)."""
    columns = "{" + ", ".join(f"{sql_string(k)}: {sql_string(sql_type(v))}"
                              for k, v in RAW.items()) + "}"
    # A whole conversation.list page is one object; DuckDB's default limit (16 MB) fits lines.
    limit = f", maximum_object_size = {256 << 20}" if json_format == "unstructured" else ""
    return (f"INSERT INTO ic_raw BY NAME SELECT {file_no} AS file_no, * FROM read_json("
            f"{sql_string(path)}, format = '{json_format}', columns = {columns}{limit})")


# Entities Intercom's HTML bodies use; &amp; last so "&amp;lt;" decodes to "&lt;", not "<".
ENTITIES = (("&nbsp;", " "), ("&lt;", "<"), ("&gt;", ">"), ("&quot;", '"'), ("&#34;", '"'),
            ("&#39;", "'"), ("&#x27;", "'"), ("&apos;", "'"), ("&amp;", "&"))


def _text_macros() -> list[str]:
    """HTML -> plain text in two steps, ic_strip (tags and the spaces around them become one
    space) then ic_decode (entities, trim). A macro argument used twice is computed twice, so
    hot paths compute each step into a column of its own subquery (nullif(text, '') reads
    the column twice, not the expression); ic_text(s) is both steps, for rare fields."""
    decoded = "x"
    for entity, char in ENTITIES:
        decoded = f"replace({decoded}, {sql_string(entity)}, {sql_string(char)})"
    return [
        r"CREATE OR REPLACE TEMP MACRO ic_strip(s) AS regexp_replace(s, '\s*<[^>]*>\s*', ' ', 'g')",
        f"CREATE OR REPLACE TEMP MACRO ic_decode(x) AS "
        f"trim(CASE WHEN contains(x, '&') THEN {decoded} ELSE x END)",
        "CREATE OR REPLACE TEMP MACRO ic_text(s) AS ic_decode(ic_strip(s))",
    ]


# assigned_to is an object {type, id} in the API and may be a bare id string in Airbyte exports.
ROUTED_MACRO = """
CREATE OR REPLACE TEMP MACRO ic_routed(assigned_to) AS CASE
    WHEN assigned_to IS NULL OR json_type(assigned_to) = 'NULL' THEN false
    WHEN json_type(assigned_to) = 'OBJECT' THEN coalesce(
        (assigned_to ->> '$.type') IN ('admin', 'team')
        AND coalesce(assigned_to ->> '$.id', '') NOT IN ('', '0'), false)
    ELSE coalesce(assigned_to ->> '$', '') NOT IN ('', '0', 'nobody_admin')
END
"""


def ai_flag_macro(ai_agent_ids: list[str]) -> str:
    """ic_ai_flag(from_ai, is_ai, author_id): the author's AI flags; with --ai-agent-id, the
    named author is the AI agent whatever its flags, and any other author without a true flag
    is not (so the pre-2.14 default, bots in AI conversations, no longer applies)."""
    named = ("WHEN author_id IN (" + ", ".join(sql_string(i) for i in ai_agent_ids)
             + ") THEN true ") if ai_agent_ids else ""
    unnamed = "WHEN true THEN false " if ai_agent_ids else ""
    return ("CREATE OR REPLACE TEMP MACRO ic_ai_flag(from_ai, is_ai, author_id) AS CASE "
            f"{named}WHEN lower(from_ai) = 'true' OR lower(is_ai) = 'true' THEN true "
            f"WHEN from_ai IS NOT NULL OR is_ai IS NOT NULL THEN false {unnamed}END")


def macros(cases: dict[str, str], ai_agent_ids: list[str] | None = None) -> list[str]:
    """Temporary macros. `cases` holds the CASE bodies generated from the mapping table:
    role(author_type, ai_flag, ai_on), first_role(delivered_as, author_role),
    event_type(part_type, role, routed, after_close), vendor_state(state),
    is_preview(source_type)."""
    return [
        *_text_macros(),
        ai_flag_macro(ai_agent_ids or []),
        "CREATE OR REPLACE TEMP MACRO ic_ai_on(participated, ai_agent) AS "
        "coalesce(lower(participated) = 'true', false) OR ai_agent IS NOT NULL",
        f"CREATE OR REPLACE TEMP MACRO ic_role(author_type, ai_flag, ai_on) AS {cases['role']}",
        f"CREATE OR REPLACE TEMP MACRO ic_first_role(delivered_as, author_role) AS "
        f"{cases['first_role']}",
        f"CREATE OR REPLACE TEMP MACRO ic_event_type(part_type, role, routed, after_close) AS "
        f"{cases['event_type']}",
        f"CREATE OR REPLACE TEMP MACRO ic_vendor_state(state) AS {cases['vendor_state']}",
        f"CREATE OR REPLACE TEMP MACRO ic_is_preview(source_type) AS "
        f"CAST({cases['is_preview']} AS BOOLEAN)",
        ROUTED_MACRO,
        "CREATE OR REPLACE TEMP MACRO ic_channel(channel, source_type) AS coalesce(CASE "
        "json_type(channel) WHEN 'OBJECT' THEN channel ->> '$.initial' "
        "WHEN 'VARCHAR' THEN channel ->> '$' END, source_type)",
    ]


def _fields(prefix: str) -> str:
    return ", ".join(f'{prefix}."{k}"' for k in CONVERSATION_FIELDS)


FILES_DDL = ("CREATE OR REPLACE TEMP TABLE ic_files (file_no INTEGER, source_file VARCHAR, "
             "unit VARCHAR, base BIGINT)")

def page_label(unit: str, n: str, k: str) -> str:
    """SQL naming the k-th conversation of a conversation.list page that is record n of a file:
    "record k" ("line n, record k" when pages are JSONL lines, "document n, record k")."""
    return (f"CASE WHEN {unit} = 'line' THEN 'line ' || {n} || ', ' WHEN {n} > 1 "
            f"THEN 'document ' || {n} || ', ' ELSE '' END || 'record ' || {k}")


def _record_columns(parts: str, parts_key: str, conv_ref: str = "NULL",
                    conv_ref_kind: str = "NULL", shape: str = "NULL") -> str:
    """The columns of an ic_records row besides the conversation fields (see RECORDS_VIEW)."""
    return (f"{parts} AS parts, {parts_key} AS parts_key, {conv_ref}::VARCHAR AS conv_ref, "
            f"{conv_ref_kind}::VARCHAR AS conv_ref_kind, {shape}.field::VARCHAR AS shape_field, "
            f"{shape}.reason::VARCHAR AS shape_reason")


def derived(airbyte_types: str, airbyte_problem: str) -> str:
    """ic_derived: conversations inside conversation.list pages, and Airbyte records, typed like
    plain records. Airbyte `data` is JSON to the typed read, so its shape is checked here:
    airbyte_problem (intercom_checks.airbyte_checks) over a column data_types = airbyte_types."""
    conversation, part = sql_string(json.dumps(CONVERSATION)), sql_string(json.dumps(PART))
    return f"""
CREATE OR REPLACE TEMP TABLE ic_derived AS
WITH numbered AS (
    SELECT r.*, f.source_file, f.unit, coalesce(r.rec_ord, r.rowid - f.base + 1) AS n,
           coalesce(r.label, f.unit || ' ' || (r.rowid - f.base + 1)) AS place
    FROM ic_raw r JOIN ic_files f USING (file_no)
    WHERE r.conversations IS NOT NULL OR r.stream IS NOT NULL OR r.record IS NOT NULL
),
pages AS (
    SELECT file_no, source_file, unit, n, unnest(conversations) AS c,
           generate_subscripts(conversations, 1) AS k
    FROM numbered WHERE stream IS NULL AND record IS NULL
),
airbyte AS (
    SELECT file_no, source_file, n, place, coalesce(stream, record.stream) AS stream,
           coalesce(data, record.data) AS data
    FROM numbered WHERE stream IS NOT NULL OR record IS NOT NULL
),
checked AS (
    SELECT *, {airbyte_problem} AS problem
    FROM (SELECT *, {airbyte_types} AS data_types FROM airbyte)
),
typed AS (
    SELECT *,
        CASE WHEN stream = 'conversations' AND problem IS NULL
             THEN json_transform(data, {conversation}) END AS c,
        CASE WHEN stream = 'conversation_parts' AND problem IS NULL
             THEN json_transform(data, {part}) END AS p,
        CASE WHEN problem IS NOT NULL THEN {{'field': 'data' || coalesce('.' || problem.field, ''),
                                             'reason': problem.reason}} END AS shape
    FROM checked
)
SELECT file_no, source_file, n * {PART_SHIFT} + k AS rec_ord,
       {page_label('unit', 'n', 'k')} AS label, NULL::VARCHAR AS stream, {_fields("c")},
       c.conversation_parts.total_count AS parts_total,
       {_record_columns("c.conversation_parts.conversation_parts",
                        "c.conversation_parts IS NOT NULL")}
FROM pages
UNION ALL
SELECT file_no, source_file, n, place, stream, {_fields("c")}, c.conversation_parts.total_count,
       {_record_columns(
           "CASE WHEN p IS NOT NULL THEN [p] ELSE c.conversation_parts.conversation_parts END",
           "c.conversation_parts IS NOT NULL",
           "CASE WHEN stream = 'conversation_parts' THEN ic_json_id(data -> '$.conversation_id') "
           "WHEN stream = 'conversations' AND shape IS NOT NULL THEN ic_json_id(data -> '$.id') END",
           "CASE WHEN stream = 'conversation_parts' "
           "THEN ic_json_bad_id(data -> '$.conversation_id') END",
           "shape")}
FROM typed
"""


# One row per record read. problem_field/reason are set for records that cannot be conversations.
# `id` is the conversation id as text (id_kind says what it is instead, when it is no id).
RECORDS_VIEW = f"""
CREATE OR REPLACE TEMP VIEW ic_records AS
WITH records AS (
    SELECT r.file_no, f.source_file, coalesce(r.rec_ord, r.rowid - f.base + 1) AS rec_ord,
           coalesce(r.label, f.unit || ' ' || (r.rowid - f.base + 1)) AS label,
           NULL::VARCHAR AS stream, {_fields("r")}, r.conversation_parts.total_count AS parts_total,
           {_record_columns("r.conversation_parts.conversation_parts",
                            "r.conversation_parts IS NOT NULL")}
    FROM ic_raw r JOIN ic_files f USING (file_no)
    WHERE r.conversations IS NULL AND r.stream IS NULL AND r.record IS NULL
      AND r.type IS DISTINCT FROM 'conversation.list'
    UNION ALL
    SELECT * FROM ic_derived
),
ids AS (
    SELECT * REPLACE (CASE WHEN ic_bad_id(id) IS NULL THEN id END AS id),
           ic_bad_id(id) AS id_kind
    FROM records
),
checked AS (
    SELECT *, CASE
        WHEN shape_field IS NOT NULL THEN shape_field
        WHEN stream NOT IN ('conversations', 'conversation_parts') THEN 'stream'
        WHEN stream = 'conversation_parts' THEN
            CASE WHEN coalesce(trim(conv_ref), '') = '' THEN 'conversation_id' END
        WHEN type IS NOT NULL AND type <> 'conversation' THEN 'type'
        WHEN id IS NULL OR trim(id) = '' THEN 'id'
    END AS problem_field
    FROM ids
)
SELECT *,
    CASE WHEN shape_field IS NOT NULL THEN shape_reason ELSE CASE problem_field
        WHEN 'stream' THEN 'airbyte stream ''' || stream || ''' is not a conversation record'
        WHEN 'conversation_id' THEN coalesce('conversation part''s conversation_id is '
            || conv_ref_kind || ', not a string or number',
            'conversation part has no conversation_id')
        WHEN 'type' THEN 'record of type ''' || type || ''' is not a conversation'
        WHEN 'id' THEN coalesce('conversation id is ' || id_kind || ', not a string or number',
                                'conversation has no id')
    END END AS reason,
    CASE WHEN problem_field IS NOT NULL THEN 'quarantine'
         WHEN stream = 'conversation_parts' THEN 'part' ELSE 'conversation' END AS kind,
    ic_channel(channel, source.type) AS conv_channel,
    ic_ai_on(ai_agent_participated, ai_agent) AS ai_on
FROM checked
"""

NOT_INTERCOM = """
SELECT f.source_file, f.unit FROM ic_raw r JOIN ic_files f USING (file_no)
GROUP BY f.file_no, f.source_file, f.unit
HAVING count(*) FILTER (WHERE r.type IS NOT NULL OR r.stream IS NOT NULL OR r.record IS NOT NULL
    OR r.source IS NOT NULL OR r.conversation_parts IS NOT NULL OR r.conversations IS NOT NULL) = 0
ORDER BY f.file_no LIMIT 1
"""

# Records read: rows of ic_records, and records rejected by the record-by-record read.
COUNTS = """
SELECT source_file, count(*) FROM (
    SELECT source_file FROM ic_records UNION ALL SELECT source_file FROM ic_rejects)
GROUP BY source_file
"""

QUARANTINE = """
INSERT INTO quarantine (source_file, source_record, conversation_id, field, reason)
SELECT source_file, label, conversation_id, field, reason FROM (
    SELECT file_no, rec_ord, source_file, label,
           CASE WHEN stream = 'conversation_parts' OR shape_field IS NOT NULL
                THEN nullif(trim(conv_ref), '')
                WHEN problem_field <> 'type' THEN nullif(trim(id), '') END AS conversation_id,
           problem_field AS field, reason
    FROM ic_records WHERE kind = 'quarantine'
    UNION ALL
    SELECT file_no, rec_ord, source_file, label, conversation_id, field, reason FROM ic_rejects)
ORDER BY file_no, rec_ord
"""


def cleanup() -> list[str]:
    return ["DROP VIEW IF EXISTS ic_records", "DROP TABLE IF EXISTS ic_derived",
            "DROP TABLE IF EXISTS ic_parts", "DROP TABLE IF EXISTS ic_rejects",
            "DROP TABLE IF EXISTS ic_raw", "DROP TABLE IF EXISTS ic_files"]
