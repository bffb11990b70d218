"""Conversation facts: one row per conversation, computed in DuckDB (auditor/facts_duckdb.py).

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

from auditor.conversation_ranges import EVERYTHING, conversation_ranges
from auditor.engine import scalar
from auditor.facts_duckdb import (
    NEXT_CONTACT_FACTS,
    NEXT_CONTACT_INPUTS,
    NEXT_CONTACT_SQL,
    facts_query,
)


class Fact(NamedTuple):
    name: str
    sql_type: str
    meaning: str


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
        _write_by_ranges(con, table, params, kept, ends_at)
        return
    # Repeat contacts are filled in afterwards, from the table: in one statement the wide
    # per-conversation rows stay materialised while the ASOF join sorts and its result is
    # joined back, and at 10M conversations all of it spills (the facts took 102 s so, 86 s
    # this way; joining the next contacts into a second table instead of an UPDATE: 93 s).
    helpers = [n for n in NEXT_CONTACT_INPUTS if n not in kept]
    _write_by_ranges(con, table, params, kept + helpers, ends_at)
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


def _write_by_ranges(con: duckdb.DuckDBPyConnection, table: str, params: FactParams,
                     columns: list[str], ends_at: datetime | None) -> None:
    """`table` with the facts `columns`, written one range of conversation ids at a time when
    the export's files allow it (auditor/conversation_ranges.py); sessions span a customer's
    conversations, so they are computed over all of them at once."""
    ranges = EVERYTHING if "customer_sessions_started" in columns else conversation_ranges(con)
    if len(ranges) == 1:
        con.execute(f"CREATE OR REPLACE TABLE {table} AS "
                    f"{facts_query(params, columns, ends_at)}")
        return
    if ends_at is None:  # once, not once per range
        ends_at = last_event_at(con)
    counted = columns if "n_events" in columns else [*columns, "n_events"]
    for number, ids in enumerate(ranges):
        query = facts_query(params, counted, ends_at, within=ids.condition())
        con.execute(f"CREATE OR REPLACE TABLE {table} AS {query}" if number == 0
                    else f"INSERT INTO {table} {query}")
    # Each range reads only the row groups the files' statistics place it in: statistics a
    # writer got wrong would leave events out, so the ranges must add up to every event.
    if scalar(con, f"SELECT coalesce(sum(n_events), 0) = (SELECT events FROM event_count) "
                   f"FROM {table}") is not True:
        con.execute(f"CREATE OR REPLACE TABLE {table} AS "
                    f"{facts_query(params, counted, ends_at)}")
    if "n_events" not in columns:
        con.execute(f"ALTER TABLE {table} DROP COLUMN n_events")


def last_event_at(con: duckdb.DuckDBPyConnection) -> datetime | None:
    """The export's last event (the default end of observation); None without events."""
    found = scalar(con, "SELECT max(created_at) FROM events")
    return found if isinstance(found, datetime) else None
