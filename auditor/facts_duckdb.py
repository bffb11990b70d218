"""The facts in DuckDB's fast form: one statement per facts table (lists, ASOF, list_reduce).

auditor/facts.py defines the facts (FACT_COLUMNS) and builds them with this SQL;
auditor/warehouse/facts_sql.py is the portable form every engine runs, proven equal to this
one by tests/test_warehouse_equivalence.py.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from auditor.engine import sql_string
from auditor.warehouse.dialects import phrase_pattern

if TYPE_CHECKING:  # facts.py imports this module
    from auditor.facts import FactParams


def phrase_regex(phrases: list[str]) -> str:
    """The pattern matching any phrase as whole words, ASCII case-insensitive (the one every
    engine runs: auditor/warehouse/dialects.py); never matches when there are none."""
    pattern = phrase_pattern(phrases)
    return r"a\bb" if pattern is None else pattern  # no word boundary between two letters


def facts_query(params: FactParams, columns: list[str], ends_at: datetime | None,
                within: str = "true") -> str:
    """The SELECT of the facts `columns` of the conversations whose id meets the condition
    `within` (see facts.build_facts: repeat contacts come after)."""
    phrase_re = sql_string(phrase_regex(params.human_request_phrases
                                        + params.negative_reaction_phrases))
    human_re = sql_string(phrase_regex(params.human_request_phrases))
    confirm_re = sql_string(phrase_regex(params.confirmation_phrases))
    negative_re = sql_string(phrase_regex(params.negative_reaction_phrases))
    export_ends_at = ("(SELECT max(created_at) FROM events)" if ends_at is None
                      else f"TIMESTAMP {sql_string(ends_at.isoformat(sep=' '))}")
    return FACTS_SQL.format(
        phrase_re=phrase_re, human_re=human_re, confirm_re=confirm_re, negative_re=negative_re,
        export_ends_at=export_ends_at, within=within,
        max_chars=int(params.confirmation_max_chars),
        window_us=round(params.window_hours * 3_600_000_000),
        session_us=round(params.session_hours * 3_600_000_000)) + _select(columns)


# Repeat contacts, over the facts table `core` (see build_facts): an ASOF join on a narrow
# projection, so the wide rows are not sorted or copied. Of conversations starting at the same
# instant the smaller id is the next contact (ASOF alone would pick any): one start per customer
# and instant. The customer's hash leads the join key because sorting on it is cheaper than on
# the string; the id keeps the join exact. Without an AI message there is nothing to follow.
NEXT_CONTACT_SQL = """
WITH who AS (
    SELECT conversation_id, hash(customer_id) AS customer_key, customer_id,
           first_event_at AS started_at, last_ai_message_at
    FROM {core} WHERE customer_id IS NOT NULL
),
starts AS (
    SELECT customer_key, customer_id, started_at, min(conversation_id) AS conversation_id
    FROM who WHERE started_at IS NOT NULL GROUP BY customer_key, customer_id, started_at
),
next_contact AS (
    SELECT w.conversation_id, s.conversation_id AS next_id, s.started_at AS next_at
    FROM (SELECT * FROM who WHERE last_ai_message_at IS NOT NULL) w ASOF JOIN starts s
        ON w.customer_key = s.customer_key AND w.customer_id = s.customer_id
       AND s.started_at > w.last_ai_message_at
)
"""
# The repeat-contact facts: (type, value from the next contact `s` and the conversation `b`).
NEXT_CONTACT_FACTS: dict[str, tuple[str, str]] = {
    "next_contact_conversation_id": ("VARCHAR", "s.next_id"),
    "next_contact_at": ("TIMESTAMP", "s.next_at"),
    "hours_to_next_contact": (
        "DOUBLE", "date_diff('second', b.last_ai_message_at, s.next_at) / 3600.0"),
}
NEXT_CONTACT_INPUTS = ("customer_id", "first_event_at", "last_ai_message_at")


FACTS_SQL = """
WITH texts AS (
    SELECT conversation_id, event_id, created_at, actor_role, event_type, rating, actor_id, channel,
           event_type = 'message' AS is_message,
           event_type = 'message' AND actor_role = 'customer' AS is_customer_message,
           CASE WHEN event_type = 'message' AND actor_role = 'customer'
                THEN coalesce(body, '') END AS customer_text
    FROM events WHERE {within}
),
-- Phrases are matched once per customer message; later stages read the flags. One pass over
-- the human-request and negative phrases together finds the few messages with either, and only
-- those are matched against each list; confirmations are only looked for in short replies.
-- A text of at most max_chars bytes is short without counting its characters after a trim
-- (bytes >= characters), which costs far more on every message.
flagged AS (
    SELECT * EXCLUDE (customer_text, has_phrase),
        CASE WHEN has_phrase THEN regexp_matches(customer_text, {human_re}) ELSE false END
            AS asks_for_human,
        CASE WHEN has_phrase THEN regexp_matches(customer_text, {negative_re}) ELSE false END
            AS is_negative,
        CASE WHEN NOT is_customer_message THEN NULL
             WHEN strlen(customer_text) <= {max_chars} THEN customer_text
             WHEN length(trim(customer_text)) <= {max_chars} THEN customer_text
        END AS short_text
    FROM (SELECT *, coalesce(regexp_matches(customer_text, {phrase_re}), false) AS has_phrase
          FROM texts)
),
e AS (
    SELECT * EXCLUDE (short_text),
        CASE WHEN short_text IS NOT NULL AND NOT asks_for_human AND NOT contains(short_text, '?')
             THEN regexp_matches(short_text, {confirm_re}) ELSE false END AS is_confirmation
    FROM flagged
),
per_conversation AS (
    SELECT conversation_id,
        count(*) AS n_events,
        count(*) FILTER (is_customer_message) AS n_customer_messages,
        count(*) FILTER (is_message AND actor_role = 'ai_agent') AS n_ai_messages,
        count(*) FILTER (is_message AND actor_role = 'bot') AS n_bot_messages,
        count(*) FILTER (is_message AND actor_role = 'human_agent') AS n_human_messages,
        count(*) FILTER (event_type = 'note') AS n_notes,
        count(*) FILTER (event_type = 'handoff') AS n_handoffs,
        count(*) FILTER (event_type = 'assignment') AS n_assignments,
        count(*) FILTER (event_type = 'close') AS n_closes,
        count(*) FILTER (event_type = 'reopen') AS n_reopen_events,
        count(*) FILTER (event_type = 'rating') AS n_ratings,
        min(created_at) AS first_event_at,
        max(created_at) AS last_event_at,
        min(created_at) FILTER (is_customer_message) AS first_customer_message_at,
        max(created_at) FILTER (is_customer_message) AS last_customer_message_at,
        min(created_at) FILTER (is_message AND actor_role = 'ai_agent') AS first_ai_message_at,
        max(created_at) FILTER (is_message AND actor_role = 'ai_agent') AS last_ai_message_at,
        min(created_at) FILTER (is_message AND actor_role = 'human_agent') AS first_human_message_at,
        max(created_at) FILTER (is_message AND actor_role = 'human_agent') AS last_human_message_at,
        min(created_at) FILTER (event_type = 'handoff') AS first_handoff_at,
        max(created_at) FILTER (event_type = 'handoff') AS last_handoff_at,
        min(created_at) FILTER (event_type = 'close') AS first_close_at,
        max(created_at) FILTER (event_type = 'close') AS last_close_at,
        min(created_at) FILTER (event_type = 'reopen') AS first_reopen_at,
        min(created_at) FILTER (asks_for_human) AS first_human_request_at,
        max(created_at) FILTER (is_message) AS last_message_at,
        max(created_at) FILTER (is_message AND actor_role = 'bot') AS last_bot_message_at,
        min(rating) AS min_rating,
        max(rating) AS max_rating,
        -- Ties must not depend on thread scheduling: a same-instant tie goes to the higher
        -- rating, and actor and channel take the smallest value (one numeric key: fast).
        arg_max(rating, epoch_us(created_at) * 8 + rating) FILTER (rating IS NOT NULL)
            AS last_rating,
        min(actor_id) FILTER (is_customer_message) AS first_customer_actor_id,
        min(channel) AS first_channel,
        max(created_at) FILTER (is_customer_message AND NOT is_confirmation)
            AS last_unconfirming_message_at,
        max(created_at) FILTER (is_confirmation) AS last_confirmation_at,
        max(created_at) FILTER (is_negative) AS last_negative_at,
        -- Lists only for "first customer message after T"; most facts need none (cheaper).
        list(created_at) FILTER (is_customer_message) AS customer_times,
        list(created_at) FILTER (is_customer_message AND NOT is_confirmation) AS followup_times,
        list(created_at) FILTER (is_message AND actor_role = 'ai_agent') AS ai_message_times
    FROM e GROUP BY conversation_id
),
-- Facts about customer messages relative to per-conversation times: from the aggregates where
-- a latest time says enough, else from the conversation's short list of customer message
-- times. No second pass over the events, no join back to them.
relative AS (
    SELECT *,
        coalesce(last_customer_message_at > last_ai_message_at, false)
            AS customer_wrote_after_last_ai,
        coalesce(last_unconfirming_message_at > last_ai_message_at, false)
            AS customer_followup_after_last_ai,
        list_min([t FOR t IN customer_times IF t > last_ai_message_at])
            AS first_reply_after_last_ai_at,
        list_min([t FOR t IN followup_times IF t > last_ai_message_at])
            AS first_followup_after_last_ai_at,
        list_min([t FOR t IN customer_times IF t > first_close_at])
            AS first_customer_message_after_close_at,
        coalesce(last_negative_at > first_ai_message_at, false) AS customer_reacted_negatively,
        -- A bot's auto-reply ("we'll get back to you") does not answer it; an AI or human does.
        CASE WHEN last_unconfirming_message_at > last_ai_message_at
              AND coalesce(last_unconfirming_message_at > last_human_message_at, true)
             THEN last_unconfirming_message_at END AS unanswered_followup_at
    FROM per_conversation
),
base AS (
    SELECT conversation_id,
        coalesce(c.customer_id, p.first_customer_actor_id) AS customer_id,
        coalesce(c.channel, p.first_channel) AS channel,
        c.vendor_label, c.vendor_state, coalesce(c.is_preview, false) AS is_preview,
        c.ai_answered,
        coalesce(p.n_events, 0) AS n_events,
        coalesce(p.n_customer_messages, 0) AS n_customer_messages,
        coalesce(p.n_ai_messages, 0) AS n_ai_messages,
        coalesce(p.n_bot_messages, 0) AS n_bot_messages,
        coalesce(p.n_human_messages, 0) AS n_human_messages,
        coalesce(p.n_notes, 0) AS n_notes,
        coalesce(p.n_handoffs, 0) AS n_handoffs,
        coalesce(p.n_assignments, 0) AS n_assignments,
        coalesce(p.n_closes, 0) AS n_closes,
        coalesce(p.n_reopen_events, 0) AS n_reopen_events,
        coalesce(p.n_ratings, 0) AS n_ratings,
        p.first_event_at, p.last_event_at,
        p.first_customer_message_at, p.last_customer_message_at,
        p.first_ai_message_at, p.last_ai_message_at,
        p.first_human_message_at, p.last_human_message_at,
        p.first_handoff_at, p.last_handoff_at, p.first_close_at, p.last_close_at,
        -- Booleans read a time rather than a count (created_at is never NULL), so that a count
        -- no rule set asks for is not computed.
        p.last_ai_message_at IS NOT NULL AS has_ai_message,
        p.first_human_message_at IS NOT NULL AS has_human_message,
        coalesce(p.last_human_message_at > p.first_ai_message_at, false) AS human_after_ai,
        coalesce(p.last_ai_message_at > p.first_human_message_at, false) AS ai_after_human,
        CASE WHEN p.last_message_at IS NULL THEN NULL
             WHEN p.last_ai_message_at = p.last_message_at THEN 'ai_agent'
             WHEN p.last_human_message_at = p.last_message_at THEN 'human_agent'
             WHEN p.last_customer_message_at = p.last_message_at THEN 'customer'
             WHEN p.last_bot_message_at = p.last_message_at THEN 'bot'
             ELSE 'system' END AS last_message_role,
        p.first_handoff_at IS NOT NULL AS has_handoff,
        coalesce(p.last_handoff_at >= p.last_ai_message_at, false) AS handoff_after_last_ai,
        p.first_human_request_at IS NOT NULL AS customer_asked_for_human,
        p.first_human_request_at,
        coalesce(p.customer_wrote_after_last_ai, false) AS customer_wrote_after_last_ai,
        coalesce(p.customer_wrote_after_last_ai AND NOT p.customer_followup_after_last_ai, false)
            AS customer_confirmed_after_last_ai,
        coalesce(p.last_confirmation_at > p.first_ai_message_at, false)
            AS customer_confirmed_after_first_ai,
        coalesce(p.customer_followup_after_last_ai, false) AS customer_followup_after_last_ai,
        p.unanswered_followup_at IS NOT NULL AS customer_followup_unanswered,
        p.unanswered_followup_at,
        p.first_reply_after_last_ai_at,
        p.first_followup_after_last_ai_at,
        date_diff('second', p.last_ai_message_at, p.first_followup_after_last_ai_at) / 3600.0
            AS hours_to_followup_after_last_ai,
        coalesce(p.customer_reacted_negatively, false) AS customer_reacted_negatively,
        date_diff('second', p.last_ai_message_at, x.export_ends_at) / 3600.0
            AS hours_observed_after_last_ai,
        date_diff('second', p.last_event_at, x.export_ends_at) / 3600.0
            AS hours_observed_after_last_event,
        date_diff('second', coalesce(p.first_customer_message_at, p.first_event_at),
            x.export_ends_at) / 3600.0 AS hours_observed_after_first_customer_message,
        p.first_reopen_at IS NOT NULL OR p.first_customer_message_after_close_at IS NOT NULL
            AS reopened,
        least(p.first_reopen_at, p.first_customer_message_after_close_at) AS reopened_at,
        p.min_rating, p.max_rating, p.last_rating,
        p.last_customer_message_at IS NULL AS no_customer_message,
        p.customer_times, p.ai_message_times
    -- Every conversation: those with attributes, and those only events name.
    FROM (SELECT * FROM conversation_attrs WHERE {within}) c
    FULL JOIN relative p USING (conversation_id)  -- per_conversation plus relative facts
    CROSS JOIN (SELECT {export_ends_at} AS export_ends_at) x
),
-- Windows and sessions are greedy: each starts at the first moment after the previous one
-- ended, so they are a fold (list_reduce) over sorted start candidates, not fixed buckets.
windows AS (
    SELECT conversation_id, CASE WHEN len(starts) = 0 THEN 0 ELSE len(list_reduce(starts,
            lambda acc, t: CASE WHEN t >= acc[-1] + to_microseconds({window_us})
                           THEN list_append(acc, t) ELSE acc END, [starts[1]])) END
        AS conversation_windows
    FROM (SELECT conversation_id, list_sort(list_concat(
              coalesce(customer_times, []),
              CASE WHEN first_ai_message_at < coalesce(first_customer_message_at, 'infinity')
                   THEN [first_ai_message_at]
                   ELSE [] END)) AS starts
          FROM base)
),
interactions AS (
    SELECT coalesce(customer_id, '#' || conversation_id) AS who, conversation_id,
        unnest(list_concat(ai_message_times, [t FOR t IN coalesce(customer_times, [])
                                              IF t <= last_ai_message_at])) AS t
    FROM base WHERE has_ai_message
),
session_starts AS (
    SELECT unnest(list_reduce(xs, lambda acc, x:
            CASE WHEN x.t >= acc[-1].t + to_microseconds({session_us})
                 THEN list_append(acc, x) ELSE acc END, [xs[1]])) AS s
    FROM (SELECT list({{'t': t, 'c': conversation_id}} ORDER BY t, conversation_id) AS xs
          FROM interactions GROUP BY who)
),
sessions AS (
    SELECT s.c AS conversation_id, count(*) AS customer_sessions_started
    FROM session_starts GROUP BY 1
)
"""

# Facts that need a join of their own: (CTE, alias, its SQL per fact). Only the joins whose
# facts are asked for are written into the query.
JOINED_FACTS: dict[str, tuple[str, str, dict[str, str]]] = {
    "windows": ("windows", "w", {"conversation_windows": "coalesce(w.conversation_windows, 0)"}),
    "sessions": ("sessions", "z", {
        "customer_sessions_started": "coalesce(z.customer_sessions_started, 0)"}),
}


def _select(columns: list[str]) -> str:
    """The final SELECT of `columns`, joining only the CTEs those columns come from."""
    expressions, joins = [], []
    for cte, alias, facts in JOINED_FACTS.values():
        if any(name in facts for name in columns):
            joins.append(f"LEFT JOIN {cte} {alias} USING (conversation_id)")
    for name in columns:
        joined = next((f[name] for _, _, f in JOINED_FACTS.values() if name in f), None)
        if name in NEXT_CONTACT_FACTS:  # filled in by build_facts
            joined = f"CAST(NULL AS {NEXT_CONTACT_FACTS[name][0]})"
        expressions.append(f"{joined} AS {name}" if joined else f"b.{name}")
    return f"SELECT {', '.join(expressions)}\nFROM base b " + " ".join(joins)
