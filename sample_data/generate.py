#!/usr/bin/env python3
"""Write the synthetic sample month: an Intercom export, Fin's invoice and the ground truth.

The default mode writes about 3,000 Intercom REST API conversation objects for October 2026
(intercom_2026-10.jsonl.gz), the invoice that Intercom would send for them (billed_2026-10.csv)
and each conversation's true scenario (scenarios_2026-10.csv, for tests). `--canonical N` writes
a large month as canonical Parquet for benchmarks instead (see _canonical_month.py).
Same seed, same bytes: no wall-clock time is read anywhere and gzip is written with mtime 0.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import json
import random
import sys
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from html import escape
from pathlib import Path
from typing import Any, NamedTuple

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

import _intercom_month as month  # noqa: E402
from _intercom_month import (  # noqa: E402
    BILLABLE_LABELS, CUSTOMER, DAY, FIN, HOUR, MIX, NOISE, NOV_1, OCT_1, SEP_29, VERSIONS, Part, Thread,
)

DEFAULT_SEED = 20261031
EXPORT_AT = NOV_1  # the export is pulled at midnight UTC after the month
DEC_1, JAN_1 = NOV_1 + 30 * DAY, NOV_1 + 61 * DAY


class Month(NamedTuple):
    """One sample month: its name in file names, its bounds, and the story's mix."""

    name: str
    start: int  # first second of the month, UTC
    end: int  # first second after it: the export is pulled then
    first_id: int  # conversation ids count up from here
    mix: dict[str, float]
    seed_offset: int  # added to --seed, so every month has its own draws
    scale: float = 1.0  # conversations, relative to --conversations (quieter or busier months)


def drifted(changes: dict[str, float]) -> dict[str, float]:
    """The October mix with some shares moved; ai_assumed takes up the difference."""
    mix = {**MIX, **changes}
    mix["ai_assumed"] += 1.0 - sum(mix.values())
    return mix


# October is the month the demo audits; November and December follow it so `auditor trend` has
# three months to compare. In December the vendor's count drifts: more conversations a person
# finished get Fin's closing check-in and are billed (the gotcha goes from 9% to 17%).
MONTHS: tuple[Month, ...] = (
    Month("2026-10", OCT_1, NOV_1, 215_470_000_000_000, dict(MIX), 0),
    Month("2026-11", NOV_1, DEC_1, 215_740_000_000_000, drifted({"human_takeover_fin_close": 0.10}), 11,
          0.96),
    Month("2026-12", DEC_1, JAN_1, 216_010_000_000_000, drifted({"human_takeover_fin_close": 0.17}), 12,
          1.08),
)
N_CUSTOMERS = 1_100
HOUR_WEIGHTS = (3, 2, 2, 2, 2, 3, 4, 6, 8, 9, 10, 10, 10, 11, 12, 12, 12, 11, 10, 9, 8, 6, 5, 4)  # UTC
JsonObject = dict[str, Any]


# --- people and ids --------------------------------------------------------------------------------

FIRST_NAMES = ("Ava", "Ben", "Chloe", "Daniel", "Elena", "Farah", "George", "Hana", "Ivan", "Julia",
               "Kofi", "Lena", "Marco", "Nadia", "Oscar", "Paula", "Quinn", "Rosa", "Samir", "Tara",
               "Umar", "Vera", "Wes", "Ximena", "Yusuf", "Zoe", "Arjun", "Bea", "Carlos", "Dana",
               "Emil", "Freya", "Gus", "Ines", "Jae", "Kira", "Luca", "Mei", "Noah", "Olga")
LAST_NAMES = ("Adams", "Becker", "Costa", "Dubois", "Evans", "Fischer", "Garcia", "Hughes", "Ito",
              "Jensen", "Khan", "Larsen", "Moreau", "Novak", "Okafor", "Patel", "Quist", "Rossi",
              "Silva", "Tanaka", "Usman", "Varga", "Walsh", "Xu", "Young", "Zimmer", "Brooks",
              "Castillo", "Dahl", "Ellis", "Ferreira", "Grant", "Horvat", "Iqbal", "Kowalski", "Lund")
ADMINS_BY_ID = {a.id: a for a in month.ADMINS}


class Contact(NamedTuple):
    kind: str  # "user" or "lead"
    id: str
    name: str | None
    email: str | None
    external_id: str | None


def contact_id(rng: random.Random) -> str:
    """24 hex digits like Intercom's: creation time (2022-2026) then random bits."""
    return f"{rng.randint(1_640_995_200, OCT_1):08x}{rng.getrandbits(64):016x}"


def make_customers(rng: random.Random, n: int) -> list[Contact]:
    """Users (65%, with name and external id) and leads (name unknown, email often given)."""
    customers = []
    for i in range(n):
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        email = f"{first}.{last}{i % 97}@example.{rng.choice(('com', 'org', 'net'))}".lower()
        if rng.random() < 0.65:
            contact = Contact("user", contact_id(rng), f"{first} {last}", email, f"usr_{100_000 + 7 * i}")
        else:
            contact = Contact("lead", contact_id(rng), None, email if rng.random() < 0.7 else None, None)
        customers.append(contact)
    return customers


def test_contact(admin: month.Admin) -> Contact:
    """The lead a teammate talks to Fin as in the messenger preview."""
    return Contact("lead", f"{1_725_000_000 + int(admin.id) % 100:08x}{'7e57' * 4}",
                   f"{admin.name} (test)", admin.email.replace("@", "+preview@"), None)


def conversation_ids(rng: random.Random, n: int, first: int = 215_470_000_000_000) -> list[str]:
    """Increasing 15-digit ids with gaps (Intercom's ids are global across workspaces)."""
    value, ids = first, []
    for _ in range(n):
        value += rng.randint(1_000, 90_000)
        ids.append(str(value))
    return ids


class PartIds:
    """Part and source-message ids, increasing in the order the export is written."""

    def __init__(self) -> None:
        self.part, self.source = 31_200_000_000, 409_000_000

    def next_part(self) -> str:
        self.part += 1 + self.part % 7
        return str(self.part)

    def next_source(self) -> str:
        self.source += 13 + self.source % 11
        return str(self.source)


# --- planning the month ------------------------------------------------------------------------------

@dataclass
class Unit:
    """Conversations placed together: one, or a repeat-contact pair (same customer, < 72 h apart)."""

    threads: list[Thread]
    offsets: list[int] = field(default_factory=lambda: [0])
    start: int = 0

    def span(self) -> int:
        return max(o + t.end() for o, t in zip(self.offsets, self.threads))

    def latest_resolution(self) -> int:
        resolved = [o + t.resolved_at for o, t in zip(self.offsets, self.threads) if t.resolved_at]
        return max(resolved, default=0)


@dataclass
class Conversation:
    id: str
    thread: Thread
    contact: Contact
    version: str  # the API shape it is written in: 2.11, 2.14 or 2.16

    @property
    def billed_at(self) -> int | None:
        if self.thread.label not in BILLABLE_LABELS or self.thread.resolved_at is None:
            return None
        return self.thread.start + self.thread.resolved_at


def largest_remainder(total: int, shares: dict[str, float]) -> dict[str, int]:
    exact = {k: total * v / sum(shares.values()) for k, v in shares.items()}
    counts = {k: int(v) for k, v in exact.items()}
    for k in sorted(exact, key=lambda k: (counts[k] - exact[k], k))[: total - sum(counts.values())]:
        counts[k] += 1
    return counts


def scenario_counts(total: int, mix: dict[str, float] = MIX) -> dict[str, int]:
    """Conversations per scenario; repeat contacts come in pairs (first billed, second not)."""
    shares = dict(mix)
    shares["repeat_contact_first"] += shares.pop("repeat_contact_second")
    counts = largest_remainder(total, shares)
    pairs = counts["repeat_contact_first"] // 2
    counts["ai_assumed"] += counts["repeat_contact_first"] - 2 * pairs
    counts["repeat_contact_first"] = counts["repeat_contact_second"] = pairs
    return counts


def make_units(rng: random.Random, counts: dict[str, int]) -> list[Unit]:
    units = []
    for scenario, n in counts.items():
        if scenario == "repeat_contact_first":
            units += [pair(rng) for _ in range(n)]
        elif scenario != "repeat_contact_second":
            units += [Unit([month.build(scenario, rng)]) for _ in range(n)]
    return units


def pair(rng: random.Random) -> Unit:
    first = month.build("repeat_contact_first", rng)
    second = month.build("repeat_contact_second", rng, topic=first.topic)
    gap = rng.randint(2 * HOUR, 70 * HOUR)  # after Fin's last message in the first one
    return Unit([first, second], [0, first.last_at(FIN) + gap])


def window(unit: Unit, month: Month = MONTHS[0]) -> tuple[int, int]:
    """Earliest and latest start so the unit's story fits (billed resolutions land in the month)."""
    scenario, span = unit.threads[0].scenario, unit.span()
    if scenario == "prior_period":  # resolution recorded on the two days before the month
        resolved, prior = unit.latest_resolution(), month.start - 2 * DAY
        return prior - resolved + HOUR, prior + 2 * DAY - resolved - 600
    if scenario == "ai_pending":  # Fin answered less than 24 h before the export
        return month.end - 22 * HOUR, month.end - span - 600
    return month.start, month.end - max(span, unit.latest_resolution()) - 600


def sample_time(rng: random.Random, lo: int, hi: int) -> int:
    """A time in [lo, hi], more likely in working hours and on weekdays."""
    top = max(HOUR_WEIGHTS)
    while True:
        t = rng.randint(lo, hi)
        stamp = datetime.fromtimestamp(t, timezone.utc)
        weight = HOUR_WEIGHTS[stamp.hour] * (0.55 if stamp.weekday() >= 5 else 1.0)
        if rng.random() * top < weight:
            return t


def place(rng: random.Random, units: list[Unit], month: Month = MONTHS[0]) -> None:
    for unit in units:
        unit.start = sample_time(rng, *window(unit, month))
        for offset, thread in zip(unit.offsets, unit.threads):
            thread.start = unit.start + offset


def assign_contacts(rng: random.Random, units: list[Unit]) -> dict[int, Contact]:
    """A customer per thread (by id()); one customer's units start >= 4 days after the last ended."""
    unused, used, free_at = make_customers(rng, N_CUSTOMERS), [], {}
    tests = {a.id: test_contact(a) for a in month.ADMINS}
    chosen: dict[int, Contact] = {}
    ordered = sorted(units, key=lambda u: (u.start, u.threads[0].scenario))
    for left, unit in zip(range(len(ordered), 0, -1), ordered):
        preview_admin = unit.threads[0].preview_admin
        if preview_admin:
            contact = tests[preview_admin.id]
        else:
            contact = pick_customer(rng, unit.start, unused, used, free_at, len(unused) / left)
            free_at[contact.id] = unit.start + unit.span() + 4 * DAY
        chosen.update({id(t): contact for t in unit.threads})
    return chosen


def pick_customer(rng: random.Random, start: int, unused: list[Contact], used: list[Contact],
                  free_at: dict[str, int], new_chance: float) -> Contact:
    """A returning customer who is free at `start`, or (with new_chance, or none found) a new one."""
    if used and rng.random() >= new_chance:
        for _ in range(60):
            contact = rng.choice(used)
            if free_at[contact.id] <= start:
                return contact
    contact = unused.pop(rng.randrange(len(unused)))
    used.append(contact)
    return contact


def plan_month(rng: random.Random, total: int, when: Month = MONTHS[0]) -> list[Conversation]:
    units = make_units(rng, scenario_counts(total, when.mix))
    place(rng, units, when)
    billed = sum(t.label in BILLABLE_LABELS for u in units for t in u.threads)
    prior = [Unit([month.build("prior_period", rng)]) for _ in range(round(NOISE["prior_period"] * billed))]
    place(rng, prior, when)
    contacts = assign_contacts(rng, units + prior)
    threads = sorted((t for u in units + prior for t in u.threads), key=lambda t: (t.start, t.scenario))
    ids = conversation_ids(rng, len(threads), when.first_id)
    versions = rng.choices(list(VERSIONS), list(VERSIONS.values()), k=len(threads))
    return [Conversation(i, t, contacts[id(t)], v) for i, t, v in zip(ids, threads, versions)]


# --- the Intercom REST API shape (GET /conversations/{id}) ----------------------------------------

def has_ai_flags(version: str) -> bool:
    """author.from_ai_agent / is_ai_answer, ai_agent.created_at / updated_at: API 2.14 and later."""
    return version >= "2.14"


def author(actor: str, conv: Conversation, part: Part | None = None) -> JsonObject:
    if actor == CUSTOMER:
        c = conv.contact
        record: JsonObject = {"type": c.kind, "id": c.id, "name": c.name, "email": c.email}
    elif actor in month.BOTS:
        bot_id, name = month.BOTS[actor]
        record = {"type": "bot", "id": bot_id, "name": name, "email": f"operator+{month.APP_ID}@intercom.io"}
    else:
        admin = ADMINS_BY_ID[actor]
        record = {"type": "admin", "id": admin.id, "name": admin.name, "email": admin.email}
    if has_ai_flags(conv.version):
        record["from_ai_agent"] = actor == FIN
        record["is_ai_answer"] = bool(part and part.ai_answer)
    return record


def actor_id(actor: str) -> str:
    return month.BOTS[actor][0] if actor in month.BOTS else actor


def html(text: str | None) -> str | None:
    return None if text is None else f"<p>{escape(text, quote=False)}</p>"


def quick_reply_uuid(conv_id: str, text: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"https://larkspur.example/{conv_id}/{text}"))


def part_metadata(part: Part, conv_id: str) -> JsonObject:
    if part.part_type != "quick_reply":
        return {}
    if part.actor == CUSTOMER:
        return {"quick_reply_uuid": quick_reply_uuid(conv_id, part.body or "")}
    return {"quick_reply_options": [{"text": text, "uuid": quick_reply_uuid(conv_id, text)}
                                    for text in part.quick_replies]}


def part_record(part: Part, conv: Conversation, state: str, ids: PartIds) -> JsonObject:
    at = conv.thread.start + part.at
    kind, ref = part.assigned_to or (None, None)
    record: JsonObject = {
        "type": "conversation_part", "id": ids.next_part(), "part_type": part.part_type,
        "body": html(part.body), "created_at": at, "updated_at": at, "notified_at": at,
        "assigned_to": {"type": kind, "id": ref} if kind else None, "author": author(part.actor, conv, part),
        "attachments": [], "external_id": None, "redacted": False,
    }
    if has_ai_flags(conv.version):  # the part fields 2.14 added
        details = part.attribute and {"attribute": {"name": "Topic"}, "value": {"name": part.attribute}}
        record.update(email_message_metadata=None, metadata=part_metadata(part, conv.id), state=state,
                      tags=[], event_details=details or None, app_package_code=None)
    return record


def parts_with_state(conv: Conversation, ids: PartIds) -> tuple[list[JsonObject], str]:
    """The parts, each with the conversation's state at that time, and the final state."""
    state, records = "open", []
    for part in conv.thread.parts:
        state = {"close": "closed", "open": "open"}.get(part.part_type, state)
        records.append(part_record(part, conv, state, ids))
    return records, state


def vocabulary(label: str | None, version: str) -> str | None:
    """resolution_state words: 2.11-2.14 say routed_to_team / abandoned for escalated / negative."""
    if version < "2.15":
        return {month.ESCALATED: "routed_to_team", month.NEGATIVE: "abandoned"}.get(label or "", label)
    return label


def ai_agent(conv: Conversation) -> JsonObject | None:
    t = conv.thread
    if t.ai_source is None:
        return None
    rating, remark, rated_at = t.ai_rating or (None, None, None)
    record: JsonObject = {
        "source_type": t.ai_source, "source_title": t.ai_title, "last_answer_type": t.answer_type,
        "resolution_state": vocabulary(t.label, conv.version), "rating": rating, "rating_remark": remark}
    if has_ai_flags(conv.version):  # "the time the AI agent rating was created / updated"
        record["created_at"] = record["updated_at"] = rated_at and t.start + rated_at
    article = {"content_type": "article", "title": f"{t.topic.label}: {t.topic.subject}", "locale": "en",
               "url": f"https://help.larkspur.example/en/articles/{1000 + month.TOPICS.index(t.topic)}"}
    sources = [article] if t.answer_type == "ai_answer" else []
    record["content_sources"] = {"type": "content_source.list", "total_count": len(sources),
                                 "content_sources": sources}
    return record


def conversation_rating(conv: Conversation) -> JsonObject | None:
    if not conv.thread.conversation_rating:
        return None
    rating, remark, at = conv.thread.conversation_rating
    return {"rating": rating, "remark": remark, "created_at": conv.thread.start + at,
            "updated_at": conv.thread.start + at,
            "contact": {"type": "contact", "id": conv.contact.id, "external_id": conv.contact.external_id},
            "teammate": {"type": "admin", "id": conv.thread.admin.id}}


STAT_TESTS = {
    "customer": lambda p: p.actor == CUSTOMER,
    "admin_reply": lambda p: p.actor in ADMINS_BY_ID and p.part_type == "comment",
    "assignment": lambda p: p.part_type == "assignment",
    "close": lambda p: p.part_type == "close",
    "reopen": lambda p: p.part_type == "open" and p.actor == CUSTOMER,
}


def stat_times(t: Thread) -> tuple[dict[str, list[int]], dict[str, int | None], dict[str, int | None]]:
    """Absolute times of each kind of part, and the first and last of each."""
    times = {kind: [t.start + p.at for p in t.parts if test(p)] for kind, test in STAT_TESTS.items()}
    if t.source_actor == CUSTOMER:
        times["customer"].insert(0, t.start)
    first = {k: min(v, default=None) for k, v in times.items()}
    last = {k: max(v, default=None) for k, v in times.items()}
    return times, first, last


def statistics(conv: Conversation) -> JsonObject:
    t, created = conv.thread, conv.thread.start
    times, first, last = stat_times(t)
    closers = [actor_id(p.actor) for p in t.parts if p.part_type == "close"]
    stats = {
        "type": "conversation_statistics", "time_to_assignment": since(first["assignment"], created),
        "time_to_admin_reply": since(first["admin_reply"], created),
        "time_to_first_close": since(first["close"], created),
        "time_to_last_close": since(last["close"], created),
        "median_time_to_reply": since(first["admin_reply"], created),
        "first_contact_reply_at": first["customer"], "first_assignment_at": first["assignment"],
        "first_admin_reply_at": first["admin_reply"], "first_close_at": first["close"],
        "last_assignment_at": last["assignment"], "last_assignment_admin_reply_at": last["admin_reply"],
        "last_contact_reply_at": last["customer"], "last_admin_reply_at": last["admin_reply"],
        "last_close_at": last["close"], "last_closed_by_id": closers[-1] if closers else None,
        "count_reopens": len(times["reopen"]), "count_assignments": len(times["assignment"]),
        "count_conversation_parts": len(t.parts) + 1,
    }
    if has_ai_flags(conv.version):  # the statistics 2.14 added
        handling = since(last["admin_reply"], first["assignment"])
        stats.update(assigned_team_first_response_time=[],
                     assigned_team_first_response_time_in_office_hours=[],
                     handling_time=handling, adjusted_handling_time=handling)
    return stats


def since(at: int | None, origin: int | None) -> int | None:
    return None if at is None or origin is None else at - origin


def source(conv: Conversation, ids: PartIds) -> JsonObject:
    t = conv.thread
    first_name = (conv.contact.name or "there").split()[0]
    return {"type": "email" if t.channel == "email" else "conversation", "id": ids.next_source(),
            "delivered_as": t.delivered_as, "subject": t.topic.subject if t.channel == "email" else "",
            "body": html(t.source_body.format(first=first_name)), "author": author(t.source_actor, conv),
            "attachments": [], "url": None, "redacted": False}


def assignees(t: Thread) -> tuple[int | None, int | None]:
    refs = [p.assigned_to for p in t.parts if p.assigned_to]
    admins = [int(ref) for kind, ref in refs if kind == "admin"]
    teams = [int(ref) for kind, ref in refs if kind == "team"]
    return (admins[-1] if admins else None), (teams[-1] if teams else None)


def waiting_since(t: Thread, state: str) -> int | None:
    """When the customer started waiting: their last part, if it is the last one and still open."""
    last = t.parts[-1] if t.parts else None
    return t.start + last.at if state == "open" and last and last.actor == CUSTOMER else None


def conversation_record(conv: Conversation, ids: PartIds) -> JsonObject:
    """One conversation as `GET /conversations/{id}` returns it in API version conv.version."""
    t, created = conv.thread, conv.thread.start
    src = source(conv, ids)
    parts, state = parts_with_state(conv, ids)
    admin_id, team_id = assignees(t)
    humans = list(dict.fromkeys(p.actor for p in t.parts if p.actor in ADMINS_BY_ID))
    first_reply = {"created_at": created, "type": src["type"], "url": None}
    record: JsonObject = {
        "type": "conversation", "id": conv.id, "title": None, "created_at": created,
        "updated_at": created + t.end(), "waiting_since": waiting_since(t, state), "snoozed_until": None,
        "source": src, "contacts": {"type": "contact.list", "contacts": [
            {"type": "contact", "id": conv.contact.id, "external_id": conv.contact.external_id}]},
        "first_contact_reply": first_reply if t.source_actor == CUSTOMER else None,
        "admin_assignee_id": admin_id, "team_assignee_id": team_id, "open": state == "open", "state": state,
        "read": True, "tags": {"type": "tag.list", "tags": []},
        "priority": "none" if conv.version >= "2.16" else "not_priority", "sla_applied": None,
        "statistics": statistics(conv), "conversation_rating": conversation_rating(conv),
        "teammates": {"type": "admin.list", "teammates": [{"type": "admin", "id": a} for a in humans]},
        "custom_attributes": {"Topic": t.topic.label} if any(p.attribute for p in t.parts) else {},
        "linked_objects": {"type": "list", "data": [], "total_count": 0, "has_more": False},
        "ai_agent_participated": t.ai_source is not None, "ai_agent": ai_agent(conv),
    }
    if conv.version >= "2.16":
        channel = "email" if t.channel == "email" else "messenger"
        record.update(company=None, sales_agent_participated=False, sales_agent=None,
                      channel={"initial": channel, "current": channel}, external_references=[])
    record["conversation_parts"] = {"type": "conversation_part.list", "conversation_parts": parts,
                                    "total_count": len(parts)}
    return record


# --- the invoice ------------------------------------------------------------------------------------------

Line = tuple[str, int]  # (conversation_id, billed_at)


def minute(ts: int) -> int:
    return ts - ts % 60


def invoice(rng: random.Random, conversations: list[Conversation],
            when: Month = MONTHS[0]) -> tuple[list[Line], Counter[str]]:
    """Intercom's bill: a line per labelled resolution, plus duplicates and unknown ids."""
    lines = [(c.id, minute(c.billed_at)) for c in conversations if c.billed_at is not None]
    october = [line for line in lines if line[1] >= when.start]  # the month's own lines
    noise: Counter[str] = Counter(prior_period=len(lines) - len(october))
    for conv_id, at in rng.sample(october, round(NOISE["duplicate"] * len(october))):
        lines.append((conv_id, minute(min(at + rng.randint(2 * HOUR, 4 * DAY), when.end - 60))))
        noise["duplicate"] += 1
    known = {c.id for c in conversations}
    for _ in range(round(NOISE["unknown_id"] * len(october))):
        lines.append((unknown_id(rng, conversations, known),
                      minute(rng.randint(when.start, when.end - 60))))
        noise["unknown_id"] += 1
    return sorted(lines, key=lambda line: (line[1], line[0])), noise


def unknown_id(rng: random.Random, conversations: list[Conversation], known: set[str]) -> str:
    """An id that looks like October's but is not in the export."""
    while True:
        candidate = str(int(rng.choice(conversations).id) + rng.randint(1, 999))
        if candidate not in known:
            known.add(candidate)
            return candidate


def iso(ts: int) -> str:
    return datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


# --- writing ------------------------------------------------------------------------------------------------

def write_export(path: Path, conversations: list[Conversation]) -> None:
    ids = PartIds()
    with path.open("wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as gz:
        for conv in conversations:
            line = json.dumps(conversation_record(conv, ids), ensure_ascii=False, separators=(",", ":"))
            gz.write(line.encode("utf-8") + b"\n")


def write_csv(path: Path, header: list[str], rows: list[list[str]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def write_month(out: Path, seed: int, total: int, when: Month = MONTHS[0]) -> None:
    rng = random.Random(seed + when.seed_offset)
    conversations = plan_month(rng, round(total * when.scale), when)
    lines, noise = invoice(rng, conversations, when)
    write_export(out / f"intercom_{when.name}.jsonl.gz", conversations)
    write_csv(out / f"billed_{when.name}.csv", ["conversation_id", "billed_at", "amount"],
              [[c, iso(at), "0.99"] for c, at in lines])
    billed = {c for c, _ in lines}
    write_csv(out / f"scenarios_{when.name}.csv", ["conversation_id", "scenario", "billed"],
              [[c.id, c.thread.scenario, str(c.id in billed).lower()]
               for c in sorted(conversations, key=lambda c: c.id)])
    print(summary(conversations, lines, noise, billed))


def summary(conversations: list[Conversation], lines: list[Line], noise: Counter[str],
            billed: set[str]) -> str:
    """The scenario table README.md shows, and the invoice's totals."""
    scenarios = Counter(c.thread.scenario for c in conversations)
    billed_by = Counter(c.thread.scenario for c in conversations if c.id in billed)
    rows = [f"| {name} | {n} | {billed_by[name]} |"
            for name, n in sorted(scenarios.items(), key=lambda kv: (-kv[1], kv[0]))]
    shapes = dict(sorted(Counter(c.version for c in conversations).items()))
    return "\n".join([
        "| scenario | conversations | billed |", "|---|---:|---:|", *rows,
        f"| **total** | **{len(conversations)}** | **{sum(billed_by.values())}** |", "",
        f"invoice lines: {len(lines)}; noise: {dict(sorted(noise.items()))}",
        f"distinct contacts: {len({c.contact.id for c in conversations})}; API shapes: {shapes}",
    ])


# --- command line -------------------------------------------------------------------------------------------

def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=(__doc__ or "").split("\n\n")[0],
        epilog="examples:\n  python sample_data/generate.py\n"
               "  python sample_data/generate.py --seed 7 --out /tmp/month\n"
               "  python sample_data/generate.py --canonical 1000000 --out benchmarks/data/\n"
               "  python sample_data/generate.py --fivetran-intercom",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED,
                        help=f"random seed (default {DEFAULT_SEED})")
    parser.add_argument("--out", type=Path, default=HERE,
                        help="output folder (default: this script's folder)")
    parser.add_argument("--conversations", type=int, default=3000, metavar="N",
                        help="October conversations in the Intercom month (default 3000)")
    parser.add_argument("--canonical", type=int, metavar="N",
                        help="write N conversations as canonical Parquet (events.parquet, "
                             "conversations.parquet, billed.csv) instead")
    parser.add_argument("--fivetran-intercom", action="store_true",
                        help="only write the October month as Fivetran's Intercom tables "
                             "(fivetran_intercom_2026-10/) from intercom_2026-10.jsonl.gz "
                             "in --out; the default run writes them too")
    parser.add_argument("--chunk-size", type=int, default=200_000, metavar="N",
                        help="conversations per chunk in --canonical mode (default 200000)")
    return parser.parse_args(argv)


def _fivetran_tables(out: Path) -> str:
    """The October month as Fivetran's Intercom tables, made from its JSON export."""
    import _fivetran_intercom as fivetran

    return fivetran.write_tables(out / "intercom_2026-10.jsonl.gz",
                                 out / "fivetran_intercom_2026-10")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    if args.fivetran_intercom:
        print(_fivetran_tables(args.out))
    elif args.canonical:
        import _canonical_month as canonical  # polars and pyarrow are needed only here

        print(canonical.write_month(args.out, args.seed, args.canonical, args.chunk_size))
    else:
        for when in MONTHS:  # October first: its files are the ones the demo and tests read
            print(f"{when.name}:")
            write_month(args.out, args.seed, args.conversations, when)
        import _zendesk_month as zendesk  # the Zendesk month: same company, both export shapes

        print(zendesk.write_month(args.out / "zendesk_2026-10", args.seed))
        print(_fivetran_tables(args.out))
    print(f"wrote {args.out} in {time.perf_counter() - started:.1f}s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
