"""SQL for the Intercom adapter, part 2: the records of ic_records (intercom_sql) -> staged
conversations and events: the conversation row, its source message, its parts (inline, or
Airbyte conversation_parts records), its ratings.
"""

from __future__ import annotations

from auditor.engine import sql_string
from auditor.sources.intercom_sql import PART, PART_SHIFT, sql_type


def customer_id(customer_types: list[str]) -> str:
    """The first contact, else the source author when that author is a customer."""
    types = ", ".join(sql_string(t) for t in customer_types)
    return (f"coalesce(contacts.contacts[1].id, "
            f"CASE WHEN source.author.type IN ({types}) THEN source.author.id END)")


def conversations_insert(customer_types: list[str]) -> str:
    return f"""
INSERT INTO stage_conversations BY NAME
SELECT id AS conversation_id, {customer_id(customer_types)} AS customer_id,
       conv_channel AS channel, ai_agent.resolution_state AS vendor_label,
       ic_vendor_state(ai_agent.resolution_state) AS vendor_state,
       ic_is_preview(ai_agent.source_type) AS is_preview,
       -- Both are "null if no answer delivered" (a greeting is not an answer); either one set
       -- means an answer (older exports may lack last_answer_type). No ai_agent: unknown.
       CASE WHEN ai_agent IS NOT NULL THEN ai_agent.last_answer_type IS NOT NULL
                OR ai_agent.resolution_state IS NOT NULL END AS ai_answered,
       source_file, label AS source_record, rec_ord AS source_ord
FROM ic_records WHERE kind = 'conversation'
"""


# The conversation's `source` is its first message, at the conversation's created_at.
SOURCE_EVENTS = f"""
INSERT INTO stage_events BY NAME
SELECT id AS conversation_id, 'source' AS event_id, auditor_parse_ts(created_at) AS created_at,
       ic_first_role(source.delivered_as, ic_role(source.author.type,
           ic_ai_flag(source.author.from_ai_agent, source.author.is_ai_answer,
                                 source.author.id), ai_on))
           AS actor_role,
       source.author.id AS actor_id, 'message' AS event_type,
       coalesce(nullif(text, ''), nullif(ic_text(source.subject), '')) AS body,
       conv_channel AS channel, created_at AS created_at_raw, NULL AS rating_raw,
       source_file, label AS source_record, rec_ord * {PART_SHIFT} AS source_ord
FROM (SELECT *, ic_decode(stripped) AS text
      FROM (SELECT *, ic_strip(source.body) AS stripped FROM ic_records
            WHERE kind = 'conversation' AND source IS NOT NULL))
"""

# Parts are collected first (one row each, conversation attributes alongside), then mapped by
# one statement: the collected table has a row group per ~120k parts, so the costly per-part
# expressions run on every core, where a scan of ic_raw (one row per conversation) would not.
PARTS_DDL = f"""
CREATE OR REPLACE TEMP TABLE ic_parts (
    conversation_id VARCHAR, source_file VARCHAR, source_record VARCHAR, idx BIGINT,
    record_parts BIGINT, source_ord BIGINT, channel VARCHAR, ai_on BOOLEAN, after_close BOOLEAN,
    offered {sql_type(PART["metadata"]["quick_reply_options"])}, p {sql_type(PART)})
"""

# Parts inside conversation records, in array order; `open` is a reopen only after a close.
INLINE_PARTS = f"""
INSERT INTO ic_parts BY NAME
SELECT conversation_id, source_file, idx, record_parts, rec_ord * {PART_SHIFT} + idx AS source_ord,
       channel, ai_on, coalesce(first_close < idx, false) AS after_close, offered, p
FROM (
    SELECT id AS conversation_id, source_file, rec_ord, conv_channel AS channel, ai_on,
           len(parts) AS record_parts,
           list_position(list_transform(parts, lambda p: p.part_type), 'close') AS first_close,
           flatten(list_transform(parts, lambda p: p.metadata.quick_reply_options)) AS offered,
           unnest(parts) AS p, generate_subscripts(parts, 1) AS idx
    FROM ic_records WHERE kind = 'conversation' AND len(parts) > 0
)
"""

# Airbyte's conversation_parts stream: one part per record, joined to its conversation (from
# any input file) for the channel and the AI-participation default.
AIRBYTE_PARTS = f"""
INSERT INTO ic_parts BY NAME
WITH carried AS (
    SELECT file_no, rec_ord, label, source_file, conv_ref AS conversation_id, parts[1] AS p
    FROM ic_records WHERE kind = 'part'
),
convs AS (
    SELECT id, first(conv_channel ORDER BY file_no, rec_ord) AS channel, bool_or(ai_on) AS ai_on
    FROM ic_records WHERE kind = 'conversation' AND id IN (SELECT conversation_id FROM carried)
    GROUP BY id
)
SELECT c.conversation_id, c.source_file, c.label AS source_record,
       c.rec_ord * {PART_SHIFT} AS source_ord, v.channel, coalesce(v.ai_on, false) AS ai_on,
       coalesce(bool_or(c.p.part_type = 'close') OVER (
           PARTITION BY c.conversation_id ORDER BY c.file_no, c.rec_ord
           ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), false) AS after_close,
       flatten(list(c.p.metadata.quick_reply_options) OVER (PARTITION BY c.conversation_id))
           AS offered, c.p
FROM carried c LEFT JOIN convs v ON v.id = c.conversation_id
"""

# A quick reply without a body reads as the options it offers ("That helped | Get more help"),
# or as the option the customer clicked (looked up among the conversation's offered options).
PART_EVENTS = """
INSERT INTO stage_events BY NAME
SELECT conversation_id, p.id AS event_id, auditor_parse_ts(p.created_at) AS created_at,
       role AS actor_role, p.author.id AS actor_id,
       ic_event_type(p.part_type, role, ic_routed(p.assigned_to), after_close) AS event_type,
       coalesce(nullif(text, ''), nullif(array_to_string(
           list_transform(p.metadata.quick_reply_options, lambda o: o.text), ' | '), ''),
           list_filter(offered, lambda o: o.uuid = p.metadata.quick_reply_uuid)[1].text) AS body,
       channel, p.created_at AS created_at_raw, NULL AS rating_raw, source_file,
       coalesce(source_record, 'conversation ' || conversation_id || ' part ' || idx)
           AS source_record, source_ord
FROM (SELECT *, ic_decode(stripped) AS text
      FROM (SELECT *, ic_role(p.author.type, ic_ai_flag(p.author.from_ai_agent,
                              p.author.is_ai_answer, p.author.id), ai_on) AS role,
                   ic_strip(p.body) AS stripped
            FROM ic_parts))
"""


def ratings_insert(customer_types: list[str]) -> str:
    """conversation_rating and ai_agent.rating: rating events by the customer, after the parts."""
    return f"""
INSERT INTO stage_events BY NAME
WITH rated AS (
    SELECT id, updated_at, conversation_rating, ai_agent, conv_channel, source_file, label,
           {customer_id(customer_types)} AS customer,
           rec_ord * {PART_SHIFT} + coalesce(len(parts), 0) AS last_ord
    FROM ic_records WHERE kind = 'conversation'
      AND (conversation_rating.rating IS NOT NULL OR ai_agent.rating IS NOT NULL)
)
SELECT id AS conversation_id, 'conversation_rating' AS event_id,
       auditor_parse_ts(coalesce(conversation_rating.created_at, updated_at)) AS created_at,
       'customer' AS actor_role, coalesce(conversation_rating.contact.id, customer) AS actor_id,
       'rating' AS event_type, nullif(ic_text(conversation_rating.remark), '') AS body,
       conv_channel AS channel, coalesce(conversation_rating.created_at, updated_at)
       AS created_at_raw, conversation_rating.rating AS rating_raw, source_file,
       label || ', conversation_rating' AS source_record, last_ord + 1 AS source_ord
FROM rated WHERE conversation_rating.rating IS NOT NULL
UNION ALL
SELECT id, 'ai_agent_rating',
       auditor_parse_ts(coalesce(ai_agent.updated_at, ai_agent.created_at, updated_at)),
       'customer', customer, 'rating', nullif(ic_text(ai_agent.rating_remark), ''), conv_channel,
       coalesce(ai_agent.updated_at, ai_agent.created_at, updated_at), ai_agent.rating,
       source_file, label || ', ai_agent.rating', last_ord + 2
FROM rated WHERE ai_agent.rating IS NOT NULL
"""
