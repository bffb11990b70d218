"""Build small Zendesk exports from compact specs: API responses and Fivetran tables.

Also the scenarios several tests share, and helpers that load an export and read it back.

A spec is a list of (minute, who, kind, value) steps: who is customer | ai | agent | admin |
system | a user id; kind is comment | note (the value is the text) or a ticket field changed
(status, assignee_id, group_id, satisfaction_score; the value is the new value).
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import duckdb

from auditor.sources import IngestSummary, SourceOptions, load_sources

BASE = 1790848800  # 2026-10-01T10:00:00Z
Step = tuple[float, str, str, str]
USERS = {"customer": ("501", "end-user", "Casey Customer"), "agent": ("601", "agent", "Dana Agent"),
         "admin": ("602", "admin", "Ari Admin"), "ai": ("700", "agent", "Helper"),
         "system": ("-1", None, None)}
AI_VIA = {"channel": "answer_bot_for_web_widget", "source": {"from": {}, "to": {}, "rel": None}}


def iso(minute: float) -> str:
    from datetime import datetime, timezone

    return datetime.fromtimestamp(BASE + int(minute * 60), timezone.utc).strftime(
        "%Y-%m-%dT%H:%M:%SZ")


def author(who: str) -> str:
    return USERS[who][0] if who in USERS else who


def via(who: str, channel: str) -> dict:
    return AI_VIA if who == "ai" else {"channel": channel if who == "customer" else "web",
                                       "source": {"from": {}, "to": {}, "rel": None}}


def ticket(tid: int, steps: list[Step], *, channel: str = "native_messaging",
           tags: tuple[str, ...] = (), custom: object = None, score: str | None = None,
           requester: str = "501") -> dict:
    first = next(s for s in steps if s[2] in ("comment", "note"))
    return {"id": tid, "url": f"https://x.zendesk.com/api/v2/tickets/{tid}.json",
            "via": {"channel": channel, "source": {"from": {}, "to": {}, "rel": None}},
            "created_at": iso(steps[0][0]), "updated_at": iso(steps[-1][0]),
            "subject": "Help", "description": first[3], "status": "open",
            "requester_id": int(requester), "submitter_id": int(requester), "tags": list(tags),
            "custom_fields": [{"id": 1, "value": custom}],
            "satisfaction_rating": {"score": score or "unoffered"}}


def comments(tid: int, steps: list[Step], channel: str = "native_messaging") -> list[dict]:
    return [{"id": tid * 100 + n, "ticket_id": tid, "type": "Comment",
             "author_id": int(author(who)), "body": text, "html_body": f"<p>{text}</p>",
             "plain_body": text, "public": kind == "comment", "via": via(who, channel),
             "created_at": iso(minute)}
            for n, (minute, who, kind, text) in enumerate(steps) if kind in ("comment", "note")]


def audits(tid: int, steps: list[Step], channel: str = "native_messaging", *,
           together: bool = False) -> list[dict]:
    """One audit per step, or with together=True per run of steps at the same minute by the same
    author (an AI reply and its self-assignment in one audit); field changes carry
    previous_value (Create in the first audit)."""
    current: dict[str, object] = {}
    result: list[dict] = []
    for n, (minute, who, kind, value) in enumerate(steps):
        if kind in ("comment", "note"):
            event = {"id": tid * 100 + n, "type": "Comment", "author_id": int(author(who)),
                     "body": value, "plain_body": value, "public": kind == "comment"}
        else:
            event = {"id": tid * 1000 + n, "type": "Create" if n == 0 else "Change",
                     "field_name": kind, "value": value, "previous_value": current.get(kind)}
            current[kind] = value
        last = result[-1] if result else None
        if together and last and last["created_at"] == iso(minute) \
                and last["author_id"] == int(author(who)):
            last["events"].append(event)
            continue
        result.append({"id": tid * 10_000 + n, "ticket_id": tid, "created_at": iso(minute),
                       "author_id": int(author(who)), "via": via(who, channel),
                       "events": [event]})
    return result


def ticket_events(tid: int, steps: list[Step], channel: str = "native_messaging") -> list[dict]:
    """The same audits as the incremental ticket events export shows them: `updater_id`, and
    `child_events` that name the changed field by its key (tags with added/removed tags)."""
    records = []
    for audit in audits(tid, steps, channel):
        children = []
        for event in audit["events"]:
            child = {"id": event["id"], "via": audit["via"], "via_reference_id": None}
            if event["type"] == "Comment":
                child |= {k: event[k] for k in ("author_id", "body", "plain_body", "public")}
            elif event["field_name"] == "tags":
                before, after = event["previous_value"] or [], event["value"]
                child |= {"tags": after, "added_tags": [t for t in after if t not in before],
                          "removed_tags": [t for t in before if t not in after]}
            else:
                child |= {event["field_name"]: event["value"],
                          "previous_value": event["previous_value"]}
            children.append(child | {"event_type": event["type"]})
        records.append({"id": audit["id"], "ticket_id": tid, "timestamp": 0,
                        "created_at": audit["created_at"], "updater_id": audit["author_id"],
                        "via": audit["via"], "event_type": "Audit", "child_events": children})
    return records


def users(extra: list[tuple[str, str, str]] = ()) -> list[dict]:
    people = [u for u in USERS.values() if u[1]] + list(extra)
    return [{"id": int(uid), "role": role, "name": name, "email": f"{uid}@example.com"}
            for uid, role, name in people]


def write_json(path: Path, value: object) -> Path:
    path.write_text(json.dumps(value, indent=2))
    return path


def write_jsonl(path: Path, records: list[object]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


# --- Fivetran tables --------------------------------------------------------------------------

def write_table(path: Path, header: list[str], rows: list[list[object]]) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
    return path


def naive(minute: float) -> str:
    return iso(minute).replace("T", " ").removesuffix("Z")


def fivetran(folder: Path, tid: int, steps: list[Step], *, channel: str = "email",
             requester: str = "501") -> Path:
    """ticket.csv, ticket_comment.csv, ticket_field_history.csv and user.csv for one ticket."""
    folder.mkdir(exist_ok=True)
    first = next(s for s in steps if s[2] in ("comment", "note"))
    write_table(folder / "ticket.csv", ["id", "created_at", "updated_at", "requester_id",
                                        "submitter_id", "status", "description", "via_channel"],
                [[tid, naive(steps[0][0]), naive(steps[-1][0]), requester, requester, "open",
                  first[3], channel]])
    write_table(folder / "ticket_comment.csv", ["id", "body", "created", "public", "ticket_id",
                                                "user_id"],
                [[tid * 100 + n, text, naive(minute), str(kind == "comment").upper(), tid,
                  author(who)] for n, (minute, who, kind, text) in enumerate(steps)
                 if kind in ("comment", "note")])
    changes = [[kind, tid, naive(minute), author(who), value]
               for minute, who, kind, value in steps if kind not in ("comment", "note")]
    if changes:  # a table without rows is an empty file: an error, as for every format
        write_table(folder / "ticket_field_history.csv", ["field_name", "ticket_id", "updated",
                                                          "user_id", "value"], changes)
    write_table(folder / "user.csv", ["id", "name", "role", "email"],
                [[u["id"], u["name"], u["role"], u["email"]] for u in users()])
    return folder


# --- scenarios and reading them back --------------------------------------------------------------

ESCALATION = [  # the AI answers, the customer asks for a person, a human finishes and solves
    (0, "customer", "status", "new"), (0, "customer", "comment", "My invoice is wrong"),
    (1, "ai", "comment", "Invoices are under Billing."), (1, "ai", "status", "open"),
    (2, "customer", "comment", "Can I talk to a human?"), (3, "ai", "group_id", "9001"),
    (9, "agent", "assignee_id", "601"), (10, "agent", "note", "checking the invoice"),
    (12, "agent", "comment", "I corrected it."), (13, "agent", "status", "solved"),
    (20, "customer", "satisfaction_score", "good"),
]
REOPEN = [
    (0, "customer", "status", "new"), (0, "customer", "comment", "Where is my order?"),
    (1, "ai", "comment", "It ships tomorrow."), (1, "ai", "status", "solved"),
    (3000, "customer", "comment", "Still nothing."), (3000, "customer", "status", "open"),
    (3100, "admin", "status", "solved"), (9000, "system", "status", "closed"),
]
ESCALATION_EVENTS = [
    ("message", "customer"), ("other", "customer"), ("message", "ai_agent"), ("other", "ai_agent"),
    ("message", "customer"), ("assignment", "ai_agent"), ("handoff", "ai_agent"),
    ("assignment", "human_agent"), ("note", "human_agent"), ("message", "human_agent"),
    ("close", "human_agent"), ("rating", "customer"),
]


def load(con: duckdb.DuckDBPyConnection, *paths: Path, **options: object) -> IngestSummary:
    return load_sources(con, [str(p) for p in paths], "zendesk",
                        options=SourceOptions(**options))  # type: ignore[arg-type]


def events_of(con: duckdb.DuckDBPyConnection, ticket: str) -> list[tuple]:
    return con.execute("""SELECT event_type, actor_role FROM events WHERE conversation_id = ?
                          ORDER BY created_at, event_type = 'handoff', event_id""",
                       [ticket]).fetchall()


def quarantine(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    return con.execute("SELECT source_record, field, reason FROM quarantine "
                       "ORDER BY source_file, source_record").fetchall()


def api_export(folder: Path, tid: int, steps: list[Step], **fields: object) -> Path:
    """tickets page, comments JSONL and users page for one ticket."""
    folder.mkdir(exist_ok=True)
    channel = str(fields.get("channel", "native_messaging"))
    write_json(folder / "tickets.json", {"tickets": [ticket(tid, steps, **fields)],
                                         "end_of_stream": True})
    write_jsonl(folder / "comments.jsonl", comments(tid, steps, channel))
    write_json(folder / "users.json", {"users": users()})
    return folder
