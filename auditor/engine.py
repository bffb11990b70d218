"""The DuckDB connection every stage works in, and the staging tables adapters fill.

Each run gets its own connection: UTC session time zone (so naive timestamps mean UTC), a memory
limit with spilling to a temporary directory (bounded memory on large inputs), and the
`auditor_parse_ts` macro that all adapters use to read timestamps.
"""

from __future__ import annotations

import os
import re
import tempfile

import duckdb

from auditor.schema import (
    ACTOR_ROLES, CONVERSATION_COLUMNS, EVENT_COLUMNS, EVENT_TYPES, LINEAGE_COLUMNS, TOKEN_COLUMNS,
    Column,
)

DEFAULT_MEMORY_LIMIT = "1GB"
MEMORY_LIMIT_VARIABLE = "AUDITOR_MEMORY_LIMIT"  # e.g. 4GB: DuckDB's limit; beyond it, it spills
# Settings of one connection (each cursor needs them again); the others are the database's.
SESSION_SETTINGS = ("SET TimeZone = 'UTC'",)

# ISO 8601 (offset, Z or naive = UTC) or epoch seconds; NULL when it does not parse.
PARSE_TS_MACRO = r"""
CREATE OR REPLACE MACRO auditor_parse_ts(s) AS (
    coalesce(
        -- ISO 8601 first: the usual case, and a plain cast is ten times cheaper than a regex.
        -- TIMESTAMPTZ -> TIMESTAMP through epoch_us: the same UTC instant, without the time-zone
        -- calendar work a CAST does (five times cheaper).
        make_timestamp(epoch_us(try_cast(trim(CAST(s AS VARCHAR)) AS TIMESTAMPTZ))),
        CASE WHEN regexp_full_match(trim(CAST(s AS VARCHAR)), '-?[0-9]{1,11}(\.[0-9]+)?')
             THEN make_timestamp(epoch_us(to_timestamp(CAST(trim(CAST(s AS VARCHAR)) AS DOUBLE))))
        END
    )
)
"""

# Staged events carry the raw text of fields that can fail validation, for quarantine reasons.
STAGE_EVENT_COLUMNS: tuple[Column, ...] = tuple(
    c._replace(sql_type="VARCHAR") if c.name in TOKEN_COLUMNS else c
    for c in EVENT_COLUMNS if c.name != "rating"
) + (
    Column("created_at_raw", "VARCHAR", False, "created_at as read, for error messages."),
    Column("rating_raw", "VARCHAR", False, "rating as read, validated into rating."),
) + LINEAGE_COLUMNS

STAGE_CONVERSATION_COLUMNS: tuple[Column, ...] = CONVERSATION_COLUMNS + LINEAGE_COLUMNS

QUARANTINE_COLUMNS: tuple[Column, ...] = (
    Column("source_file", "VARCHAR", True, "Input file."),
    Column("source_record", "VARCHAR", True,
           "Where in the file: 'line N' is the file's physical line, 'record N' counts records."),
    Column("conversation_id", "VARCHAR", False,
           "The conversation the record belongs to, whenever it can be read. That conversation "
           "is not judged on the rest of its records: its billed lines are unverifiable "
           "(quarantined_records)."),
    Column("field", "VARCHAR", False, "Field that failed, when one field is to blame."),
    Column("reason", "VARCHAR", True, "Why the record could not become an event."),
)
# Internal: a quarantined record that is a redundant copy of a kept one (a repeated event id)
# leaves its conversation whole, so it does not make the conversation unverifiable.
QUARANTINE_TABLE_COLUMNS: tuple[Column, ...] = QUARANTINE_COLUMNS + (
    Column("redundant", "BOOLEAN", False, "A copy of a record that was kept."),
)

# Quarantine rows in file order: by file, then by the record's number, not its text.
QUARANTINE_SORT_KEY = ("source_file, try_cast(regexp_extract(source_record, '([0-9]+)', 1) "
                       "AS BIGINT), source_record, field")

# Conversations the export has without (all) their messages: a list or search export, parts cut
# off by an API cap, tickets without comments. Adapters add rows; such conversations are not
# judged (incomplete_export).
INCOMPLETE_COLUMNS: tuple[Column, ...] = (
    Column("conversation_id", "VARCHAR", True, "The conversation."),
    Column("source_file", "VARCHAR", True, "Input file it was read from."),
    Column("source_record", "VARCHAR", False, "Where in that file."),
    Column("detail", "VARCHAR", True, "What is missing, in a few words for the evidence."),
)

# The helpdesk users an adapter takes as the vendor's AI agent, and what made it so: reports name
# them, so a reader can check them. Filled by adapters that tell the AI from people by its user
# (Zendesk); Intercom marks the AI's parts itself and leaves it empty.
AI_AGENT_COLUMNS: tuple[Column, ...] = (
    Column("user_id", "VARCHAR", True, "The user's id."),
    Column("name", "VARCHAR", False, "The user's name, when the export has it."),
    Column("how", "VARCHAR", True, "What made it the AI agent, e.g. `user name 'Answer Bot'`."),
)


def connect(memory_limit: str | None = None) -> duckdb.DuckDBPyConnection:
    """Open an in-memory DuckDB connection configured for an audit run."""
    con = duckdb.connect(":memory:")
    limit = memory_limit or memory_limit_setting()
    for setting in SESSION_SETTINGS:
        con.execute(setting)
    con.execute(f"SET memory_limit = '{limit}'")
    con.execute(f"SET temp_directory = '{tempfile.gettempdir()}/auditor-duckdb-spill'")
    con.execute("SET preserve_insertion_order = true")
    con.execute(PARSE_TS_MACRO)
    for name, values in (("actor_role_enum", ACTOR_ROLES), ("event_type_enum", EVENT_TYPES)):
        con.execute(f"CREATE TYPE {name} AS ENUM ({', '.join(sql_string(v) for v in values)})")
    create_staging_tables(con)
    return con


def memory_limit_setting() -> str:
    """The memory limit runs get: AUDITOR_MEMORY_LIMIT, else DEFAULT_MEMORY_LIMIT."""
    return os.environ.get(MEMORY_LIMIT_VARIABLE) or DEFAULT_MEMORY_LIMIT


def thread_cursor(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """Another connection to the same database, for another thread, with the run's session
    settings (memory limit and spilling are the database's, shared)."""
    cursor = con.cursor()
    for setting in SESSION_SETTINGS:
        cursor.execute(setting)
    return cursor


# The staging tables adapters fill (or stage views for: stage_view), and their columns.
STAGED_COLUMNS: dict[str, tuple[Column, ...]] = {"stage_events": STAGE_EVENT_COLUMNS,
                                                 "stage_conversations": STAGE_CONVERSATION_COLUMNS}


def ddl(table: str, columns: tuple[Column, ...]) -> str:
    body = ", ".join(f"{c.name} {c.sql_type}" for c in columns)
    return f"CREATE TABLE {table} ({body})"


def create_staging_tables(con: duckdb.DuckDBPyConnection) -> None:
    for table, columns in STAGED_COLUMNS.items():
        con.execute(ddl(table, columns))
    con.execute(ddl("quarantine", QUARANTINE_TABLE_COLUMNS))
    con.execute(ddl("incomplete_conversations", INCOMPLETE_COLUMNS))
    con.execute(ddl("ai_agent_users", AI_AGENT_COLUMNS))
    # What an adapter says about how it read the export, for the report's notes.
    con.execute("CREATE TABLE ingest_notes (note VARCHAR)")
    # Files staged as views instead of rows in stage_events / stage_conversations (stage_view).
    # parquet_file: the Parquet file a view reads, whose statistics conversation_ranges reads.
    con.execute("CREATE TABLE staged_views (staged_table VARCHAR, name VARCHAR, "
                "rescannable BOOLEAN, parquet_file VARCHAR)")
    # Files whose staged rows leave source_record empty: it is '<unit> <source_ord + shift>',
    # built only for the few rows a message needs (building it per row is a real cost).
    con.execute("CREATE TABLE staged_record_labels (source_file VARCHAR, unit VARCHAR, "
                "shift BIGINT)")


def record_label(file_column: str, ord_column: str, record_column: str) -> str:
    """SQL for a row's record label: its own source_record, else derived from its ordinal."""
    return (f"coalesce({record_column}, (SELECT l.unit || ' ' || ({ord_column} + l.shift) "
            f"FROM staged_record_labels l WHERE l.source_file = {file_column}))")


def stage_view(con: duckdb.DuckDBPyConnection, staged_table: str, select_sql: str,
               rescannable: bool = False, parquet_file: str | None = None) -> None:
    """Stage a file's rows as a view instead of copies in `staged_table` (stage_events or
    stage_conversations); the SELECT names its columns as that table does.

    For files that are already tables (Parquet, CSV): validation then reads the file where it
    checks the rows, instead of copying every row first. `rescannable`: reading the view again
    is cheap (Parquet: typed columns, row numbers from the file), so the checked events need
    not be copied into a table either (validate.finish_ingest); text files are parsed once.
    `parquet_file`: the Parquet file the view reads, when its conversation_id is text read as
    is (auditor.conversation_ranges reads its statistics).
    """
    count = scalar(con, "SELECT count(*) FROM staged_views")
    name = f"{staged_table}_view_{count + 1}"
    con.execute(f"CREATE VIEW {name} AS {select_sql}")
    con.execute("INSERT INTO staged_views VALUES (?, ?, ?, ?)",
                [staged_table, name, rescannable, parquet_file])


def staged(con: duckdb.DuckDBPyConnection, staged_table: str) -> str:
    """A FROM-clause relation over everything staged for `staged_table`: the table and its
    staged views."""
    views = [r[0] for r in con.execute("SELECT name FROM staged_views WHERE staged_table = ? "
                                       "ORDER BY name", [staged_table]).fetchall()]
    columns = ", ".join(c.name for c in STAGED_COLUMNS[staged_table])
    parts = [f"SELECT {columns} FROM {t}" for t in [staged_table, *views]]
    return "(" + " UNION ALL ".join(parts) + ")"


def staged_events(con: duckdb.DuckDBPyConnection) -> str:
    return staged(con, "stage_events")


def staged_events_rescannable(con: duckdb.DuckDBPyConnection) -> bool:
    """Every view staging events is cheap to read again (stage_events itself is a table)."""
    return bool(scalar(con, "SELECT coalesce(bool_and(rescannable), true) FROM staged_views "
                            "WHERE staged_table = 'stage_events'"))


def error_text(exc: BaseException) -> str:
    """A DuckDB error as one line for a user: its first line, without the "Kind Error: " prefix."""
    return re.sub(r"^[\w ]*Error: ", "", str(exc).strip().splitlines()[0])


def error_line(exc: BaseException) -> str | None:
    """'line N' of the file a DuckDB reader error names, if it names one."""
    found = re.search(r"(?:CSV Error on Line:|in line) (\d+)", str(exc))  # the file's line
    return f"line {found.group(1)}" if found else None


def sql_string(value: str) -> str:
    """Quote a Python string as a SQL string literal."""
    return "'" + value.replace("'", "''") + "'"


def first_row(con: duckdb.DuckDBPyConnection, query: str,
              params: list[object] | None = None) -> tuple | None:
    """The first row of a query, or None. Fetches everything: DuckDB 2 refuses new work on a
    connection while a result is only partly fetched."""
    rows = con.execute(query, params or []).fetchall()
    return rows[0] if rows else None


def scalar(con: duckdb.DuckDBPyConnection, query: str, params: list[object] | None = None) -> object:
    """The first column of the first row, or None."""
    row = first_row(con, query, params)
    return row[0] if row else None
