"""Conversation facts: one row per conversation, computed in one DuckDB query.

FACT_COLUMNS is the vocabulary rule-set expressions are written in; docs/facts.md is generated
from it (`python -m auditor.docs`) and a test keeps the two in sync. The phrase-based facts
depend on rule-set parameters (FACT_PARAMETERS), so facts are built per distinct `FactParams`,
usually once per run, and only with the columns the chosen rule sets read.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import NamedTuple

import duckdb
from pydantic import BaseModel, Field

from auditor.engine import sql_string
from auditor.warehouse.dialects import phrase_pattern


class Fact(NamedTuple):
    name: str
    sql_type: str
    meaning: str


class FactParams(BaseModel):
    """Rule-set parameters that change how facts are computed (declared in FACT_PARAMETERS)."""

    human_request_phrases: list[str] = Field(default_factory=lambda: list(HUMAN_REQUEST_PHRASES))
    confirmation_phrases: list[str] = Field(default_factory=lambda: list(CONFIRMATION_PHRASES))
    confirmation_max_chars: int = 80
    negative_reaction_phrases: list[str] = Field(
        default_factory=lambda: list(NEGATIVE_REACTION_PHRASES))
    window_hours: float = Field(default=24.0, gt=0)
    session_hours: float = Field(default=24.0, gt=0)

    def key(self) -> str:
        return self.model_dump_json()


HUMAN_REQUEST_PHRASES = (
    "human", "real person", "a person", "speak to someone", "talk to someone", "representative",
    "live agent", "real agent", "talk to an agent", "speak to an agent", "speak with an agent",
    "customer service", "get more help", "talk to support", "someone from your team",
)
CONFIRMATION_PHRASES = (
    "that helped", "thanks", "thank you", "thx", "ty", "ok thanks", "perfect", "great", "awesome",
    "solved", "that works", "it worked", "works now", "all good", "got it", "yes", "sure",
    "cheers", "resolved",
)

NEGATIVE_REACTION_PHRASES = (
    "not what i asked", "didn't help", "did not help", "doesn't help", "not helpful", "unhelpful",
    "useless", "that's wrong", "that is wrong", "doesn't answer", "didn't answer", "not working",
    "makes no sense", "that's not right",
)

FACT_PARAMETERS: dict[str, str] = {
    "human_request_phrases":
        "Phrases that, in a customer message, mean the customer asked for a human.",
    "confirmation_phrases":
        "Phrases that make a short customer message a confirmation (\"That helped\" included).",
    "confirmation_max_chars":
        "Longest customer message, in characters, that can count as a confirmation.",
    "negative_reaction_phrases":
        "Phrases that, in a customer message after the AI's first message, are a negative reaction.",
    "window_hours":
        "Length of a conversation window (conversation_windows), in hours.",
    "session_hours":
        "Length of a customer's AI session (customer_sessions_started), in hours.",
}

FACT_COLUMNS: tuple[Fact, ...] = (
    Fact("conversation_id", "VARCHAR", "The conversation."),
    Fact("customer_id", "VARCHAR",
         "The customer: conversation table, else the customer events' actor_id (the smallest if "
         "several customers wrote)."),
    Fact("channel", "VARCHAR",
         "Conversation channel: conversation table, else the events' channel (the smallest if "
         "several)."),
    Fact("vendor_label", "VARCHAR", "The vendor's own resolution label, verbatim."),
    Fact("vendor_state", "VARCHAR", "vendor_label in the normalised vocabulary (see canonical schema)."),
    Fact("is_preview", "BOOLEAN", "Vendor preview or test traffic."),
    Fact("ai_answered", "BOOLEAN",
         "The vendor says its AI delivered an actual answer, not only a greeting (NULL: the "
         "export does not say)."),
    Fact("n_events", "BIGINT", "Events in the conversation."),
    Fact("n_customer_messages", "BIGINT", "Customer-visible messages written by the customer."),
    Fact("n_ai_messages", "BIGINT", "Customer-visible messages sent by the AI agent."),
    Fact("n_bot_messages", "BIGINT", "Customer-visible messages sent by non-AI automation."),
    Fact("n_human_messages", "BIGINT", "Customer-visible messages sent by human agents."),
    Fact("n_notes", "BIGINT", "Internal notes (any author)."),
    Fact("n_handoffs", "BIGINT", "Handoffs from the AI to a human or team."),
    Fact("n_assignments", "BIGINT", "Assignment events."),
    Fact("n_closes", "BIGINT", "Close events."),
    Fact("n_reopen_events", "BIGINT", "Explicit reopen events."),
    Fact("n_ratings", "BIGINT", "Rating events."),
    Fact("first_event_at", "TIMESTAMP", "First event: when the conversation started."),
    Fact("last_event_at", "TIMESTAMP", "Last event."),
    Fact("first_customer_message_at", "TIMESTAMP", "First customer message."),
    Fact("last_customer_message_at", "TIMESTAMP", "Last customer message."),
    Fact("first_ai_message_at", "TIMESTAMP", "First AI message."),
    Fact("last_ai_message_at", "TIMESTAMP", "Last AI message."),
    Fact("first_human_message_at", "TIMESTAMP", "First human-agent message."),
    Fact("last_human_message_at", "TIMESTAMP", "Last human-agent message."),
    Fact("first_handoff_at", "TIMESTAMP", "First handoff."),
    Fact("last_handoff_at", "TIMESTAMP", "Last handoff."),
    Fact("first_close_at", "TIMESTAMP", "First close."),
    Fact("last_close_at", "TIMESTAMP", "Last close."),
    Fact("has_ai_message", "BOOLEAN", "The AI sent at least one customer-visible message."),
    Fact("has_human_message", "BOOLEAN",
         "A human agent sent at least one customer-visible message (notes do not count)."),
    Fact("human_after_ai", "BOOLEAN", "A human agent sent a message after the AI's first message."),
    Fact("ai_after_human", "BOOLEAN",
         "The AI sent a message after a human agent's first message (the AI 'closed' a human's "
         "conversation)."),
    Fact("last_message_role", "VARCHAR",
         "Role of whoever sent the last customer-visible message (same-instant ties: ai_agent, "
         "human_agent, customer, bot, system)."),
    Fact("has_handoff", "BOOLEAN", "At least one handoff event."),
    Fact("handoff_after_last_ai", "BOOLEAN", "A handoff at or after the AI's last message."),
    Fact("customer_asked_for_human", "BOOLEAN",
         "A customer message contains one of human_request_phrases (phrases match whole words, "
         "ignoring the case of ASCII letters only)."),
    Fact("first_human_request_at", "TIMESTAMP", "When the customer first asked for a human."),
    Fact("customer_wrote_after_last_ai", "BOOLEAN", "The customer wrote after the AI's last message."),
    Fact("customer_confirmed_after_last_ai", "BOOLEAN",
         "Every customer message after the AI's last message is a confirmation (at least one). "
         "False once the AI answers the thanks (\"You're welcome!\"): see "
         "customer_confirmed_after_first_ai."),
    Fact("customer_confirmed_after_first_ai", "BOOLEAN",
         "A customer message after the AI's first message is a confirmation: the customer "
         "confirmed an AI answer at some point, whatever came after it."),
    Fact("customer_followup_after_last_ai", "BOOLEAN",
         "The customer wrote after the AI's last message and not only to confirm."),
    Fact("first_reply_after_last_ai_at", "TIMESTAMP",
         "First customer message after the AI's last message."),
    Fact("first_followup_after_last_ai_at", "TIMESTAMP",
         "First customer message after the AI's last message that is not a confirmation."),
    Fact("hours_to_followup_after_last_ai", "DOUBLE",
         "Hours from the AI's last message to that follow-up (NULL when there is none)."),
    Fact("customer_followup_unanswered", "BOOLEAN",
         "The customer's last message that is not a confirmation came after the AI's last "
         "message and after every human agent's message: a follow-up nobody answered (a bot's "
         "auto-reply is not an answer)."),
    Fact("unanswered_followup_at", "TIMESTAMP",
         "That unanswered follow-up (NULL when there is none)."),
    Fact("customer_reacted_negatively", "BOOLEAN",
         "A customer message after the AI's first message contains a negative_reaction_phrase."),
    Fact("hours_observed_after_last_ai", "DOUBLE",
         "Hours from the AI's last message to the end of observation (the last event anywhere in "
         "the export, or --as-of): how long the customer had to come back, as far as the data "
         "shows."),
    Fact("hours_observed_after_last_event", "DOUBLE",
         "Hours from this conversation's last event to the end of observation: how long it has "
         "been inactive, as far as the data shows."),
    Fact("hours_observed_after_first_customer_message", "DOUBLE",
         "Hours from the customer's first message (else the first event) to the end of "
         "observation."),
    Fact("reopened", "BOOLEAN", "A reopen event, or a customer message after a close."),
    Fact("reopened_at", "TIMESTAMP", "When it was first reopened."),
    Fact("next_contact_conversation_id", "VARCHAR",
         "The same customer's next conversation started after this one's last AI message (of "
         "several starting at the same instant, the smallest id in byte order)."),
    Fact("next_contact_at", "TIMESTAMP", "When that next conversation started."),
    Fact("hours_to_next_contact", "DOUBLE",
         "Hours from this conversation's last AI message to that next conversation."),
    Fact("min_rating", "INTEGER", "Lowest rating (1-5) in the conversation."),
    Fact("max_rating", "INTEGER", "Highest rating."),
    Fact("last_rating", "INTEGER", "Most recent rating."),
    Fact("no_customer_message", "BOOLEAN", "The customer never wrote (outbound or proactive)."),
    Fact("conversation_windows", "BIGINT",
         "Conversation windows of window_hours: the first starts at the customer's first message "
         "(or the AI's, if the AI wrote first), each next one at the first customer message after "
         "the previous window ended. 0 when neither wrote."),
    Fact("customer_sessions_started", "BIGINT",
         "AI sessions of session_hours that start in this conversation. A customer's session "
         "starts at an interaction with the AI (an AI message, or a customer message up to the "
         "AI's last message, in any of the customer's conversations) after their previous "
         "session ended, and covers every interaction until then. 0 without AI messages."),
)

FACT_NAMES: frozenset[str] = frozenset(f.name for f in FACT_COLUMNS)


def phrase_regex(phrases: list[str]) -> str:
    """The pattern matching any phrase as whole words, ASCII case-insensitive (the one every
    engine runs: auditor/warehouse/dialects.py); never matches when there are none."""
    pattern = phrase_pattern(phrases)
    return r"a\bb" if pattern is None else pattern  # no word boundary between two letters


def _sql(params: FactParams, columns: list[str], ends_at: datetime | None) -> str:
    phrase_re = sql_string(phrase_regex(params.human_request_phrases
                                        + params.negative_reaction_phrases))
    human_re = sql_string(phrase_regex(params.human_request_phrases))
    confirm_re = sql_string(phrase_regex(params.confirmation_phrases))
    negative_re = sql_string(phrase_regex(params.negative_reaction_phrases))
    export_ends_at = ("(SELECT max(created_at) FROM events)" if ends_at is None
                      else f"TIMESTAMP {sql_string(ends_at.isoformat(sep=' '))}")
    return FACTS_SQL.format(
        phrase_re=phrase_re, human_re=human_re, confirm_re=confirm_re, negative_re=negative_re,
        export_ends_at=export_ends_at,
        max_chars=int(params.confirmation_max_chars),
        window_us=round(params.window_hours * 3_600_000_000),
        session_us=round(params.session_hours * 3_600_000_000)) + _select(columns)


def build_facts(con: duckdb.DuckDBPyConnection, table: str, params: FactParams,
                columns: Collection[str] | None = None, ends_at: datetime | None = None) -> None:
    """Create `table` with one row per row of `conversations` and the FACT_COLUMNS columns.

    With `columns`, only those (and conversation_id) are kept; DuckDB then drops the
    aggregates and joins nothing reads, which matters on millions of events. `ends_at` is the
    end of observation the hours_observed_* facts measure to (naive UTC; --as-of); default:
    the export's last event.
    """
    if columns is not None:
        unknown = set(columns) - FACT_NAMES
        if unknown:
            raise ValueError(f"not fact columns: {', '.join(sorted(unknown))}")
    kept = [f.name for f in FACT_COLUMNS
            if columns is None or f.name in columns or f.name == "conversation_id"]
    if not NEXT_CONTACT_FACTS.keys() & set(kept):
        con.execute(f"CREATE OR REPLACE TABLE {table} AS {_sql(params, kept, ends_at)}")
        return
    # Repeat contacts are filled in afterwards, from the table: in one statement the wide
    # per-conversation rows stay materialised while the ASOF join sorts and its result is
    # joined back, and at 10M conversations all of it spills (the facts took 102 s so, 86 s
    # this way; joining the next contacts into a second table instead of an UPDATE: 93 s).
    helpers = [n for n in NEXT_CONTACT_INPUTS if n not in kept]
    con.execute(f"CREATE OR REPLACE TABLE {table} AS {_sql(params, kept + helpers, ends_at)}")
    following = f"{table}_next_contact"
    con.execute(f"CREATE OR REPLACE TEMP TABLE {following} AS "
                f"{NEXT_CONTACT_SQL.format(core=table)}SELECT * FROM next_contact")
    filled = ", ".join(f"{name} = {sql}" for name, (_, sql) in NEXT_CONTACT_FACTS.items()
                       if name in kept)
    con.execute(f"UPDATE {table} b SET {filled} FROM {following} s "
                "WHERE b.conversation_id = s.conversation_id")
    con.execute(f"DROP TABLE {following}")
    for name in helpers:
        con.execute(f"ALTER TABLE {table} DROP COLUMN {name}")


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
    FROM events
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
    FROM conversation_attrs c
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
