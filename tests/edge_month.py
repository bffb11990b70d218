"""An edge-case month in the canonical format: the inputs where engines are most likely to
disagree (sub-second times, equal timestamps, exact 24 h and 72 h boundaries, chains of five
windows, sessions across conversations, non-ASCII text and look-alike words, NULL customers, a
conversation with no AI message), written as canonical CSV files plus a billed list."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import write_csv

EVENT_HEADER = ["conversation_id", "event_id", "created_at", "actor_role", "actor_id",
                "event_type", "body", "rating", "channel"]
CONVERSATION_HEADER = ["conversation_id", "customer_id", "channel", "vendor_label",
                       "vendor_state", "is_preview", "ai_answered"]


def _t(day: int, clock: str) -> str:
    return f"2026-10-{day:02d}T{clock}Z"


def _conversation(cid: str, customer: str | None, day: int, *, ai: str = "Here is how.",
                  reply: str | None = None, extra: list[list[object]] | None = None,
                  start: str = "10:00:00", answer: str = "10:01:00") -> list[list[object]]:
    rows: list[list[object]] = [
        [cid, f"{cid}-1", _t(day, start), "customer", customer or "", "message", "Help please",
         "", "chat"],
        [cid, f"{cid}-2", _t(day, answer), "ai_agent", "fin", "message", ai, "", "chat"],
    ]
    if reply is not None:
        rows.append([cid, f"{cid}-3", _t(day, "10:02:00"), "customer", customer or "", "message",
                     reply, "", "chat"])
    return rows + (extra or [])


def edge_events() -> list[list[object]]:
    rows: list[list[object]] = []
    # Sub-second: the AI at .9 s, the customer's follow-up at 1.1 s (one second boundary).
    rows += [["subsec", "s1", _t(2, "10:00:00.5"), "customer", "cu-sub", "message", "Where?", "", "chat"],
             ["subsec", "s2", _t(2, "10:00:00.900"), "ai_agent", "fin", "message", "There.", "", "chat"],
             ["subsec", "s3", _t(2, "10:00:01.100"), "customer", "cu-sub", "message", "And how?", "", "chat"]]
    # Equal timestamps: a customer message and the AI's at the same instant; two ratings at once.
    rows += [["same", "q1", _t(3, "09:00:00"), "customer", "cu-same", "message", "Hi", "", "chat"],
             ["same", "q2", _t(3, "09:00:00"), "ai_agent", "fin", "message", "Hello", "", "chat"],
             ["same", "q3", _t(3, "09:05:00"), "customer", "cu-same", "rating", "", "2", "chat"],
             ["same", "q4", _t(3, "09:05:00"), "customer", "cu-same", "rating", "", "5", "chat"]]
    # Exactly 72 h between the AI's last message and the same customer's next conversation.
    rows += _conversation("b72-first", "cu-72", 4, answer="10:01:00")
    rows += _conversation("b72-next", "cu-72", 7, start="10:01:00", answer="10:02:00")
    # Exactly 24 h later (Kustomer's new_conversation_hours), and 24 h + 1 s.
    rows += _conversation("b24-first", "cu-24", 8)
    rows += _conversation("b24-next", "cu-24", 9, start="10:01:00", answer="10:03:00")
    rows += _conversation("b24s-first", "cu-24s", 8)
    rows += _conversation("b24s-next", "cu-24s", 9, start="10:01:01", answer="10:03:00")
    # Two next contacts starting at the same instant: the smaller id is the next contact.
    rows += _conversation("tie-a", "cu-tie", 10)
    rows += _conversation("tie-z", "cu-tie", 11, start="08:00:00", answer="08:01:00")
    rows += _conversation("tie-m", "cu-tie", 11, start="08:00:00", answer="08:02:00")
    # Five windows: the customer writes every 24 h exactly.
    rows += [["five", f"v{d}", _t(11 + d, "12:00:00"), "customer", "cu-five", "message",
              f"Question {d}", "", "whatsapp"] for d in range(5)]
    rows += [["five", f"a{d}", _t(11 + d, "12:00:30"), "ai_agent", "fin", "message", "Answer",
              "", "whatsapp"] for d in range(5)]
    # The AI writes first (outbound), the customer 23:59:59 later: one window.
    rows += [["outbound", "o1", _t(17, "10:00:00"), "ai_agent", "fin", "message", "Renewal?", "", "sms"],
             ["outbound", "o2", _t(18, "09:59:59"), "customer", "cu-out", "message", "yes", "", "sms"]]
    # Sessions across conversations of one customer: 10:00, 20:00 (same session), next day 10:00.
    rows += _conversation("sess-1", "cu-sess", 19)
    rows += _conversation("sess-2", "cu-sess", 19, start="20:00:00", answer="20:00:30")
    rows += _conversation("sess-3", "cu-sess", 20, start="10:00:30", answer="10:01:00")
    rows += _conversation("sess-4", "cu-sess", 20, start="10:00:30", answer="10:01:00")
    # Look-alike words and non-ASCII text: only ASCII letters fold, any non-word char bounds.
    looks = {
        "kelvin": "Than\u212as",  # Kelvin sign: not 'thanks'
        "longs": "\u017fure",  # long s: not 'sure'
        "accent": "humané please",  # é is not a word character: 'human' matches
        "plural": "humans are better",  # no match: 's' is a word character
        "upper": "I WANT A HUMAN",
        "curly": "that didn\u2019t help",  # curly apostrophe: not "didn't help"
        "straight": "that didn't help",
        "turkish": "\u0130 need a real person",
        "fullwidth": "\uff28uman",
        "question": "thanks?",  # a question is no confirmation
        "emoji": "thanks \U0001f44d",
        "underscore": "thanks_a_lot",  # '_' is a word character: no match
    }
    for name, text in looks.items():
        rows += _conversation(f"look-{name}", f"cu-{name}", 21, reply=text)
    # NULL customers: no customer id anywhere (sessions per conversation).
    rows += _conversation("nocust-1", None, 22)
    rows += _conversation("nocust-2", None, 22, start="11:00:00", answer="11:00:10")
    # No AI message at all; a human answered.
    rows += [["noai", "n1", _t(23, "10:00:00"), "customer", "cu-noai", "message", "Hi", "", "email"],
             ["noai", "n2", _t(23, "11:00:00"), "human_agent", "agent-1", "message", "Hello", "", "email"]]
    # Reopened after a close, handoff and human reply, ratings.
    rows += _conversation("reopen", "cu-reopen", 24, extra=[
        ["reopen", "r4", _t(24, "11:00:00"), "system", "", "close", "", "", "chat"],
        ["reopen", "r5", _t(25, "09:00:00"), "customer", "cu-reopen", "message", "Again broken", "", "chat"],
        ["reopen", "r6", _t(25, "09:00:00"), "ai_agent", "fin", "handoff", "", "", "chat"],
        ["reopen", "r7", _t(25, "09:30:00"), "human_agent", "agent-2", "message", "Fixed", "", "chat"],
        ["reopen", "r8", _t(25, "09:31:00"), "customer", "cu-reopen", "rating", "", "1", "chat"]])
    # Roles and types in other spellings; a bad row makes its conversation unjudgeable.
    rows += [["spelled", "p1", _t(26, "10:00:00"), " Customer ", "cu-spelled", "MESSAGE", "Hi", "", "chat"],
             ["spelled", "p2", _t(26, "10:00:01"), "AI_AGENT", "fin", "Message", "Hello", "", "chat"],
             ["broken", "x1", _t(26, "11:00:00"), "customer", "cu-broken", "message", "Hi", "", "chat"],
             ["broken", "x2", _t(26, "11:00:01"), "robot", "fin", "message", "Hello", "", "chat"],
             ["broken", "x3", _t(26, "11:00:02"), "ai_agent", "fin", "message", "Hello", "7", "chat"]]
    # The export's last event, so windows and waits have a fixed end.
    rows += [["last", "z1", _t(31, "23:00:00"), "customer", "cu-last", "message", "bye", "", "chat"]]
    return rows


def edge_conversations() -> list[list[object]]:
    return [
        ["b72-first", "cu-72", "chat", "assumed_resolution", "", "false", "true"],
        ["same", "", "web_widget", "Confirmed_Resolution", "", "", ""],
        ["five", "cu-five", "WhatsApp", "", "automated_resolution", "false", ""],
        ["noai", "cu-noai", "email", "", "", "false", "false"],
        ["look-upper", "cu-upper", "chat", "", "escalated", "true", ""],
        ["attrs-only", "cu-attrs", "chat", "resolved", "", "false", ""],
    ]


BILLED_HEADER = ["conversation_id", "billed_at", "amount"]


def edge_billed() -> list[list[object]]:
    ids = [r[0] for r in edge_events()]
    unique = list(dict.fromkeys(ids)) + ["attrs-only", "unknown-conversation"]
    rows = [[cid, "2026-10-28T00:00:00Z", "0.99"] for cid in unique]
    rows += [["sess-1", "2026-10-28T00:00:00Z", "0.99"],  # billed twice
             ["five", "2026-11-03T00:00:00Z", ""],  # outside the period, no amount
             ["noai", "2026-10-29T00:00:00Z", "-0.99"]]  # a credit
    return rows


def write_edge_month(folder: Path) -> tuple[Path, Path, Path]:
    """(events.csv, conversations.csv, billed.csv) in `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    return (write_csv(folder / "events.csv", EVENT_HEADER, edge_events()),
            write_csv(folder / "conversations.csv", CONVERSATION_HEADER, edge_conversations()),
            write_csv(folder / "billed.csv", BILLED_HEADER, edge_billed()))
