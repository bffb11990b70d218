"""An Intercom export and billed list built here, audited end to end: every line's status,
reasons and money, and report.json's identities."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import run_cli, write_csv
from tests.intercom_builder import conversation, write_jsonl

ASK = (0, "customer", "comment", "My order 1234 never arrived")
ANSWER = (1, "fin", "comment", "I can see it was delayed; a new one ships today.")

CONVERSATIONS = [
    conversation("ai-only", [ASK, ANSWER]),
    conversation("gotcha", [ASK, ANSWER, (3, "customer", "comment", "I want to talk to a human"),
                            (3.5, "fin", "assignment", ""),
                            (10, "agent", "comment", "I've reshipped it with express delivery."),
                            (31, "fin", "comment", "Is there anything else I can help with?")]),
    conversation("note-only", [ASK, ANSWER, (5, "agent", "note", "Checked the carrier, fine")]),
    conversation("reopened", [ASK, ANSWER, (5, "agent", "close", ""),
                              (1440, "customer", "comment", "It still has not arrived")]),
    conversation("repeat-1", [ASK, ANSWER], customer="2"),
    conversation("repeat-2", [ASK, ANSWER], customer="2", day=1),
    conversation("low-rating", [ASK, ANSWER], rating=1),
    conversation("preview", [ASK, ANSWER], source_type="fin_preview"),
    conversation("outbound", [(0, "operator", "comment", "Your plan renews next week"),
                              (1, "fin", "comment", "Ask me anything about renewals.")],
                 delivered_as="automated"),
    conversation("quick-reply", [ASK, ANSWER, (2, "customer", "quick_reply", "That helped 👍")],
                 state="confirmed_resolution"),
    # The export runs to the end of the month, so Fin's answers above are past the 24 h wait.
    conversation("late", [ASK, ANSWER], customer="9", day=29, state=None),
    conversation("escalated", [ASK, ANSWER, (2, "customer", "comment", "Can I speak to a real person?"),
                               (3, "fin", "assignment", ""), (9, "agent", "comment", "Sorted.")],
                 state="escalated"),
]

# (conversation_id, billed_at, amount, expected status, expected reasons)
BILL = [
    ("ai-only", "2026-10-02T10:00:00Z", "", "confirmed", ""),
    ("gotcha", "2026-10-02T10:00:00Z", "", "disputed", "human_takeover;handoff_requested"),
    ("note-only", "2026-10-02T10:00:00Z", "", "confirmed", ""),
    # Intercom's own definition does not count it either (not_vendor_resolution), and the
    # customer's "still has not arrived" after the close got no answer.
    ("reopened", "2026-10-03T10:00:00Z", "", "disputed",
     "not_vendor_resolution;unanswered_followup;reopened"),
    ("repeat-1", "2026-10-02T10:00:00Z", "", "disputed", "repeat_contact"),
    ("low-rating", "2026-10-02T10:00:00Z", "", "disputed",
     "not_vendor_resolution;negative_feedback"),
    ("preview", "2026-10-02T10:00:00Z", "", "disputed", "not_vendor_resolution;preview"),
    ("outbound", "2026-10-02T10:00:00Z", "", "disputed", "no_customer_message"),
    ("quick-reply", "2026-10-02T10:00:00Z", "1.90", "confirmed", ""),
    ("ai-only", "2026-10-05T10:00:00Z", "", "disputed", "duplicate_billing"),
    ("ghost", "2026-10-05T10:00:00Z", "", "unverifiable", "not_in_export"),
    ("repeat-2", "2026-11-02T10:00:00Z", "", "disputed", "outside_period"),
]


@pytest.fixture
def audited(tmp_path: Path) -> tuple[Path, int]:
    export = write_jsonl(tmp_path / "export.jsonl", CONVERSATIONS)
    billed = write_csv(tmp_path / "invoice.csv", ["conversation_id", "billed_at", "amount"],
                       [list(row[:3]) for row in BILL])
    out = tmp_path / "report"
    result = run_cli(["audit", str(export), "--billed", str(billed),
                      "--period", "2026-10-01..2026-10-31", "--out", str(out)])
    return out, result.exit_code


def _findings(out: Path) -> list[dict[str, str]]:
    import csv

    with open(out / "findings.csv", newline="") as handle:
        return list(csv.DictReader(handle))


def test_every_line_gets_the_right_status_and_reasons(audited: tuple[Path, int]) -> None:
    out, exit_code = audited
    rows = _findings(out)
    assert [(r["line"], r["conversation_id"]) for r in rows] == \
        [(str(n), b[0]) for n, b in enumerate(BILL, 1)]
    assert [(r["status"], r["reasons"]) for r in rows] == [(b[3], b[4]) for b in BILL]
    assert exit_code == 1


def test_the_gotcha_is_reproduced_as_billed_and_disputed_with_evidence(audited: tuple[Path, int]) -> None:
    gotcha = next(r for r in _findings(audited[0]) if r["conversation_id"] == "gotcha")
    assert gotcha["reproduced"] == "true"  # Intercom's own definition counts it ...
    assert gotcha["status"] == "disputed"  # ... the contract does not
    assert "2026-10-01 10:10 UTC" in gotcha["evidence"]  # when the human agent replied


def test_vendor_definition_reproduction(audited: tuple[Path, int]) -> None:
    report = json.loads((audited[0] / "report.json").read_text())
    reproduced = {r["conversation_id"] for r in _findings(audited[0]) if r["reproduced"] == "true"}
    assert {"ai-only", "gotcha", "note-only", "quick-reply", "outbound"} <= reproduced
    assert not {"reopened", "low-rating", "preview", "escalated", "ghost"} & reproduced
    assert report["reproduction"]["ruleset"] == "intercom-fin"
    r = report["reproduction"]
    # In billing units: a duplicate line is a billed unit the vendor's definition does not give;
    # the line not in the export is one it cannot tell.
    assert r["matched"] + r["billed_not_reproduced"] + r["billed_undetermined"] == len(BILL)
    assert r["billed_undetermined"] == 1
    assert r["matched"] + r["reproduced_not_billed"] == r["count"]


def test_report_identities_and_money(audited: tuple[Path, int]) -> None:
    report = json.loads((audited[0] / "report.json").read_text())
    parts = [report[s] for s in ("confirmed", "disputed", "unverifiable")]
    assert sum(p["items"] for p in parts) == report["billed"]["items"] == len(BILL)
    assert round(sum(p["amount"] for p in parts), 2) == report["billed"]["amount"] == round(11 * 0.99 + 1.90, 2)
    assert report["confirmed"] == {"items": 3, "amount": round(2 * 0.99 + 1.90, 2)}
    assert report["disputed"]["by_reason"]["human_takeover"] == 1
    assert report["unverifiable"]["by_reason"] == {"not_in_export": 1}
    assert report["ingest"]["conversations"] == len(CONVERSATIONS)
    assert report["ingest"]["records_read"] == len(CONVERSATIONS)
    assert [r["id"] for r in report["provenance"]["rulesets"]] == ["intercom-fin", "strict"]


def test_same_inputs_give_byte_identical_files(tmp_path: Path, audited: tuple[Path, int]) -> None:
    first, _ = audited
    again = tmp_path / "again"
    run_cli(["audit", str(tmp_path / "export.jsonl"), "--billed", str(tmp_path / "invoice.csv"),
             "--period", "2026-10-01..2026-10-31", "--out", str(again)])
    for name in ("report.json", "report.md", "findings.csv", "findings.parquet", "quarantine.csv"):
        assert (first / name).read_bytes() == (again / name).read_bytes(), name
