"""Where the audit reads its data in a warehouse: source mappings, by name (`--source`).

A source turns tables that exist in the warehouse into two portable relations, the canonical
staging shape validation reads (auditor/warehouse/validate_sql.py):

    src_events         conversation_id, event_id, created_at, actor_role, actor_id, event_type,
                       body, rating, channel, record (names the row in messages)
    src_conversations  conversation_id, customer_id, channel, vendor_label, vendor_state,
                       is_preview, ai_answered

`canonical` reads tables in the canonical schema (docs/canonical-schema.md) with typed columns.
A connector's mapping (Fivetran's or Airbyte's Intercom tables, ...) plugs in the same way:
`register_source(name, mapping)` with a function returning those two SELECTs, in the portable
subset, over the connector's tables.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Collection
from typing import NamedTuple

from auditor.errors import UsageError, did_you_mean
from auditor.warehouse import lint
from auditor.warehouse.facts_sql import Statement

EVENT_SOURCE_COLUMNS = ("conversation_id", "event_id", "created_at", "actor_role", "actor_id",
                        "event_type", "body", "rating", "channel")
CONVERSATION_SOURCE_COLUMNS = ("conversation_id", "customer_id", "channel", "vendor_label",
                               "vendor_state", "is_preview", "ai_answered")
REQUIRED_EVENT_COLUMNS = frozenset({"conversation_id", "created_at", "actor_role", "event_type"})


class SourceTables(NamedTuple):
    """The warehouse tables a source reads, as the user named them (`schema.table`)."""

    events: str | None
    conversations: str | None = None
    # Columns each table has (lower case), when the engine was asked; None: all of the schema.
    event_columns: Collection[str] | None = None
    conversation_columns: Collection[str] | None = None
    # A connector's tables: the schema holding them (--schema), the optional columns they lack
    # (--absent-column; a local run finds them itself) and the AI agent's ids (--ai-agent-id).
    schema: str | None = None
    absent_columns: Collection[str] = ()
    ai_agent_ids: tuple[str, ...] = ()


class SourceSelects(NamedTuple):
    events: str  # portable SELECT with EVENT_SOURCE_COLUMNS and record
    conversations: str  # portable SELECT with CONVERSATION_SOURCE_COLUMNS
    label: str  # names the input in quarantine rows and the report


Mapping = Callable[[SourceTables], SourceSelects]
SOURCES: dict[str, Mapping] = {}
# Connector mappings living in their own modules, imported when their name is asked for; each
# calls register_source at import. E.g. "fivetran-intercom": "auditor.warehouse.fivetran_intercom".
SOURCE_MODULES: dict[str, str] = {"fivetran-intercom": "auditor.warehouse.fivetran_intercom"}


def register_source(name: str, mapping: Mapping) -> None:
    SOURCES[name] = mapping


def source_statements(name: str, tables: SourceTables, prefix: str) -> tuple[list[Statement], str]:
    """The two source views (as linted statements) and the label of the input."""
    if name not in SOURCES and name in SOURCE_MODULES:
        importlib.import_module(SOURCE_MODULES[name])
    if name not in SOURCES:
        known = sorted({*SOURCES, *SOURCE_MODULES})
        raise UsageError(f"unknown source '{name}'", did_you_mean(name, known) or
                         "sources: " + ", ".join(known))
    selects = SOURCES[name](tables)
    return ([Statement(f"{prefix}src_events", lint.parse(selects.events)),
             Statement(f"{prefix}src_conversations", lint.parse(selects.conversations))],
            selects.label)


def _column(name: str, present: Collection[str] | None, cast: str | None,
            missing_type: str = "VARCHAR") -> str:
    """The column (cast when `cast`), or a typed NULL when the table does not have it."""
    if present is not None and name not in present:
        return f"CAST(NULL AS {missing_type}) AS {name}"
    return f"CAST({name} AS {cast}) AS {name}" if cast else name


def canonical(tables: SourceTables) -> SourceSelects:
    """Tables in the canonical schema: created_at a timestamp (with or without a time zone),
    rating a number, is_preview and ai_answered booleans; ids of any type."""
    if tables.events is None:
        raise UsageError("--source canonical needs --events TABLE")
    present = tables.event_columns
    if present is not None and not REQUIRED_EVENT_COLUMNS <= set(present):
        missing = sorted(REQUIRED_EVENT_COLUMNS - set(present))
        raise UsageError(f"table {tables.events} has no column '{missing[0]}'",
                         "the events table needs conversation_id, created_at, actor_role and "
                         "event_type (docs/canonical-schema.md)")
    events = ", ".join([
        _column("conversation_id", present, "VARCHAR"), _column("event_id", present, "VARCHAR"),
        _column("created_at", present, "TIMESTAMP"), _column("actor_role", present, "VARCHAR"),
        _column("actor_id", present, "VARCHAR"), _column("event_type", present, "VARCHAR"),
        # rating keeps its numeric type: an integer column's bad value reads '7', not '7.0'.
        _column("body", present, "VARCHAR"), _column("rating", present, None, "DOUBLE"),
        _column("channel", present, "VARCHAR")])
    record = ("CASE WHEN event_id IS NOT NULL THEN 'event_id ' || CAST(event_id AS VARCHAR) "
              "ELSE 'conversation_id ' || COALESCE(CAST(conversation_id AS VARCHAR), '') "
              "|| ', no event_id' END") if present is None or "event_id" in present else \
        "'conversation_id ' || COALESCE(CAST(conversation_id AS VARCHAR), '')"
    events_sql = f"SELECT {events}, {record} AS record FROM {tables.events}"
    if tables.conversations is None:
        conversations_sql = ("SELECT CAST(NULL AS VARCHAR) AS conversation_id, "
                             "CAST(NULL AS VARCHAR) AS customer_id, CAST(NULL AS VARCHAR) AS "
                             "channel, CAST(NULL AS VARCHAR) AS vendor_label, CAST(NULL AS "
                             "VARCHAR) AS vendor_state, CAST(NULL AS BOOLEAN) AS is_preview, "
                             f"CAST(NULL AS BOOLEAN) AS ai_answered FROM {tables.events} "
                             "WHERE 1 = 0")
    else:
        have = tables.conversation_columns
        types = {"is_preview": "BOOLEAN", "ai_answered": "BOOLEAN"}
        columns = ", ".join(_column(c, have, types.get(c, "VARCHAR"), types.get(c, "VARCHAR"))
                            for c in CONVERSATION_SOURCE_COLUMNS)
        conversations_sql = f"SELECT {columns} FROM {tables.conversations}"
    return SourceSelects(events_sql, conversations_sql, tables.events)


register_source("canonical", canonical)
