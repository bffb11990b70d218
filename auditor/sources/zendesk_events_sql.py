"""SQL for the Zendesk adapter, part 2: usable records -> acts -> canonical staged events.

An *act* is one thing that happened on a kept ticket (see zendesk_sql for the records):

    comment       a comment record, or a Comment event inside an audit no comment record repeats
    change        a field change: an audit Create/Change event or a ticket_field_history row
    chat          a ticket_chat_event row of a ticket without public comments
    description   the ticket's description, for a ticket without comments and chat messages
    metrics       ticket_metrics.reopens > 0 for a ticket without status history
    satisfaction  the ticket's satisfaction_rating, when no satisfaction_score change says it

`zd_events` gives each act its actor role and event type through macros generated from the
mapping table (zendesk_mapping); handoffs are derived from assignments after the AI wrote.
"""

from __future__ import annotations

from auditor.engine import sql_string
from auditor.sources import zendesk_mapping as mapping
from auditor.sources.zendesk_sql import ORD_SHIFT

S = ORD_SHIFT
ISO = "'%Y-%m-%dT%H:%M:%SZ'"


def macros(ai_agent_ids: list[str]) -> list[str]:
    """The mapping table's CASE expressions as macros, with the user's AI agent ids inlined."""
    ids = ", ".join(sql_string(i) for i in ai_agent_ids)
    names = ", ".join(sql_string(n.lower()) for n in mapping.AI_AGENT_NAMES)
    ranks = ", ".join(sql_string(s) for s in mapping.STATE_PRIORITY)
    ai_channels = [r for r in mapping.MAPPING if r.field == "via.channel" and r.result == "ai_agent"]
    return [
        "CREATE OR REPLACE TEMP MACRO zd_role(author, via, rel, src, atype, aname, uname, urole, "
        f"requester, ai_ticket) AS {mapping.role_case(ai_agent_ids)}",
        "CREATE OR REPLACE TEMP MACRO zd_event_type(act, public, chat_type, field, value, "
        f"previous) AS {mapping.event_type_case()}",
        f"CREATE OR REPLACE TEMP MACRO zd_rating(score) AS {mapping.rating_case()}",
        f"CREATE OR REPLACE TEMP MACRO zd_vendor_state(label) AS {mapping.vendor_state_case()}",
        f"CREATE OR REPLACE TEMP MACRO zd_is_preview(channel) AS {mapping.is_preview_case()}",
        r"CREATE OR REPLACE TEMP MACRO zd_norm(l) AS regexp_replace(regexp_replace("
        r"lower(trim(l)), '[\s-]+', '_', 'g'), '^ai_agent_(status_)?', '')",
        f"CREATE OR REPLACE TEMP MACRO zd_state_rank(state) AS list_position([{ranks}], state)",
        "CREATE OR REPLACE TEMP MACRO zd_ai_channel(c) AS coalesce("
        + " OR ".join(mapping.match("c", r.value) for r in ai_channels) + ", false)",
        "CREATE OR REPLACE TEMP MACRO zd_is_ai_user(uid, uname) AS coalesce("
        + (f"uid IN ({ids}) OR " if ids else "") + f"lower(uname) IN ({names}), false)",
    ]


_KEPT = "ticket_ref IN (SELECT id FROM zd_tickets)"

# Comment records, then Comment events of audits whose id no comment record has.
COMMENT_ACTS = f"""
CREATE OR REPLACE TEMP TABLE zd_comment_acts AS
SELECT ticket_ref AS ticket_id, id AS event_id, created_at AS created_raw, author_id AS author,
       via, rel, public, body, source_file, label AS source_record, item_ord * {S} AS source_ord
FROM zd_comment_items WHERE {_KEPT}
UNION ALL
SELECT ticket_ref, coalesce(zd_id(e.id), id || '-' || idx), created_at,
       coalesce(zd_id(e.author_id), author_id), coalesce(zd_via(e.via), via),
       coalesce(zd_rel(e.via), rel), zd_bool(coalesce(e.public, e.comment_public)),
       coalesce(nullif(trim(e.plain_body), ''), nullif(trim(e.body), ''), zd_text(e.html_body)),
       source_file, label || ', event ' || idx, item_ord * {S} + 2 * idx
FROM (SELECT *, unnest(events) AS e, generate_subscripts(events, 1) AS idx
      FROM zd_audit_items WHERE {_KEPT}) a
WHERE lower(coalesce(e.type, e.event_type)) IN ('comment', 'voicecomment')
  AND NOT EXISTS (SELECT 1 FROM zd_comment_items c WHERE c.id = zd_id(a.e.id))
"""

# Chats with the kept tickets they belong to and the end users they were with.
CHATS = """
CREATE OR REPLACE TEMP TABLE zd_chats AS
SELECT c.chat_id,
       coalesce(list(DISTINCT c.ticket_ref ORDER BY c.ticket_ref)
                FILTER (WHERE t.id IS NOT NULL), []) AS kept,
       string_agg(DISTINCT c.ticket_ref, ', ' ORDER BY c.ticket_ref) AS refs,
       list_distinct(list(c.user_id) FILTER (WHERE c.user_id IS NOT NULL)
                     || list(c.visitor_id) FILTER (WHERE c.visitor_id IS NOT NULL)) AS customers
FROM zd_chat_items c LEFT JOIN zd_tickets t ON t.id = c.ticket_ref
WHERE c.chat_id IS NOT NULL GROUP BY c.chat_id
"""

_CHAT = "'chat ''' || e.chat_id || ''''"
CHAT_EVENTS = f"""
CREATE OR REPLACE TEMP TABLE zd_chat_events AS
SELECT e.*, c.kept[1] AS ticket_id, coalesce(c.customers, []) AS customers, CASE
    WHEN e.chat_id IS NULL THEN 'chat event has no chat_id'
    WHEN c.chat_id IS NULL THEN {_CHAT} || ' is not in ticket_chat'
    WHEN len(c.kept) = 0 AND c.refs IS NULL THEN {_CHAT} || ' names no ticket'
    WHEN len(c.kept) = 0 AND contains(c.refs, ',') THEN {_CHAT} || ' belongs to tickets '
        || c.refs || ', none of which is in the export'
    WHEN len(c.kept) = 0 THEN {_CHAT} || ' belongs to ticket ' || c.refs
        || ', which is not in the export'
    WHEN len(c.kept) > 1 THEN {_CHAT} || ' belongs to several tickets in the export ('
        || array_to_string(c.kept, ', ') || ')'
    WHEN c.kept[1] IN (SELECT ticket_id FROM zd_comment_acts WHERE public IS DISTINCT FROM 'false')
        THEN 'ticket ' || c.kept[1] || ' has public comments, which hold the conversation; '
             || 'its chat events repeat them and are not used'
END AS reason
FROM zd_chat_event_items e LEFT JOIN zd_chats c ON c.chat_id = e.chat_id
"""

_EVENT_TYPE = "lower(coalesce(e.type, e.event_type))"
_CHILD_FIELD = ("CASE WHEN e.status IS NOT NULL THEN 'status' WHEN e.assignee_id IS NOT NULL "
                "THEN 'assignee_id' WHEN e.group_id IS NOT NULL THEN 'group_id' "
                "WHEN e.satisfaction_score IS NOT NULL THEN 'satisfaction_score' END")

ACTS = f"""
CREATE OR REPLACE TEMP TABLE zd_acts AS
SELECT 'comment' AS act, ticket_id, event_id, created_raw, author, via, rel, public, body,
       source_file, source_record, source_ord
FROM zd_comment_acts
UNION ALL BY NAME
SELECT 'change' AS act, ticket_ref AS ticket_id, created_at AS created_raw, author_id AS author,
       coalesce(zd_via(e.via), via) AS via, coalesce(zd_rel(e.via), rel) AS rel,
       lower(coalesce(e.field_name, {_CHILD_FIELD})) AS field,
       coalesce(e.value ->> '$', e.status, e.assignee_id, e.group_id, e.satisfaction_score)
           AS value,
       e.previous_value ->> '$' AS previous, source_file,
       label || ', event ' || idx AS source_record, item_ord * {S} + 2 * idx AS source_ord
FROM (SELECT *, unnest(events) AS e, generate_subscripts(events, 1) AS idx
      FROM zd_audit_items WHERE {_KEPT})
WHERE {_EVENT_TYPE} IN ('create', 'change') AND coalesce(e.field_name, {_CHILD_FIELD}) IS NOT NULL
UNION ALL BY NAME
SELECT 'change' AS act, ticket_ref AS ticket_id, created_at AS created_raw, author_id AS author,
       field, value, source_file, label AS source_record, item_ord * {S} AS source_ord
FROM zd_change_items WHERE {_KEPT}
UNION ALL BY NAME
SELECT 'chat' AS act, ticket_id,
       coalesce(message_id, chat_id || '#' || coalesce(nullif(trim(chat_index), ''),
                                                   item_ord::VARCHAR))
           AS event_id,
       created_at AS created_raw, author, original_message ->> '$.source.type' AS src,
       original_message ->> '$.author.type' AS atype,
       original_message ->> '$.author.display_name' AS aname, type AS chat_type,
       coalesce(nullif(trim(message), ''), original_message ->> '$.content.text.text') AS body,
       list_contains(customers, author) AS chat_customer, source_file,
       label AS source_record, item_ord * {S} AS source_ord
FROM (SELECT *, zd_id(regexp_replace(actor_id, '^agent:', '')) AS author FROM zd_chat_events)
WHERE reason IS NULL
"""

# Acts that stand in for missing detail; they depend on the acts above.
FALLBACK_ACTS = f"""
INSERT INTO zd_acts BY NAME
SELECT 'description' AS act, id AS ticket_id, 'description' AS event_id,
       created_at AS created_raw, coalesce(submitter_id, requester_id) AS author,
       trim(description) AS body, source_file, label AS source_record,
       item_ord * {S} AS source_ord
FROM zd_tickets WHERE coalesce(trim(description), '') <> ''
  AND id NOT IN (SELECT ticket_id FROM zd_acts WHERE act IN ('comment', 'chat'))
UNION ALL BY NAME
SELECT 'metrics' AS act, ticket_ref AS ticket_id, 'ticket_metrics.reopens' AS event_id,
       updated_at AS created_raw, source_file, label AS source_record,
       item_ord * {S} AS source_ord
FROM (SELECT *, row_number() OVER (PARTITION BY ticket_ref ORDER BY auditor_parse_ts(updated_at)
                                   DESC NULLS LAST, file_no DESC, item_ord DESC) AS copy_no
      FROM zd_metric_items WHERE {_KEPT})
WHERE copy_no = 1 AND reopens > 0
  AND ticket_ref NOT IN (SELECT ticket_id FROM zd_acts WHERE act = 'change' AND field = 'status')
UNION ALL BY NAME
SELECT 'satisfaction' AS act, id AS ticket_id, 'satisfaction_rating' AS event_id,
       updated_at AS created_raw, requester_id AS author, score AS value,
       nullif(trim(score_comment), '') AS body, source_file, label AS source_record,
       item_ord * {S} + 2 AS source_ord
FROM zd_tickets WHERE zd_rating(score) IS NOT NULL
  AND id NOT IN (SELECT ticket_id FROM zd_acts WHERE act = 'change'
                 AND field = 'satisfaction_score')
"""

USERS = """
CREATE OR REPLACE TEMP TABLE zd_users AS
SELECT id, role, name FROM (
    SELECT *, row_number() OVER (PARTITION BY id ORDER BY file_no DESC, item_ord DESC) AS copy_no
    FROM zd_user_items WHERE id IS NOT NULL)
WHERE copy_no = 1
"""

# Each act with its ticket, its author's user, its event type and role. A change's previous
# value is the audit's previous_value, else the field's value before it (history rows).
EVENTS = f"""
CREATE OR REPLACE TEMP TABLE zd_events AS
WITH timed AS (
    SELECT *, auditor_parse_ts(created_raw) AS ts,
           CASE act WHEN 'change' THEN 1 WHEN 'metrics' THEN 2 WHEN 'satisfaction' THEN 2
                ELSE 0 END AS act_rank
    FROM zd_acts
),
typed AS (
    SELECT a.*, t.requester_id, t.channel, t.ai_ticket, u.role AS urole, u.name AS uname,
           zd_event_type(a.act, a.public, a.chat_type, a.field, a.value, coalesce(a.previous,
               CASE WHEN a.act = 'change' THEN lag(a.value) OVER (PARTITION BY a.ticket_id,
                   a.act, a.field ORDER BY a.ts, a.source_file, a.source_ord) END)) AS event_type,
           a.field = 'assignee_id' AND zd_is_ai_user(a.value, v.name) AS to_ai
    FROM timed a JOIN zd_tickets t ON t.id = a.ticket_id
    LEFT JOIN zd_users u ON u.id = a.author
    LEFT JOIN zd_users v ON v.id = a.value AND a.field = 'assignee_id'
),
roled AS (
    SELECT *, CASE WHEN event_type = 'rating' THEN 'customer'
               ELSE zd_role(author, via, rel, src, atype, aname, uname, urole,
                            author = requester_id OR coalesce(chat_customer, false), ai_ticket)
           END AS role
    FROM typed
)
SELECT *,
       CASE WHEN act = 'change' THEN field || '@' || strftime(ts, {ISO}) ELSE event_id END
           AS final_id,
       CASE WHEN event_type = 'rating' THEN requester_id ELSE author END AS actor_id,
       CASE WHEN event_type = 'rating' THEN zd_rating(value) END AS rating_raw,
       CASE WHEN role IS NULL THEN 'user ' || author || ' has role ''' || urole
            || ''' (expected end-user, agent or admin)' END AS problem
FROM roled
"""

_STAGED = ("ticket_id AS conversation_id, {id} AS event_id, ts AS created_at, {role} AS "
           "actor_role, {actor} AS actor_id, {type} AS event_type, {body} AS body, channel, "
           "created_raw AS created_at_raw, {rating} AS rating_raw, source_file, source_record, "
           "source_ord{shift} AS source_ord")

STAGE_EVENTS = "INSERT INTO stage_events BY NAME SELECT " + _STAGED.format(
    id="final_id", role="role", actor="actor_id", type="event_type", body="body",
    rating="rating_raw", shift="") + " FROM zd_events WHERE problem IS NULL"

# A handoff: an assignment (to anyone but the AI agent) after an AI message that no earlier
# assignment followed. It is the AI's, at the assignment's time, beside the assignment.
HANDOFFS = f"""
INSERT INTO stage_events BY NAME
WITH ordered AS (
    SELECT *, max(CASE WHEN ai_message THEN ts END) OVER w AS last_ai_at,
           last_value(CASE WHEN ai_message THEN actor_id END IGNORE NULLS) OVER w AS ai_actor,
           max(CASE WHEN event_type = 'assignment' THEN ts END) OVER w AS last_assignment_at
    FROM (SELECT *, role = 'ai_agent' AND event_type = 'message' AS ai_message
          FROM zd_events WHERE problem IS NULL AND ts IS NOT NULL)
    WINDOW w AS (PARTITION BY ticket_id ORDER BY ts, act_rank, final_id
                 ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)
)
SELECT {_STAGED.format(id=f"'handoff@' || strftime(ts, {ISO})", role="'ai_agent'",
                       actor="ai_actor", type="'handoff'", body="NULL", rating="NULL",
                       shift=" + 1")}
FROM ordered
WHERE event_type = 'assignment' AND NOT coalesce(to_ai, false) AND last_ai_at IS NOT NULL
  AND (last_assignment_at IS NULL OR last_ai_at > last_assignment_at)
"""

QUARANTINE = [
    "INSERT INTO quarantine (source_file, source_record, field, reason) "
    "SELECT source_file, label, field, reason FROM zd_rejects ORDER BY file_no, item_ord",
    "INSERT INTO quarantine (source_file, source_record, conversation_id, field, reason) "
    "SELECT source_file, source_record, ticket_id, 'role', problem FROM zd_events "
    "WHERE problem IS NOT NULL ORDER BY source_file, source_ord",
]

CONVERSATIONS = f"""
INSERT INTO stage_conversations BY NAME
SELECT id AS conversation_id, requester_id AS customer_id, channel, vendor_label, vendor_state,
       is_preview, source_file, label AS source_record, item_ord * {S} AS source_ord
FROM zd_tickets
"""

CLEANUP = [f"DROP TABLE IF EXISTS {t}" for t in ("zd_users", "zd_comment_acts", "zd_chats",
                                                 "zd_chat_events", "zd_acts", "zd_events")]
