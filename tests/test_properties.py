"""Invariants that hold for any month, checked on generated conversations and bills
(hypothesis): the report's identities, independence from input order, the same findings from
every format, and every input record accounted for.

Examples are few and derandomized: each one is a whole audit, and CI must be repeatable.
"""

from __future__ import annotations

import csv
import json
import random
import shutil
import tempfile
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from auditor.billing_values import (
    COMMA_VALUE,
    PLAIN_AMOUNT,
    PLAIN_COMMA_VALUE,
    PLAIN_POINT_VALUE,
    POINT_VALUE,
)
from tests.conftest import EVENT_HEADER, run_cli, write_csv
from tests.intercom_builder import conversation, write_jsonl

AUDITS = settings(max_examples=10, deadline=None, derandomize=True,
                  suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
# Three audits and an ingest per example: fewer examples, the same generator.
THREE_AUDITS = settings(AUDITS, max_examples=6)
TEXTS = ["My order never arrived", "thanks", "That helped", "I want to talk to a human",
         "that doesn't work, what now?", "Is there anything else I can help with?",
         "Refunds take 5 days.", "useless", ""]
WHO = ["customer", "fin", "agent", "operator"]
KINDS = ["comment", "comment", "comment", "note", "close", "open", "assignment", "quick_reply"]
STATES = ["assumed_resolution", "confirmed_resolution", "escalated", None]


@st.composite
def conversations(draw: st.DrawFn) -> list[dict]:
    """A month of small Intercom conversations: random steps, shared customers, ratings."""
    records = []
    for n in range(draw(st.integers(1, 8))):
        first = draw(st.sampled_from([("customer", "Hi, my parcel is late"),
                                      ("operator", "Your plan renews soon")]))
        steps = [(0.0, first[0], "comment", first[1])]
        minute = 0.0
        for _ in range(draw(st.integers(0, 6))):
            minute += draw(st.sampled_from([0.5, 1, 7, 90, 1500]))
            who, kind = draw(st.sampled_from(WHO)), draw(st.sampled_from(KINDS))
            steps.append((minute, who, kind, draw(st.sampled_from(TEXTS))))
        records.append(conversation(
            f"c{n}", steps, customer=str(draw(st.integers(1, 4))), day=draw(st.integers(0, 25)),
            state=draw(st.sampled_from(STATES)), rating=draw(st.none() | st.integers(1, 5)),
            source_type=draw(st.sampled_from(["workflow", "workflow", "fin_preview"])),
            delivered_as="automated" if first[0] == "operator" else "customer_initiated"))
    return records


@st.composite
def bills(draw: st.DrawFn, ids: list[str]) -> list[list[str]]:
    """Billed lines: export ids (repeated or not), ids the export lacks, amounts or none,
    dates in and out of the period."""
    lines = []
    for _ in range(draw(st.integers(0, 12))):
        cid = draw(st.sampled_from([*ids, "ghost-1", "ghost-2"]))
        day = draw(st.sampled_from(["2026-09-30", "2026-10-15", "2026-10-31", "2026-11-01"]))
        amount = draw(st.sampled_from(["", "0.99", "1.50", "0.33"]))
        lines.append([cid, f"{day}T12:00:00Z", amount])
    return lines


@pytest.fixture
def tmp() -> Iterator[Path]:
    """A fresh folder per hypothesis example (function-scoped fixtures are shared by them)."""
    folder = Path(tempfile.mkdtemp(prefix="auditor-prop-"))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def audit(exports: list[Path], bill: list[list[str]], out: Path, *extra: str) -> int:
    billed = write_csv(out.parent / f"{out.name}-billed.csv",
                       ["conversation_id", "billed_at", "amount"], bill)
    result = run_cli(["audit", *map(str, exports), "--billed", str(billed), "--period",
                      "2026-10-01..2026-10-31", "--out", str(out), *extra])
    assert result.exit_code in (0, 1), result.output
    return result.exit_code


def month(data: st.DataObject) -> tuple[list[dict], list[list[str]]]:
    records = data.draw(conversations())
    return records, data.draw(bills([r["id"] for r in records]))


@AUDITS
@given(data=st.data())
def test_every_billed_unit_gets_one_status_and_the_report_adds_up(data: st.DataObject) -> None:
    records, bill = month(data)
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        exit_code = audit([write_jsonl(tmp / "export.jsonl", records)], bill, tmp / "out")
        report = json.loads((tmp / "out" / "report.json").read_text())
        with open(tmp / "out" / "findings.csv", newline="") as handle:
            findings = list(csv.DictReader(handle))
    assert len(findings) == len(bill) == report["billed"]["items"]
    parts = [report[s] for s in ("confirmed", "disputed", "unverifiable")]
    assert sum(p["items"] for p in parts) == report["billed"]["items"]
    amounts = [Decimal(f["amount"] or "0") for f in findings]
    assert round(sum(Decimal(str(p["amount"])) for p in parts), 2) == \
        round(Decimal(str(report["billed"]["amount"])), 2) == round(sum(amounts), 2)
    for row in findings:
        assert (row["status"] == "confirmed") == (row["reasons"] == ""), row
    r = report["reproduction"]
    assert r["matched"] + r["billed_not_reproduced"] + r["billed_undetermined"] == len(bill)
    assert r["matched"] + r["reproduced_not_billed"] == r["count"]
    assert sum(report["disputed"]["by_primary_reason"].values()) == report["disputed"]["items"]
    assert exit_code == (1 if report["disputed"]["items"] else 0)


@AUDITS
@given(data=st.data(), seed=st.integers(0, 1000))
def test_findings_do_not_depend_on_record_order_or_files(data: st.DataObject, seed: int) -> None:
    records, bill = month(data)
    shuffled = list(records)
    random.Random(seed).shuffle(shuffled)
    cut = len(shuffled) // 2
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        audit([write_jsonl(tmp / "one.jsonl", records)], bill, tmp / "a")
        (tmp / "split").mkdir()
        audit([write_jsonl(tmp / "split" / "2.jsonl", shuffled[:cut]),
               write_jsonl(tmp / "split" / "1.jsonl", shuffled[cut:])], bill, tmp / "b")
        assert (tmp / "a" / "findings.csv").read_bytes() == (tmp / "b" / "findings.csv").read_bytes()


@THREE_AUDITS
@given(data=st.data())
def test_intercom_json_canonical_csv_and_parquet_give_the_same_findings(
        data: st.DataObject) -> None:
    """`auditor ingest` writes the canonical tables; audited again they give the same findings
    as the Intercom export they came from, in CSV and in Parquet."""
    records, bill = month(data)
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        export = write_jsonl(tmp / "export.jsonl", records)
        audit([export], bill, tmp / "intercom")
        expected = (tmp / "intercom" / "findings.csv").read_bytes()
        for suffix in ("csv", "parquet"):
            events = tmp / f"events.{suffix}"
            assert run_cli(["ingest", str(export), "--out", str(events)]).exit_code == 0
            audit([events, tmp / f"events.conversations.{suffix}"], bill, tmp / suffix,
                  "--format", "canonical")
            assert (tmp / suffix / "findings.csv").read_bytes() == expected, suffix


BAD_CELLS = {"created_at": ["not a date", "", "31/31/2026"], "actor_role": ["robot", ""],
             "event_type": ["shout", ""], "rating": ["7", "two", "0"], "conversation_id": [""]}


@AUDITS
@given(data=st.data())
def test_every_record_read_becomes_an_event_or_a_quarantine_row(data: st.DataObject) -> None:
    rows = []
    for n in range(data.draw(st.integers(1, 25))):
        row = {"conversation_id": f"c{n % 5}", "created_at": f"2026-10-0{1 + n % 9}T10:{n:02d}:00Z",
               "actor_role": data.draw(st.sampled_from(["customer", "ai_agent", "human_agent"])),
               "actor_id": "u1", "event_type": "message", "body": "hello", "rating": ""}
        if data.draw(st.booleans()):
            field = data.draw(st.sampled_from(sorted(BAD_CELLS)))
            row[field] = data.draw(st.sampled_from(BAD_CELLS[field]))
        rows.append([row[h] for h in EVENT_HEADER])
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        events = write_csv(tmp / "events.csv", EVENT_HEADER, rows)
        result = run_cli(["ingest", str(events), "--format", "canonical", "--out",
                          str(tmp / "out.csv")])
        if result.exit_code == 2:  # no valid row at all: a file problem, said in one line
            assert "no row in this file is valid" in result.output
            return
        assert result.exit_code == 0, result.output
        with open(tmp / "out.csv", newline="") as handle:
            events_out = sum(1 for _ in handle) - 1
        with open(tmp / "out.quarantine.csv", newline="") as handle:
            quarantined = list(csv.DictReader(handle))
    assert events_out + len(quarantined) == len(rows)
    assert {q["source_record"] for q in quarantined} <= {f"line {n + 2}" for n in range(len(rows))}


@settings(max_examples=200, deadline=None, derandomize=True)
@given(values=st.lists(st.from_regex(r"[0-9]{1,20}(\.[0-9]{0,5})?|[0-9]{0,3}[.,][0-9]{3}",
                                     fullmatch=True), min_size=1, max_size=30))
def test_plain_amounts_read_as_the_full_patterns_read_them(values: list[str]) -> None:
    """The shortcut for plain amounts (billing_values.PLAIN_AMOUNT) gives both readings exactly
    as the patterns every other amount goes through."""
    with duckdb.connect() as con:
        rows = con.execute(f"""
            SELECT raw, {PLAIN_POINT_VALUE}, {PLAIN_COMMA_VALUE}, {POINT_VALUE}, {COMMA_VALUE}
            FROM (SELECT unnest(?) AS raw) CROSS JOIN LATERAL (SELECT raw AS num)
            WHERE regexp_full_match(raw, '{PLAIN_AMOUNT}')
        """, [values]).fetchall()
    for raw, plain_point, plain_comma, point, comma in rows:
        assert (plain_point, plain_comma) == (point, comma), raw
