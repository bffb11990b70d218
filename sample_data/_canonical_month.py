"""`generate.py --canonical N`: a large month as canonical Parquet, for benchmarks.

Writes events.parquet (auditor.schema.EVENT_COLUMNS), conversations.parquet (CONVERSATION_COLUMNS)
and billed.csv. Vectorized: each scenario is a template of steps; a chunk of conversations is
joined onto the templates and every column is computed for all rows at once with polars
expressions. Random draws are hashes of (row key, salt) under the seed, so the output is
byte-identical for a seed (within one polars version: polars' hash is not stable across versions).
"""

from __future__ import annotations

import math
import resource
import sys
from pathlib import Path
from typing import NamedTuple

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

import _intercom_month as month
from _intercom_month import (
    ASSUMED, BILLABLE_LABELS, CONFIRMED, DAY, ESCALATED, HOUR, MIX, NEGATIVE, NOISE, NOV_1, OCT_1, SEP_29,
)

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from auditor.schema import CONVERSATION_COLUMNS, EVENT_COLUMNS, TOKEN_COLUMNS, column_names  # noqa: E402

C, AI, BOT, HUMAN = "customer", "ai_agent", "bot", "human_agent"
MSG = "message"
BILLED_SHARE = 0.39  # of conversations; with ~2.5% invoice noise, ~40% as many lines as conversations
OLD_VOCABULARY_SHARE = 0.575  # exports from API 2.11-2.14 say routed_to_team / abandoned
CUSTOMERS_PER_CONVERSATION = 1_100 / 3_000  # as in the sample month


class Step(NamedTuple):
    actor: str
    event: str
    body: str | None = None  # key into texts()
    lo: int = 1  # delay after the previous step, seconds
    hi: int = 1
    prob: float = 1.0
    coin: int = 0  # steps with the same coin (> 0) are kept or dropped together
    rating: tuple[int, int] = (0, 0)
    anchor: bool = False  # the customer's confirmation: a confirmed resolution is recorded here


ASK, ANSWER = Step(C, MSG, "question", 0, 0), Step(AI, MSG, "answer", 6, 40)
FIN_CLOSE, HUMAN_CLOSE = Step(AI, "close", None, 1200, 3600), Step(HUMAN, "close", None, 60, 1800)
CHECK_IN = Step(AI, MSG, "fin_closing", 240, 255)  # Fin's idle check-in: "Is there anything else...?"
# Optional steps are thinner than in the JSON month, to keep ~5-6 events per conversation.
HANDOFF = (Step(AI, MSG, "fin_handoff", 3, 20, 0.6), Step(AI, "handoff", None, 1, 2),
           Step(BOT, MSG, "operator_wait", 1, 5, 0.4))
HUMAN_SOLVES = (Step(HUMAN, "assignment", None, 120, 4 * HOUR, 0.5),
                Step(HUMAN, "note", "note", 30, 300, 0.2), Step(HUMAN, MSG, "human_reply", 60, 900))
ASKS_HUMAN = Step(C, MSG, "human_request", 20, 300, 0.75)
THANKS = Step(C, MSG, "thanks_human", 30, 400, 0.35)


def rating(lo: int, hi: int, prob: float = 1.0, after: tuple[int, int] = (5, 90)) -> Step:
    return Step(C, "rating", None, *after, prob, rating=(lo, hi))


REOPENED = (ASK, ANSWER, FIN_CLOSE, Step(C, "reopen", None, 2 * DAY, 6 * DAY), Step(C, MSG, "reopen", 0, 5),
            Step(BOT, MSG, "operator_wait", 2, 10), *HUMAN_SOLVES, HUMAN_CLOSE)
TEMPLATES: dict[str, tuple[str | None, tuple[Step, ...]]] = {
    "ai_assumed": (ASSUMED, (
        ASK, ANSWER, Step(C, MSG, "followup", 20, 300, 0.2, coin=1),
        Step(AI, MSG, "answer2", 6, 40, 0.2, coin=1), CHECK_IN._replace(prob=0.4), rating(3, 5, 0.1),
        FIN_CLOSE)),
    "ai_confirmed": (CONFIRMED, (
        ASK, ANSWER, Step(C, MSG, "confirm", 20, 300, anchor=True), Step(AI, MSG, "fin_glad", 2, 5, 0.25),
        rating(4, 5, 0.4), FIN_CLOSE._replace(lo=60, hi=900))),
    "human_takeover_fin_close": (ASSUMED, (  # the gotcha: Fin's check-in after a human solved it
        ASK, ANSWER, ASKS_HUMAN, *HANDOFF, *HUMAN_SOLVES, THANKS, CHECK_IN, rating(4, 5, 0.3, (30, 600)),
        FIN_CLOSE)),
    "escalated_human_finished": (ESCALATED, (
        ASK, ANSWER, ASKS_HUMAN, *HANDOFF, *HUMAN_SOLVES, THANKS, rating(3, 5, 0.3, (30, 600)), HUMAN_CLOSE)),
    "followup_then_human": (ESCALATED, (
        ASK, ANSWER, Step(C, MSG, "followup", 20, 300), Step(AI, MSG, "answer2", 6, 40),
        ASKS_HUMAN._replace(prob=0.5), *HANDOFF, *HUMAN_SOLVES, HUMAN_CLOSE)),
    "repeat_contact_first": (ASSUMED, (ASK, ANSWER, FIN_CLOSE)),
    "repeat_contact_second": (ESCALATED, (
        Step(C, MSG, "repeat", 0, 0), Step(AI, MSG, "answer2", 6, 40), ASKS_HUMAN._replace(prob=1.0),
        *HANDOFF, *HUMAN_SOLVES, HUMAN_CLOSE)),
    "note_only": (ASSUMED, (ASK, ANSWER, FIN_CLOSE, Step(HUMAN, "note", "note", 600, 6 * HOUR))),
    "negative_rating": (ASSUMED, (ASK, ANSWER, rating(1, 2), FIN_CLOSE)),
    "reopened_billed": (ASSUMED, REOPENED),
    "reopened": (ESCALATED, REOPENED),
    "outbound_fin_billed": (ASSUMED, (
        Step(BOT, MSG, "proactive_source", 0, 0), Step(AI, MSG, "proactive", 5, 60), FIN_CLOSE)),
    "preview_billed": (ASSUMED, (ASK, ANSWER, FIN_CLOSE._replace(lo=120, hi=600))),
    "preview": (ESCALATED, (ASK, ANSWER, ASKS_HUMAN._replace(prob=1.0), *HANDOFF)),
    "ai_negative_feedback": (NEGATIVE, (
        ASK, ANSWER, Step(C, MSG, "negative", 20, 300), Step(AI, MSG, "fin_sorry", 3, 20),
        rating(1, 2, 0.5), FIN_CLOSE)),
    "outbound_no_reply": (None, (
        Step(BOT, MSG, "outbound", 0, 0), Step(BOT, "close", None, DAY, 4 * DAY, 0.5))),
    "greeting_only": (None, (Step(C, MSG, "greeting", 0, 0), Step(AI, MSG, "fin_greeting", 3, 8), FIN_CLOSE)),
    "human_only": (None, (
        ASK, Step(BOT, MSG, "operator_wait", 5, 30, 0.6), Step(BOT, "assignment", None, 1, 3, 0.6),
        *HUMAN_SOLVES, Step(C, MSG, "thanks_human", 300, 6 * HOUR, 0.3), rating(2, 5, 0.2, (30, 600)),
        HUMAN_CLOSE._replace(hi=3600))),
    "ai_pending": (None, (ASK, ANSWER, CHECK_IN._replace(prob=0.4))),
}
SCENARIOS = tuple(TEMPLATES)
CODE = {name: i for i, name in enumerate(SCENARIOS)}
FIRST, SECOND = CODE["repeat_contact_first"], CODE["repeat_contact_second"]
PREVIEWS = ("preview", "preview_billed")
EMAIL_SHARE = {"human_only": 0.7}  # others 0.1
PAIR_GAP = (2 * HOUR, 62 * HOUR)  # the second conversation after the first's last AI message
WINDOW_ORIGIN = SEP_29 - 2 * DAY  # customer windows (Month.customers) count from 2026-09-27
ANSWER_BODIES = ("answer", "answer2", "proactive")  # Fin's actual answers, not greetings or check-ins
VARIANTS = 60  # every text option list (1-6 long) repeated to 60 rows, so `hash % 60` is uniform


def by_code(value: object) -> dict[int, object]:
    """{scenario code: value(name)} for a callable, or the value looked up in a dict."""
    return {CODE[s]: value(s) if callable(value) else value.get(s) for s in SCENARIOS}  # type: ignore


# --- static tables: steps, texts, the mix ----------------------------------------------------------

def steps_table() -> pl.DataFrame:
    rows = [dict(scenario=CODE[name], step=i, actor_role=s.actor, event_type=s.event, body_key=s.body,
                 lo=s.lo, hi=s.hi, prob=s.prob, coin=s.coin, r_lo=s.rating[0], r_hi=s.rating[1],
                 anchor=s.anchor)
            for name, (_, steps) in TEMPLATES.items() for i, s in enumerate(steps)]
    return pl.DataFrame(rows).with_columns(pl.col("scenario", "step").cast(pl.Int64))


def texts(topic: month.Topic) -> dict[str, tuple[str, ...]]:
    team = month.TEAMS[topic.team][1]
    return {
        "question": topic.questions, "answer": topic.answers, "followup": topic.followups,
        "answer2": (topic.second_answer,), "human_reply": topic.human, "note": (topic.note,),
        "reopen": (topic.reopen,), "repeat": (topic.repeat,), "human_request": month.HUMAN_REQUESTS,
        "confirm": month.CONFIRMATIONS + (month.HELPED,), "thanks_human": month.THANKS_HUMAN,
        "negative": month.NEGATIVE_REACTIONS, "greeting": month.GREETINGS,
        "fin_greeting": (month.FIN_GREETING,), "fin_closing": (month.FIN_CLOSING,),
        "fin_glad": month.FIN_GLAD, "fin_sorry": (month.FIN_SORRY,),
        "fin_handoff": tuple(t.format(team=team) for t in month.FIN_HANDOFF_ASKED + month.FIN_HANDOFF_SELF),
        "operator_wait": month.OPERATOR_WAIT, "outbound": month.OUTBOUND_AUTOMATED,
        "proactive_source": (month.PROACTIVE_SOURCE,), "proactive": (month.PROACTIVE_FIN,),
    }


def bodies_table() -> pl.DataFrame:
    rows = [(t, key, v, options[v % len(options)])
            for t, topic in enumerate(month.TOPICS) for key, options in texts(topic).items()
            for v in range(VARIANTS)]
    table = pl.DataFrame(rows, schema=["topic", "body_key", "variant", "body"], orient="row")
    return table.with_columns(pl.col("topic", "variant").cast(pl.Int64))


def ai_answered(name: str) -> bool | None:
    """As the Intercom adapter reads ai_agent: unknown without Fin, false when it only greeted."""
    steps = TEMPLATES[name][1]
    if not any(s.actor == AI for s in steps):
        return None
    return any(s.actor == AI and s.body in ANSWER_BODIES for s in steps)


def billable(name: str) -> bool:
    return TEMPLATES[name][0] in BILLABLE_LABELS


def canonical_mix() -> dict[str, float]:
    """MIX with the single billed scenarios scaled so that BILLED_SHARE of conversations are billed.

    Repeat-contact pairs keep their share; half of their conversations (the first) are billed.
    """
    pairs = MIX["repeat_contact_first"] + MIX["repeat_contact_second"]
    singles = [s for s in SCENARIOS if not s.startswith("repeat_contact")]
    billed = sum(MIX[s] for s in singles if billable(s))
    unbilled = sum(MIX[s] for s in singles) - billed
    scale = (BILLED_SHARE * (pairs + unbilled) - pairs / 2) / ((1 - BILLED_SHARE) * billed)
    weights = {s: MIX[s] * (scale if billable(s) and s in singles else 1.0) for s in SCENARIOS}
    return {s: w / sum(weights.values()) for s, w in weights.items()}


def span(name: str, upto_last_ai: bool = False) -> int:
    """Longest possible time from the start to the last step (or the last AI message), + margin."""
    steps = TEMPLATES[name][1]
    ai = [i for i, s in enumerate(steps) if s.actor == AI and s.event == MSG]
    last = ai[-1] if upto_last_ai else len(steps) - 1
    return sum(s.hi for s in steps[: last + 1]) + 690  # ratings' own delay (90 s) + 10 minutes


def reserve(name: str) -> int:
    """Time a conversation needs before the export: its span, + 24 h until an assumed resolution."""
    if name == "repeat_contact_first":  # the pair's second conversation has to fit too
        return span(name, upto_last_ai=True) + PAIR_GAP[1] + span("repeat_contact_second")
    return span(name) + (DAY if TEMPLATES[name][0] == ASSUMED else 0)


# --- one chunk of conversations -------------------------------------------------------------------

class Month:
    """Builds chunks of the month; holds the seed and the customer-window counts across chunks."""

    def __init__(self, seed: int, total: int) -> None:
        self.seed = seed
        self.slots = max(1, round(total * CUSTOMERS_PER_CONVERSATION) // 3)  # customers per class
        self.stride = next(a for a in range(1_000_003, 2_000_000, 2) if math.gcd(a, self.slots) == 1)
        self.window_counts: dict[int, int] = {}
        mix = canonical_mix()
        self.pair_share = mix["repeat_contact_first"] + mix["repeat_contact_second"]
        singles = [s for s in SCENARIOS if not s.startswith("repeat_contact")]
        cumulative = [sum(mix[s] for s in singles[: i + 1]) for i in range(len(singles))]
        self.single_codes = [CODE[s] for s in singles]
        self.single_edges = [c / cumulative[-1] for c in cumulative[:-1]] + [1.0 + 1e-9]
        self.steps, self.bodies = steps_table(), bodies_table()

    def hash(self, key: pl.Expr, salt: int) -> pl.Expr:
        """A 64-bit hash per value of `key`, fixed by the seed and `salt`."""
        return key.hash(self.seed * 1_000 + salt)

    def uniform(self, key: pl.Expr, salt: int) -> pl.Expr:
        """A [0, 1) draw per value of `key`, fixed by the seed and `salt`."""
        return (self.hash(key, salt) % (1 << 53)).cast(pl.Float64) / float(1 << 53)

    def scenario(self) -> pl.Expr:
        """Pairs (2k, 2k+1) are repeat contacts with pair_share; others drawn from the single mix."""
        idx = pl.col("idx")
        in_pair = self.uniform(idx // 2, 1) < self.pair_share
        position = pl.lit(pl.Series(self.single_edges)).search_sorted(self.uniform(idx, 2), side="right")
        single = pl.lit(pl.Series(self.single_codes, dtype=pl.Int64)).gather(position)
        paired = pl.when(idx % 2 == 0).then(FIRST).otherwise(SECOND)
        return pl.when(in_pair).then(paired).otherwise(single).cast(pl.Int64).alias("scenario")

    def conversations(self, lo: int, hi: int) -> pl.DataFrame:
        idx, code = pl.col("idx"), pl.col("scenario")
        person = pl.when(code.is_in([FIRST, SECOND])).then(idx // 2 * 2).otherwise(idx)  # pairs share
        topic = (self.hash(person, 3) % len(month.TOPICS)).cast(pl.Int64)
        teams = {i: ("support", "billing").index(t.team) for i, t in enumerate(month.TOPICS)}
        team = topic.replace_strict(teams, return_dtype=pl.Int64)
        admin = team * 3 + (self.hash(idx, 4) % 3).cast(pl.Int64)  # 3 admins per team
        admin_ids = dict(enumerate(a.id for a in month.ADMINS))
        email = self.uniform(idx, 5) < code.replace_strict(by_code(lambda s: EMAIL_SHARE.get(s, 0.1)))
        df = pl.DataFrame({"idx": pl.int_range(lo, hi, eager=True, dtype=pl.Int64)})
        return df.with_columns(self.scenario()).with_columns(
            conversation_id=(idx + 300_000_000_000).cast(pl.String), topic=topic,
            admin_id=admin.replace_strict(admin_ids, return_dtype=pl.String),
            channel=pl.when(email).then(pl.lit("email")).otherwise(pl.lit("chat")),
        ).with_columns(start=self.starts()).with_columns(customer_id=self.customers())

    def starts(self) -> pl.Expr:
        """Start times (unix seconds): spread over October so each story ends before the export."""
        code, u = pl.col("scenario"), self.uniform(pl.col("idx"), 7)
        reserved = code.replace_strict(by_code(reserve), return_dtype=pl.Int64)
        regular = OCT_1 + (u * (NOV_1 - OCT_1 - reserved)).cast(pl.Int64)
        pending = NOV_1 - 22 * HOUR + (u * (22 * HOUR - reserved)).cast(pl.Int64)
        gap = span("repeat_contact_first", upto_last_ai=True) + PAIR_GAP[0]
        second = regular.shift(1) + gap + (u * (PAIR_GAP[1] - PAIR_GAP[0])).cast(pl.Int64)
        assumed = code.replace_strict(by_code(lambda s: TEMPLATES[s][0] == ASSUMED), return_dtype=pl.Boolean)
        september = SEP_29 - pl.when(assumed).then(DAY).otherwise(0) + (u * 40 * HOUR).cast(pl.Int64)
        billed_single = code.is_in([CODE[s] for s in SCENARIOS if billable(s) and span(s) < DAY
                                    and s not in PREVIEWS and not s.startswith("repeat")])
        prior = billed_single & (self.uniform(pl.col("idx"), 8) < NOISE["prior_period"])
        return (pl.when(code == CODE["ai_pending"]).then(pending).when(code == SECOND).then(second)
                .when(prior).then(september).otherwise(regular))

    def customers(self) -> pl.Expr:
        """Customer ids: one customer's conversations start >= 6 days apart, except repeat pairs.

        Window w (3 days from 2026-09-27) uses the customers of class w % 3, and its n-th
        conversation gets slot (n * stride + w) mod slots, a bijection; a repeat pair's second
        conversation takes the first's customer.
        """
        window = (pl.col("start") - WINDOW_ORIGIN) // (3 * DAY)
        second = pl.col("scenario") == SECOND
        offset = window.replace_strict(self.window_counts, default=0, return_dtype=pl.Int64)
        rank = offset + (~second).cast(pl.Int64).cum_sum().over(window) - 1
        slot = (rank * self.stride + window) % self.slots
        number = pl.when(second).then(None).otherwise(slot * 3 + window % 3).forward_fill()
        return pl.lit("cus_") + number.cast(pl.String).str.zfill(7)

    def count_windows(self, conv: pl.DataFrame) -> None:
        """Remember how many conversations each window has had, for the next chunk's ranks."""
        window = (pl.col("start") - WINDOW_ORIGIN) // (3 * DAY)
        for w, n in conv.filter(pl.col("scenario") != SECOND).group_by(window.alias("w")).len().iter_rows():
            self.window_counts[w] = self.window_counts.get(w, 0) + n
            if self.window_counts[w] > self.slots:
                raise ValueError(f"customer window {w} has more conversations than customers")

    def labels(self, conv: pl.DataFrame) -> pl.DataFrame:
        code = pl.col("scenario")
        state = code.replace_strict(by_code(lambda s: TEMPLATES[s][0]), return_dtype=pl.String)
        old = self.uniform(pl.col("idx"), 13) < OLD_VOCABULARY_SHARE
        verbatim = (pl.when(old & (state == ESCALATED)).then(pl.lit("routed_to_team"))
                    .when(old & (state == NEGATIVE)).then(pl.lit("abandoned")).otherwise(state))
        preview = code.is_in([CODE[s] for s in PREVIEWS])
        answered = code.replace_strict(by_code(ai_answered), return_dtype=pl.Boolean)
        return conv.with_columns(vendor_label=verbatim, vendor_state=state, is_preview=preview,
                                 ai_answered=answered)

    def timeline(self, conv: pl.DataFrame) -> pl.DataFrame:
        """One row per kept template step, in conversation then step order, with its time `at`."""
        narrow = conv.select("idx", "scenario", "start", "topic").with_row_index("row")
        ev = narrow.join(self.steps, on="scenario", how="inner", maintain_order="left_right")
        coin = pl.when(pl.col("coin") > 0).then(32 + pl.col("coin")).otherwise(pl.col("step"))
        ev = ev.filter(self.uniform(pl.col("idx") * 64 + coin, 9) < pl.col("prob"))
        step_key = pl.col("idx") * 64 + pl.col("step")
        delay = pl.col("lo") + (self.uniform(step_key, 10) * (pl.col("hi") - pl.col("lo") + 1)).cast(pl.Int64)
        stars = pl.col("r_lo") + (self.uniform(step_key, 11) * (pl.col("r_hi") - pl.col("r_lo") + 1))
        ev = ev.with_columns(delay=delay, total=delay.cum_sum(),
                             variant=(self.hash(step_key, 12) % VARIANTS).cast(pl.Int64),
                             rating=pl.when(pl.col("event_type") == "rating").then(stars).cast(pl.Int32))
        first = (pl.col("idx") != pl.col("idx").shift(1)).fill_null(True)
        base = pl.when(first).then(pl.col("start") - pl.col("total") + pl.col("delay")).forward_fill()
        return ev.with_columns(at=base + pl.col("total"))  # start + the delays so far in the conversation

    def events(self, conv: pl.DataFrame) -> pl.DataFrame:
        ev = self.timeline(conv).join(self.bodies, on=["topic", "body_key", "variant"], how="left",
                                      maintain_order="left")
        ev = ev.with_columns(conv[c].gather(ev["row"]) for c in ("conversation_id", "customer_id", "admin_id",
                                                                 "channel"))
        role = pl.col("actor_role")
        actor_id = (pl.when(role == C).then(pl.col("customer_id"))
                    .when(role == AI).then(pl.lit(month.BOTS[month.FIN][0]))
                    .when(role == BOT).then(pl.lit(month.BOTS[month.OPERATOR][0]))
                    .when(role == HUMAN).then(pl.col("admin_id")))
        event_id = pl.col("conversation_id") + "-" + pl.col("step").cast(pl.String)
        return ev.with_columns(actor_id=actor_id, event_id=event_id)

    def billed(self, conv: pl.DataFrame, ev: pl.DataFrame) -> pl.DataFrame:
        """Invoice lines (conversation_id, at): a labelled resolution 24 h after Fin's last message
        (or at the confirmation), plus ~1% duplicates and ~0.5% ids the export does not have."""
        is_ai_message = (pl.col("actor_role") == AI) & (pl.col("event_type") == MSG)
        last_ai = ev.filter(is_ai_message).group_by("idx").agg(last_ai=pl.col("at").max())
        confirmed = ev.filter(pl.col("anchor")).group_by("idx").agg(confirmed=pl.col("at").min())
        assumed = pl.col("vendor_state") == ASSUMED
        recorded = pl.when(assumed).then(pl.col("last_ai") + DAY).otherwise(pl.col("confirmed"))
        lines = (conv.filter(pl.col("vendor_state").is_in(BILLABLE_LABELS))
                 .join(last_ai, on="idx", how="left").join(confirmed, on="idx", how="left")
                 .with_columns(at=recorded // 60 * 60))
        u = self.uniform(pl.col("idx"), 14)
        later = (pl.col("at") + 2 * HOUR + (u * 4 * DAY).cast(pl.Int64)).clip(upper_bound=NOV_1 - 60)
        dups = lines.filter((self.uniform(pl.col("idx"), 15) < NOISE["duplicate"]) & (pl.col("at") >= OCT_1))
        unknown = lines.filter(self.uniform(pl.col("idx"), 16) < NOISE["unknown_id"]).with_columns(
            conversation_id=(pl.col("idx") + 900_000_000_000).cast(pl.String),
            at=OCT_1 + (u * (NOV_1 - OCT_1 - 60)).cast(pl.Int64))
        parts = (lines, dups.with_columns(at=later), unknown)
        return pl.concat([f.select("conversation_id", at=pl.col("at") // 60 * 60) for f in parts])


# --- writing --------------------------------------------------------------------------------------

EVENT_SCHEMA = pa.schema([
    ("conversation_id", pa.string()), ("event_id", pa.string()), ("created_at", pa.timestamp("us", tz="UTC")),
    ("actor_role", pa.string()), ("actor_id", pa.string()), ("event_type", pa.string()),
    ("body", pa.string()), ("rating", pa.int32()), ("channel", pa.string())])
CONVERSATION_SCHEMA = pa.schema([
    ("conversation_id", pa.string()), ("customer_id", pa.string()), ("channel", pa.string()),
    ("vendor_label", pa.string()), ("vendor_state", pa.string()), ("is_preview", pa.bool_()),
    ("ai_answered", pa.bool_())])
# Every canonical event column but the optional token counts (the sample logs no LLM usage).
assert EVENT_SCHEMA.names == [c for c in column_names(EVENT_COLUMNS) if c not in TOKEN_COLUMNS]
assert CONVERSATION_SCHEMA.names == column_names(CONVERSATION_COLUMNS)


def utc(seconds: pl.Expr) -> pl.Expr:
    return pl.from_epoch(seconds, time_unit="s").dt.replace_time_zone("UTC")


def arrow(df: pl.DataFrame, schema: pa.Schema) -> pa.Table:
    return df.select(schema.names).to_arrow().cast(schema)


def write_chunk(m: Month, lo: int, hi: int, events_out: pq.ParquetWriter,
                convs_out: pq.ParquetWriter) -> tuple[pl.DataFrame, int]:
    """Write conversations [lo, hi) and their events; return their invoice lines and event count."""
    conv = m.labels(m.conversations(lo, hi))
    m.count_windows(conv)
    ev = m.events(conv)
    events_out.write_table(arrow(ev.with_columns(created_at=utc(pl.col("at"))), EVENT_SCHEMA))
    convs_out.write_table(arrow(conv, CONVERSATION_SCHEMA))
    return m.billed(conv, ev), ev.height


def write_month(out: Path, seed: int, total: int, chunk_size: int = 200_000) -> str:
    chunk_size += chunk_size % 2  # repeat-contact pairs (2k, 2k+1) never straddle two chunks
    m, billed, n_events = Month(seed, total), [], 0
    events_path, convs_path = out / "events.parquet", out / "conversations.parquet"
    with pq.ParquetWriter(events_path, EVENT_SCHEMA, compression="zstd") as events_out, \
            pq.ParquetWriter(convs_path, CONVERSATION_SCHEMA, compression="zstd") as convs_out:
        for lo in range(0, total, chunk_size):
            lines, n = write_chunk(m, lo, min(lo + chunk_size, total), events_out, convs_out)
            billed.append(lines)
            n_events += n
    lines = pl.concat(billed).sort("at", "conversation_id")
    lines.select("conversation_id", billed_at=utc(pl.col("at")).dt.strftime("%Y-%m-%dT%H:%M:%SZ"),
                 amount=pl.lit("0.99")).write_csv(out / "billed.csv", line_terminator="\n")
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return (f"canonical month: {total} conversations, {n_events} events "
            f"({n_events / max(total, 1):.2f} per conversation), {lines.height} billed lines; "
            f"peak RSS {peak_mib:.0f} MiB")
