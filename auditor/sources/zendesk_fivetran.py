"""Fivetran's Zendesk Support tables (CSV or Parquet) as Zendesk API-shaped records.

A file is a table by its name (`ticket.csv`, `ticket_comment.parquet`, the dbt seeds'
`ticket_comment_data.csv`, ...) or, when the name says nothing, by its columns. Each row becomes
one `zd_items` record whose JSON has the API's field names (`user_id` -> `author_id`, `created`
-> `created_at`, `via_channel` -> `via.channel`, ...), so everything after reading is the same
SQL for API exports and Fivetran tables. Python only reads headers; DuckDB reads the rows.
"""

from __future__ import annotations

import csv
import io
import re
from typing import NamedTuple

import duckdb
import pyarrow.parquet as pq

from auditor.engine import sql_string
from auditor.errors import InputError
from auditor.sources.files import InputFile

TABULAR_SUFFIXES = (".csv", ".tsv", ".parquet")
Fields = dict[str, "str | tuple[str, ...] | Fields"]


class Table(NamedTuple):
    """A Fivetran table: its record kind, the columns it needs, the columns that identify it
    when its file name does not, and its API-shaped fields (a column, alternatives in order,
    `json:<column>` for JSON text, or a nested object)."""

    kind: str
    required: tuple[tuple[str, ...], ...]
    signature: tuple[str, ...]
    fields: Fields


TABLES: dict[str, Table] = {
    "ticket": Table("ticket", (("id",), ("created_at",)), ("requester_id", "via_channel"), {
        "id": "id", "created_at": "created_at", "updated_at": "updated_at",
        "requester_id": "requester_id", "submitter_id": "submitter_id", "status": "status",
        "description": "description",
        "via": {"channel": "via_channel", "source": {"rel": "via_source_rel"}},
        "satisfaction_rating": {"score": "satisfaction_rating_score",
                                "comment": "satisfaction_rating_comment"},
    }),
    "ticket_comment": Table(
        "comment", (("id",), ("ticket_id",), ("created", "created_at")),
        ("ticket_id", "user_id", "public", "created"), {
            "id": "id", "ticket_id": "ticket_id", "author_id": ("user_id", "author_id"),
            "body": "body", "public": "public", "created_at": ("created", "created_at"),
        }),
    "user": Table("user", (("id",), ("role",)), ("role", "only_private_comments"), {
        "id": "id", "role": "role", "name": "name"}),
    "ticket_field_history": Table(
        "change", (("ticket_id",), ("field_name",), ("value",), ("updated",)),
        ("ticket_id", "field_name", "updated", "value"), {
            "ticket_id": "ticket_id", "field_name": "field_name", "value": "value",
            "author_id": "user_id", "created_at": "updated",
        }),
    "ticket_chat": Table("chat", (("chat_id",), ("ticket_id",)), ("chat_id", "visitor_id"), {
        "chat_id": "chat_id", "ticket_id": "ticket_id", "channel": "channel",
        "user_id": "user_id", "visitor_id": "visitor_id"}),
    "ticket_chat_event": Table(
        "chat_event", (("chat_id",), ("created_at",), ("type",)),
        ("chat_id", "chat_index", "original_message"), {
            "chat_id": "chat_id", "created_at": "created_at", "actor_id": "actor_id",
            "type": "type", "message": "message", "message_id": "message_id",
            "chat_index": "chat_index", "original_message": "json:original_message",
        }),
    "ticket_tag": Table("tag", (("ticket_id",), ("tag",)), ("ticket_id", "tag"), {
        "ticket_id": "ticket_id", "tag": "tag"}),
}
ALIASES = {"tickets": "ticket", "ticket_comments": "ticket_comment", "users": "user",
           "ticket_tags": "ticket_tag"}
# Other tables of Fivetran's Zendesk connector: read, counted and quarantined as not used.
UNUSED_TABLES = ("group", "organization", "audit_log", "brand", "ticket_form_history",
                 "schedule", "schedule_holiday", "daylight_time", "time_zone", "domain_name",
                 "organization_tag", "user_tag", "ticket_schedule", "ticket_macro_reference",
                 "ticket_link", "custom_status", "group_member", "ticket_field")
CANONICAL_MARKERS = {"actor_role", "event_type"}


def table_name(file: InputFile) -> str:
    """The table a file name says: `ticket_comment_data.csv.gz` -> `ticket_comment`."""
    name = file.path.name.lower().removesuffix(".gz").removesuffix(file.data_suffix)
    name = re.sub(r"^zendesk[._]", "", name).removesuffix("_data")
    return ALIASES.get(name, name)


def columns_of(file: InputFile) -> list[str]:
    """Column names from the header (CSV) or the schema (Parquet); [] if unreadable."""
    if file.data_suffix == ".parquet":
        try:
            return [c.lower() for c in pq.read_schema(file.path).names]
        except Exception:  # noqa: BLE001 - not a Parquet file: not ours to judge here
            return []
    text = file.head().decode("utf-8", errors="replace").lstrip("\ufeff")
    header = next(csv.reader(io.StringIO(text.partition("\n")[0]),
                             delimiter="\t" if file.data_suffix == ".tsv" else ","), [])
    return [c.strip().lower() for c in header]


def table_of(file: InputFile) -> str | None:
    """The Fivetran table a file holds: by name (with one of its columns), else by columns."""
    if file.data_suffix not in TABULAR_SUFFIXES:
        return None
    columns = set(columns_of(file))
    if not columns or CANONICAL_MARKERS & columns:
        return None
    name = table_name(file)
    if name in TABLES and columns & set(TABLES[name].signature):
        return name
    if name in UNUSED_TABLES and any(c.endswith("_synced") for c in columns):
        return name
    return next((t for t, spec in TABLES.items() if set(spec.signature) <= columns), None)


def _reader(file: InputFile) -> tuple[str, str, str]:
    """(table function, 1-based row ordinal SQL, record label SQL) for a CSV or Parquet file;
    a CSV row's label is its line (the header is line 1)."""
    path = sql_string(str(file.path))
    if file.data_suffix == ".parquet":
        return (f"read_parquet({path}, file_row_number = true)", "file_row_number + 1",
                "'row ' || (file_row_number + 1)")
    delim = ", delim = '\t'" if file.data_suffix == ".tsv" else ""
    return (f"read_csv({path}, all_varchar = true, header = true{delim})",
            "row_number() OVER ()", "'line ' || (row_number() OVER () + 1)")


def _describe(con: duckdb.DuckDBPyConnection, file: InputFile, reader: str) -> set[str]:
    try:
        rows = con.execute(f"DESCRIBE SELECT * FROM {reader}").fetchall()
    except duckdb.Error as exc:
        detail = str(exc).strip().splitlines()[0]
        raise InputError(file.display, f"cannot be read as {file.data_suffix[1:]}: {detail}") \
            from exc
    return {str(row[0]) for row in rows}


def _column(spec: str | tuple[str, ...], names: dict[str, str]) -> str:
    """SQL for a field: the first present column of the alternatives, as text; else NULL."""
    as_json = isinstance(spec, str) and spec.startswith("json:")
    options = (spec.removeprefix("json:"),) if isinstance(spec, str) else spec
    present = next((names[o] for o in options if o in names), None)
    if present is None:
        return "NULL"
    text = f'CAST("{present}" AS VARCHAR)'
    return f"CASE WHEN json_valid({text}) THEN CAST({text} AS JSON) END" if as_json else text


def _struct(fields: Fields, names: dict[str, str]) -> str:
    parts = [f"{sql_string(key)}: " + (_struct(spec, names) if isinstance(spec, dict)
                                         else _column(spec, names))
             for key, spec in fields.items()]
    return "{" + ", ".join(parts) + "}"


def _check_required(file: InputFile, name: str, names: dict[str, str]) -> None:
    for options in TABLES[name].required:
        if not any(o in names for o in options):
            raise InputError(file.display, f"missing required column '{options[0]}' of the "
                             f"Fivetran table {name}",
                             hint="columns found: " + (", ".join(sorted(names)) or "none"))


def read(con: duckdb.DuckDBPyConnection, file_no: int, file: InputFile, name: str) -> None:
    """Append the file's rows to zd_items as records of the table's kind."""
    reader, ordinal, label = _reader(file)
    names = {c.lower(): c for c in _describe(con, file, reader)}
    lineage = f"{file_no}, {sql_string(file.display)}, {label}, {ordinal}"
    if name in UNUSED_TABLES:
        reason = sql_string(f"Fivetran table '{name}' is not used by the audit")
        con.execute(f"INSERT INTO zd_items SELECT {lineage}, 'unused', NULL, NULL, '', {reason}, "
                    f"NULL FROM {reader}")
        return
    _check_required(file, name, names)
    table = TABLES[name]
    con.execute(f"INSERT INTO zd_items SELECT {lineage}, '{table.kind}', "
                f"to_json({_struct(table.fields, names)}), NULL, NULL, NULL, NULL FROM {reader}")
