"""The Zendesk sample month: Larkspur Labs' tickets in October 2026 with the Zendesk AI agent.

One builder per scenario writes a ticket's timeline (comments and field changes, times relative
to the ticket's start); `plan_month` places ~600 tickets in the month and gives them requesters
and ids; `invoice` emulates the automated-resolution bill; _zendesk_shapes.py writes the same
tickets twice, as Zendesk API responses and as Fivetran tables. Texts come from the Intercom
month's topics (same fictional company). Everything is synthetic and seeded: same seed, same bytes.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

import _intercom_month as story
from _intercom_month import DAY, HOUR, NOV_1, OCT_1, Topic

MINUTE = 60
EXPORT_AT = NOV_1  # the export is pulled at midnight UTC after the month
CUSTOMER, AI, SYSTEM = "customer", "ai", "system"
AI_AGENT_ID, AI_AGENT_NAME = "9100000001", "Zendesk AI agent"
MESSAGING, EMAIL, WEB = "native_messaging", "email", "web"
PRICE = "1.50"
GROUPS = {"support": "9300000001", "billing": "9300000002"}


class Agent(NamedTuple):
    id: str
    name: str
    email: str
    team: str


AGENTS = tuple(Agent(str(9100000101 + n), a.name, a.email, a.team)
               for n, a in enumerate(story.ADMINS))

# Tickets per scenario (see README.md for the stories).
MIX: dict[str, int] = {
    "ai_resolved_messaging": 110, "ai_resolved_email": 90, "ai_thanks": 50,
    "escalated_messaging": 65, "escalated_email": 40, "escalated_billed": 20,
    "reopened": 25, "reopened_billed": 20, "ai_note_only": 30, "human_only": 60,
    "repeat_contact_first": 30, "ai_rated_bad": 15, "ai_pending": 25,
}
BILLED_SCENARIOS = ("ai_resolved_messaging", "ai_resolved_email", "ai_thanks", "escalated_billed",
                    "reopened_billed", "repeat_contact_first", "ai_rated_bad")
DUPLICATES = 8
AI_STATUS_FIELD = "360011112222"  # custom field "AI agent status" (id as Zendesk would show it)
AI_GLAD = ("Glad I could help!", "Happy to help! Have a great day.")
AI_EMAIL_HANDOFF = ("I've passed your message to our {team} team; a teammate will reply here.",
                    "Thanks for the details. A teammate from our {team} team will take it from here.")
AI_NOTE = ("AI agent summary: customer asks about “{subject}”. Suggested reply: help center "
           "article “{subject}”; confidence low, not sent.")


@dataclass
class Comment:
    at: int
    author: str  # CUSTOMER, AI, SYSTEM or an agent id; resolved to user ids when written
    body: str
    public: bool = True
    id: int = 0


@dataclass
class Change:
    at: int
    author: str
    field: str
    value: str | None
    previous: str | None = None


@dataclass
class Ticket:
    """One ticket's timeline; `at` values are seconds after its start until placed."""

    scenario: str
    rng: random.Random
    topic: Topic
    agent: Agent
    channel: str
    comments: list[Comment] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    clock: int = 0
    current: dict[str, str | None] = field(default_factory=dict)
    billing_anchor: int | None = None  # the last activity the vendor's 72 h count starts from
    start: int = 0
    id: int = 0
    requester: str = ""
    second: Ticket | None = None  # the repeat contact's new ticket

    def say(self, who: str, lo: int, hi: int, body: str, public: bool = True) -> None:
        self.clock += self.rng.randint(lo, hi)
        self.comments.append(Comment(self.clock, who, body, public))

    def set(self, who: str, name: str, value: str | None, delay: int = 0) -> None:
        """A field change `delay` seconds after the last step (the previous value is tracked)."""
        self.clock += delay
        self.changes.append(Change(self.clock, who, name, value, self.current.get(name)))
        self.current[name] = value

    def last_comment_at(self) -> int:
        return max(c.at for c in self.comments)

    def end(self) -> int:
        return max([c.at for c in self.comments] + [c.at for c in self.changes])


# --- steps ------------------------------------------------------------------------------------

def open_ticket(t: Ticket, question: str | None = None) -> None:
    t.set(CUSTOMER, "status", "new")
    t.say(CUSTOMER, 0, 0, question or t.rng.choice(t.topic.questions))


def ai_answer(t: Ticket, body: str | None = None) -> None:
    lo, hi = (8, 40) if t.channel == MESSAGING else (60, 240)
    t.say(AI, lo, hi, body or t.rng.choice(t.topic.answers))
    t.set(AI, "status", "open" if t.channel == MESSAGING else "pending")


def customer_says(t: Ticket, body: str, lo: int = 30, hi: int = 300) -> None:
    t.say(CUSTOMER, lo, hi, body)
    if t.current.get("status") in ("pending", "solved"):
        t.set(CUSTOMER, "status", "open")


def ai_solves(t: Ticket) -> None:
    """Messaging sessions end 2 h after the last message; email tickets are solved by the
    pending automation 72 h after the AI's answer."""
    if t.channel == MESSAGING:
        t.set(AI, "status", "solved", delay=2 * HOUR)
    else:
        t.set(SYSTEM, "status", "solved", delay=72 * HOUR + 5 * MINUTE)


def escalate(t: Ticket, asked: bool) -> None:
    team = t.topic.team.capitalize()
    if asked:
        customer_says(t, t.rng.choice(story.HUMAN_REQUESTS), 30, 120)
        t.say(AI, 5, 15, t.rng.choice(story.FIN_HANDOFF_ASKED).format(team=team))
    else:
        t.say(AI, 60, 180, t.rng.choice(AI_EMAIL_HANDOFF).format(team=team))
    t.set(AI, "group_id", GROUPS[t.topic.team], delay=1)


def agent_solves(t: Ticket, thanks: float = 0.5, assign: bool = True) -> None:
    if assign:
        t.set(t.agent.id, "assignee_id", t.agent.id, delay=t.rng.randint(3 * MINUTE, 40 * MINUTE))
    t.say(t.agent.id, 60, 600, t.rng.choice(t.topic.human))
    t.set(t.agent.id, "status", "pending", delay=1)
    if t.rng.random() < thanks:
        customer_says(t, t.rng.choice(story.THANKS_HUMAN), 120, 1800)
    t.set(t.agent.id, "status", "solved", delay=t.rng.randint(2 * MINUTE, 30 * MINUTE))


def rate(t: Ticket, score: str) -> None:
    t.set(CUSTOMER, "satisfaction_score", score, delay=t.rng.randint(10 * MINUTE, 2 * HOUR))


def label(t: Ticket, *tags: str) -> None:
    t.tags += tags


# --- scenarios ----------------------------------------------------------------------------------

def ai_resolved(t: Ticket) -> None:
    open_ticket(t)
    ai_answer(t)
    t.billing_anchor = t.last_comment_at()
    ai_solves(t)
    if t.rng.random() < 0.2:
        rate(t, "good")
    label(t, *(("ai_agent_ticket", "bot_handled") if t.channel == MESSAGING else ("answered",)))


def ai_thanks(t: Ticket) -> None:
    open_ticket(t)
    ai_answer(t)
    customer_says(t, t.rng.choice(story.CONFIRMATIONS), 40, 600)
    if t.rng.random() < 0.5:
        t.say(AI, 3, 15, t.rng.choice(AI_GLAD))
    t.billing_anchor = t.last_comment_at()
    if t.channel == MESSAGING:
        ai_solves(t)
    else:
        t.set(AI, "status", "solved", delay=30)
    label(t, "bot_handled" if t.channel == MESSAGING else "answered")


def escalated_messaging(t: Ticket, billed: bool = False) -> None:
    open_ticket(t)
    ai_answer(t)
    escalate(t, asked=True)
    agent_solves(t)
    if t.rng.random() < 0.25:
        rate(t, t.rng.choice(("good", "good", "bad")))
    t.billing_anchor = t.last_comment_at() if billed else None
    label(t, "bot_handled" if billed else "agent_escalation")


def escalated_email(t: Ticket) -> None:
    open_ticket(t)
    ai_answer(t)
    customer_says(t, t.rng.choice(t.topic.followups), HOUR, 20 * HOUR)
    escalate(t, asked=False)
    agent_solves(t)
    label(t, "escalated")


def reopened(t: Ticket, billed: bool = False) -> None:
    ai_resolved(t)
    t.tags.clear()
    t.billing_anchor = t.billing_anchor if billed else None
    lo, hi = (4 * DAY, 6 * DAY) if billed else (20 * HOUR, 60 * HOUR)
    customer_says(t, t.topic.reopen, lo, hi)
    agent_solves(t, thanks=0.3)
    label(t, "bot_handled" if billed else "escalated")


def ai_note_only(t: Ticket) -> None:
    open_ticket(t)
    t.say(AI, 60, 120, AI_NOTE.format(subject=t.topic.subject), public=False)
    agent_solves(t, thanks=0.3)
    label(t, "processed")


def human_only(t: Ticket) -> None:
    open_ticket(t)
    t.set(SYSTEM, "group_id", GROUPS[t.topic.team], delay=1)
    agent_solves(t, thanks=0.4)


def ai_rated_bad(t: Ticket) -> None:
    open_ticket(t)
    ai_answer(t)
    t.billing_anchor = t.last_comment_at()
    ai_solves(t)
    rate(t, "bad")
    label(t, "ai_agent_ticket", "bot_handled")


def repeat_contact_second(t: Ticket) -> None:
    open_ticket(t, t.topic.repeat)
    ai_answer(t)
    escalate(t, asked=True)
    agent_solves(t)
    label(t, "escalated")


BUILDERS: dict[str, Callable[[Ticket], None]] = {
    "ai_resolved_messaging": ai_resolved, "ai_resolved_email": ai_resolved,
    "ai_thanks": ai_thanks, "escalated_messaging": escalated_messaging,
    "escalated_email": escalated_email,
    "escalated_billed": lambda t: escalated_messaging(t, billed=True),
    "reopened": reopened, "reopened_billed": lambda t: reopened(t, billed=True),
    "ai_note_only": ai_note_only, "human_only": human_only,
    "repeat_contact_first": ai_resolved, "repeat_contact_second": repeat_contact_second,
    "ai_rated_bad": ai_rated_bad, "ai_pending": ai_resolved,
}
CHANNELS: dict[str, tuple[str, ...]] = {
    "ai_resolved_email": (EMAIL,), "escalated_email": (EMAIL,), "ai_note_only": (EMAIL,),
    "human_only": (EMAIL, EMAIL, WEB), "ai_thanks": (MESSAGING, MESSAGING, EMAIL),
    "reopened": (MESSAGING, EMAIL), "reopened_billed": (MESSAGING, EMAIL),
    "ai_pending": (MESSAGING, EMAIL), "repeat_contact_second": (EMAIL,),
}


def build(scenario: str, rng: random.Random) -> Ticket:
    topic = rng.choice(story.TOPICS)
    agent = rng.choice([a for a in AGENTS if a.team == topic.team])
    channel = rng.choice(CHANNELS.get(scenario, (MESSAGING,)))
    ticket = Ticket(scenario, rng, topic, agent, channel)
    BUILDERS[scenario](ticket)
    return ticket


# --- the month ----------------------------------------------------------------------------------

# Start windows in days after 2026-10-01: billed tickets must reach 72 h of inactivity before
# the export, ai_pending ones must not; reopened ones need room for the customer's return.
WINDOWS: dict[str, tuple[float, float]] = {
    **{s: (0.0, 27.5) for s in BILLED_SCENARIOS},
    "reopened_billed": (0.0, 20.0), "reopened": (0.0, 24.0), "ai_pending": (28.05, 30.9),
}
HOUR_WEIGHTS = (1, 1, 1, 1, 1, 2, 3, 5, 8, 10, 10, 10, 10, 10, 10, 10, 9, 8, 6, 5, 4, 3, 2, 1)
CUSTOMER_GAP = 4 * DAY  # a customer's tickets start at least this long after their last ended


@dataclass
class Customer:
    id: str
    name: str
    email: str
    free_at: int = 0


def pick_start(rng: random.Random, scenario: str) -> int:
    lo, hi = WINDOWS.get(scenario, (0.0, 30.6))
    day = int(rng.uniform(lo, hi))
    hour = rng.choices(range(24), HOUR_WEIGHTS)[0]
    start = OCT_1 + day * DAY + hour * HOUR + rng.randint(0, HOUR - 1)
    return min(max(start, OCT_1 + int(lo * DAY)), OCT_1 + int(hi * DAY))


def place_tickets(rng: random.Random) -> list[Ticket]:
    """Every scenario's tickets, each repeat contact followed by the customer's second ticket."""
    tickets: list[Ticket] = []
    for scenario, count in MIX.items():
        for _ in range(count):
            ticket = build(scenario, rng)
            ticket.start = pick_start(rng, scenario)
            tickets.append(ticket)
            if scenario == "repeat_contact_first":
                second = build("repeat_contact_second", rng)
                second.topic = ticket.topic
                last_ai = max(c.at for c in ticket.comments if c.author == AI)
                second.start = ticket.start + last_ai + rng.randint(2 * HOUR, 20 * HOUR)
                ticket.second = second
                tickets.append(second)
    return tickets


def new_customer(rng: random.Random, n: int) -> Customer:
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    email = f"{first}.{last}{n % 89}@example.{rng.choice(('com', 'org', 'net'))}".lower()
    return Customer(str(9200000000 + 37 * n + rng.randint(0, 36)), f"{first} {last}", email)


def assign_customers(rng: random.Random, tickets: list[Ticket]) -> list[Customer]:
    """Requesters: a free customer of the pool, or a new one; pairs share theirs."""
    pool: list[Customer] = []
    for ticket in sorted(tickets, key=lambda t: t.start):
        if ticket.scenario == "repeat_contact_second":
            continue  # the first ticket's customer
        free = [c for c in pool if c.free_at <= ticket.start]
        customer = rng.choice(free) if free and rng.random() < 0.45 else None
        if customer is None:
            customer = new_customer(rng, len(pool))
            pool.append(customer)
        last = ticket.second or ticket
        customer.free_at = last.start + last.end() + CUSTOMER_GAP
        ticket.requester = customer.id
        if ticket.second:
            ticket.second.requester = customer.id
    return pool


def finish(ticket: Ticket) -> None:
    """Close solved tickets 7 days later (automation), make times absolute, drop what happens
    after the export (only automation and ratings can)."""
    if ticket.current.get("status") == "solved":
        ticket.set(SYSTEM, "status", "closed", delay=7 * DAY)
    for item in [*ticket.comments, *ticket.changes]:
        item.at += ticket.start
    ticket.changes = [c for c in ticket.changes if c.at < EXPORT_AT]
    assert all(c.at < EXPORT_AT for c in ticket.comments), ticket.scenario
    ticket.current = {}
    for change in ticket.changes:
        ticket.current[change.field] = change.value


def plan_month(rng: random.Random) -> tuple[list[Ticket], list[Customer]]:
    tickets = place_tickets(rng)
    ordered = sorted(range(len(tickets)), key=lambda i: (tickets[i].start, i))
    customers = assign_customers(rng, tickets)
    next_id = 52_000
    for i in ordered:
        next_id += rng.randint(1, 3)
        tickets[i].id = next_id
        finish(tickets[i])
    tickets.sort(key=lambda t: t.id)
    comments = sorted(((c.at, t.id, n, c) for t in tickets for n, c in enumerate(t.comments)),
                      key=lambda x: x[:3])
    for n, (_, _, _, comment) in enumerate(comments):
        comment.id = 40_100_000_000_000 + 7 * n
    return tickets, customers


def invoice(rng: random.Random, tickets: list[Ticket]) -> list[tuple[int, int]]:
    """(ticket id, billed_at): 72 h after the billing anchor, truncated to the minute, if that
    is before the export; plus a few duplicate lines."""
    lines = []
    for ticket in tickets:
        if ticket.scenario in BILLED_SCENARIOS and ticket.billing_anchor is not None:
            billed_at = (ticket.start + ticket.billing_anchor + 72 * HOUR) // MINUTE * MINUTE
            if billed_at < EXPORT_AT:
                lines.append((ticket.id, billed_at))
    for ticket_id, billed_at in rng.sample(sorted(lines), DUPLICATES):
        again = billed_at + rng.randint(2 * HOUR, 3 * DAY) // MINUTE * MINUTE
        lines.append((ticket_id, min(again, EXPORT_AT - MINUTE)))
    return sorted(lines, key=lambda line: (line[1], line[0]))


FIRST_NAMES = ("Ava", "Ben", "Chloe", "Daniel", "Elena", "Farah", "George", "Hana", "Ivan", "Julia",
               "Kofi", "Lena", "Marco", "Nadia", "Oscar", "Paula", "Quinn", "Rosa", "Samir", "Tara")
LAST_NAMES = ("Adams", "Becker", "Costa", "Dubois", "Evans", "Fischer", "Garcia", "Hughes", "Ito",
              "Jensen", "Khan", "Larsen", "Moreau", "Novak", "Okafor", "Patel", "Rossi", "Silva")


def write_month(out: Path, seed: int) -> str:
    """Write api/, fivetran/, scenarios.csv and billed.csv under `out`; return a summary."""
    import _zendesk_shapes as shapes  # imports this module: loaded only when writing

    rng = random.Random(f"zendesk-{seed}")
    tickets, customers = plan_month(rng)
    lines = invoice(rng, tickets)
    shapes.write_api(out / "api", tickets, customers)
    shapes.write_fivetran(out / "fivetran", tickets, customers)
    return shapes.write_truth(out, tickets, lines)
