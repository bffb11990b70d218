"""Conversation facts in the portable subset: the same FACT_COLUMNS as auditor/facts.py.

auditor/facts_duckdb.py is the fast DuckDB form the local run uses (lists, ASOF, list_reduce);
this is the form every engine runs, proven equal to it by tests/test_warehouse_equivalence.py.
Each stage is one CREATE TABLE, so no engine recomputes a shared intermediate result:

    fact_events    events with the phrase flags (one regular-expression pass)
    fact_conv      one aggregate per conversation
    fact_base      + conversation attributes and "first customer message after T" (second pass)
    fact_next      the same customer's next conversation (a window walk, ties: smaller id)
    fact_wptr/fact_windows, fact_sptr/fact_sessions
                   greedy windows and sessions: "next start >= t + W" pointers walked by a
                   recursive CTE
    facts          the FACT_COLUMNS, cast to their declared types
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import NamedTuple

from sqlglot import exp

from auditor.facts import FACT_COLUMNS, FACT_NAMES, FactParams
from auditor.warehouse import lint

HOUR = "CAST(AUD_SECONDS({a}, {b}) AS DOUBLE) / 3600.0"


class Statement(NamedTuple):
    table: str  # the table (or view) it creates, prefix included
    select: exp.Expression  # a linted portable SELECT
    phrases: dict[str, list[str]] | None = None  # the lists its AUD_MATCH calls name


def _hours(a: str, b: str) -> str:
    return HOUR.format(a=a, b=b)


FACT_EVENTS = """
SELECT conversation_id, created_at, actor_role, event_type, rating, actor_id, channel,
    is_message, is_customer_message, asks_for_human, is_negative,
    CASE WHEN is_customer_message AND LENGTH(TRIM(customer_text)) <= {max_chars}
              AND NOT asks_for_human AND NOT AUD_CONTAINS(customer_text, '?')
         THEN COALESCE(AUD_MATCH(customer_text, 'confirmation'), FALSE) ELSE FALSE END
        AS is_confirmation
FROM (
    SELECT conversation_id, created_at, actor_role, event_type, rating, actor_id, channel,
        is_message, is_customer_message, customer_text,
        CASE WHEN has_phrase THEN COALESCE(AUD_MATCH(customer_text, 'human'), FALSE)
             ELSE FALSE END AS asks_for_human,
        CASE WHEN has_phrase THEN COALESCE(AUD_MATCH(customer_text, 'negative'), FALSE)
             ELSE FALSE END AS is_negative
    FROM (
        SELECT conversation_id, created_at, actor_role, event_type, rating, actor_id, channel,
            is_message, is_customer_message, customer_text,
            COALESCE(AUD_MATCH(customer_text, 'human_or_negative'), FALSE) AS has_phrase
        FROM (
            SELECT conversation_id, created_at, actor_role, event_type, rating, actor_id,
                channel, event_type = 'message' AS is_message,
                event_type = 'message' AND actor_role = 'customer' AS is_customer_message,
                CASE WHEN event_type = 'message' AND actor_role = 'customer'
                     THEN COALESCE(body, '') END AS customer_text
            FROM {events}
        ) AS texts
    ) AS phrased
) AS flagged
"""

FACT_CONV = """
SELECT conversation_id,
    COUNT(*) AS n_events,
    COUNT(CASE WHEN is_customer_message THEN 1 END) AS n_customer_messages,
    COUNT(CASE WHEN is_message AND actor_role = 'ai_agent' THEN 1 END) AS n_ai_messages,
    COUNT(CASE WHEN is_message AND actor_role = 'bot' THEN 1 END) AS n_bot_messages,
    COUNT(CASE WHEN is_message AND actor_role = 'human_agent' THEN 1 END) AS n_human_messages,
    COUNT(CASE WHEN event_type = 'note' THEN 1 END) AS n_notes,
    COUNT(CASE WHEN event_type = 'handoff' THEN 1 END) AS n_handoffs,
    COUNT(CASE WHEN event_type = 'assignment' THEN 1 END) AS n_assignments,
    COUNT(CASE WHEN event_type = 'close' THEN 1 END) AS n_closes,
    COUNT(CASE WHEN event_type = 'reopen' THEN 1 END) AS n_reopen_events,
    COUNT(CASE WHEN event_type = 'rating' THEN 1 END) AS n_ratings,
    MIN(created_at) AS first_event_at,
    MAX(created_at) AS last_event_at,
    MIN(CASE WHEN is_customer_message THEN created_at END) AS first_customer_message_at,
    MAX(CASE WHEN is_customer_message THEN created_at END) AS last_customer_message_at,
    MIN(CASE WHEN is_message AND actor_role = 'ai_agent' THEN created_at END)
        AS first_ai_message_at,
    MAX(CASE WHEN is_message AND actor_role = 'ai_agent' THEN created_at END)
        AS last_ai_message_at,
    MIN(CASE WHEN is_message AND actor_role = 'human_agent' THEN created_at END)
        AS first_human_message_at,
    MAX(CASE WHEN is_message AND actor_role = 'human_agent' THEN created_at END)
        AS last_human_message_at,
    MIN(CASE WHEN event_type = 'handoff' THEN created_at END) AS first_handoff_at,
    MAX(CASE WHEN event_type = 'handoff' THEN created_at END) AS last_handoff_at,
    MIN(CASE WHEN event_type = 'close' THEN created_at END) AS first_close_at,
    MAX(CASE WHEN event_type = 'close' THEN created_at END) AS last_close_at,
    MIN(CASE WHEN event_type = 'reopen' THEN created_at END) AS first_reopen_at,
    MIN(CASE WHEN asks_for_human THEN created_at END) AS first_human_request_at,
    MAX(CASE WHEN is_message THEN created_at END) AS last_message_at,
    MAX(CASE WHEN is_message AND actor_role = 'bot' THEN created_at END) AS last_bot_message_at,
    MIN(rating) AS min_rating,
    MAX(rating) AS max_rating,
    -- The latest rating; a same-instant tie goes to the higher one (rating < 8).
    MAX(CASE WHEN rating IS NOT NULL THEN AUD_EPOCH_US(created_at) * 8 + rating END)
        AS last_rating_key,
    MIN(AUD_TEXT(CASE WHEN is_customer_message THEN actor_id END)) AS first_customer_actor_id,
    MIN(AUD_TEXT(channel)) AS first_channel,
    MAX(CASE WHEN is_customer_message AND NOT is_confirmation THEN created_at END)
        AS last_unconfirming_message_at,
    MAX(CASE WHEN is_confirmation THEN created_at END) AS last_confirmation_at,
    MAX(CASE WHEN is_negative THEN created_at END) AS last_negative_at
FROM {p}fact_events
GROUP BY conversation_id
"""

FACT_BASE = """
WITH after_times AS (
    -- First customer message after a per-conversation time: a second pass over the messages.
    SELECT e.conversation_id,
        MIN(CASE WHEN e.created_at > c.last_ai_message_at THEN e.created_at END)
            AS first_reply_after_last_ai_at,
        MIN(CASE WHEN NOT e.is_confirmation AND e.created_at > c.last_ai_message_at
                 THEN e.created_at END) AS first_followup_after_last_ai_at,
        MIN(CASE WHEN e.created_at > c.first_close_at THEN e.created_at END)
            AS first_customer_message_after_close_at
    FROM {p}fact_events AS e
    JOIN {p}fact_conv AS c ON e.conversation_id = c.conversation_id
    WHERE e.is_customer_message
      AND (e.created_at > c.last_ai_message_at OR e.created_at > c.first_close_at)
    GROUP BY e.conversation_id
),
p AS (
    SELECT c.*, a.first_reply_after_last_ai_at, a.first_followup_after_last_ai_at,
        a.first_customer_message_after_close_at,
        CASE WHEN c.last_unconfirming_message_at > c.last_ai_message_at
              AND COALESCE(c.last_unconfirming_message_at > c.last_human_message_at, TRUE)
             THEN c.last_unconfirming_message_at END AS unanswered_followup_at
    FROM {p}fact_conv AS c
    LEFT JOIN after_times AS a ON a.conversation_id = c.conversation_id
)
SELECT COALESCE(c.conversation_id, p.conversation_id) AS conversation_id,
    COALESCE(c.customer_id, p.first_customer_actor_id) AS customer_id,
    COALESCE(c.channel, p.first_channel) AS channel,
    c.vendor_label, c.vendor_state, COALESCE(c.is_preview, FALSE) AS is_preview,
    c.ai_answered,
    COALESCE(p.n_events, 0) AS n_events,
    COALESCE(p.n_customer_messages, 0) AS n_customer_messages,
    COALESCE(p.n_ai_messages, 0) AS n_ai_messages,
    COALESCE(p.n_bot_messages, 0) AS n_bot_messages,
    COALESCE(p.n_human_messages, 0) AS n_human_messages,
    COALESCE(p.n_notes, 0) AS n_notes,
    COALESCE(p.n_handoffs, 0) AS n_handoffs,
    COALESCE(p.n_assignments, 0) AS n_assignments,
    COALESCE(p.n_closes, 0) AS n_closes,
    COALESCE(p.n_reopen_events, 0) AS n_reopen_events,
    COALESCE(p.n_ratings, 0) AS n_ratings,
    p.first_event_at, p.last_event_at,
    p.first_customer_message_at, p.last_customer_message_at,
    p.first_ai_message_at, p.last_ai_message_at,
    p.first_human_message_at, p.last_human_message_at,
    p.first_handoff_at, p.last_handoff_at, p.first_close_at, p.last_close_at,
    COALESCE(p.n_ai_messages, 0) > 0 AS has_ai_message,
    COALESCE(p.n_human_messages, 0) > 0 AS has_human_message,
    COALESCE(p.last_human_message_at > p.first_ai_message_at, FALSE) AS human_after_ai,
    COALESCE(p.last_ai_message_at > p.first_human_message_at, FALSE) AS ai_after_human,
    CASE WHEN p.last_message_at IS NULL THEN NULL
         WHEN p.last_ai_message_at = p.last_message_at THEN 'ai_agent'
         WHEN p.last_human_message_at = p.last_message_at THEN 'human_agent'
         WHEN p.last_customer_message_at = p.last_message_at THEN 'customer'
         WHEN p.last_bot_message_at = p.last_message_at THEN 'bot'
         ELSE 'system' END AS last_message_role,
    COALESCE(p.n_handoffs, 0) > 0 AS has_handoff,
    COALESCE(p.last_handoff_at >= p.last_ai_message_at, FALSE) AS handoff_after_last_ai,
    p.first_human_request_at IS NOT NULL AS customer_asked_for_human,
    p.first_human_request_at,
    COALESCE(p.last_customer_message_at > p.last_ai_message_at, FALSE)
        AS customer_wrote_after_last_ai,
    COALESCE(p.last_customer_message_at > p.last_ai_message_at
             AND NOT COALESCE(p.last_unconfirming_message_at > p.last_ai_message_at, FALSE),
             FALSE) AS customer_confirmed_after_last_ai,
    COALESCE(p.last_confirmation_at > p.first_ai_message_at, FALSE)
        AS customer_confirmed_after_first_ai,
    COALESCE(p.last_unconfirming_message_at > p.last_ai_message_at, FALSE)
        AS customer_followup_after_last_ai,
    p.unanswered_followup_at IS NOT NULL AS customer_followup_unanswered,
    p.unanswered_followup_at,
    p.first_reply_after_last_ai_at,
    p.first_followup_after_last_ai_at,
    {hours_to_followup} AS hours_to_followup_after_last_ai,
    COALESCE(p.last_negative_at > p.first_ai_message_at, FALSE) AS customer_reacted_negatively,
    {hours_after_last_ai} AS hours_observed_after_last_ai,
    {hours_after_last_event} AS hours_observed_after_last_event,
    {hours_after_first_customer} AS hours_observed_after_first_customer_message,
    COALESCE(p.n_reopen_events, 0) > 0 OR p.first_customer_message_after_close_at IS NOT NULL
        AS reopened,
    AUD_LEAST(p.first_reopen_at, p.first_customer_message_after_close_at) AS reopened_at,
    p.min_rating, p.max_rating,
    CAST(p.last_rating_key % 8 AS INT) AS last_rating,
    COALESCE(p.n_customer_messages, 0) = 0 AS no_customer_message
FROM {attrs} AS c
FULL JOIN p ON c.conversation_id = p.conversation_id
CROSS JOIN (SELECT {ends_at} AS export_ends_at) AS x
"""

# Repeat contacts. Each customer's conversation starts and "probes" (its AI's last message) in
# one time order, starts before probes at the same instant (the next contact starts strictly
# after); a probe's next contact is the first start after it. Ties between starts at the same
# instant go to the smaller conversation id, in byte order.
FACT_NEXT = """
WITH who AS (
    SELECT conversation_id, customer_id, first_event_at,
        AUD_EPOCH_US(first_event_at) AS start_us, AUD_EPOCH_US(last_ai_message_at) AS probe_us
    FROM {p}fact_base
    WHERE customer_id IS NOT NULL
),
seq AS (
    SELECT customer_id, start_us AS t, 0 AS kind, conversation_id, first_event_at AS started_at
    FROM who WHERE start_us IS NOT NULL
    UNION ALL
    SELECT customer_id, probe_us AS t, 1 AS kind, conversation_id,
        CAST(NULL AS TIMESTAMP) AS started_at
    FROM who WHERE probe_us IS NOT NULL
),
ranked AS (
    SELECT customer_id, kind, conversation_id, started_at,
        ROW_NUMBER() OVER (PARTITION BY customer_id
                           ORDER BY t, kind, AUD_TEXT(conversation_id)) AS pos
    FROM seq
),
pointed AS (
    SELECT customer_id, kind, conversation_id,
        MIN(CASE WHEN kind = 0 THEN pos END) OVER (
            PARTITION BY customer_id ORDER BY pos
            ROWS BETWEEN CURRENT ROW AND UNBOUNDED FOLLOWING) AS next_pos
    FROM ranked
)
SELECT q.conversation_id, r.conversation_id AS next_contact_conversation_id,
    r.started_at AS next_contact_at
FROM pointed AS q
JOIN ranked AS r ON r.customer_id = q.customer_id AND r.pos = q.next_pos
WHERE q.kind = 1
"""

# Greedy chains (windows, sessions): every start gets a pointer to the first start at or after
# its own time + the length; the chain from the first start is walked by a recursive CTE.
CHAIN_POINTERS = """
WITH starts AS (
    {starts}
),
numbered AS (
    SELECT grp, t, member, ROW_NUMBER() OVER (PARTITION BY grp ORDER BY t, AUD_TEXT(member))
        AS pos
    FROM starts
),
seq AS (
    SELECT grp, t, 1 AS kind, pos, member FROM numbered
    UNION ALL
    SELECT grp, t + {length_us} AS t, 0 AS kind, pos, member FROM numbered
),
pointed AS (
    SELECT grp, kind, pos, member,
        MIN(CASE WHEN kind = 1 THEN pos END) OVER (
            PARTITION BY grp ORDER BY t, kind, pos
            ROWS BETWEEN CURRENT ROW AND UNBOUNDED FOLLOWING) AS next_pos
    FROM seq
)
SELECT grp, pos, member, next_pos FROM pointed WHERE kind = 0
"""

CHAIN_WALK = """
WITH RECURSIVE chain (grp, pos) AS (
    SELECT grp, pos FROM {p}{pointers} WHERE pos = 1
    UNION ALL
    SELECT q.grp, q.next_pos FROM chain AS c
    JOIN {p}{pointers} AS q ON q.grp = c.grp AND q.pos = c.pos
    WHERE q.next_pos IS NOT NULL
)
SELECT q.member AS conversation_id, COUNT(*) AS n
FROM chain AS c JOIN {p}{pointers} AS q ON q.grp = c.grp AND q.pos = c.pos
GROUP BY q.member
"""

WINDOW_STARTS = """
    SELECT conversation_id AS grp, AUD_EPOCH_US(created_at) AS t, conversation_id AS member
    FROM {p}fact_events WHERE is_customer_message
    UNION ALL
    SELECT conversation_id AS grp, AUD_EPOCH_US(first_ai_message_at) AS t,
        conversation_id AS member
    FROM {p}fact_base
    WHERE first_ai_message_at IS NOT NULL
      AND (first_customer_message_at IS NULL OR first_ai_message_at < first_customer_message_at)
"""

# A customer's interactions with the AI: its messages, and the customer's messages up to the
# AI's last one, in any of the customer's conversations (no customer: the conversation alone).
SESSION_STARTS = """
    SELECT COALESCE(b.customer_id, '#' || b.conversation_id) AS grp,
        AUD_EPOCH_US(e.created_at) AS t, e.conversation_id AS member
    FROM {p}fact_events AS e
    JOIN {p}fact_base AS b ON e.conversation_id = b.conversation_id
    WHERE b.has_ai_message AND e.is_message
      AND (e.actor_role = 'ai_agent'
           OR (e.actor_role = 'customer' AND e.created_at <= b.last_ai_message_at))
"""

FACTS_SELECT = {
    "next_contact_conversation_id": "n.next_contact_conversation_id",
    "next_contact_at": "n.next_contact_at",
    "hours_to_next_contact": _hours("b.last_ai_message_at", "n.next_contact_at"),
    "conversation_windows": "COALESCE(w.n, 0)",
    "customer_sessions_started": "COALESCE(s.n, 0)",
}
JOINS = {
    "fact_next": ("n", ("next_contact_conversation_id", "next_contact_at",
                        "hours_to_next_contact")),
    "fact_windows": ("w", ("conversation_windows",)),
    "fact_sessions": ("s", ("customer_sessions_started",)),
}
PORTABLE_TYPES = {"VARCHAR": "VARCHAR", "BIGINT": "BIGINT", "BOOLEAN": "BOOLEAN",
                  "TIMESTAMP": "TIMESTAMP", "DOUBLE": "DOUBLE", "INTEGER": "INT"}


def phrase_lists(params: FactParams) -> dict[str, list[str]]:
    """The phrase lists AUD_MATCH refers to by name."""
    return {"human": params.human_request_phrases,
            "negative": params.negative_reaction_phrases,
            "human_or_negative": params.human_request_phrases + params.negative_reaction_phrases,
            "confirmation": params.confirmation_phrases}


def _ends_at(events: str, ends_at: datetime | None) -> str:
    if ends_at is None:
        return f"(SELECT MAX(created_at) FROM {events})"
    return f"CAST('{ends_at.isoformat(sep=' ')}' AS TIMESTAMP)"


def fact_statements(params: FactParams, *, events: str, attrs: str, prefix: str, out: str,
                    columns: Collection[str] | None = None,
                    ends_at: datetime | None = None) -> list[Statement]:
    """The statements building table `out` (FACT_COLUMNS, or `columns` and conversation_id)
    from the validated `events` and conversation attribute tables; intermediate tables are
    named `prefix` + fact_*. Their phrase lists come from `phrase_lists(params)`."""
    kept = [f for f in FACT_COLUMNS
            if columns is None or f.name in columns or f.name == "conversation_id"]
    unknown = set(columns or ()) - FACT_NAMES
    if unknown:
        raise ValueError(f"not fact columns: {', '.join(sorted(unknown))}")
    names = {f.name for f in kept}
    end = "x.export_ends_at"
    values = dict(p=prefix, events=events, attrs=attrs, max_chars=int(params.confirmation_max_chars),
                  ends_at=_ends_at(events, ends_at),
                  hours_to_followup=_hours("p.last_ai_message_at",
                                           "p.first_followup_after_last_ai_at"),
                  hours_after_last_ai=_hours("p.last_ai_message_at", end),
                  hours_after_last_event=_hours("p.last_event_at", end),
                  hours_after_first_customer=_hours(
                      "COALESCE(p.first_customer_message_at, p.first_event_at)", end))
    statements = [Statement(f"{prefix}fact_events", lint.parse(FACT_EVENTS.format(**values))),
                  Statement(f"{prefix}fact_conv", lint.parse(FACT_CONV.format(**values))),
                  Statement(f"{prefix}fact_base", lint.parse(FACT_BASE.format(**values)))]
    joined = [t for t, (_, facts) in JOINS.items() if names & set(facts)]
    if "fact_next" in joined:
        statements.append(Statement(f"{prefix}fact_next", lint.parse(FACT_NEXT.format(**values))))
    for table, starts, length in (("windows", WINDOW_STARTS, params.window_hours),
                                  ("sessions", SESSION_STARTS, params.session_hours)):
        if f"fact_{table}" not in joined:
            continue
        pointers = f"fact_{table[0]}ptr"
        statements.append(Statement(f"{prefix}{pointers}", lint.parse(CHAIN_POINTERS.format(
            starts=starts.format(p=prefix), length_us=round(length * 3_600_000_000), p=prefix))))
        statements.append(Statement(f"{prefix}fact_{table}", lint.parse(
            CHAIN_WALK.format(p=prefix, pointers=pointers))))
    statements.append(Statement(out, lint.parse(_final_select(kept, joined, prefix))))
    phrases = phrase_lists(params)
    return [s._replace(phrases=phrases) for s in statements]


def _final_select(kept: list, joined: list[str], prefix: str) -> str:
    expressions = []
    for fact in kept:
        value = FACTS_SELECT.get(fact.name, f"b.{fact.name}")
        expressions.append(f"CAST({value} AS {PORTABLE_TYPES[fact.sql_type]}) AS {fact.name}")
    joins = " ".join(f"LEFT JOIN {prefix}{table} AS {JOINS[table][0]} "
                     f"ON {JOINS[table][0]}.conversation_id = b.conversation_id"
                     for table in joined)
    return f"SELECT {', '.join(expressions)}\nFROM {prefix}fact_base AS b {joins}"
