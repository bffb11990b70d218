"""`--format zendesk`: Zendesk Support tickets, from the API or from Fivetran's warehouse tables.

Inputs, each optionally gzip-compressed, all files of a run forming one export:

- API responses as JSON, JSON arrays or JSONL: incremental ticket export pages
  (`{"tickets": [...], "end_of_stream": ...}`), ticket comments (`{"comments": [...]}` or one
  comment with `ticket_id` per line), ticket audits (`{"audits": [...]}`), incremental ticket
  events, users, ticket metrics, single objects (`{"ticket": {...}}`), sideloads, and Airbyte
  source-zendesk-support records (`{"stream": ..., "data": {...}}`);
- Fivetran tables as CSV or Parquet: ticket, ticket_comment, user, ticket_field_history,
  ticket_chat, ticket_chat_event, ticket_tag (zendesk_fivetran).

Comments, audits, history and chats join their tickets by id and authors join users by id, in
SQL, across files. What becomes what is zendesk_mapping.MAPPING (docs/zendesk-mapping.md shows
the same table). Python only reads file heads and headers to pick a reader.
"""

from __future__ import annotations

import re

import duckdb

from auditor.engine import scalar
from auditor.errors import InputError
from auditor.sources import SourceOptions
from auditor.sources import zendesk_events_sql as events_sql
from auditor.sources import zendesk_fivetran as fivetran
from auditor.sources import zendesk_json as zjson
from auditor.sources import zendesk_mapping as mapping
from auditor.sources import zendesk_sql as sql
from auditor.sources.files import InputFile, mapping_error
from auditor.sources.json_files import (
    JSON_SUFFIXES, first_record, head_text, json_format, malformed_json_error, other_read_error,
)

FORMAT = "zendesk"
# The vendor rule set an audit of a Zendesk export uses when --vendor is not given.
DEFAULT_VENDOR = "zendesk-ai-agents"
# Said in the report when no user was taken as the AI agent.
AI_AGENT_MISSING = (
    "No user was taken as the Zendesk AI agent: no message came through an AI agent channel, "
    "no user is named " + " or ".join(f"'{n}'" for n in mapping.AI_AGENT_NAMES) + ", and no "
    "--ai-agent-id was given, so the AI agent's replies, if any, count as people's. If your AI "
    "agent answers as a user, name it with --ai-agent-id USER_ID.")
# Airbyte source-zendesk-support streams (the audit reads five, the rest are quarantined).
AIRBYTE_STREAMS = (*sql.AIRBYTE_STREAMS, "ticket_metric_events", "ticket_fields", "ticket_forms",
                   "groups", "group_memberships", "organizations", "organization_memberships",
                   "satisfaction_ratings", "brands", "macros", "sla_policies", "tags",
                   "ticket_activities", "ticket_skips", "custom_roles", "schedules",
                   "user_fields", "organization_fields", "account_attributes",
                   "attribute_definitions", "articles", "posts", "topics")
BARE_KEYS = ("requester_id", "child_events", "reopens")
# A page too large for the head to hold a whole record: its list key is enough.
PAGE_HINT = re.compile(r'"(%s)"\s*:\s*\[' % "|".join(sql.PAGE_KEYS))


def sniff(file: InputFile) -> bool:
    """JSON whose first record is a Zendesk object, page or Airbyte record; or a Fivetran table."""
    if file.data_suffix in JSON_SUFFIXES:
        text = head_text(file)
        record = first_record(text)
        if record is not None:
            return _is_zendesk(record)
        return text.startswith("{") and bool(PAGE_HINT.search(text))
    return fivetran.table_of(file) is not None


def load(con: duckdb.DuckDBPyConnection, files: list[InputFile], *,
         options: SourceOptions | None = None) -> dict[str, int]:
    """Read every file into zd_items, then map all of them together (comments, audits and users
    may sit in other files than their tickets)."""
    options = options or SourceOptions()
    try:
        for statement in [*sql.DDL, *sql.macros(), *events_sql.macros(options.ai_agent_ids)]:
            con.execute(statement)
        for file_no, file in enumerate(files):
            _read_file(con, file_no, file)
        counts = _map_records(con, files)
    finally:
        for statement in [*sql.CLEANUP, *events_sql.CLEANUP]:
            con.execute(statement)
    return {file.display: counts.get(file.display, 0) for file in files}


def _is_zendesk(record: dict) -> bool:
    airbyte = record.get("record") if record.get("type") == "RECORD" else record
    if isinstance(airbyte, dict) and "stream" in airbyte:
        return airbyte["stream"] in AIRBYTE_STREAMS and isinstance(airbyte.get("data"), dict)
    if any(isinstance(record.get(k), list) for k in sql.PAGE_KEYS):
        return True
    if any(isinstance(record.get(k), dict) for k in sql.WRAPPER_KEYS):
        return True
    if "conversation_id" in record or record.get("type") in ("conversation", "conversation.list"):
        return False  # canonical or Intercom
    if "ticket_id" in record and ("events" in record or "author_id" in record):
        return True
    return any(k in record for k in BARE_KEYS) or record.get("role") in ("end-user", "agent",
                                                                         "admin")


def _read_file(con: duckdb.DuckDBPyConnection, file_no: int, file: InputFile) -> None:
    if file.data_suffix not in JSON_SUFFIXES:
        name = fivetran.table_of(file)
        if name is None:
            raise InputError(file.display, "not a Zendesk table", hint="expected a Fivetran "
                             "table (" + ", ".join(fivetran.TABLES) + ") by file name or columns")
        fivetran.read(con, file_no, file, name)
        return
    file_format, unit = json_format(file)
    _read_json(con, file_no, file, file_format, unit)
    con.execute("INSERT INTO zd_files VALUES (?, ?, ?)", [file_no, file.display, unit])


def _read_json(con: duckdb.DuckDBPyConnection, file_no: int, file: InputFile,
               file_format: str, unit: str) -> None:
    """DuckDB's JSON reader first. A newline-delimited file it fails on (a cut-off line) is read
    again line by line, so that only the bad lines are lost (quarantined); so is a JSONL file
    with blank lines, whose labels must count physical lines."""
    path = str(file.path)
    try:
        con.execute(zjson.json_items(zjson.fast_documents(file_no, path, file_format,
                                                          file.display, unit)))
        if unit != "line" or not scalar(con, zjson.blank_lines(path)):
            return
    except duckdb.Error as exc:
        if file_format != "newline_delimited" or "Malformed JSON" not in str(exc):
            raise _read_error(con, file, file_format, exc) from exc
        if not scalar(con, zjson.valid_lines(path)):  # not JSON lines at all: the wrong file
            raise _read_error(con, file, file_format, exc) from exc
    con.execute("DELETE FROM zd_items WHERE file_no = ?", [file_no])
    con.execute(zjson.json_items(zjson.line_documents(file_no, path, file.display, unit)))
    con.execute(zjson.broken_lines(file_no, path, file.display, unit))


def _read_error(con: duckdb.DuckDBPyConnection, file: InputFile, json_format: str,
                exc: duckdb.Error) -> InputError:
    message = str(exc).strip().splitlines()[0]
    malformed = malformed_json_error(con, file, json_format, message)
    return malformed or other_read_error(file, exc, "Zendesk JSON")


def _check_files(con: duckdb.DuckDBPyConnection) -> None:
    """Files that are wrong as a whole: nothing Zendesk in them, or comments without tickets."""
    row = con.execute(sql.NOT_ZENDESK).fetchall()
    if row:
        raise InputError(row[0][0], "not a Zendesk export", record=f"{row[0][1]} 1",
                         hint="expected tickets, comments, audits, users or ticket metrics from "
                              "the Zendesk API, Airbyte records or Fivetran tables")
    row = con.execute(sql.NO_TICKET_IDS).fetchall()
    if row:
        raise InputError(row[0][0], "no comment in this file names its ticket", record=row[0][1],
                         field="ticket_id", hint="comments need a ticket_id (or the audit_id of "
                         "an audit in the export); per-ticket comment pages need a ticket_id key")


def _map_records(con: duckdb.DuckDBPyConnection, files: list[InputFile]) -> dict[str, int]:
    typed = [sql.TICKET_ITEMS, sql.AUDIT_ITEMS, sql.COMMENT_ITEMS, *sql.OTHER_ITEMS]
    mapped = [
        *sql.SET_ASIDE, sql.TICKETS, events_sql.COMMENT_ACTS, events_sql.CHATS,
        events_sql.CHAT_EVENTS, sql.REJECTS, events_sql.ACTS, events_sql.FALLBACK_ACTS,
        events_sql.USERS, events_sql.EVENTS, events_sql.STAGE_EVENTS, events_sql.AI_USERS,
        events_sql.REPORT_AI_USERS, events_sql.HANDOFFS, *events_sql.QUARANTINE,
        *events_sql.INCOMPLETE, events_sql.CONVERSATIONS,
    ]
    try:
        for statement in typed:
            con.execute(statement)
        _check_files(con)  # before bad records are set aside: a file of them is the wrong file
        for statement in mapped:
            con.execute(statement)
        return dict(con.execute(sql.COUNTS).fetchall())
    except duckdb.Error as exc:
        raise mapping_error(files, exc) from exc
