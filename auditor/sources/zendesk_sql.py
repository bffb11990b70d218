"""SQL for the Zendesk adapter, part 1: every input record as one `zd_items` row, then typed.

Everything here is text; `auditor.sources.zendesk` decides which files to read and runs it. The
flow, all set-based:

    zd_items      one row per record: a ticket, comment, audit, user, ticket metric (from API
                  pages, single objects, JSONL or Airbyte records, cut from each JSON file in
                  one read) or a Fivetran table row (zendesk_fivetran writes those, already
                  shaped like the API objects)
    zd_tickets .. typed views of the items, one table per kind, with each record's ticket;
                  records whose keys hold the wrong JSON type are set aside (zendesk_checks)
    zd_rejects    records that cannot be used, with field, reason and the ticket they name
                  (-> quarantine)

zendesk_events_sql then turns the usable records into events. A record ordinal `item_ord`
numbers the records of a file in file order; events of a record get source_ord
item_ord * ORD_SHIFT + 2 * (position in the record), and a derived handoff the odd number after.
"""

from __future__ import annotations

import json

from auditor.engine import sql_string
from auditor.sources.zendesk_checks import check_keys, checked_id, problem, typed_shape

ORD_SHIFT = 1 << 16  # events per record (audits hold a handful)
# Keys of API list pages ({"tickets": [...], "users": [...], ...}; sideloads included) and of
# single-object responses ({"ticket": {...}}), with the kind of record they hold.
PAGE_KEYS: dict[str, str] = {
    "tickets": "ticket", "comments": "comment", "audits": "audit", "users": "user",
    "ticket_metrics": "metric", "ticket_events": "audit",
}
WRAPPER_KEYS: dict[str, str] = {
    "ticket": "ticket", "comment": "comment", "audit": "audit", "user": "user",
    "ticket_metric": "metric",
}
AIRBYTE_STREAMS: dict[str, str] = {
    "tickets": "ticket", "ticket_comments": "comment", "ticket_audits": "audit",
    "users": "user", "ticket_metrics": "metric",
}

# Shapes as json_transform structures (dict = object, [x] = array of x, str = DuckDB type).
# Leaves are VARCHAR (ids arrive as numbers, Fivetran rows as text) or JSON when polymorphic.
VIA: dict = {"channel": "VARCHAR", "source": {"rel": "VARCHAR"}}
TICKET: dict = {
    "id": "VARCHAR", "requester_id": "VARCHAR", "submitter_id": "VARCHAR", "status": "VARCHAR",
    "created_at": "VARCHAR", "updated_at": "VARCHAR", "description": "VARCHAR", "via": VIA,
    "tags": ["VARCHAR"], "custom_fields": [{"value": "JSON"}], "satisfaction_rating": "JSON",
}
COMMENT: dict = {
    "id": "VARCHAR", "ticket_id": "VARCHAR", "audit_id": "VARCHAR", "author_id": "VARCHAR",
    "body": "VARCHAR", "plain_body": "VARCHAR", "html_body": "VARCHAR", "public": "VARCHAR",
    "created_at": "VARCHAR", "via": VIA,
}
# Audit events, and the child events of the incremental ticket events export (which name the
# changed field by its key, e.g. {"status": "open", "previous_value": "new"}). Ids and flags are
# JSON, to be checked (zendesk_checks); the events are typed from the audit's JSON list.
AUDIT_EVENT: dict = {
    "id": "JSON", "type": "VARCHAR", "event_type": "VARCHAR", "field_name": "VARCHAR",
    "value": "JSON", "previous_value": "JSON", "body": "VARCHAR", "plain_body": "VARCHAR",
    "html_body": "VARCHAR", "public": "JSON", "comment_public": "JSON", "author_id": "JSON",
    "via": "JSON",
}
AUDIT: dict = {
    "id": "JSON", "ticket_id": "JSON", "author_id": "JSON", "updater_id": "JSON",
    "created_at": "VARCHAR", "via": "JSON", "events": "JSON", "child_events": "JSON",
}
USER: dict = {"id": "VARCHAR", "role": "VARCHAR", "name": "VARCHAR"}
METRIC: dict = {"ticket_id": "VARCHAR", "reopens": "VARCHAR", "updated_at": "VARCHAR"}
CHANGE: dict = {"ticket_id": "VARCHAR", "field_name": "VARCHAR", "value": "VARCHAR",
                "author_id": "VARCHAR", "created_at": "VARCHAR"}
CHAT: dict = {"chat_id": "VARCHAR", "ticket_id": "VARCHAR", "channel": "VARCHAR",
              "user_id": "VARCHAR", "visitor_id": "VARCHAR"}
CHAT_EVENT: dict = {
    "chat_id": "VARCHAR", "created_at": "VARCHAR", "actor_id": "VARCHAR", "type": "VARCHAR",
    "message": "VARCHAR", "message_id": "VARCHAR", "chat_index": "VARCHAR",
    "original_message": "JSON",
}
TAG: dict = {"ticket_id": "VARCHAR", "tag": "VARCHAR"}

DDL = [
    "CREATE OR REPLACE TEMP TABLE zd_files (file_no INTEGER, source_file VARCHAR, "
    "unit VARCHAR)",
    "CREATE OR REPLACE TEMP TABLE zd_items (file_no INTEGER, source_file VARCHAR, "
    "label VARCHAR, item_ord BIGINT, kind VARCHAR, item JSON, page_ticket VARCHAR, "
    "field VARCHAR, reason VARCHAR, named_ticket VARCHAR)",
]


def transform(column: str, shape: dict) -> str:
    return f"json_transform({column}, {sql_string(json.dumps(shape))})"


def macros() -> list[str]:
    """Small helpers: ids as trimmed text, a via object's channel and rel, booleans."""
    return [
        "CREATE OR REPLACE TEMP MACRO zd_id(x) AS nullif(trim(CAST(x AS VARCHAR)), '')",
        # the incremental ticket events export names the via in words ("Web form")
        "CREATE OR REPLACE TEMP MACRO zd_via(v) AS CASE json_type(v) "
        "WHEN 'OBJECT' THEN v ->> '$.channel' WHEN 'NULL' THEN NULL "
        r"ELSE regexp_replace(lower(trim(v ->> '$')), '\s+', '_', 'g') END",
        "CREATE OR REPLACE TEMP MACRO zd_rel(v) AS CASE WHEN json_type(v) = 'OBJECT' "
        "THEN v ->> '$.source.rel' END",
        "CREATE OR REPLACE TEMP MACRO zd_bool(x) AS CASE WHEN lower(trim(x)) IN "
        "('true', 't', '1', 'yes') THEN 'true' WHEN lower(trim(x)) IN ('false', 'f', '0', 'no') "
        "THEN 'false' END",
        r"CREATE OR REPLACE TEMP MACRO zd_text(s) AS nullif(trim(regexp_replace("
        r"regexp_replace(s, '\s*<[^>]*>\s*', ' ', 'g'), '&nbsp;', ' ', 'g')), '')",
    ]


def _select(kind: str, shape: dict, columns: str, *, ke: str = "NULL") -> str:
    """The records of one kind, typed: lineage, the given columns of `r` (the typed record) or
    `k` (its checked keys, as JSON), and the record's first failed check as `problem`; `ke`
    holds lists whose elements' keys are checked."""
    shape = typed_shape(kind, shape)
    return (f"SELECT file_no, source_file, label, item_ord, {columns}, {problem(kind)} AS problem "
            f"FROM (SELECT *, {ke} AS ke FROM (SELECT *, {transform('item', shape)} AS r, "
            f"{check_keys(kind, shape)} AS k FROM zd_items WHERE kind = '{kind}'))")


def _typed(table: str, kind: str, shape: dict, columns: str, *, ke: str = "NULL") -> str:
    return f"CREATE OR REPLACE TEMP TABLE {table} AS {_select(kind, shape, columns, ke=ke)}"


# The copy of a ticket that is used is the one updated last (incremental exports repeat a
# ticket each time it changes), then the one read last.
TICKET_ITEMS = _typed("zd_ticket_items", "ticket", TICKET, f"""
    {checked_id('id')} AS id, {checked_id('requester_id')} AS requester_id,
    {checked_id('submitter_id')} AS submitter_id, r.created_at, r.updated_at,
    r.description, r.via.channel AS channel, r.via.source.rel AS rel, coalesce(r.tags, []) AS tags,
    list_transform(coalesce(r.custom_fields, []), lambda c: c.value ->> '$') AS custom_values,
    r.satisfaction_rating ->> '$.score' AS score,
    r.satisfaction_rating ->> '$.comment' AS score_comment,
    row_number() OVER (PARTITION BY {checked_id('id')} ORDER BY auditor_parse_ts(r.updated_at)
                       DESC NULLS LAST, file_no DESC, item_ord DESC) = 1 AS latest
""")

# `raw_events` are the child events of the ticket events export as JSON: they name the changed
# field by its key, which only the JSON has (audit events name it in field_name).
AUDIT_ITEMS = _typed("zd_audit_items", "audit", AUDIT, f"""
    {checked_id('id')} AS id, {checked_id('ticket_id')} AS ticket_ref,
    coalesce({checked_id('author_id')}, {checked_id('updater_id')}) AS author_id, r.created_at,
    zd_via(r.via) AS via, zd_rel(r.via) AS rel, coalesce(ke.events, []) AS events,
    CASE WHEN r.events IS NULL THEN json_extract(r.child_events, '$[*]') END AS raw_events
""", ke=f"{{'events': {transform('coalesce(r.events, r.child_events)', [AUDIT_EVENT])}}}")

_COMMENTS = _select("comment", COMMENT, f"""
    {checked_id('id')} AS id, coalesce({checked_id('ticket_id')}, zd_id(page_ticket)) AS own_ticket,
    {checked_id('audit_id')} AS audit_id, {checked_id('author_id')} AS author_id, r.created_at,
    zd_bool(r.public ->> '$') AS public, r.via.channel AS via, r.via.source.rel AS rel,
    coalesce(nullif(trim(r.plain_body), ''), nullif(trim(r.body), ''), zd_text(r.html_body))
        AS body""")
# A comment's ticket: its ticket_id, its page's ticket_id, else its audit's ticket_id.
COMMENT_ITEMS = f"""
CREATE OR REPLACE TEMP TABLE zd_comment_items AS
SELECT c.*, coalesce(c.own_ticket, a.ticket_ref) AS ticket_ref
FROM ({_COMMENTS}) c
LEFT JOIN (SELECT id, min(ticket_ref) AS ticket_ref FROM zd_audit_items GROUP BY id) a
    ON a.id = c.audit_id AND c.own_ticket IS NULL
"""

OTHER_ITEMS = [
    _typed("zd_user_items", "user", USER,
           f"{checked_id('id')} AS id, lower(trim(r.role)) AS role, r.name"),
    _typed("zd_metric_items", "metric", METRIC,
           f"{checked_id('ticket_id')} AS ticket_ref, try_cast(trim(r.reopens ->> '$') AS BIGINT) "
           "AS reopens, r.updated_at"),
    _typed("zd_change_items", "change", CHANGE,
           "zd_id(r.ticket_id) AS ticket_ref, lower(trim(r.field_name)) AS field, "
           "r.value, zd_id(r.author_id) AS author_id, r.created_at"),
    _typed("zd_tag_items", "tag", TAG, "zd_id(r.ticket_id) AS ticket_ref, trim(r.tag) AS tag"),
    _typed("zd_chat_items", "chat", CHAT,
           "zd_id(r.chat_id) AS chat_id, zd_id(r.ticket_id) AS ticket_ref, r.channel, "
           "zd_id(r.user_id) AS user_id, zd_id(r.visitor_id) AS visitor_id"),
    _typed("zd_chat_event_items", "chat_event", CHAT_EVENT,
           "zd_id(r.chat_id) AS chat_id, r.created_at, trim(r.actor_id) AS actor_id, "
           "r.type, r.message, zd_id(r.message_id) AS message_id, r.chat_index, "
           "r.original_message"),
]

# Records that fail a check (zendesk_checks) are set aside for quarantine, with the ticket they
# name. A ticket whose own id is fine stays (it is the conversation), read without the bad key;
# only the copy of a ticket that is used counts (older copies are quarantined as repeats).
_BAD = [("zd_comment_items", "ticket_ref"), ("zd_audit_items", "ticket_ref"),
        ("zd_metric_items", "ticket_ref"), ("zd_user_items", "NULL")]
SET_ASIDE = [
    "CREATE OR REPLACE TEMP TABLE zd_bad AS "
    "SELECT file_no, source_file, label, item_ord, problem.field AS field, problem.reason "
    "|| CASE WHEN id IS NOT NULL THEN '; the ticket is read without it' ELSE '' END AS reason, "
    "id AS ticket_ref FROM zd_ticket_items WHERE problem IS NOT NULL AND (latest OR id IS NULL)"
    + "".join(f" UNION ALL SELECT file_no, source_file, label, item_ord, problem.field, "
              f"problem.reason, {ticket} FROM {table} WHERE problem IS NOT NULL"
              for table, ticket in _BAD),
    "DELETE FROM zd_ticket_items WHERE problem IS NOT NULL AND id IS NULL",
    *(f"DELETE FROM {table} WHERE problem IS NOT NULL" for table, _ in _BAD),
]

# Kept tickets with their labels: tags, custom field values and Fivetran ticket_tag rows. The AI
# agent status among them is vendor_label (several: the first state of STATE_PRIORITY wins).
TICKETS = """
CREATE OR REPLACE TEMP TABLE zd_tickets AS
WITH labelled AS (
    SELECT t.*, list_concat(t.tags, t.custom_values, coalesce(g.tags, [])) AS labels
    FROM zd_ticket_items t LEFT JOIN (
        SELECT ticket_ref, list(tag ORDER BY tag) AS tags FROM zd_tag_items GROUP BY ticket_ref
    ) g ON g.ticket_ref = t.id
    WHERE t.latest AND t.id IS NOT NULL
),
found AS (
    SELECT *, list_sort(list_transform(
        list_filter(labels, lambda l: zd_vendor_state(zd_norm(l)) IS NOT NULL),
        lambda l: {'rank': zd_state_rank(zd_vendor_state(zd_norm(l))), 'label': l}))[1].label
        AS vendor_label
    FROM labelled
)
SELECT *, zd_vendor_state(zd_norm(vendor_label)) AS vendor_state,
       zd_is_preview(channel) AS is_preview,
       list_contains(list_transform(labels, lambda l: lower(l)), 'ai_agent_ticket')
           OR zd_ai_channel(channel) AS ai_ticket
FROM found
"""


def _dangling(table: str, noun: str) -> str:
    """Records of `table` whose ticket is missing or not among the kept tickets."""
    return f"""
SELECT file_no, source_file, label, item_ord, 'ticket_id',
       CASE WHEN ticket_ref IS NULL THEN '{noun} has no ticket_id'
            ELSE '{noun}''s ticket ' || ticket_ref || ' is not in the export' END,
       ticket_ref, false
FROM {table} WHERE ticket_ref IS NULL OR ticket_ref NOT IN (SELECT id FROM zd_tickets)
"""


DANGLING = (("zd_comment_items", "comment"), ("zd_audit_items", "audit"),
            ("zd_metric_items", "ticket metric"), ("zd_change_items", "field change"),
            ("zd_tag_items", "tag"), ("zd_chat_items", "ticket_chat row"))

# Every record that cannot be used, with the field to blame, the reason and the ticket it names
# (-> quarantine). Records of unused streams and tables, and records that are no Zendesk object,
# name none: they are not part of a ticket's conversation. A redundant record is a copy of one
# that is used (an older copy of a ticket, chat events that repeat public comments): it leaves
# its ticket judgeable.
REJECTS = f"""
CREATE OR REPLACE TEMP TABLE zd_rejects AS
SELECT file_no, source_file, label, item_ord, field, reason, named_ticket AS ticket_ref,
       false AS redundant
FROM zd_items WHERE reason IS NOT NULL
UNION ALL
SELECT file_no, source_file, label, item_ord, 'id',
       CASE WHEN id IS NULL THEN 'ticket has no id'
            ELSE 'ticket ' || id || ' appears again in the export; the copy with the latest '
                 || 'updated_at is used' END, id, id IS NOT NULL
FROM zd_ticket_items WHERE id IS NULL OR NOT latest
UNION ALL
SELECT file_no, source_file, label, item_ord, 'id', 'user has no id', NULL, false
FROM zd_user_items WHERE id IS NULL
UNION ALL
SELECT file_no, source_file, label, item_ord, field, reason, ticket_ref, false FROM zd_bad
UNION ALL
{" UNION ALL ".join(_dangling(table, noun) for table, noun in DANGLING)}
UNION ALL
SELECT file_no, source_file, label, item_ord, 'chat_id', reason, named_ticket, repeats_comments
FROM zd_chat_events WHERE reason IS NOT NULL
"""

NOT_ZENDESK = """
SELECT f.source_file, f.unit FROM zd_files f LEFT JOIN zd_items i USING (file_no)
GROUP BY f.file_no, f.source_file, f.unit
HAVING count(i.kind) > 0 AND count(*) FILTER (WHERE i.kind NOT IN ('unknown', 'broken')) = 0
ORDER BY f.file_no LIMIT 1
"""

# A comments file none of whose comments names its ticket: the wrong file, not bad records.
NO_TICKET_IDS = """
SELECT source_file, min_by(label, item_ord) FROM zd_comment_items
GROUP BY source_file HAVING count(ticket_ref) = 0 ORDER BY source_file LIMIT 1
"""

COUNTS = "SELECT source_file, count(*) FROM zd_items GROUP BY source_file"

CLEANUP = [f"DROP TABLE IF EXISTS {t}" for t in (
    "zd_files", "zd_items", "zd_ticket_items", "zd_audit_items", "zd_comment_items",
    "zd_user_items", "zd_metric_items", "zd_change_items", "zd_tag_items", "zd_chat_items",
    "zd_chat_event_items", "zd_bad", "zd_tickets", "zd_chats", "zd_chat_events", "zd_rejects",
    "zd_comment_acts", "zd_acts", "zd_events")]
