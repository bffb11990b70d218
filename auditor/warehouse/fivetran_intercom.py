"""`--source fivetran-intercom` / `--format fivetran-intercom`: Fivetran's Intercom tables as
canonical events, written once in the portable subset (auditor/warehouse/lint.py).

`auditor sql` renders these two SELECTs for the user's engine over `--schema NAME`; the local
adapter (auditor/sources/fivetran_intercom.py) loads CSV/Parquet files into DuckDB tables of the
same names and runs the same SELECTs rendered for DuckDB. The role, event type, vendor state and
preview rules are not restated here: they are the CASE expressions generated from the Intercom
adapter's mapping table (auditor/sources/intercom.py MAPPING), over columns of the same names.
docs/fivetran-intercom-mapping.md is the table of what becomes what (FIELDS below; a test
keeps them equal).

What these tables do not have: the parts' `from_ai_agent` / `is_ai_answer` flags (the AI agent's
author id is named with --ai-agent-id; without it, and with ai_agent_* columns, Intercom's pre-2.14
default applies: a bot in a conversation the AI took part in is the AI agent), quick reply
options (a quick reply without a body has no text), and, without the ai_agent_* columns, the
resolution state, the preview flag and whether the AI answered.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import NamedTuple

from auditor.errors import UsageError
from auditor.sources.intercom import customer_types, mapping_cases
from auditor.sources.intercom_sql import ENTITIES
from auditor.warehouse.sources import SourceSelects, SourceTables, register_source

NAME = "fivetran-intercom"


class Column(NamedTuple):
    name: str
    sql_type: str  # the type the mapping reads it as (a local run casts text to it)
    required: bool = True


# The tables and columns the mapping reads. Optional columns may be absent (--absent-column;
# the local run sees which are); required ones must be there.
TABLES: dict[str, tuple[Column, ...]] = {
    "conversation_history": (
        Column("id", "VARCHAR"), Column("created_at", "TIMESTAMP"),
        Column("updated_at", "TIMESTAMP"), Column("source_type", "VARCHAR"),
        Column("source_delivered_as", "VARCHAR"), Column("source_author_type", "VARCHAR"),
        Column("source_author_id", "VARCHAR"), Column("source_body", "VARCHAR"),
        Column("source_subject", "VARCHAR", False),
        Column("conversation_rating_value", "DOUBLE", False),
        Column("conversation_rating_remark", "VARCHAR", False),
        Column("conversation_rating_created_at", "TIMESTAMP", False),
        Column("channel_initial", "VARCHAR", False),
        Column("ai_agent_participated", "BOOLEAN", False),
        Column("ai_agent_source_type", "VARCHAR", False),
        Column("ai_agent_resolution_state", "VARCHAR", False),
        Column("ai_agent_last_answer_type", "VARCHAR", False),
        Column("ai_agent_rating", "DOUBLE", False),
        Column("ai_agent_rating_remark", "VARCHAR", False),
        Column("ai_agent_created_at", "TIMESTAMP", False),
        Column("ai_agent_updated_at", "TIMESTAMP", False),
    ),
    "conversation_part_history": (
        Column("id", "VARCHAR"), Column("conversation_id", "VARCHAR"),
        Column("created_at", "TIMESTAMP"), Column("updated_at", "TIMESTAMP", False),
        Column("part_type", "VARCHAR"), Column("author_type", "VARCHAR"),
        Column("author_id", "VARCHAR"), Column("body", "VARCHAR"),
        Column("assigned_to_type", "VARCHAR", False), Column("assigned_to_id", "VARCHAR", False),
    ),
    "conversation_contact_history": (
        Column("conversation_id", "VARCHAR"), Column("contact_id", "VARCHAR"),
        Column("conversation_updated_at", "TIMESTAMP", False),
    ),
}
# Read by the local run for what the report says (the AI agent's name), not by the mapping.
NAME_TABLES = ("admin",)
# The connector's other tables: read by nobody; a local run lists them in the report's notes.
KNOWN_UNUSED = ("contact_history", "team", "team_admin", "tag", "company_history",
                "contact_company_history", "contact_tag_history", "company_tag_history",
                "conversation_tag_history")
REQUIRED_TABLES = ("conversation_history", "conversation_part_history")
# ai_agent_participated and the flattened `ai_agent` object (any of them set: it is not null).
AI_AGENT_COLUMNS = tuple(c.name for c in TABLES["conversation_history"]
                         if c.name.startswith("ai_agent_"))
AI_AGENT_OBJECT = tuple(c for c in AI_AGENT_COLUMNS if c != "ai_agent_participated")
NO_AI_AGENT = ("the Fivetran Intercom tables have no ai_agent_* columns and no --ai-agent-id "
               "was given, so nothing tells the AI agent's messages from other bots'")
NO_AI_AGENT_HINT = ("name the AI agent's author id (its admin id, e.g. Fin's) with "
                    "--ai-agent-id ID; docs/fivetran-intercom-mapping.md")

# The mapping table (docs/fivetran-intercom-mapping.md): Fivetran column -> Intercom API field
# whose row of auditor/sources/intercom.py MAPPING applies, or what is done instead.
FIELDS: tuple[tuple[str, str, str], ...] = (
    ("conversation_history.id", "id", "the latest row per id (by updated_at)"),
    ("conversation_contact_history.contact_id", "contacts.contacts[0].id",
     "the smallest contact id of the latest conversation_updated_at"),
    ("conversation_history.source_author_id", "source.author.id",
     "customer_id when there is no contact row and the author is a user or lead"),
    ("conversation_history.channel_initial", "channel.initial", "optional"),
    ("conversation_history.source_type", "source.type", "channel when channel_initial is empty"),
    ("conversation_history.source_delivered_as", "source.delivered_as", ""),
    ("conversation_history.source_author_type", "source.author.type", ""),
    ("conversation_history.source_body", "source.body", "HTML to text as the Intercom adapter"),
    ("conversation_history.source_subject", "source.subject", "optional"),
    ("conversation_history.created_at", "created_at", "the source event's time"),
    ("conversation_history.conversation_rating_value", "conversation_rating.rating",
     "at conversation_rating_created_at, else updated_at; by the customer"),
    ("conversation_history.conversation_rating_remark", "conversation_rating.remark", ""),
    ("conversation_history.ai_agent_participated", "ai_agent_participated", "optional"),
    ("conversation_history.ai_agent_source_type", "ai_agent.source_type",
     "optional; without it is_preview is unknown"),
    ("conversation_history.ai_agent_resolution_state", "ai_agent.resolution_state",
     "optional; without it no vendor_label / vendor_state"),
    ("conversation_history.ai_agent_last_answer_type", "ai_agent.last_answer_type",
     "optional; without it ai_answered is unknown"),
    ("conversation_history.ai_agent_rating", "ai_agent.rating",
     "optional; at ai_agent_updated_at, else ai_agent_created_at, else updated_at"),
    ("conversation_history.ai_agent_rating_remark", "ai_agent.rating_remark", "optional"),
    ("conversation_part_history.id", "conversation_parts[].id",
     "the latest row per id (by updated_at); parts in created_at, then id, order"),
    ("conversation_part_history.author_type", "author.type", ""),
    ("conversation_part_history.author_id", "author.id",
     "named by --ai-agent-id: the AI flag (Fivetran has no from_ai_agent / is_ai_answer)"),
    ("conversation_part_history.part_type", "part_type", ""),
    ("conversation_part_history.assigned_to_type", "assigned_to.type", "optional"),
    ("conversation_part_history.assigned_to_id", "assigned_to.id", "optional"),
    ("conversation_part_history.body", "body",
     "HTML to text; no quick reply options, so an empty quick reply has no text"),
    ("conversation_part_history.created_at", "created_at", "a timestamp, not Unix seconds"),
)


def _string(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _table(tables: SourceTables, name: str) -> str:
    return f"{tables.schema}.{name}" if tables.schema else name


def is_absent(tables: SourceTables, table: str, column: str) -> bool:
    """--absent-column names `table.column`, or a conversation_history column by its name."""
    return f"{table}.{column}" in tables.absent_columns or (
        table == "conversation_history" and column in tables.absent_columns)


def _col(tables: SourceTables, table: str, column: Column, alias: str) -> str:
    """The column as its mapping type, or a typed NULL when the table lacks it."""
    if not column.required and is_absent(tables, table, column.name):
        return f"CAST(NULL AS {column.sql_type}) AS {column.name}"
    return f"CAST({alias}.{column.name} AS {column.sql_type}) AS {column.name}"


def _columns(tables: SourceTables, table: str, alias: str) -> str:
    return ", ".join(_col(tables, table, c, alias) for c in TABLES[table])


def has_ai_agent_columns(tables: SourceTables) -> bool:
    return any(not is_absent(tables, "conversation_history", c) for c in AI_AGENT_COLUMNS)


def html_text(column: str) -> str:
    """HTML -> text as the Intercom adapter's ic_text: tags out, entities decoded, trimmed."""
    text = f"AUD_STRIP_TAGS({column})"
    for entity, char in ENTITIES:
        text = f"REPLACE({text}, {_string(entity)}, {_string(char)})"
    return f"TRIM({text})"


def _conversations_cte(tables: SourceTables) -> str:
    customers = ", ".join(_string(t) for t in customer_types())
    ai_columns = [c for c in AI_AGENT_OBJECT if not is_absent(tables, "conversation_history", c)]
    ai_agent = " OR ".join(f"{c} IS NOT NULL" for c in ai_columns) or "FALSE"
    return f"""
conv_rows AS (
    SELECT {_columns(tables, "conversation_history", "c")},
        ROW_NUMBER() OVER (PARTITION BY c.id ORDER BY c.updated_at DESC) AS version_no
    FROM {_table(tables, "conversation_history")} AS c
),
contact_rows AS (
    SELECT {_columns(tables, "conversation_contact_history", "k")}
    FROM {_table(tables, "conversation_contact_history")} AS k
),
contacts AS (
    SELECT conversation_id, MIN(AUD_TEXT(contact_id)) AS contact_id
    FROM (SELECT conversation_id, contact_id, conversation_updated_at,
              MAX(conversation_updated_at) OVER (PARTITION BY conversation_id) AS latest
          FROM contact_rows) AS k
    WHERE conversation_updated_at IS NULL OR conversation_updated_at = latest
    GROUP BY conversation_id
),
conv AS (
    SELECT v.*, COALESCE(k.contact_id, CASE WHEN v.source_author_type IN ({customers})
            THEN v.source_author_id END) AS customer_id,
        COALESCE(v.channel_initial, v.source_type) AS channel,
        ({ai_agent}) AS has_ai_agent,
        (COALESCE(v.ai_agent_participated, FALSE) OR ({ai_agent})) AS ai_on
    FROM conv_rows AS v LEFT JOIN contacts AS k ON k.conversation_id = v.id
    WHERE v.version_no = 1
)"""


def _ai_flag(tables: SourceTables, author_id: str) -> str:
    if not tables.ai_agent_ids:
        return "CAST(NULL AS BOOLEAN)"
    ids = ", ".join(_string(i) for i in tables.ai_agent_ids)
    return f"CASE WHEN {author_id} IN ({ids}) THEN TRUE ELSE FALSE END"


def events_select(tables: SourceTables) -> str:
    cases = mapping_cases()
    routed = ("COALESCE(assigned_to_type IN ('admin', 'team') AND COALESCE(assigned_to_id, '') "
              "NOT IN ('', '0'), FALSE)")
    return f"""
WITH {_conversations_cte(tables)},
part_rows AS (
    SELECT {_columns(tables, "conversation_part_history", "p")},
        ROW_NUMBER() OVER (PARTITION BY p.id ORDER BY p.updated_at DESC) AS version_no
    FROM {_table(tables, "conversation_part_history")} AS p
),
parts AS (
    SELECT p.*, c.channel, COALESCE(c.ai_on, FALSE) AS ai_on, {routed} AS routed,
        {_ai_flag(tables, "p.author_id")} AS ai_flag,
        COALESCE(MAX(CASE WHEN p.part_type = 'close' THEN 1 ELSE 0 END) OVER (
            PARTITION BY p.conversation_id ORDER BY p.created_at, AUD_TEXT(p.id)
            ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) = 1 AS after_close,
        {html_text("p.body")} AS text
    FROM part_rows AS p LEFT JOIN conv AS c ON c.id = p.conversation_id
    WHERE p.version_no = 1
),
part_roles AS (
    SELECT parts.*, {cases["role"]} AS role FROM parts
),
source_roles AS (
    SELECT conv.*, {cases["role"]} AS author_role
    FROM (SELECT conv.*, source_author_type AS author_type,
              source_delivered_as AS delivered_as,
              {_ai_flag(tables, "source_author_id")} AS ai_flag,
              {html_text("source_body")} AS text, {html_text("source_subject")} AS subject_text
          FROM conv) AS conv
)
SELECT id AS conversation_id, 'source' AS event_id, created_at,
    {cases["first_role"]} AS actor_role,
    source_author_id AS actor_id, 'message' AS event_type,
    COALESCE(NULLIF(text, ''), NULLIF(subject_text, '')) AS body, CAST(NULL AS DOUBLE) AS rating,
    channel, 'conversation ' || id || ', source' AS record
FROM source_roles
UNION ALL
SELECT conversation_id, id, created_at, role, author_id,
    {cases["event_type"]}, NULLIF(text, ''), CAST(NULL AS DOUBLE), channel,
    'conversation ' || COALESCE(conversation_id, '') || ' part ' || id
FROM part_roles
UNION ALL
SELECT id, 'conversation_rating', COALESCE(conversation_rating_created_at, updated_at),
    'customer', customer_id, 'rating', NULLIF({html_text("conversation_rating_remark")}, ''),
    conversation_rating_value, channel, 'conversation ' || id || ', conversation_rating'
FROM conv WHERE conversation_rating_value IS NOT NULL
UNION ALL
SELECT id, 'ai_agent_rating', COALESCE(ai_agent_updated_at, ai_agent_created_at, updated_at),
    'customer', customer_id, 'rating', NULLIF({html_text("ai_agent_rating_remark")}, ''),
    ai_agent_rating, channel, 'conversation ' || id || ', ai_agent_rating'
FROM conv WHERE ai_agent_rating IS NOT NULL
"""


def conversations_select(tables: SourceTables) -> str:
    cases = mapping_cases()
    def has(column: str) -> bool:
        return not is_absent(tables, "conversation_history", column)

    preview = (f"CAST({cases['is_preview']} AS BOOLEAN)" if has("ai_agent_source_type")
               else "CAST(NULL AS BOOLEAN)")
    answered = ("has_ai_agent" if has("ai_agent_last_answer_type")
                or has("ai_agent_resolution_state") else "FALSE")
    return f"""
WITH {_conversations_cte(tables)}
SELECT id AS conversation_id, customer_id, channel, state AS vendor_label,
    {cases["vendor_state"]} AS vendor_state, {preview} AS is_preview,
    CASE WHEN {answered} THEN ai_agent_last_answer_type IS NOT NULL
         OR state IS NOT NULL END AS ai_answered
FROM (SELECT id, customer_id, channel, has_ai_agent, ai_agent_last_answer_type,
          ai_agent_resolution_state AS state, ai_agent_source_type AS source_type
      FROM conv) AS conv
"""


def fivetran_intercom(tables: SourceTables) -> SourceSelects:
    if tables.schema is None:
        raise UsageError("--source fivetran-intercom needs --schema NAME (auditor sql)",
                         "the schema Fivetran writes the Intercom tables to, e.g. intercom; "
                         "files: auditor audit DIR --format fivetran-intercom")
    if not tables.ai_agent_ids and not has_ai_agent_columns(tables):
        raise UsageError(NO_AI_AGENT, NO_AI_AGENT_HINT)
    label = _table(tables, "conversation_part_history")
    return SourceSelects(events_select(tables), conversations_select(tables), label)


def absent(tables: Collection[str], columns: dict[str, Collection[str]]) -> list[str]:
    """`table.column` of every optional column the given tables lack."""
    return [f"{t}.{c.name}" for t in tables for c in TABLES[t]
            if not c.required and c.name not in columns.get(t, ())]


register_source(NAME, fivetran_intercom)
