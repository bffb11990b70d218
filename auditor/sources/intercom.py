"""`--format intercom`: Intercom conversations as the REST API returns them (2.11 - 2.16, Preview).

Inputs, each optionally gzip-compressed: one conversation per .json file, a JSON array of
conversations, a `conversation.list` page, JSONL (one conversation or page per line), and
Airbyte source-intercom records (`{"stream", "data"}`), whose `conversation_parts` stream is
joined to its conversations by `conversation_id`.

What becomes what is the table MAPPING below; docs/intercom-mapping.md carries the same table
(a test keeps them equal), the quarantine rules and when a conversation is incomplete. Python
only reads file heads (to pick DuckDB's JSON format) and builds SQL; DuckDB reads each file once
and does all the mapping. A file that typed read cannot take is read again record by record
(intercom_checks), so that one bad record is quarantined instead of stopping the run.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, NamedTuple

import duckdb

from auditor.engine import first_row, scalar, sql_string
from auditor.errors import InputError
from auditor.sources import intercom_checks as checks
from auditor.sources import intercom_events_sql as events
from auditor.sources import intercom_sql as sql
from auditor.sources import json_files as files_json
from auditor.sources.files import InputFile, mapping_error
from auditor.sources.json_files import (
    JSON_SUFFIXES, malformed_json_error, other_read_error,
)

if TYPE_CHECKING:
    from auditor.sources import SourceOptions

FORMAT = "intercom"
CONVERSATION_TYPES = ("conversation", "conversation.list")
AIRBYTE_CONVERSATION_STREAMS = ("conversations", "conversation_parts")
# Other source-intercom streams count as Intercom (for --format auto) by their object type.
AIRBYTE_OBJECT_TYPES = ("activity_log", "admin", "company", "contact", "data_attribute",
                        "segment", "tag", "team", "ticket")


class Rule(NamedTuple):
    """One row of the mapping table (docs/intercom-mapping.md).

    value: a literal, `*x*` (contains x), `(missing)`, `(other)` (the ELSE branch) or `(any)`
    (a field copied as it is: documented here, written out in intercom_sql's statements).
    when: a condition name from CONDITIONS, or "" for none (free text on `(any)` rows).
    """

    field: str
    value: str
    column: str
    result: str
    when: str = ""


# Conditions of the table's `when` column, as SQL over the parameters of the macros the CASE
# expressions become (see intercom_sql.macros).
CONDITIONS: dict[str, str] = {
    "AI flag true": "ai_flag",
    "AI flag false": "NOT ai_flag",
    "no AI flag, AI in conversation": "ai_flag IS NULL AND ai_on",
    "routed to a teammate by AI or bot": "role IN ('ai_agent', 'bot') AND routed",
    "after a close": "after_close",
    "by the customer": "role = 'customer'",
}

_ANY, _OTHER, _AI = "(any)", "(other)", "AI flag true"
MAPPING: tuple[Rule, ...] = (
    # The conversation row.
    Rule("id", _ANY, "conversation_id", "(as text)"),
    Rule("contacts.contacts[0].id", _ANY, "customer_id", "(copied)"),
    Rule("source.author.id", _ANY, "customer_id", "(copied)", "no contacts, customer author"),
    Rule("channel.initial", _ANY, "channel", "(copied)", "also on every event"),
    Rule("source.type", _ANY, "channel", "(copied)", "no channel.initial"),
    Rule("ai_agent.resolution_state", _ANY, "vendor_label", "(copied)"),
    Rule("ai_agent.resolution_state", "assumed_resolution", "vendor_state", "assumed_resolution"),
    Rule("ai_agent.resolution_state", "confirmed_resolution", "vendor_state",
         "confirmed_resolution"),
    Rule("ai_agent.resolution_state", "escalated", "vendor_state", "escalated"),
    Rule("ai_agent.resolution_state", "negative_feedback", "vendor_state", "negative_feedback"),
    Rule("ai_agent.resolution_state", "procedure_handoff", "vendor_state", "procedure_handoff"),
    Rule("ai_agent.resolution_state", "routed_to_team", "vendor_state", "escalated"),
    Rule("ai_agent.resolution_state", "abandoned", "vendor_state", "negative_feedback"),
    Rule("ai_agent.resolution_state", _OTHER, "vendor_state", "(null)"),
    Rule("ai_agent.source_type", "fin_preview", "is_preview", "true"),
    Rule("ai_agent.source_type", "workflow_preview", "is_preview", "true"),
    Rule("ai_agent.source_type", _OTHER, "is_preview", "false"),
    Rule("ai_agent.last_answer_type", _ANY, "ai_answered",
         "true when it or resolution_state is set, else false",
         "both are null when no answer was delivered; unknown without an ai_agent object"),
    # Who acted: the first event (the conversation's source message) ...
    Rule("source.delivered_as", "customer_initiated", "actor_role", "customer"),
    Rule("source.delivered_as", "admin_initiated", "actor_role", "human_agent"),
    Rule("source.delivered_as", "automated", "actor_role", "bot"),
    Rule("source.delivered_as", "campaigns_initiated", "actor_role", "bot"),
    Rule("source.delivered_as", "operator_initiated", "actor_role", "bot"),
    Rule("source.delivered_as", _OTHER, "actor_role", "(author role)"),
    # ... and every part, by its author (first matching row wins).
    Rule("author.type", "user", "actor_role", "customer"),
    Rule("author.type", "lead", "actor_role", "customer"),
    Rule("author.type", "contact", "actor_role", "customer"),
    Rule("author.type", "admin", "actor_role", "ai_agent", _AI),
    Rule("author.type", "bot", "actor_role", "ai_agent", _AI),
    Rule("author.type", "team", "actor_role", "ai_agent", _AI),
    Rule("author.type", "bot", "actor_role", "bot", "AI flag false"),
    Rule("author.type", "bot", "actor_role", "ai_agent", "no AI flag, AI in conversation"),
    Rule("author.type", "bot", "actor_role", "bot"),
    Rule("author.type", "admin", "actor_role", "human_agent"),
    Rule("author.type", "team", "actor_role", "human_agent"),
    Rule("author.type", "(missing)", "actor_role", "system"),
    Rule("author.type", _OTHER, "actor_role", "(verbatim)"),
    Rule("author.id", _ANY, "actor_id", "(copied)"),
    # What happened.
    Rule("source", _ANY, "event_type", "message", "first event, event_id 'source'"),
    Rule("source.body", _ANY, "body", "(text)", "source.subject when the body is empty"),
    Rule("conversation_parts[].id", _ANY, "event_id", "(as text)"),
    Rule("part_type", "comment", "event_type", "message"),
    Rule("part_type", "quick_reply", "event_type", "message"),
    Rule("part_type", "note", "event_type", "note"),
    Rule("part_type", "*assignment*", "event_type", "handoff",
         "routed to a teammate by AI or bot"),
    Rule("part_type", "*assignment*", "event_type", "assignment"),
    Rule("part_type", "assign_and_reopen", "event_type", "reopen"),
    Rule("part_type", "close", "event_type", "close"),
    # A customer replying to a closed conversation arrives as an `open` part carrying the text:
    # keep it a message, so its words count (the facts see a customer message after a close).
    Rule("part_type", "open", "event_type", "message", "by the customer"),
    Rule("part_type", "open", "event_type", "reopen", "after a close"),
    Rule("part_type", _OTHER, "event_type", "other"),
    Rule("body", _ANY, "body", "(text)", "quick reply options when the body is empty"),
    Rule("created_at", _ANY, "created_at", "(unix seconds)", "raw kept in created_at_raw"),
    Rule("conversation_rating.rating", _ANY, "rating", "(copied)",
         "rating event by the customer at conversation_rating.created_at"),
    Rule("ai_agent.rating", _ANY, "rating", "(copied)",
         "rating event by the customer at ai_agent.updated_at"),
)


def customer_types() -> list[str]:
    return [r.value for r in MAPPING if r.field == "author.type" and r.result == "customer"]


def mapping_cases() -> dict[str, str]:
    """The CASE expressions of intercom_sql.macros, one per (field, column) of the table."""
    def case(field: str, column: str, subject: str, results: dict[str, str]) -> str:
        rules = [r for r in MAPPING if (r.field, r.column) == (field, column) and r.value != _ANY]
        return case_sql(rules, subject, results)

    return {
        "role": case("author.type", "actor_role", "author_type", {"(verbatim)": "author_type"}),
        "first_role": case("source.delivered_as", "actor_role", "delivered_as",
                           {"(author role)": "author_role"}),
        "event_type": case("part_type", "event_type", "part_type", {}),
        "vendor_state": case("ai_agent.resolution_state", "vendor_state", "state",
                             {"(null)": "NULL"}),
        "is_preview": case("ai_agent.source_type", "is_preview", "source_type", {}),
    }


def case_sql(rules: list[Rule], subject: str, results: dict[str, str]) -> str:
    """A CASE expression over `subject`, one WHEN per rule in table order."""
    whens, default = [], "NULL"
    for rule in rules:
        result = results.get(rule.result, sql_string(rule.result))
        if rule.value == "(other)":
            default = result
            continue
        test = _match(subject, rule.value)
        if rule.when:
            test += f" AND ({CONDITIONS[rule.when]})"
        whens.append(f"WHEN {test} THEN {result}")
    return "CASE " + " ".join(whens) + f" ELSE {default} END"


def _match(subject: str, value: str) -> str:
    if value == "(missing)":
        return f"{subject} IS NULL"
    if value.startswith("*") and value.endswith("*"):
        return f"{subject} LIKE {sql_string('%' + value.strip('*') + '%')}"
    return f"{subject} = {sql_string(value)}"


def sniff(file: InputFile) -> bool:
    """JSON whose first record is a conversation, a conversation.list or an Airbyte record."""
    if file.data_suffix not in JSON_SUFFIXES:
        return False
    record = _first_record(files_json.head_text(file))
    return record is not None and _is_intercom(record)


def load(con: duckdb.DuckDBPyConnection, files: list[InputFile], *,
         options: SourceOptions | None = None) -> dict[str, int]:
    """Read every file once into ic_raw, then map all of them together (Airbyte parts may sit
    in another file than their conversation)."""
    try:
        ids = options.ai_agent_ids if options else []
        for statement in [*sql.macros(mapping_cases(), ids), *checks.MACROS, sql.raw_table_ddl(),
                          sql.FILES_DDL, checks.REJECTS_DDL]:
            con.execute(statement)
        for file_no, file in enumerate(files):
            _read_file(con, file_no, file)
        _check_intercom(con)
        counts = _map_records(con, files)
        for agent in dict.fromkeys(ids):
            con.execute("INSERT INTO ai_agent_users VALUES (?, NULL, '--ai-agent-id')", [agent])
    finally:
        for statement in sql.cleanup():
            con.execute(statement)
    return {file.display: counts.get(file.display, 0) for file in files}


def _first_record(text: str) -> dict | None:
    """The first JSON object in a file head; for a head that ends inside it, its first keys."""
    text = text[1:].lstrip() if text.startswith("[") else text
    try:
        value, _ = json.JSONDecoder().raw_decode(text)
    except ValueError:
        hint = re.search(r'"(type|stream)"\s*:\s*"([^"]*)"', text)
        return {hint.group(1): hint.group(2)} if text.startswith("{") and hint else None
    return value if isinstance(value, dict) else None


def _is_intercom(record: dict) -> bool:
    if record.get("type") in CONVERSATION_TYPES:
        return True
    if "conversation_parts" in record or {"source", "id"} <= record.keys():
        return True
    airbyte = record.get("record") if record.get("type") == "RECORD" else record
    if not isinstance(airbyte, dict) or "stream" not in airbyte:
        return False
    data = airbyte.get("data")
    return airbyte["stream"] in AIRBYTE_CONVERSATION_STREAMS or (
        isinstance(data, dict) and data.get("type") in AIRBYTE_OBJECT_TYPES)


def _read_file(con: duckdb.DuckDBPyConnection, file_no: int, file: InputFile) -> None:
    """One typed read of the whole file; only when that fails, the file record by record."""
    json_format, unit = files_json.json_format(file)
    base = con.execute("SELECT count(*) FROM ic_raw").fetchone()[0]  # type: ignore[index]
    try:
        con.execute(sql.read_raw(file_no, str(file.path), json_format))
    except duckdb.Error as exc:
        read_by_record(con, file_no, file, json_format, unit, exc)
    # Rows of the typed read keep file order, so rowid - base + 1 is the record's line (or index)
    # in its file; rows read record by record carry their own (rec_ord, label).
    con.execute("INSERT INTO ic_files VALUES (?, ?, ?, ?)", [file_no, file.display, unit, base])


def read_by_record(con: duckdb.DuckDBPyConnection, file_no: int, file: InputFile,
                   json_format: str, unit: str, failure: duckdb.Error) -> None:
    """The typed read failed on some record: read the file again record by record. Records that
    are not valid JSON, or not of the documented shape, go to quarantine; the rest are read.
    A file none of whose records is usable is the file's problem: an input error."""
    if isinstance(failure, duckdb.IOException):  # not the records: the file cannot be read
        raise _read_error(con, file, json_format, failure) from failure
    try:
        for statement in checks.by_record(file_no, str(file.path), file.display, json_format,
                                          unit):
            con.execute(statement)
    except duckdb.Error:  # not even record by record: an invalid document
        raise _read_error(con, file, json_format, failure) from failure
    if not scalar(con, "SELECT count(*) FROM ic_raw WHERE file_no = ?", [file_no]):
        raise _unusable(con, file_no, file, json_format, failure) from failure


def _unusable(con: duckdb.DuckDBPyConnection, file_no: int, file: InputFile, json_format: str,
              failure: duckdb.Error) -> InputError:
    """The first problem of a file in which no record is usable, as one line."""
    label, field, reason = first_row(con, "SELECT label, field, reason FROM ic_rejects "
                                          "WHERE file_no = ? ORDER BY rec_ord LIMIT 1", [file_no])
    if reason == checks.INVALID_JSON:  # DuckDB's parser says what is wrong with it
        message = str(failure).strip().splitlines()[0]
        return (malformed_json_error(con, file, json_format, message)
                or InputError(file.display, reason, record=label))
    return InputError(file.display, f"{reason}; no record in this file is usable", record=label,
                      field=field, hint="the field does not have the type Intercom's API documents")


def _read_error(con: duckdb.DuckDBPyConnection, file: InputFile, json_format: str,
                exc: duckdb.Error) -> InputError:
    """DuckDB's reader error as one line naming the file, the line or record, and the problem."""
    message = str(exc).strip().splitlines()[0]
    return (malformed_json_error(con, file, json_format, message)
            or other_read_error(file, exc, "Intercom JSON"))


def _check_intercom(con: duckdb.DuckDBPyConnection) -> None:
    """A file none of whose records looks like Intercom is the wrong file, not bad records."""
    row = con.execute(sql.NOT_INTERCOM).fetchone()
    if row:
        raise InputError(row[0], "not an Intercom conversation export", record=f"{row[1]} 1",
                         hint="expected objects with \"type\": \"conversation\", conversation.list "
                              "pages or Airbyte source-intercom records; event logs you wrote "
                              "yourself are --format canonical")


def _map_records(con: duckdb.DuckDBPyConnection, files: list[InputFile]) -> dict[str, int]:
    customers = customer_types()
    # Incomplete conversations are found from the parts as read, before any part is dropped.
    records_and_parts = [sql.derived(*checks.airbyte_checks()), sql.RECORDS_VIEW,
                         events.conversations_insert(customers), events.SOURCE_EVENTS,
                         events.PARTS_DDL, events.INLINE_PARTS, events.AIRBYTE_PARTS,
                         checks.INCOMPLETE]
    part_events = [events.PART_EVENTS, events.ratings_insert(customers), sql.QUARANTINE]
    try:
        for statement in records_and_parts:
            con.execute(statement)
        if scalar(con, checks.PART_ID_REJECTS):  # rows inserted: parts with no id to keep
            con.execute(checks.PART_ID_DROP)
        for statement in part_events:
            con.execute(statement)
        return dict(con.execute(sql.COUNTS).fetchall())
    except duckdb.Error as exc:
        raise mapping_error(files, exc) from exc
