"""SQL for what the Intercom adapter cannot map as it is: records whose JSON is invalid or not of
the documented shape, ids that are not ids, and conversations the export has without (all) their
parts. Text only, like `intercom_sql`; `auditor.sources.intercom` runs it.

The typed read (`intercom_sql.read_raw`) takes a whole file in one pass and fails on the first
record it cannot type. Only then is the file read again record by record (`by_record`): records
that are not valid JSON or not of the documented shape go to `ic_rejects` (then quarantine), the
rest are typed into `ic_raw` with their line or record number, as the typed read would have.
"""

from __future__ import annotations

import json
from typing import NamedTuple

from auditor.engine import sql_string
from auditor.sources.intercom_sql import (
    CONVERSATION, PART, PART_SHIFT, RAW, page_label,
)
from auditor.sources.json_files import numbered_json_texts

JSON_SCALAR_IDS = ("VARCHAR", "BIGINT", "UBIGINT", "DOUBLE")
INVALID_JSON = "invalid JSON"
# A top-level record: a page's conversations are checked one by one, as records of their own.
TOP: dict = {**RAW, "conversations": ["JSON"]}

MACROS = [
    "CREATE OR REPLACE TEMP MACRO ic_json_kind(t) AS CASE t WHEN 'OBJECT' THEN 'an object' "
    "WHEN 'ARRAY' THEN 'an array' WHEN 'VARCHAR' THEN 'a string' WHEN 'BOOLEAN' THEN 'a boolean' "
    "WHEN 'NULL' THEN 'null' ELSE 'a number' END",
    # An id is a string or a number; anything else is no id and says what it is. Typed as
    # VARCHAR, an object or array reads as its JSON text and a boolean as 'true' or 'false'
    # (Intercom's ids are digits: a string id "true" is not one).
    "CREATE OR REPLACE TEMP MACRO ic_bad_id(s) AS CASE WHEN starts_with(s, '{') THEN 'an object' "
    "WHEN starts_with(s, '[') THEN 'an array' WHEN s IN ('true', 'false') THEN 'a boolean' END",
    # The same for an id read as JSON (Airbyte's data, records read one by one).
    "CREATE OR REPLACE TEMP MACRO ic_json_id(j) AS CASE WHEN json_type(j) IN "
    f"({', '.join(sql_string(t) for t in JSON_SCALAR_IDS)}) THEN j ->> '$' END",
    "CREATE OR REPLACE TEMP MACRO ic_json_bad_id(j) AS CASE WHEN json_type(j) IN "
    "('OBJECT', 'ARRAY', 'BOOLEAN') THEN ic_json_kind(json_type(j)) END",
]


class ShapeCheck(NamedTuple):
    """A field whose JSON type must be `kind` (OBJECT or ARRAY) or null."""

    field: str
    kind: str
    path: str

    @property
    def every_element(self) -> bool:  # a path through an array: one type per element
        return "[*]" in self.path


def shape_checks(shape: object, path: str = "$", field: str = "") -> list[ShapeCheck]:
    """Every object and array field of a json_transform shape, parents before their fields."""
    checks: list[ShapeCheck] = []
    if isinstance(shape, dict):
        for key, sub in shape.items():
            checks += shape_checks(sub, f"{path}.{key}", f"{field}.{key}" if field else key)
    elif isinstance(shape, list):
        checks += shape_checks(shape[0], f"{path}[*]", f"{field}[]")
    if isinstance(shape, str) or not field:
        return checks
    return [ShapeCheck(field, "OBJECT" if isinstance(shape, dict) else "ARRAY", path), *checks]


def shape_types(shape: object, column: str) -> str:
    """The JSON types of the shape's fields outside arrays, in one parse of `column`."""
    paths = [c.path for c in shape_checks(shape) if not c.every_element]
    return f"json_type({column}, [{', '.join(sql_string(p) for p in paths)}])"


def shape_problem(shape: object, column: str, types: str) -> str:
    """SQL: NULL when `column` has the shape, else STRUCT(field, reason) of the first field (top
    down) whose JSON type differs; field NULL when the record itself is not an object. `types`
    names a column holding shape_types(shape, column)."""
    def problem(field: str, expected: str, found: str) -> str:
        return (f"{{'field': {field}, 'reason': 'unexpected JSON shape (expected {expected}, "
                f"got ' || ic_json_kind({found}) || ')'}}")

    whens, index = [], 0
    for check in shape_checks(shape):
        if check.every_element:
            found = (f"list_filter(json_type({column}, {sql_string(check.path)}), "
                     f"lambda t: t NOT IN ('{check.kind}', 'NULL'))[1]")
            wrong = f"{found} IS NOT NULL"
        else:
            index += 1
            found = f"{types}[{index}]"
            wrong = f"coalesce({found} NOT IN ('{check.kind}', 'NULL'), false)"
        expected = "an object" if check.kind == "OBJECT" else "an array"
        whens.append(f"WHEN {wrong} THEN {problem(sql_string(check.field), expected, found)}")
    top = f"coalesce(json_type({column}), 'NULL')"
    return (f"CASE WHEN {top} <> 'OBJECT' THEN {problem('NULL::VARCHAR', 'an object', top)} "
            f"{' '.join(whens)} END")


# A conversation id read from the start of a line that is not valid JSON: only where nothing
# can be nested before it (`{"type": "conversation", "id": ...`, also inside an Airbyte
# conversations record), and only a complete value; anything else stays unknown.
LEADING_ID = (r'^\s*\{\s*(?:"stream"\s*:\s*"conversations"\s*,\s*"data"\s*:\s*\{\s*)?'
              r'(?:"type"\s*:\s*"conversation"\s*,\s*)?"id"\s*:\s*'
              r'(?:"([^"\\]+)"|([0-9]+)\s*[,}])')


def _leading_id(text: str) -> str:
    pattern = sql_string(LEADING_ID)
    return (f"coalesce(nullif(regexp_extract({text}, {pattern}, 1), ''), "
            f"nullif(regexp_extract({text}, {pattern}, 2), ''))")


# The conversation a valid but unusable record names, when it names one.
RECORD_CONVERSATION = """CASE
    WHEN json ->> '$.stream' = 'conversations' THEN ic_json_id(json -> '$.data.id')
    WHEN json ->> '$.stream' = 'conversation_parts'
        THEN ic_json_id(json -> '$.data.conversation_id')
    WHEN coalesce(json ->> '$.type', 'conversation') = 'conversation'
        THEN ic_json_id(json -> '$.id')
END"""

REJECTS_DDL = ("CREATE OR REPLACE TEMP TABLE ic_rejects (file_no INTEGER, source_file VARCHAR, "
               "n BIGINT, k BIGINT, rec_ord BIGINT, label VARCHAR, conversation_id VARCHAR, "
               "field VARCHAR, reason VARCHAR)")


def _records(path: str, json_format: str, unit: str) -> str:
    """Every record of a file, checked: (n, k, valid, text, json, problem). Record n of the file
    (its line, for JSONL) has k = 0; the k-th conversation of a conversation.list page that
    record n is, k >= 1. A relation read straight from the file: the statements using it stream,
    none holds the file. A page's own fields are not checked, only its conversations."""
    number = "line" if unit == "line" else "record"
    conversations = _field_index(TOP, "conversations")
    return f"""(
    WITH records AS (
        SELECT *, CASE WHEN valid THEN {shape_types(TOP, 'json')} END AS types
        FROM (SELECT {number} AS n, text, valid, CASE WHEN valid THEN text END AS json
              FROM (SELECT *, coalesce(json_valid(text), false) AS valid
                    FROM {numbered_json_texts(path, json_format)}))
    ),
    items AS (
        SELECT n, valid, text, page, top_types, unnest(items) AS json,
               generate_subscripts(items, 1) AS k
        FROM (SELECT *, types AS top_types,
                     CASE WHEN page THEN json_extract_string(json, '$.conversations[*]')
                          ELSE [json] END AS items
              FROM (SELECT *, coalesce(types[{conversations}] = 'ARRAY', false) AS page
                    FROM records))
    )
    SELECT n, CASE WHEN page THEN k ELSE 0 END AS k, valid, text, json, CASE
        WHEN NOT valid THEN NULL
        WHEN page THEN {shape_problem(CONVERSATION, 'json', 'types')}
        ELSE {shape_problem(TOP, 'json', 'types')} END AS problem
    FROM (SELECT *, CASE WHEN page THEN {shape_types(CONVERSATION, 'json')} ELSE top_types END
                    AS types
          FROM items)
)"""


def _field_index(shape: object, field: str) -> int:
    """1-based place of a field in shape_types' list."""
    checks = [c.field for c in shape_checks(shape) if not c.every_element]
    return checks.index(field) + 1


def by_record(file_no: int, path: str, display: str, json_format: str, unit: str) -> list[str]:
    """Statements that read one file record by record: bad records into ic_rejects, then the
    others typed into ic_raw, with their place (rec_ord, label) as the typed read numbers them."""
    records = _records(path, json_format, unit)
    place = (f"CASE WHEN k = 0 THEN n ELSE n * {PART_SHIFT} + k END AS rec_ord, "
             f"CASE WHEN k = 0 THEN '{unit} ' || n "
             f"ELSE {page_label(sql_string(unit), 'n', 'k')} END AS label")
    rejects = f"""
INSERT INTO ic_rejects
SELECT {file_no}, {sql_string(display)}, n, k, {place},
       CASE WHEN valid THEN {RECORD_CONVERSATION} ELSE {_leading_id('text')} END,
       problem.field, CASE WHEN valid THEN problem.reason ELSE {sql_string(INVALID_JSON)} END
FROM {records} WHERE NOT valid OR problem IS NOT NULL
"""
    # The records not rejected, typed: a page's conversation like a record, without the keys
    # only top-level records have.
    own = ", ".join(f"CASE WHEN k = 0 THEN {key} END AS {key}"
                    for key in RAW if key not in CONVERSATION)
    rejected = f"(SELECT n, k FROM ic_rejects WHERE file_no = {file_no})"
    number = "line" if unit == "line" else "record"
    typed = f"""
INSERT INTO ic_raw BY NAME
SELECT * EXCLUDE (n, k) REPLACE ({own})
FROM (SELECT {file_no} AS file_no, n, k, {place},
             unnest(json_transform(json, {sql_string(json.dumps(RAW))}))
      FROM (SELECT n, CASE WHEN page THEN k ELSE 0 END AS k, json
            FROM (SELECT n, page, unnest(items) AS json, generate_subscripts(items, 1) AS k
                  FROM (SELECT *, CASE WHEN page THEN json_extract_string(text, '$.conversations[*]')
                                       ELSE [text] END AS items
                        FROM (SELECT t.n, t.text, coalesce(json_type(t.text, '$.conversations')
                                                                 = 'ARRAY', false) AS page
                              FROM (SELECT {number} AS n, text
                                    FROM {numbered_json_texts(path, json_format)}) t
                              ANTI JOIN {rejected} r ON r.n = t.n AND r.k = 0))))
      ANTI JOIN {rejected} USING (n, k))
"""
    return [rejects, typed]


def airbyte_checks() -> tuple[str, str]:
    """(types, problem) for intercom_sql.derived: an Airbyte record's `data` against the shape
    of its stream (a conversation or a part); problem reads the types as a column `data_types`."""
    shapes = {"conversations": CONVERSATION, "conversation_parts": PART}
    types = " ".join(f"WHEN {sql_string(s)} THEN {shape_types(v, 'data')}"
                     for s, v in shapes.items())
    problems = " ".join(f"WHEN {sql_string(s)} THEN {shape_problem(v, 'data', 'data_types')}"
                        for s, v in shapes.items())
    return f"CASE stream {types} END", f"CASE stream {problems} END"


# A part whose id is an object, an array or a boolean: not an event of its conversation, which
# is then not judged (quarantined_records). PART_ID_DROP removes such parts from ic_parts, run
# only when there are some (a filter on every part would cost the clean export).
PART_ID_DROP = "DELETE FROM ic_parts WHERE ic_bad_id(p.id) IS NOT NULL"
PART_ID_REJECTS = """
INSERT INTO quarantine (source_file, source_record, conversation_id, field, reason)
SELECT source_file, coalesce(source_record, 'conversation ' || conversation_id || ' part ' || idx),
       conversation_id, CASE WHEN source_record IS NULL
                             THEN 'conversation_parts.conversation_parts[].id' ELSE 'data.id' END,
       'part id is ' || ic_bad_id(p.id) || ', not a string or number'
FROM ic_parts WHERE ic_bad_id(p.id) IS NOT NULL ORDER BY source_file, source_ord
"""

# Conversations the export has without (all) their parts (docs/intercom-mapping.md, "Incomplete
# conversations"), per conversation over all its records: it has parts when a record has the
# conversation_parts key or Airbyte conversation_parts records name it; the parts present are
# its fullest record's plus its Airbyte parts; the parts counted are the largest total_count,
# else (no record has one) the largest statistics.count_conversation_parts. Airbyte parts
# whose conversation record is missing make one too. The evidence is its first record that
# shows it (one with conversation_parts when it has parts).
INCOMPLETE = """
INSERT INTO incomplete_conversations (conversation_id, source_file, source_record, detail)
WITH inline AS (  -- from ic_parts: reading the records' part lists again costs more
    SELECT conversation_id AS id, max(record_parts) AS n FROM ic_parts
    WHERE idx = 1 AND source_record IS NULL GROUP BY conversation_id
),
streamed AS (  -- Airbyte conversation_parts records, each part once
    SELECT conversation_id AS id,
           count(DISTINCT p.id) + count(*) FILTER (WHERE p.id IS NULL) AS n,
           arg_min(source_file, source_ord) AS source_file,
           arg_min(source_record, source_ord) AS label, min(source_ord) AS rec_ord
    FROM ic_parts WHERE source_record IS NOT NULL GROUP BY conversation_id
),
records AS MATERIALIZED (
    SELECT id, source_file, rec_ord, label, stream, parts_key,
           try_cast(parts_total AS BIGINT) AS total,
           try_cast(statistics.count_conversation_parts AS BIGINT) AS stated
    FROM ic_records WHERE kind = 'conversation'
),
counted AS (
    SELECT c.*, c.has_key OR s.id IS NOT NULL AS has_parts,
           coalesce(i.n, 0) + coalesce(s.n, 0) AS present, coalesce(total, stated) AS expected
    FROM (SELECT id, bool_or(parts_key) AS has_key, max(total) AS total, max(stated) AS stated
          FROM records GROUP BY id) c
    LEFT JOIN inline i USING (id) LEFT JOIN streamed s USING (id)
),
evidence AS (
    SELECT id, r.source_file, r.rec_ord, r.label, r.parts_key = has_parts AS shows_it,
        CASE WHEN NOT has_parts THEN
                CASE WHEN r.stream = 'conversations' THEN 'no conversation_parts records for it '
                          || '(Airbyte''s conversation_parts stream)'
                     ELSE 'no conversation_parts (a list or search export)' END
             ELSE present || ' of ' || expected || ' parts' || CASE
                WHEN c.total IS NULL THEN ' (statistics.count_conversation_parts)'
                WHEN c.total > 500 THEN ' (the API returns at most 500)' ELSE '' END
        END AS detail
    FROM counted c JOIN records r USING (id)
    WHERE NOT coalesce(expected <= present, has_parts)
    UNION ALL
    SELECT id, source_file, rec_ord, label, true, 'conversation_parts records without the '
                                            || 'conversation record (no first message, no ai_agent)'
    FROM streamed ANTI JOIN records USING (id)
)
SELECT id, source_file, label, detail FROM evidence
QUALIFY row_number() OVER (PARTITION BY id ORDER BY shows_it DESC, source_file, rec_ord) = 1
ORDER BY id
"""
