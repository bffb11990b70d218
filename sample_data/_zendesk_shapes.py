"""Write the Zendesk sample month twice: as Zendesk API responses and as Fivetran tables.

Both shapes come from the same tickets (_zendesk_month.py), so they describe the same
conversations: the adapter must turn them into the same canonical events. The API shape has
comments with `via`, audits (Create/Change/Comment events), users and ticket metrics; the
Fivetran shape has ticket_comment rows (no via), ticket_field_history, and the public messages of
messaging tickets as ticket_chat_event rows (Fivetran's messaging transcript) instead of comments.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from _zendesk_month import (
    AGENTS, AI, AI_AGENT_ID, AI_AGENT_NAME, AI_STATUS_FIELD, CUSTOMER, EMAIL, MESSAGING, PRICE,
    SYSTEM, Change, Comment, Customer, Ticket,
)

JsonObject = dict[str, Any]
SUBDOMAIN = "https://larkspur.zendesk.com/api/v2"
SYNCED = "2026-11-01 00:07:12.000"
ADMIN_ID = AGENTS[0].id  # one teammate is an admin: same role in the audit as an agent
GZIP_ABOVE = 100_000
AI_STATUSES = ("bot_handled", "answered", "agent_escalation", "escalated", "processed")


def iso(ts: int) -> str:
    return datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def naive(ts: int) -> str:
    """Fivetran's timestamps: naive, UTC."""
    return datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%d %H:%M:%S")


def author_id(ticket: Ticket, who: str) -> str:
    return {CUSTOMER: ticket.requester, AI: AI_AGENT_ID, SYSTEM: "-1"}.get(who, who)


def via(ticket: Ticket, who: str) -> JsonObject:
    """How a comment or change arrived: the customer's channel, the AI agent's API channel,
    the agent workspace, or an automation."""
    empty = {"from": {}, "to": {}, "rel": None}
    if who == SYSTEM:
        return {"channel": "rule", "source": {"from": {"id": 360001, "title": "Close solved "
                "tickets"}, "to": {}, "rel": "automation"}}
    if who == AI:
        channel = MESSAGING if ticket.channel == MESSAGING else "answer_bot_api"
        return {"channel": channel, "source": empty}
    if who == CUSTOMER and ticket.channel == EMAIL:
        return {"channel": "email", "source": {"from": {"address": "customer@example.com"},
                "to": {"address": "support@larkspur.example"}, "rel": None}}
    return {"channel": ticket.channel if who == CUSTOMER else "web", "source": empty}


def ai_status(ticket: Ticket) -> str | None:
    return next((t for t in ticket.tags if t in AI_STATUSES), None)


# --- API shape ----------------------------------------------------------------------------------

def ticket_object(ticket: Ticket) -> JsonObject:
    updated = max([c.at for c in ticket.comments] + [c.at for c in ticket.changes])
    score = ticket.current.get("satisfaction_score")
    return {
        "url": f"{SUBDOMAIN}/tickets/{ticket.id}.json", "id": ticket.id, "external_id": None,
        "via": via(ticket, CUSTOMER), "created_at": iso(ticket.start), "updated_at": iso(updated),
        "generated_timestamp": updated, "type": "question", "subject": ticket.topic.subject,
        "raw_subject": ticket.topic.subject, "description": ticket.comments[0].body,
        "priority": "normal", "status": ticket.current.get("status"), "recipient": None,
        "requester_id": int(ticket.requester), "submitter_id": int(ticket.requester),
        "assignee_id": _int(ticket.current.get("assignee_id")), "organization_id": None,
        "group_id": _int(ticket.current.get("group_id")), "collaborator_ids": [],
        "follower_ids": [], "email_cc_ids": [], "forum_topic_id": None, "problem_id": None,
        "has_incidents": False, "is_public": True, "due_at": None, "tags": sorted(ticket.tags),
        "custom_fields": [{"id": int(AI_STATUS_FIELD), "value": ai_status(ticket)}],
        "satisfaction_rating": {"score": score or "unoffered"}, "sharing_agreement_ids": [],
        "followup_ids": [], "ticket_form_id": 360000084116, "brand_id": 360000358316,
        "allow_channelback": False, "allow_attachments": True,
        "from_messaging_channel": ticket.channel == MESSAGING,
    }


def _int(value: str | None) -> int | None:
    return int(value) if value else None


def comment_object(ticket: Ticket, comment: Comment, audit_id: int) -> JsonObject:
    return {
        "id": comment.id, "type": "Comment", "author_id": int(author_id(ticket, comment.author)),
        "body": comment.body, "html_body": f'<div class="zd-comment" dir="auto"><p>'
        f'{_html(comment.body)}</p></div>', "plain_body": comment.body, "public": comment.public,
        "attachments": [], "audit_id": audit_id, "via": via(ticket, comment.author),
        "created_at": iso(comment.at),
    }


def _html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def audit_objects(ticket: Ticket, next_id: int) -> list[JsonObject]:
    """One audit per (time, author): its Comment event, then its field changes (Create events
    in the ticket's first audit, Change events with previous_value after)."""
    groups: dict[tuple[int, str], list[Comment | Change]] = {}
    for item in sorted([*ticket.comments, *ticket.changes], key=lambda i: (i.at, isinstance(
            i, Change))):
        groups.setdefault((item.at, item.author), []).append(item)
    audits = []
    for n, ((at, who), items) in enumerate(sorted(groups.items(), key=lambda kv: kv[0][0])):
        audit_id = next_id + n
        events = [_audit_event(ticket, item, audit_id, first=n == 0, seq=k)
                  for k, item in enumerate(items)]
        audits.append({"id": audit_id, "ticket_id": ticket.id, "created_at": iso(at),
                       "author_id": int(author_id(ticket, who)), "metadata": {"system": {},
                       "custom": {}}, "via": via(ticket, who), "events": events})
    return audits


def _audit_event(ticket: Ticket, item: Comment | Change, audit_id: int, first: bool,
                 seq: int) -> JsonObject:
    if isinstance(item, Comment):
        event = comment_object(ticket, item, audit_id)
        event.pop("via"), event.pop("created_at")
        return event
    event = {"id": audit_id * 10 + seq, "type": "Create" if first else "Change",
             "field_name": item.field, "value": item.value}
    if not first:
        event["previous_value"] = item.previous
    return event


def metric_object(ticket: Ticket) -> JsonObject:
    statuses = [c for c in ticket.changes if c.field == "status"]
    reopens = sum(1 for c in statuses if c.previous in ("solved", "closed")
                  and c.value not in ("solved", "closed"))
    solved = [c.at for c in statuses if c.value == "solved"]
    return {
        "url": f"{SUBDOMAIN}/ticket_metrics/{ticket.id + 9_000_000}.json",
        "id": ticket.id + 9_000_000, "ticket_id": ticket.id, "created_at": iso(ticket.start),
        "updated_at": iso(max(c.at for c in [*ticket.comments, *ticket.changes])),
        "reopens": reopens, "replies": sum(1 for c in ticket.comments
                                           if c.public and c.author != CUSTOMER),
        "solved_at": iso(solved[-1]) if solved else None,
        "status_updated_at": iso(statuses[-1].at),
        "latest_comment_added_at": iso(ticket.comments[-1].at),
    }


def user_objects(customers: list[Customer]) -> list[JsonObject]:
    staff = [(AI_AGENT_ID, AI_AGENT_NAME, "ai-agent@larkspur.example", "agent")]
    staff += [(a.id, a.name, a.email, "admin" if a.id == ADMIN_ID else "agent") for a in AGENTS]
    people = staff + [(c.id, c.name, c.email, "end-user") for c in customers]
    return [{"id": int(uid), "url": f"{SUBDOMAIN}/users/{uid}.json", "name": name, "email": email,
             "created_at": "2025-06-02T09:00:00Z", "updated_at": "2026-10-01T00:00:00Z",
             "time_zone": "UTC", "role": role, "active": True, "verified": True}
            for uid, name, email, role in people]


def write_api(out: Path, tickets: list[Ticket], customers: list[Customer]) -> None:
    out.mkdir(parents=True, exist_ok=True)
    half = len(tickets) // 2
    pages = [{"tickets": [ticket_object(t) for t in part], "after_cursor": cursor,
              "after_url": f"{SUBDOMAIN}/incremental/tickets/cursor.json?cursor={cursor}",
              "before_cursor": None, "before_url": None, "end_of_stream": last}
             for part, cursor, last in ((tickets[:half], "MTc5MjAwMDAwMC4wfHw1MjY1OHw=", False),
                                        (tickets[half:], "MTc5MzQ5MTIwMC4wfHw1Mzg3MHw=", True))]
    write_gz(out / "tickets.json.gz", "".join(dumps(p) + "\n" for p in pages))
    audits, comments, next_audit = [], [], 41_700_000_000_000
    for ticket in tickets:
        ticket_audits = audit_objects(ticket, next_audit)
        next_audit += len(ticket_audits) + 3
        audits += ticket_audits
        comments += [{**comment_object(ticket, c, a["id"]), "ticket_id": ticket.id}
                     for a in ticket_audits for c in ticket.comments
                     if iso(c.at) == a["created_at"] and author_id(ticket, c.author)
                     == str(a["author_id"])]
    write_gz(out / "ticket_comments.jsonl.gz", "".join(dumps(c) + "\n" for c in comments))
    write_gz(out / "ticket_audits.json.gz", dumps({"audits": audits, "next_page": None,
                                                   "previous_page": None, "count": len(audits)}))
    users = user_objects(customers)
    (out / "users.json").write_text(dumps({"users": users, "next_page": None,
                                           "count": len(users)}) + "\n")
    write_gz(out / "ticket_metrics.json.gz", dumps({"ticket_metrics": [metric_object(t)
                                                                       for t in tickets]}))


# --- Fivetran shape ------------------------------------------------------------------------------

TICKET_HEADER = ["id", "_fivetran_synced", "assignee_id", "brand_id", "created_at", "description",
                 "group_id", "is_public", "organization_id", "priority", "requester_id", "status",
                 "subject", "submitter_id", "type", "updated_at", "url", "via_channel",
                 "via_source_rel"]


def ticket_row(ticket: Ticket) -> list[str]:
    api = ticket_object(ticket)
    return [str(ticket.id), SYNCED, str(api["assignee_id"] or ""), "360000358316",
            naive(ticket.start), api["description"], str(api["group_id"] or ""), "TRUE", "",
            "normal", ticket.requester, api["status"], api["subject"], ticket.requester,
            "question", naive(api["generated_timestamp"]), api["url"], api["via"]["channel"], ""]


def chat_event_rows(ticket: Ticket, chat_id: str) -> list[list[str]]:
    """The public messages of a messaging ticket, as Sunshine Conversations messages."""
    rows = []
    for index, comment in enumerate(c for c in ticket.comments if c.public):
        actor = author_id(ticket, comment.author)
        business = comment.author != CUSTOMER
        name = AI_AGENT_NAME if comment.author == AI else (
            next(a.name for a in AGENTS if a.id == comment.author) if business else "Customer")
        source = "zd:answerBot" if comment.author == AI else (
            "zd:agentWorkspace" if business else "messenger")
        original = {"author": {"display_name": name, "type": "business" if business else "user"},
                    "content": {"text": {"text": comment.body}}, "id": str(comment.id),
                    "received": iso(comment.at), "source": {"type": source}}
        rows.append([chat_id, naive(comment.at) + ".000", SYNCED,
                     f"agent:{actor}" if business else actor, str(index), comment.body,
                     str(comment.id), "NATIVE_MESSAGING", dumps(original), "text", "ChatMessage"])
    return rows


def write_fivetran(out: Path, tickets: list[Ticket], customers: list[Customer]) -> None:
    out.mkdir(parents=True, exist_ok=True)
    messaging = [t for t in tickets if t.channel == MESSAGING]
    chat_ids = {t.id: f"4323.953441.Zk{t.id:06d}{t.requester[-4:]}" for t in messaging}
    write_csv(out / "ticket.csv", TICKET_HEADER, [ticket_row(t) for t in tickets])
    write_csv(out / "ticket_comment.csv", ["id", "_fivetran_synced", "body", "created",
                                           "facebook_comment", "public", "ticket_id", "tweet",
                                           "user_id", "voice_comment"],
              [[str(c.id), SYNCED, c.body, naive(c.at), "FALSE", str(c.public).upper(),
                str(t.id), "FALSE", author_id(t, c.author), "FALSE"]
               for t in tickets for c in t.comments if t.channel != MESSAGING or not c.public])
    write_csv(out / "ticket_field_history.csv", ["field_name", "ticket_id", "updated",
                                                 "_fivetran_synced", "user_id", "value"],
              [[c.field, str(t.id), naive(c.at), SYNCED, author_id(t, c.author), c.value or ""]
               for t in tickets for c in t.changes])
    write_csv(out / "ticket_tag.csv", ["tag", "ticket_id", "_fivetran_synced"],
              [[tag, str(t.id), SYNCED] for t in tickets for tag in sorted(t.tags)])
    write_csv(out / "ticket_chat.csv", ["chat_id", "_fivetran_synced", "authenticated", "backend",
                                        "channel", "initiator", "ticket_id", "user_id",
                                        "visitor_id"],
              [[chat_ids[t.id], SYNCED, "false", "chat", MESSAGING, "2", str(t.id), t.requester,
                f"9421471-{t.requester}"] for t in messaging])
    write_csv(out / "ticket_chat_event.csv", ["chat_id", "created_at", "_fivetran_synced",
                                              "actor_id", "chat_index", "message", "message_id",
                                              "message_source", "original_message",
                                              "original_message_type", "type"],
              [row for t in messaging for row in chat_event_rows(t, chat_ids[t.id])])
    users = user_objects(customers)
    write_csv(out / "user.csv", ["id", "_fivetran_synced", "active", "created_at", "email",
                                 "name", "role", "time_zone", "updated_at"],
              [[str(u["id"]), SYNCED, "TRUE", naive(1780390800), u["email"], u["name"], u["role"],
                "UTC", naive(1790812800)] for u in users])


# --- the truth and the bill ----------------------------------------------------------------------

def write_truth(out: Path, tickets: list[Ticket], lines: list[tuple[int, int]]) -> str:
    """scenarios.csv and billed.csv; returns the scenario table sample_data/README.md shows."""
    billed = {ticket_id for ticket_id, _ in lines}
    write_csv(out / "scenarios.csv", ["ticket_id", "scenario", "billed"],
              [[str(t.id), t.scenario, str(t.id in billed).lower()] for t in tickets])
    write_csv(out / "billed.csv", ["conversation_id", "billed_at", "amount"],
              [[str(i), iso(at), PRICE] for i, at in lines])
    scenarios = Counter(t.scenario for t in tickets)
    billed_by = Counter(t.scenario for t in tickets if t.id in billed)
    rows = [f"| `{name}` | {n} | {billed_by[name]} |"
            for name, n in sorted(scenarios.items(), key=lambda kv: (-kv[1], kv[0]))]
    return "\n".join(["| scenario | tickets | billed |", "|---|---:|---:|", *rows,
                      f"| **total** | **{len(tickets)}** | **{len(billed)}** |", "",
                      f"Zendesk invoice lines: {len(lines)} (${len(lines) * 1.5:,.2f})"])


# --- files --------------------------------------------------------------------------------------

def dumps(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def write_gz(path: Path, text: str) -> None:
    with path.open("wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as gz:
        gz.write(text.encode("utf-8"))


def write_csv(path: Path, header: list[str], rows: list[list[str]]) -> None:
    """A CSV file; gzip-compressed (`.csv.gz`) when it would be over 100 kB."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    text = buffer.getvalue()
    if len(text) > GZIP_ABOVE and path.parent.name == "fivetran":
        write_gz(path.with_name(path.name + ".gz"), text)
    else:
        path.write_text(text, encoding="utf-8")
