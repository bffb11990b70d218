"""`--format canonical`: event logs (and optional conversation tables) a warehouse user wrote.

Files may be CSV (with header), Parquet or JSONL, optionally gzip-compressed. A file with
`created_at`/`actor_role`/`event_type` columns is an event log; a file with `conversation_id`
and only conversation columns (docs/canonical-schema.md) is a conversation table. Conversation
columns may also ride along on event rows. Unknown columns are ignored.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import duckdb

from auditor.engine import (
    STAGE_CONVERSATION_COLUMNS, STAGE_EVENT_COLUMNS, first_row, scalar, sql_string,
    stage_view,
)
from auditor.errors import InputError
from auditor.schema import CONVERSATION_COLUMNS, EVENT_COLUMNS, column_names, required_names
from auditor.sources.files import InputFile

if TYPE_CHECKING:  # options are accepted and ignored: nothing here needs them
    from auditor.sources import SourceOptions

FORMAT = "canonical"
EVENT_MARKERS = {"created_at", "actor_role", "event_type"}
TIMESTAMP_TYPES = ("TIMESTAMP", "TIMESTAMP WITH TIME ZONE", "TIMESTAMP_NS", "TIMESTAMP_MS",
                   "TIMESTAMP_S", "DATE")


def sniff(file: InputFile) -> bool:
    if file.data_suffix == ".parquet":
        return True
    head = file.head().decode("utf-8", errors="replace").lstrip("\ufeff")
    first_line = head.splitlines()[0] if head else ""
    if file.data_suffix in (".csv", ".tsv"):
        return "conversation_id" in first_line
    try:
        record = json.loads(first_line)
    except ValueError:
        return False
    return isinstance(record, dict) and "conversation_id" in record


def load(con: duckdb.DuckDBPyConnection, files: list[InputFile], *,
         options: SourceOptions | None = None) -> dict[str, int]:
    from auditor.sources import SourceOptions

    nulls = (options or SourceOptions()).csv_null_strings()
    return {file.display: _load_file(con, file, nulls) for file in files}


def _reader(file: InputFile, null_strings: list[str]) -> tuple[str, str]:
    """(table function call, how to name a record) for the file's format. In CSV, the ways
    warehouses write a missing value (NULL, null, \\N, an empty cell) are missing values."""
    path = sql_string(str(file.path))
    if file.data_suffix == ".parquet":
        return f"read_parquet({path}, file_row_number = true)", "row"
    if file.data_suffix in (".csv", ".tsv"):
        nulls = ", ".join(sql_string(n) for n in null_strings)
        return (f"read_csv({path}, all_varchar = true, header = true, nullstr = [{nulls}])",
                "line")
    return f"read_json({path}, format = 'newline_delimited')", "line"


def _describe(con: duckdb.DuckDBPyConnection, file: InputFile, reader: str) -> dict[str, str]:
    try:
        rows = con.execute(f"DESCRIBE SELECT * FROM {reader}").fetchall()
    except duckdb.Error as exc:
        raise InputError(file.display, f"cannot be read as {file.data_suffix[1:]}: "
                         f"{_first_line(exc)}") from exc
    return {str(name).lower(): str(kind) for name, kind, *_ in rows}


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0]


def _value(name: str, types: dict[str, str]) -> str:
    """SQL for a column as VARCHAR (JSON strings unquoted); NULL when the file lacks it."""
    if name not in types:
        return "NULL"
    return f"(\"{name}\" ->> '$')" if types[name] == "JSON" else f"CAST(\"{name}\" AS VARCHAR)"


def _timestamp(types: dict[str, str]) -> str:
    kind = types.get("created_at", "").upper()
    if kind == "TIMESTAMP WITH TIME ZONE":  # the UTC instant, without a calendar-aware cast
        return "make_timestamp(epoch_us(created_at))"
    if kind in TIMESTAMP_TYPES:
        return "CAST(created_at AS TIMESTAMP)"
    return f"auditor_parse_ts({_value('created_at', types)})"


def _load_file(con: duckdb.DuckDBPyConnection, file: InputFile, null_strings: list[str]) -> int:
    reader, unit = _reader(file, null_strings)
    types = _describe(con, file, reader)
    is_event_log = bool(EVENT_MARKERS & types.keys())
    if "conversation_id" not in types or (is_event_log and not set(required_names(EVENT_COLUMNS)) <= types.keys()):
        wanted = required_names(EVENT_COLUMNS) if is_event_log else ["conversation_id"]
        missing = [c for c in wanted if c not in types]
        raise InputError(file.display, f"missing required column '{missing[0]}'",
                         hint="columns found: " + ", ".join(types) or "none")
    offset = 2 if unit == "line" and file.data_suffix != ".jsonl" else 1
    # Parquet knows each row's position; text formats need a window in scan order.
    ordinal = "(file_row_number + 1)" if unit == "row" else "row_number() OVER ()"
    lineage = (f"{sql_string(file.display)} AS source_file, "
               f"'{unit} ' || ({ordinal} + {offset - 1}) AS source_record, {ordinal} AS source_ord")
    typed_file = file.data_suffix == ".parquet"  # cheap to read again: staged as a view only
    if is_event_log:
        con.execute("INSERT INTO staged_record_labels VALUES (?, ?, ?)",
                    [file.display, unit, offset - 1])
        _stage_events(con, reader, types, lineage.replace(
            f"'{unit} ' || ({ordinal} + {offset - 1})", "CAST(NULL AS VARCHAR)"),
            str(file.path) if typed_file else None)
    # channel is an event column too: only conversation-only columns make an event log also
    # carry conversation attributes (staging them reads every event row once more).
    conversation_only = set(column_names(CONVERSATION_COLUMNS)) - set(column_names(EVENT_COLUMNS))
    if conversation_only & types.keys() or not is_event_log:  # lineage labels unused here
        _check_booleans(con, file, reader, types, f"'{unit} ' || ({ordinal} + {offset - 1})")
        _stage_conversations(con, reader, types, lineage.replace(
            f"'{unit} ' || ({ordinal} + {offset - 1})", "CAST(NULL AS VARCHAR)"), typed_file)
    # Without the row-number column a Parquet count comes from the file's metadata alone.
    plain = reader.replace(", file_row_number = true", "")
    return int(scalar(con, f"SELECT count(*) FROM {plain}"))  # type: ignore[arg-type]


def _stage_events(con: duckdb.DuckDBPyConnection, reader: str, types: dict[str, str],
                  lineage: str, parquet_file: str | None) -> None:
    values = {c.name: _value(c.name, types) for c in STAGE_EVENT_COLUMNS}
    values["created_at"] = _timestamp(types)
    # A typed timestamp cannot fail to parse, so its text is never needed (and costs a cast).
    typed = types.get("created_at", "").upper() in TIMESTAMP_TYPES
    values["created_at_raw"] = "CAST(NULL AS VARCHAR)" if typed else _value("created_at", types)
    values["rating_raw"] = _value("rating", types)
    columns = [c.name for c in STAGE_EVENT_COLUMNS][:-3]
    select = ", ".join(f"{values[c]} AS {c}" for c in columns)
    # Ids read as they are stored (text) keep the file's statistics usable for id ranges.
    stage_view(con, "stage_events", f"SELECT {select}, {lineage} FROM {reader}",
               rescannable=parquet_file is not None,
               parquet_file=parquet_file if types["conversation_id"] == "VARCHAR" else None)


def _check_booleans(con: duckdb.DuckDBPyConnection, file: InputFile, reader: str,
                    types: dict[str, str], label: str) -> None:
    """A conversation attribute that should be true/false and is not: the file's first one.

    Typed BOOLEAN columns (Parquet) cannot hold anything else, so only text columns are read,
    all in one scan.
    """
    names = [c.name for c in STAGE_CONVERSATION_COLUMNS[:-3]
             if c.sql_type == "BOOLEAN" and c.name in types and types[c.name] != "BOOLEAN"]
    if not names:
        return
    values = ", ".join(f"{_value(n, types)} AS {n}" for n in names)
    bad = {n: f"(nullif(trim({n}), '') IS NOT NULL AND try_cast({n} AS BOOLEAN) IS NULL)"
           for n in names}
    field = "CASE " + " ".join(f"WHEN {t} THEN {sql_string(n)}" for n, t in bad.items()) + " END"
    value = "CASE " + " ".join(f"WHEN {t} THEN {n}" for n, t in bad.items()) + " END"
    row = first_row(con, f"SELECT record, {field}, {value} FROM (SELECT {label} AS record, "
                         f"{values} FROM {reader}) WHERE {' OR '.join(bad.values())} LIMIT 1")
    if row:
        raise InputError(file.display, f"cannot read '{row[2]}' as true/false", record=row[0],
                         field=row[1])


def _stage_conversations(con: duckdb.DuckDBPyConnection, reader: str, types: dict[str, str],
                         lineage: str, typed_file: bool) -> None:
    values = [
        ("CAST(" + _value(c.name, types) + f" AS {c.sql_type})" if c.sql_type == "BOOLEAN"
         else _value(c.name, types)) + f" AS {c.name}"
        for c in STAGE_CONVERSATION_COLUMNS[:-3]
    ]
    select = f"SELECT {', '.join(values)}, {lineage} FROM {reader}"
    if typed_file:  # cheap to read where the attributes are built: not copied first
        stage_view(con, "stage_conversations", select, rescannable=True)
    else:
        con.execute(f"INSERT INTO stage_conversations {select}")
