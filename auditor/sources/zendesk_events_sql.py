"""SQL for the Zendesk adapter, part 2: usable records -> acts -> canonical staged events.

An *act* is one thing that happened on a kept ticket (see zendesk_sql for the records):

    comment       a comment record, or a Comment event inside an audit no comment record repeats
    change        a field change: an audit Create/Change event or a ticket_field_history row
    chat          a ticket_chat_event row of a ticket without public comments
    description   the ticket's description, for a ticket without comments and chat messages
    metrics       ticket_metrics.reopens > 0 for a ticket without status history
    satisfaction  the ticket's satisfaction_rating, when no satisfaction_score change says it

`zd_events` gives each act its actor role and event type through macros generated from the
mapping table (zendesk_mapping). `zd_ai_users` are the users taken as the AI agent (named in
reports); handoffs are derived from assignments, to anyone else, after the AI wrote. Tickets the
export has without any of their messages are marked incomplete (not judged).
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
        "CREATE OR REPLACE TEMP MACRO zd_role_rule(author, via, rel, src, atype, aname, uname, "
        f"urole, requester, ai_ticket) AS {mapping.role_rule_case(ai_agent_ids)}",
        f"CREATE OR REPLACE TEMP MACRO zd_role(rule_no) AS {mapping.role_list()}[rule_no]",
        f"CREATE OR REPLACE TEMP MACRO zd_role_how(rule_no) AS "
        f"{mapping.ai_agent_how_list()}[rule_no]",
        f"CREATE OR REPLACE TEMP MACRO zd_ai_agent_ids() AS [{ids}]::VARCHAR[]",
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
SELECT ticket_ref, coalesce(zd_id(e.id ->> '$'), id || '-' || idx), created_at,
       coalesce(zd_id(e.author_id ->> '$'), author_id), coalesce(zd_via(e.via), via),
       coalesce(zd_rel(e.via), rel), zd_bool(coalesce(e.public, e.comment_public) ->> '$'),
       coalesce(nullif(trim(e.plain_body), ''), nullif(trim(e.body), ''), zd_text(e.html_body)),
       source_file, label || ', event ' || idx, item_ord * {S} + 2 * idx
FROM (SELECT *, unnest(events) AS e, generate_subscripts(events, 1) AS idx
      FROM zd_audit_items WHERE {_KEPT}) a
WHERE lower(coalesce(e.type, e.event_type)) IN ('comment', 'voicecomment')
  AND NOT EXISTS (SELECT 1 FROM zd_comment_items c WHERE c.id = zd_id(a.e.id ->> '$'))
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
SELECT e.*, c.kept[1] AS ticket_id, coalesce(c.customers, []) AS customers,
       CASE WHEN len(c.kept) = 1 THEN c.kept[1]
            WHEN len(c.kept) = 0 AND NOT contains(c.refs, ',') THEN c.refs END AS named_ticket,
       len(c.kept) = 1 AND c.kept[1] IN (SELECT ticket_id FROM zd_comment_acts
                                          WHERE public IS DISTINCT FROM 'false')
           AS repeats_comments,
       CASE
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
# Keys of an audit event or ticket-events child event that are not the changed field: a child
# event names its field by its key ({"priority": "high", "previous_value": "normal"}).
EVENT_META_KEYS = ("id", "via", "via_reference_id", "type", "event_type", "field_name", "value",
                   "previous_value", "added_tags", "removed_tags", "author_id", "created_at",
                   "audit_id", "public", "comment_public", "comment_present", "attachments",
                   "metadata", "body", "html_body", "plain_body")
_KEY_FIELD = ("list_filter(json_keys(raw), lambda k: k NOT IN ("
              + ", ".join(sql_string(k) for k in EVENT_META_KEYS) + "))[1]")

ACTS = f"""
CREATE OR REPLACE TEMP TABLE zd_acts AS
SELECT 'comment' AS act, ticket_id, event_id, created_raw, author, via, rel, public, body,
       source_file, source_record, source_ord
FROM zd_comment_acts
UNION ALL BY NAME
SELECT 'change' AS act, ticket_ref AS ticket_id, created_at AS created_raw, author_id AS author,
       coalesce(zd_via(e.via), via) AS via, coalesce(zd_rel(e.via), rel) AS rel,
       lower(coalesce(e.field_name, key_field)) AS field,
       coalesce(e.value ->> '$', raw ->> key_field) AS value,
       e.previous_value ->> '$' AS previous, source_file,
       label || ', event ' || idx AS source_record, item_ord * {S} + 2 * idx AS source_ord
FROM (SELECT *, raw_events[idx] AS raw, {_KEY_FIELD} AS key_field
      FROM (SELECT *, unnest(events) AS e, generate_subscripts(events, 1) AS idx
            FROM zd_audit_items WHERE {_KEPT}))
WHERE {_EVENT_TYPE} IN ('create', 'change') AND coalesce(e.field_name, key_field) IS NOT NULL
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
                   a.act, a.field ORDER BY a.ts, a.source_file, a.source_ord) END)) AS event_type
    FROM timed a JOIN zd_tickets t ON t.id = a.ticket_id
    LEFT JOIN zd_users u ON u.id = a.author
),
ruled AS (
    SELECT *, CASE WHEN event_type <> 'rating' THEN zd_role_rule(author, via, rel, src, atype,
               aname, uname, urole, author = requester_id OR coalesce(chat_customer, false),
               ai_ticket) END AS rule_no
    FROM typed
),
roled AS (
    SELECT *, CASE WHEN event_type = 'rating' THEN 'customer' ELSE zd_role(rule_no) END AS role
    FROM ruled
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

# The users taken as the AI agent, each with the first role row that made it so: the authors of
# events whose role is ai_agent, and the users the AI agent's names or --ai-agent-id name (even
# without events of their own: an assignment to them is still one to the AI).
AI_USERS = """
CREATE OR REPLACE TEMP TABLE zd_ai_users AS
WITH found AS (
    SELECT author AS id, rule_no, coalesce(uname, aname) AS name FROM zd_events
    WHERE role = 'ai_agent' AND author IS NOT NULL
    UNION ALL
    SELECT id, zd_role_rule(id, NULL, NULL, NULL, NULL, NULL, name, role, false, false), name
    FROM zd_users WHERE zd_is_ai_user(id, name)
    UNION ALL
    SELECT id, zd_role_rule(id, NULL, NULL, NULL, NULL, NULL, NULL, NULL, false, false), NULL
    FROM (SELECT unnest(zd_ai_agent_ids()) AS id)
)
SELECT id, coalesce(max(u.name), max(f.name)) AS name, zd_role_how(min(rule_no)) AS how
FROM found f LEFT JOIN zd_users u USING (id)
WHERE zd_role(rule_no) = 'ai_agent'
GROUP BY id
"""

REPORT_AI_USERS = "INSERT INTO ai_agent_users SELECT id, name, how FROM zd_ai_users ORDER BY id"

# A handoff: an assignment to anyone but the AI agent after an AI message, with no assignment to
# anyone but the AI agent in between. The AI taking the ticket itself (often in the same audit
# as its reply) is never that last assignment: a trigger routing the ticket to a group or a
# person after it is still a handoff. It is the AI's, at the assignment's time, beside it.
# (`event_type = 'assignment'` in the WHERE lets DuckDB skip it all, by column statistics, for
# an export without assignments.)
HANDOFFS = f"""
INSERT INTO stage_events BY NAME
WITH ordered AS (
    SELECT *, max(CASE WHEN ai_message THEN ts END) OVER w AS last_ai_at,
           last_value(CASE WHEN ai_message THEN actor_id END IGNORE NULLS) OVER w AS ai_actor,
           max(CASE WHEN routed THEN ts END) OVER w AS last_routed_at
    FROM (SELECT e.*, role = 'ai_agent' AND event_type = 'message' AS ai_message,
                 event_type = 'assignment' AND u.id IS NULL AS routed
          FROM zd_events e LEFT JOIN zd_ai_users u ON e.field = 'assignee_id' AND u.id = e.value
          WHERE problem IS NULL AND ts IS NOT NULL)
    WINDOW w AS (PARTITION BY ticket_id ORDER BY ts, act_rank, final_id
                 ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)
)
SELECT {_STAGED.format(id=f"'handoff@' || strftime(ts, {ISO})", role="'ai_agent'",
                       actor="ai_actor", type="'handoff'", body="NULL", rating="NULL",
                       shift=" + 1")}
FROM ordered
WHERE event_type = 'assignment' AND routed AND last_ai_at IS NOT NULL
  AND (last_routed_at IS NULL OR last_ai_at > last_routed_at)
"""

QUARANTINE = [
    "INSERT INTO quarantine (source_file, source_record, conversation_id, field, reason, "
    "redundant) SELECT source_file, label, ticket_ref, field, reason, redundant FROM zd_rejects "
    "ORDER BY file_no, item_ord",
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

# Tickets the export has without their conversation: no comment, no audit or ticket event with
# events, no chat event. Every Zendesk ticket has at least one comment (its description), so
# such a ticket was exported without its messages (a tickets-only export, a Fivetran `ticket`
# table without `ticket_comment`). And the tickets of a chat that belongs to several of them,
# whose chat events are not used.
INCOMPLETE = ["""
INSERT INTO incomplete_conversations
SELECT id, source_file, label,
       'the export has ticket ' || id || ' but none of its comments, audits or chat events'
FROM zd_tickets
WHERE id NOT IN (SELECT ticket_ref FROM zd_comment_items WHERE ticket_ref IS NOT NULL)
  AND id NOT IN (SELECT ticket_ref FROM zd_audit_items WHERE len(events) > 0
                 AND ticket_ref IS NOT NULL)
  AND id NOT IN (SELECT ticket_id FROM zd_chat_events WHERE ticket_id IS NOT NULL)
ORDER BY file_no, item_ord
""", """
INSERT INTO incomplete_conversations
SELECT ticket, min_by(source_file, (file_no, item_ord)), min_by(label, (file_no, item_ord)),
       'chat ''' || chat_id || ''' belongs to several tickets in the export ('
       || array_to_string(kept, ', ') || '), so its chat events are not used'
FROM (SELECT e.*, c.kept, unnest(c.kept) AS ticket
      FROM zd_chat_events e JOIN zd_chats c USING (chat_id) WHERE len(c.kept) > 1)
GROUP BY ticket, chat_id, kept
ORDER BY ticket, chat_id
"""]

CLEANUP = [f"DROP TABLE IF EXISTS {t}" for t in ("zd_users", "zd_comment_acts", "zd_chats",
                                                 "zd_chat_events", "zd_acts", "zd_events",
                                                 "zd_ai_users")]
