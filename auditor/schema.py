"""The canonical event log: the one schema every source adapter converts into.

Warehouse users can write these tables themselves (CSV, Parquet or JSONL) and audit them with
`--format canonical`. docs/canonical-schema.md documents the same columns for people; a test
checks that the two stay in sync.
"""

from __future__ import annotations

from typing import NamedTuple


class Column(NamedTuple):
    name: str
    sql_type: str
    required: bool
    meaning: str


ACTOR_ROLES: tuple[str, ...] = ("customer", "ai_agent", "bot", "human_agent", "system")
EVENT_TYPES: tuple[str, ...] = (
    "message", "note", "handoff", "assignment", "close", "reopen", "rating", "other",
)
# The vendor's own conversation label, normalised to one vocabulary across vendors and API
# versions (Intercom <= 2.14 `routed_to_team` -> `escalated`, `abandoned` -> `negative_feedback`;
# Zendesk's and Ada's "automated resolution" / "Resolved" -> `automated_resolution`, Ada's
# "Not Resolved" -> `not_resolved`).
VENDOR_STATES: tuple[str, ...] = (
    "assumed_resolution", "confirmed_resolution", "escalated", "negative_feedback",
    "procedure_handoff", "automated_resolution", "not_resolved",
)

# Vendors' verbatim labels (lower-cased) that mean a state, for exports that carry only the label
# (vendor_label) and no vendor_state: any source, the canonical format included.
LABEL_STATES: dict[str, str] = {
    "assumed_resolution": "assumed_resolution",
    "confirmed_resolution": "confirmed_resolution",
    "routed_to_team": "escalated",  # Intercom <= 2.14
    "abandoned": "negative_feedback",  # Intercom <= 2.14
    "escalated": "escalated",
    "negative_feedback": "negative_feedback",
    "procedure_handoff": "procedure_handoff",
    "resolved": "automated_resolution",  # Ada automated_resolution_classification
    "not resolved": "not_resolved",  # Ada
    "automated_resolution": "automated_resolution",  # Zendesk
    "automated resolution": "automated_resolution",
}

EVENT_COLUMNS: tuple[Column, ...] = (
    Column("conversation_id", "VARCHAR", True, "Conversation (ticket, thread) the event belongs to."),
    Column("event_id", "VARCHAR", False,
           "Unique within a conversation; derived deterministically when absent."),
    Column("created_at", "TIMESTAMP", True,
           "When it happened, UTC. ISO 8601 with offset or Z (naive means UTC), or epoch seconds."),
    Column("actor_role", "VARCHAR", True,
           "customer, ai_agent, bot, human_agent or system. bot = non-AI automation "
           "(workflows, auto-replies)."),
    Column("actor_id", "VARCHAR", False,
           "Who acted. For customers it identifies the customer across conversations."),
    Column("event_type", "VARCHAR", True,
           "message (customer-visible), note (internal), handoff (routed from the AI to a human "
           "or team), assignment, close, reopen, rating or other."),
    Column("body", "VARCHAR", False, "Text of a message or note (HTML tags removed by adapters)."),
    Column("rating", "INTEGER", False, "1-5, on rating events."),
    Column("channel", "VARCHAR", False, "Channel the event came through (chat, email, ...)."),
    # LLM usage, for pricing under per-token plans (auditor price); absent means estimated
    # from the message text (docs/pricing-plans.md).
    Column("tokens_in", "BIGINT", False,
           "On an AI message: input (prompt) tokens the model read to write it, the resent "
           "conversation history and instructions included. A whole number, 0 or more."),
    Column("tokens_out", "BIGINT", False,
           "On an AI message: output tokens of the message. A whole number, 0 or more."),
    Column("tokens_reasoning", "BIGINT", False,
           "On an AI message: reasoning (thinking) tokens the model used and did not show. A "
           "whole number, 0 or more."),
)

# Token columns are read as text and checked in validation, so a bad value quarantines one
# record instead of failing a whole file.
TOKEN_COLUMNS: tuple[str, ...] = ("tokens_in", "tokens_out", "tokens_reasoning")

CONVERSATION_COLUMNS: tuple[Column, ...] = (
    Column("conversation_id", "VARCHAR", True, "Joins to the event log."),
    Column("customer_id", "VARCHAR", False,
           "The customer; when absent, the actor_id of the conversation's first customer event."),
    Column("channel", "VARCHAR", False, "Channel the conversation started in."),
    Column("vendor_label", "VARCHAR", False,
           "The vendor's own resolution label, verbatim (e.g. Intercom ai_agent.resolution_state)."),
    Column("vendor_state", "VARCHAR", False,
           "vendor_label normalised to: " + ", ".join(VENDOR_STATES) + ". When absent, known "
           "labels are normalised for you (Intercom's resolution_state, Ada's Resolved / Not "
           "Resolved, Zendesk's automated resolution); see LABEL_STATES in auditor/schema.py."),
    Column("is_preview", "BOOLEAN", False,
           "Vendor preview or test traffic (Intercom ai_agent.source_type fin_preview / "
           "workflow_preview). Absent means false."),
    Column("ai_answered", "BOOLEAN", False,
           "The vendor says its AI delivered an actual answer (Intercom: ai_agent.last_answer_type "
           "is set). false: it only greeted or asked; absent: the export does not say."),
)

# Columns every adapter writes into the staging tables besides the canonical ones, so a bad row
# can be traced back to its file and record.
LINEAGE_COLUMNS: tuple[Column, ...] = (
    Column("source_file", "VARCHAR", True, "Input file the row came from (as given by the user)."),
    Column("source_record", "VARCHAR", True, "Where in that file: 'line 12', 'record 3', ..."),
    Column("source_ord", "BIGINT", True, "Ordinal of the row in its file; keeps ids deterministic."),
)


def column_names(columns: tuple[Column, ...]) -> list[str]:
    return [c.name for c in columns]


def required_names(columns: tuple[Column, ...]) -> list[str]:
    return [c.name for c in columns if c.required]
