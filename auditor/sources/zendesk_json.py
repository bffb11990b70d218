"""JSON files of a Zendesk export -> `zd_items` rows (see zendesk_sql): API pages, single
objects, JSONL and Airbyte records, each file read once.

A file is read by DuckDB's JSON reader (the fast path). When that fails on a newline-delimited
file (a line cut off by an interrupted download, a line that is not JSON), the file is read
again line by line (the robust path): its valid lines become records as before and each invalid
line one record that cannot be used, quarantined with the ticket it names. A JSONL file with
blank lines is read the robust way too, so that "line N" is always the file's physical line.
"""

from __future__ import annotations

from auditor.engine import sql_string
from auditor.sources.json_files import json_lines, line_reader
from auditor.sources.zendesk_sql import AIRBYTE_STREAMS, PAGE_KEYS, WRAPPER_KEYS, transform

BROKEN_LINE = "invalid JSON (a cut-off or malformed line), so it was not read"
# The ticket an unreadable line names: its ticket_id, else a ticket's own API url.
LINE_TICKET = (r"""coalesce(nullif(regexp_extract(line, '"ticket_id"\s*:\s*"?([0-9]+)', 1), ''), """
               r"""nullif(regexp_extract(line, '/tickets/([0-9]+)\.json', 1), ''))""")


def fast_documents(file_no: int, path: str, json_format: str, display: str, unit: str) -> str:
    """One JSON file as rows (file_no, source_file, unit, n, doc): one per top-level value (a
    page, object or line), numbered in file order (a window in scan order)."""
    limit = f", maximum_object_size = {256 << 20}" if json_format == "unstructured" else ""
    return (f"SELECT {file_no} AS file_no, {sql_string(display)} AS source_file, '{unit}' AS unit, "
            f"row_number() OVER () AS n, json AS doc FROM read_json_objects("
            f"{sql_string(path)}, format = '{json_format}'{limit})")


def line_documents(file_no: int, path: str, display: str, unit: str) -> str:
    """The valid lines of a newline-delimited file as documents, n its physical line (unit
    `line`) or its place among the records (unit `record`)."""
    n = "line_no" if unit == "line" else "record_no"
    return (f"SELECT {file_no} AS file_no, {sql_string(display)} AS source_file, '{unit}' AS unit, "
            f"{n} AS n, CAST(line AS JSON) AS doc FROM {json_lines(path)} WHERE valid")


def broken_lines(file_no: int, path: str, display: str, unit: str) -> str:
    """Each invalid line of a newline-delimited file as one zd_items record to quarantine.
    Its item_ord follows the file's last valid record, so quarantine keeps file order."""
    n = "line_no" if unit == "line" else "record_no"
    return f"""
INSERT INTO zd_items
SELECT {file_no}, {sql_string(display)}, '{unit} ' || {n},
       (SELECT coalesce(max(item_ord), 0) FROM zd_items WHERE file_no = {file_no})
           + row_number() OVER (ORDER BY line_no),
       'broken', NULL, NULL, NULL, {sql_string(BROKEN_LINE)}, {LINE_TICKET}
FROM {json_lines(path)} WHERE NOT valid
"""


def valid_lines(path: str) -> str:
    """SQL: the number of valid JSON lines of a file."""
    return f"SELECT count(*) FROM {json_lines(path)} WHERE valid"


def blank_lines(path: str) -> str:
    """SQL: does the file have a blank line (the fast path's line numbers would skip it)?"""
    return f"SELECT count(*) > 0 FROM {line_reader(path)} WHERE line IS NULL OR trim(line) = ''"


# What a top-level JSON value is made of, read in one parse: page lists, single-object
# wrappers, the Airbyte envelope, and the keys that tell a bare object's kind. (json_transform
# gives NULL for a missing key, a JSON null or a value of another type.)
DOC: dict = {
    **{key: ["JSON"] for key in PAGE_KEYS}, **{key: "JSON" for key in WRAPPER_KEYS},
    "type": "VARCHAR", "record": "JSON", "stream": "VARCHAR", "data": "JSON",
    "ticket_id": "VARCHAR", "events": "JSON", "child_events": "JSON", "reopens": "JSON",
    "replies": "JSON", "body": "JSON", "html_body": "JSON", "plain_body": "JSON",
    "author_id": "JSON", "public": "JSON", "requester_id": "JSON", "submitter_id": "JSON",
    "status": "JSON", "subject": "JSON", "role": "JSON",
}
ENVELOPE: dict = {"stream": "VARCHAR", "data": "JSON"}

# A bare object's kind, by the keys only that kind of Zendesk object has.
BARE_KIND = """
CASE
    WHEN s IS NULL THEN 'unknown'
    WHEN s.child_events IS NOT NULL THEN 'audit'
    WHEN s.events IS NOT NULL AND s.ticket_id IS NOT NULL THEN 'audit'
    WHEN s.ticket_id IS NOT NULL AND (s.reopens IS NOT NULL OR s.replies IS NOT NULL)
        THEN 'metric'
    WHEN (s.body IS NOT NULL OR s.html_body IS NOT NULL OR s.plain_body IS NOT NULL)
        AND (s.ticket_id IS NOT NULL OR s.author_id IS NOT NULL OR s.public IS NOT NULL)
        THEN 'comment'  -- even without ticket_id: then it is reported as such
    WHEN s.ticket_id IS NOT NULL AND (s.author_id IS NOT NULL OR s.public IS NOT NULL)
        THEN 'comment'
    WHEN s.requester_id IS NOT NULL OR s.submitter_id IS NOT NULL
        OR (s.status IS NOT NULL AND s.subject IS NOT NULL) THEN 'ticket'
    WHEN s.role IS NOT NULL THEN 'user'
    ELSE 'unknown'
END
"""


def _page_selects() -> list[str]:
    """One SELECT per page key (list items) and per wrapper key (single objects)."""
    selects = []
    for key_no, (key, kind) in enumerate(PAGE_KEYS.items(), 1):
        selects.append(
            f"SELECT file_no, source_file, unit, n, docs, {key_no} AS key_no, '{key}' AS part, "
            f"generate_subscripts(s.{key}, 1) AS k, '{kind}' AS kind, unnest(s.{key}) AS item, "
            f"s.ticket_id AS page_ticket, NULL AS stream FROM docs "
            f"WHERE NOT is_airbyte AND s.{key} IS NOT NULL")
    for key_no, (key, kind) in enumerate(WRAPPER_KEYS.items(), len(PAGE_KEYS) + 1):
        selects.append(
            f"SELECT file_no, source_file, unit, n, docs, {key_no}, NULL, 1, '{kind}', s.{key}, "
            f"NULL, NULL FROM docs WHERE NOT is_airbyte AND json_type(s.{key}) = 'OBJECT'")
    return selects


def _is_page() -> str:
    keys = [*(f"s.{k} IS NOT NULL" for k in PAGE_KEYS),
            *(f"json_type(s.{k}) = 'OBJECT'" for k in WRAPPER_KEYS)]
    return "coalesce(" + " OR ".join(keys) + ", false)"


def json_items(documents: str) -> str:
    """One JSON file's documents (fast_documents or line_documents) -> zd_items: page items,
    single objects, Airbyte records and bare objects. Each document is parsed once (into `s`);
    items are cut from it."""
    streams = " ".join(f"WHEN '{s}' THEN '{k}'" for s, k in AIRBYTE_STREAMS.items())
    return f"""
INSERT INTO zd_items
WITH parsed AS (
    SELECT *, count(*) OVER () AS docs, {transform("doc", DOC)} AS s
    FROM ({documents})
),
docs AS (  -- Airbyte records, bare or as protocol messages {{"type": "RECORD", "record": ...}}
    SELECT *, envelope IS NOT NULL AS is_airbyte
    FROM (SELECT *, CASE WHEN s.stream IS NOT NULL AND s.data IS NOT NULL
                         THEN {{'stream': s.stream, 'data': s.data}}
                         WHEN s.type = 'RECORD' AND s.record IS NOT NULL
                         THEN {transform("s.record", ENVELOPE)} END AS envelope
          FROM parsed)
),
items AS (
    {" UNION ALL ".join(_page_selects())}
    UNION ALL
    SELECT file_no, source_file, unit, n, docs, 0, NULL, 1,
           CASE WHEN is_airbyte THEN coalesce(CASE envelope.stream {streams} END, 'unused')
                ELSE {BARE_KIND} END,
           CASE WHEN is_airbyte THEN envelope.data ELSE doc END, NULL,
           CASE WHEN is_airbyte THEN envelope.stream END
    FROM docs WHERE is_airbyte OR NOT {_is_page()}
)
SELECT file_no, source_file,
       CASE WHEN part IS NULL THEN unit || ' ' || n
            WHEN unit = 'line' THEN 'line ' || n || ', ' || part || ' record ' || k
            WHEN docs > 1 THEN 'document ' || n || ', ' || part || ' record ' || k
            ELSE part || ' record ' || k END AS label,
       row_number() OVER (ORDER BY n, key_no, k) AS item_ord,
       kind, item, page_ticket,
       CASE kind WHEN 'unused' THEN 'stream' END AS field,
       CASE kind
           WHEN 'unused' THEN 'airbyte stream ''' || stream || ''' is not used by the audit'
           WHEN 'unknown' THEN 'not a Zendesk ticket, comment, audit, user or ticket metric'
       END AS reason,
       NULL AS named_ticket
FROM items
"""


