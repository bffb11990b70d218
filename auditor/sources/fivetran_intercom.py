"""`--format fivetran-intercom`: Fivetran's Intercom tables as CSV or Parquet files.

A file is a table by its name (`conversation_part_history.csv`, `intercom.conversation_history
.parquet`, the dbt seeds' `conversation_history_data.csv`, ...) or, when the name says nothing,
by its columns. The files are loaded into DuckDB tables of the connector's names, typed as the
mapping reads them, and mapped by the same portable SQL `auditor sql --source fivetran-intercom`
writes for a warehouse (auditor/warehouse/fivetran_intercom.py), rendered for DuckDB: one
definition of the mapping. Tables the audit does not read are named in the report's notes.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import duckdb

from auditor.engine import scalar, sql_string
from auditor.errors import InputError
from auditor.sources.files import InputFile, mapping_error
from auditor.sources.zendesk_fivetran import TABULAR_SUFFIXES, columns_of
from auditor.warehouse import dialects, lint
from auditor.warehouse import fivetran_intercom as mapping
from auditor.warehouse.sources import SourceTables

if TYPE_CHECKING:
    from auditor.sources import SourceOptions

FORMAT = "fivetran-intercom"
DEFAULT_VENDOR = "intercom-fin"
SCHEMA = "ft_intercom"
AI_AGENT_MISSING = (
    "Fivetran's Intercom tables carry no from_ai_agent flags and no --ai-agent-id was given: "
    "bot messages in conversations the AI agent took part in count as the AI agent's "
    "(Operator's automatic replies too). Name the AI agent's author id with --ai-agent-id.")
# Columns that tell a table when its file name does not.
SIGNATURES: dict[str, frozenset[str]] = {
    "conversation_history": frozenset({"source_delivered_as", "source_author_type"}),
    "conversation_part_history": frozenset({"part_type", "author_type", "conversation_id"}),
    "conversation_contact_history": frozenset({"contact_id", "conversation_id",
                                               "conversation_updated_at"}),
}
KNOWN = (*mapping.TABLES, *mapping.NAME_TABLES, *mapping.KNOWN_UNUSED)


def table_name(file: InputFile) -> str:
    """`intercom.conversation_part_history_data.csv.gz` -> `conversation_part_history`."""
    name = file.path.name.lower().removesuffix(".gz").removesuffix(file.data_suffix)
    return re.sub(r"^intercom[._]", "", name).removesuffix("_data")


def table_of(file: InputFile) -> str | None:
    """The Fivetran Intercom table a file holds: by its name, else by its columns."""
    if file.data_suffix not in TABULAR_SUFFIXES:
        return None
    columns = set(columns_of(file))
    if not columns or {"actor_role", "event_type"} & columns:
        return None
    name = table_name(file)
    if name in mapping.TABLES and {c.name for c in mapping.TABLES[name] if c.required} <= columns:
        return name
    if name in KNOWN and any(c.startswith("_fivetran") for c in columns):
        return name
    return next((t for t, sign in SIGNATURES.items() if sign <= columns), None)


def sniff(file: InputFile) -> bool:
    return table_of(file) is not None


def _reader(file: InputFile) -> str:
    path = sql_string(str(file.path))
    if file.data_suffix == ".parquet":
        return f"read_parquet({path})"
    delim = ", delim = '\t'" if file.data_suffix == ".tsv" else ""
    return (f"read_csv({path}, all_varchar = true, header = true{delim}, "
            "nullstr = ['', 'NULL', 'null', '\\N'])")


def _count(con: duckdb.DuckDBPyConnection, reader: str) -> int:
    return int(scalar(con, f"SELECT count(*) FROM {reader}"))  # type: ignore[arg-type]


def _typed(name: str, sql_type: str) -> str:
    """A column read as text, converted to the type the mapping reads (NULL when it is not one:
    a timestamp or rating that does not parse is then quarantined by validation)."""
    text = f'nullif(trim(CAST("{name}" AS VARCHAR)), \'\')'
    if sql_type == "TIMESTAMP":
        return f"auditor_parse_ts({text}) AS {name}"
    if sql_type == "VARCHAR":
        return f"{text} AS {name}"
    return f"try_cast({text} AS {sql_type}) AS {name}"


def _load_table(con: duckdb.DuckDBPyConnection, name: str, files: list[InputFile],
                counts: dict[str, int]) -> set[str]:
    """CREATE TABLE ft_intercom.<name> from its files; returns the columns they all have."""
    shared: set[str] | None = None
    selects = []
    for file in files:
        reader = _reader(file)
        try:
            present = {str(r[0]).lower(): str(r[0])
                       for r in con.execute(f"DESCRIBE SELECT * FROM {reader}").fetchall()}
        except duckdb.Error as exc:
            detail = str(exc).strip().splitlines()[0]
            raise InputError(file.display, f"cannot be read as {file.data_suffix[1:]}: "
                             f"{detail}") from exc
        for column in mapping.TABLES[name]:
            if column.required and column.name not in present:
                raise InputError(file.display, f"missing required column '{column.name}' of "
                                 f"the Fivetran table {name}", hint="columns found: "
                                 + ", ".join(sorted(present)))
        shared = set(present) if shared is None else shared & set(present)
        columns = ", ".join(_typed(present[c.name], c.sql_type) if c.name in present
                            else f"CAST(NULL AS {c.sql_type}) AS {c.name}"
                            for c in mapping.TABLES[name])
        selects.append(f"SELECT {columns} FROM {reader}")
        counts[file.display] = _count(con, reader)
    con.execute(f"CREATE TABLE {SCHEMA}.{name} AS " + " UNION ALL ".join(selects))
    return shared or set()


def _empty_table(con: duckdb.DuckDBPyConnection, name: str) -> None:
    columns = ", ".join(f"{c.name} {c.sql_type}" for c in mapping.TABLES[name])
    con.execute(f"CREATE TABLE {SCHEMA}.{name} ({columns})")


def load(con: duckdb.DuckDBPyConnection, files: list[InputFile], *,
         options: SourceOptions | None = None) -> dict[str, int]:
    by_table: dict[str, list[InputFile]] = {}
    for file in files:
        table = table_of(file)
        if table is None:
            raise InputError(file.display, "not a Fivetran Intercom table",
                             hint="expected conversation_history, conversation_part_history, "
                                  "conversation_contact_history, ... (CSV or Parquet)")
        by_table.setdefault(table, []).append(file)
    for required in mapping.REQUIRED_TABLES:
        if required not in by_table:
            raise InputError(files[0].display, f"the Fivetran Intercom table {required} is "
                             "not among the inputs", hint="give the folder with all the tables")
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}")
    counts: dict[str, int] = {}
    try:
        present = {name: _load_table(con, name, by_table[name], counts) if name in by_table
                   else _empty_table(con, name) or set() for name in mapping.TABLES}
        tables = SourceTables(None, schema=SCHEMA, ai_agent_ids=tuple(
            (options.ai_agent_ids if options else [])), absent_columns=mapping.absent(
            [t for t in mapping.TABLES if t in by_table], present))
        _map(con, tables, by_table)
        _report(con, tables, by_table, counts)
    except duckdb.Error as exc:
        raise mapping_error(files, exc) from exc
    finally:
        con.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
    return {file.display: counts.get(file.display, 0) for file in files}


def _map(con: duckdb.DuckDBPyConnection, tables: SourceTables,
         by_table: dict[str, list[InputFile]]) -> None:
    """The warehouse mapping, rendered for DuckDB, into the staging tables."""
    selects = mapping.fivetran_intercom(tables)
    events = dialects.render(lint.parse(selects.events), "duckdb")
    conversations = dialects.render(lint.parse(selects.conversations), "duckdb")
    conv_file = sql_string(by_table["conversation_history"][0].display)
    part_file = sql_string(by_table["conversation_part_history"][0].display)
    con.execute(f"""
        INSERT INTO stage_events BY NAME
        SELECT conversation_id, event_id, created_at, actor_role, actor_id, event_type, body,
               channel, strftime(created_at, '%Y-%m-%d %H:%M:%S') AS created_at_raw,
               CAST(rating AS VARCHAR) AS rating_raw,
               CASE WHEN record LIKE '% part %' THEN {part_file} ELSE {conv_file} END
                   AS source_file, record AS source_record,
               row_number() OVER (ORDER BY conversation_id, created_at, record) AS source_ord
        FROM ({events})
    """)
    con.execute(f"""
        INSERT INTO stage_conversations BY NAME
        SELECT *, {conv_file} AS source_file, 'conversation ' || conversation_id
                   AS source_record, row_number() OVER (ORDER BY conversation_id) AS source_ord
        FROM ({conversations})
    """)
    # Parts without their conversation: no first message, no ai_agent: not judged.
    con.execute(f"""
        INSERT INTO incomplete_conversations
        SELECT DISTINCT p.conversation_id, {part_file}, NULL,
               'conversation_part_history rows without a conversation_history row (no first '
               || 'message, no ai_agent)'
        FROM {SCHEMA}.conversation_part_history p
        WHERE p.conversation_id IS NOT NULL AND p.conversation_id NOT IN (
            SELECT id FROM {SCHEMA}.conversation_history WHERE id IS NOT NULL)
    """)


def _report(con: duckdb.DuckDBPyConnection, tables: SourceTables,
            by_table: dict[str, list[InputFile]], counts: dict[str, int]) -> None:
    """The AI agent's ids with their admin names, and notes on what was not read."""
    names: dict[str, str] = {}
    if "admin" in by_table:
        for file in by_table["admin"]:
            reader = _reader(file)
            counts[file.display] = _count(con, reader)
            if {"id", "name"} <= set(columns_of(file)):
                names |= dict(con.execute(f"SELECT CAST(id AS VARCHAR), CAST(name AS VARCHAR) "
                                          f"FROM {reader}").fetchall())
    for agent in dict.fromkeys(tables.ai_agent_ids):
        con.execute("INSERT INTO ai_agent_users VALUES (?, ?, '--ai-agent-id')",
                    [agent, names.get(agent)])
    unused = sorted(t for t in by_table if t in mapping.KNOWN_UNUSED)
    for table in unused:
        for file in by_table[table]:
            counts[file.display] = _count(con, _reader(file))
    notes = []
    if unused:
        notes.append(f"Fivetran tables not used by the audit (read, counted, not mapped): "
                     f"{', '.join(unused)}.")
    if not mapping.has_ai_agent_columns(tables) or any(
            mapping.is_absent(tables, "conversation_history", c) for c in mapping.AI_AGENT_OBJECT):
        lacking = [c for c in mapping.AI_AGENT_COLUMNS
                   if mapping.is_absent(tables, "conversation_history", c)]
        notes.append("The Fivetran conversation_history table has no " + ", ".join(lacking)
                     + ": without them the export does not say Intercom's resolution state, "
                       "the preview flag or whether the AI answered (docs/fivetran-intercom-"
                       "mapping.md).")
    for note in notes:
        con.execute("INSERT INTO ingest_notes VALUES (?)", [note])
