"""The Zendesk mapping table: what each Zendesk field becomes in the canonical event log.

docs/zendesk-mapping.md shows the same table (a test keeps them equal). The CASE expressions of
the adapter's SQL macros are generated from it, so the documentation cannot drift from the code.
"""

from __future__ import annotations

from typing import NamedTuple

from auditor.engine import sql_string


class Rule(NamedTuple):
    """One row of the mapping table; for a (field, column), the first matching row wins.

    value: a literal (case-insensitive), `x*` (starts with x), `*x*` (contains x), `(missing)`
    (null or empty), `(any)` (anything, including missing) or `(other)` (same as `(any)`, read as
    "any value no earlier row matched"). Rows whose result is `(copied)` or `(as text)` document
    a plain copy done in zendesk_sql.
    when: a condition name from CONDITIONS, or "" for none.
    """

    field: str
    value: str
    column: str
    result: str
    when: str = ""


# Conditions of the `when` column as SQL over the macro parameters (see zendesk_sql.macros);
# None: applied where the rows are built (zendesk_sql), documented here.
CONDITIONS: dict[str, str | None] = {
    "named by --ai-agent-id": "author IN ({ai_agent_ids})",
    "display name contains bot": "coalesce(aname, '') ILIKE '%bot%'",
    "user with another role": "coalesce(urole, '') <> ''",
    "the ticket's requester": "requester",
    "AI-agent ticket": "ai_ticket",
    "previous status solved or closed": "lower(coalesce(previous, '')) IN ('solved', 'closed')",
    "an AI message since the last assignment to someone else; not to the AI agent": None,
    "no comments and no chat messages": None,
    "no public comments on the ticket": None,
    "above 0, no status change for the ticket": None,
    "no satisfaction_score change": None,
}

_ANY, _OTHER, _MISSING = "(any)", "(other)", "(missing)"
AI_AGENT_NAMES = ("Zendesk AI agent", "Answer Bot", "AI agent")
# Zendesk AI agent statuses (ticket tags or custom field values), normalised: lower case, spaces
# and hyphens as `_`, an `ai_agent_` or `ai_agent_status_` prefix dropped.
AI_STATUSES: dict[str, str] = {
    "automated_resolution": "automated_resolution", "bot_handled": "automated_resolution",
    "answered": "automated_resolution",
    "agent_escalation": "escalated", "custom_escalation": "escalated",
    "email_escalation": "escalated", "escalated": "escalated",
    "escalation_failed": "not_resolved", "not_understood": "not_resolved",
    "recognized_intent": "not_resolved", "processed": "not_resolved", "no_status": "not_resolved",
}
# When a ticket carries several statuses, the first state here wins (an escalation is final).
STATE_PRIORITY = ("escalated", "not_resolved", "automated_resolution")

MAPPING: tuple[Rule, ...] = (
    # The conversation row: one per ticket.
    Rule("ticket.id", _ANY, "conversation_id", "(as text)"),
    Rule("ticket.requester_id", _ANY, "customer_id", "(as text)"),
    Rule("ticket.via.channel", _ANY, "channel", "(copied)", "also on every event"),
    Rule("ticket.via_channel", _ANY, "channel", "(copied)", "Fivetran: via_channel"),
    Rule("ticket.via.channel", "sample_ticket", "is_preview", "true"),
    Rule("ticket.via.channel", _OTHER, "is_preview", "false"),
    Rule("AI agent status", _ANY, "vendor_label", "(copied)"),
    *(Rule("AI agent status", label, "vendor_state", state)
      for label, state in AI_STATUSES.items()),
    # Who acted: the author of a comment, chat event or change (first matching row wins).
    Rule("author_id", _ANY, "actor_role", "ai_agent", "named by --ai-agent-id"),
    *(Rule("user.name", name, "actor_role", "ai_agent") for name in AI_AGENT_NAMES),
    Rule("author_id", _ANY, "actor_role", "customer", "the ticket's requester"),
    Rule("via.channel", "answer_bot*", "actor_role", "ai_agent"),
    *(Rule("via.channel", str(via_id), "actor_role", "ai_agent") for via_id in range(63, 68)),
    Rule("original_message.source.type", "zd:answerBot", "actor_role", "ai_agent"),
    Rule("original_message.author.type", "business", "actor_role", "ai_agent",
         "display name contains bot"),
    Rule("author_id", "-1", "actor_role", "system"),
    Rule("author_id", "__system", "actor_role", "system"),
    Rule("author_id", "__trigger", "actor_role", "bot"),
    Rule("via.channel", "rule", "actor_role", "bot"),
    Rule("via.source.rel", "trigger", "actor_role", "bot"),
    Rule("via.source.rel", "automation", "actor_role", "bot"),
    Rule("original_message.author.type", "business", "actor_role", "human_agent"),
    Rule("original_message.author.type", "user", "actor_role", "customer"),
    Rule("user.role", "end-user", "actor_role", "customer"),
    Rule("user.role", "not set", "actor_role", "customer"),
    Rule("user.role", "agent", "actor_role", "human_agent"),
    Rule("user.role", "admin", "actor_role", "human_agent"),
    Rule("user.role", _OTHER, "actor_role", "(quarantine)", "user with another role"),
    Rule("author_id", _MISSING, "actor_role", "system"),
    Rule("author_id", _ANY, "actor_role", "ai_agent", "AI-agent ticket"),
    Rule("author_id", _OTHER, "actor_role", "human_agent"),
    Rule("author_id", _ANY, "actor_id", "(as text)", "agent:<id> without agent:"),
    # What happened: ids, times and texts ...
    Rule("comment.id", _ANY, "event_id", "(as text)"),
    Rule("chat_event.message_id", _ANY, "event_id", "(as text)", "else chat_id#chat_index"),
    Rule("change X", _ANY, "event_id", "X@<time>", "e.g. status@2026-10-03T10:00:00Z"),
    Rule("comment.created_at", _ANY, "created_at", "(timestamp)",
         "Fivetran created; audit events: the audit's"),
    Rule("change X", _ANY, "created_at", "(timestamp)", "Fivetran ticket_field_history.updated"),
    Rule("comment.plain_body", _ANY, "body", "(copied)", "else body, else html_body as text"),
    Rule("chat_event.message", _ANY, "body", "(copied)",
         "else original_message content.text.text"),
    # ... and the event types.
    Rule("comment.public", "false", "event_type", "note"),
    Rule("comment.public", _OTHER, "event_type", "message"),
    Rule("ticket.description", _ANY, "event_type", "message", "no comments and no chat messages"),
    Rule("chat_event.type", "ChatMessage", "event_type", "message",
         "no public comments on the ticket"),
    Rule("chat_event.type", "ChatFileAttachment", "event_type", "message",
         "no public comments on the ticket"),
    Rule("chat_event.type", "ChatDepartmentTransfer", "event_type", "assignment",
         "no public comments on the ticket"),
    Rule("chat_event.type", _OTHER, "event_type", "other", "no public comments on the ticket"),
    Rule("change status", "solved", "event_type", "close"),
    Rule("change status", "closed", "event_type", "other", "previous status solved or closed"),
    Rule("change status", "closed", "event_type", "close"),
    Rule("change status", _ANY, "event_type", "reopen", "previous status solved or closed"),
    Rule("change status", _OTHER, "event_type", "other"),
    Rule("change assignee_id", _MISSING, "event_type", "other"),
    Rule("change assignee_id", _OTHER, "event_type", "assignment"),
    Rule("change group_id", _MISSING, "event_type", "other"),
    Rule("change group_id", _OTHER, "event_type", "assignment"),
    Rule("assignment", _ANY, "event_type", "handoff",
         "an AI message since the last assignment to someone else; not to the AI agent"),
    Rule("change satisfaction_score", "good*", "event_type", "rating"),
    Rule("change satisfaction_score", "bad*", "event_type", "rating"),
    Rule("change (other field)", _ANY, "event_type", "other"),
    Rule("ticket_metrics.reopens", _ANY, "event_type", "reopen",
         "above 0, no status change for the ticket"),
    Rule("ticket.satisfaction_rating.score", "good*", "event_type", "rating",
         "no satisfaction_score change"),
    Rule("ticket.satisfaction_rating.score", "bad*", "event_type", "rating",
         "no satisfaction_score change"),
    Rule("satisfaction score", "good*", "rating", "5"),
    Rule("satisfaction score", "bad*", "rating", "1"),
)

# SQL subject of each field in the role CASE (parameters of zd_role, see zendesk_sql.macros).
ROLE_FIELDS: dict[str, str] = {
    "author_id": "author", "via.channel": "via", "via.source.rel": "rel",
    "original_message.source.type": "src", "original_message.author.type": "atype",
    "user.name": "uname", "user.role": "urole",
}
# Acts (zendesk_sql.ACTS rows) each event-type field applies to; `change X` rows test field X.
ACT_OF_FIELD: dict[str, str] = {
    "comment.public": "comment", "ticket.description": "description",
    "chat_event.type": "chat", "ticket_metrics.reopens": "metrics",
    "ticket.satisfaction_rating.score": "satisfaction",
}
ACT_SUBJECT: dict[str, str] = {"comment": "public", "chat": "chat_type",
                               "satisfaction": "value", "change": "value"}


def match(subject: str, value: str) -> str:
    """SQL that is true when `subject` matches a table value."""
    if value in (_ANY, _OTHER):
        return "true"
    if value == _MISSING:
        return f"coalesce({subject}, '') = ''"
    pattern = value.replace("*", "%")
    if "*" in value:
        return f"lower({subject}) LIKE {sql_string(pattern.lower())}"
    return f"lower({subject}) = {sql_string(value.lower())}"


def _case(rules: list[Rule], test: dict[Rule, str], results: dict[str, str]) -> str:
    whens = []
    for rule in rules:
        condition = CONDITIONS.get(rule.when) if rule.when else None
        full = test[rule] + (f" AND ({condition})" if condition else "")
        whens.append(f"WHEN {full} THEN {results.get(rule.result, sql_string(rule.result))}")
    return "CASE " + " ".join(whens) + " END"


def role_rules() -> list[Rule]:
    """The actor_role rows, in table order."""
    return [r for r in MAPPING if r.column == "actor_role"]


def role_rule_case(ai_agent_ids: list[str]) -> str:
    """CASE over zd_role_rule's parameters: the number (1-based) of the first role row that
    matches. zd_role gives its role, zd_role_how what it says about an AI agent's user."""
    whens = []
    for number, rule in enumerate(role_rules(), 1):
        condition = CONDITIONS.get(rule.when) if rule.when else None
        test = match(ROLE_FIELDS[rule.field], rule.value) + (f" AND ({condition})" if condition
                                                              else "")
        whens.append(f"WHEN {test} THEN {number}")
    ids = ", ".join(sql_string(i) for i in ai_agent_ids)
    case = "CASE " + " ".join(whens) + " END"
    return case.replace("author IN ({ai_agent_ids})", f"author IN ({ids})" if ids else "false")


def role_list() -> str:
    """The role of each role row, as a SQL list (`(quarantine)` rows: NULL)."""
    return "[" + ", ".join("NULL" if r.result == "(quarantine)" else sql_string(r.result)
                           for r in role_rules()) + "]"


def ai_agent_how(rule: Rule) -> str:
    """How a role row tells the AI agent's user, in a few words for reports."""
    if rule.when == "named by --ai-agent-id":
        return "--ai-agent-id"
    if rule.field == "user.name":
        return f"user name '{rule.value}'"
    if rule.when == "AI-agent ticket":
        return "an author not among the users, on an AI-agent ticket"
    return f"{rule.field} {rule.value}" + (f", {rule.when}" if rule.when else "")


def ai_agent_how_list() -> str:
    """ai_agent_how of each role row as a SQL list (NULL for rows of other roles)."""
    return "[" + ", ".join(sql_string(ai_agent_how(r)) if r.result == "ai_agent" else "NULL"
                           for r in role_rules()) + "]"


def _event_type_test(rule: Rule) -> str:
    if rule.field.startswith("change "):
        name = rule.field.removeprefix("change ")
        field_test = "true" if name == "(other field)" else f"field = {sql_string(name)}"
        return f"act = 'change' AND {field_test} AND {match('value', rule.value)}"
    act = ACT_OF_FIELD[rule.field]
    subject = ACT_SUBJECT.get(act)
    return f"act = '{act}'" + (f" AND {match(subject, rule.value)}" if subject else "")


def event_type_case() -> str:
    """CASE over zd_event_type(act, public, chat_type, field, value, previous)."""
    rules = [r for r in MAPPING if r.column == "event_type" and r.field != "assignment"]
    return _case(rules, {r: _event_type_test(r) for r in rules}, {})


def rating_case() -> str:
    rules = [r for r in MAPPING if r.column == "rating"]
    return _case(rules, {r: match("score", r.value) for r in rules}, {
        r.result: r.result for r in rules})


def vendor_state_case() -> str:
    rules = [r for r in MAPPING if r.column == "vendor_state"]
    return _case(rules, {r: match("label", r.value) for r in rules}, {})


def is_preview_case() -> str:
    rules = [r for r in MAPPING if r.column == "is_preview"]
    return _case(rules, {r: match("channel", r.value) for r in rules},
                 {"true": "true", "false": "false"})


def markdown_table() -> str:
    """The table as docs/zendesk-mapping.md shows it."""
    lines = ["| Zendesk field | Zendesk value | canonical column | canonical value | when |",
             "|---|---|---|---|---|"]
    lines += [f"| `{r.field}` | `{r.value}` | `{r.column}` | `{r.result}` | {r.when} |"
              for r in MAPPING]
    return "\n".join(lines)
