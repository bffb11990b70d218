"""A month the other tests have not seen: a normal Intercom export with the inputs real users
have mixed in (list-page conversations, a cut-off JSONL line, a part whose date does not
parse, a warehouse CSV with NULL customers, unanswered follow-ups) and a bill saved by a
spreadsheet (other headers, a total row). Every line must get the right status and reasons;
nothing is confirmed or disputed on data that cannot support it."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from tests.conftest import run_cli, write_csv
from tests.intercom_builder import conversation

ASK = (0, "customer", "comment", "My order 1234 never arrived")
ANSWER = (1, "fin", "comment", "It was delayed; a new one ships today.")
IDS = {name: str(215470000000100 + n) for n, name in enumerate([
    "resolved", "gotcha", "unanswered", "thanked", "cut_off", "bad_date", "listed_1", "listed_2",
    "ghost"])}

RECORDS = [
    conversation(IDS["resolved"], [ASK, ANSWER, (3, "customer", "comment", "thanks")]),
    conversation(IDS["gotcha"], [ASK, ANSWER, (4, "agent", "comment", "Reshipped by express."),
                                 (30, "fin", "comment", "Anything else I can help with?")],
                 customer="2"),
    conversation(IDS["unanswered"], [ASK, ANSWER, (9, "customer", "comment",
                                                   "that doesn't work, what now?")], customer="3"),
    conversation(IDS["thanked"], [ASK, ANSWER, (2, "customer", "comment", "Thank you!"),
                                  (3, "fin", "comment", "You're welcome!")], customer="4"),
    conversation(IDS["cut_off"], [ASK, ANSWER], customer="5", day=1),
    conversation(IDS["bad_date"], [ASK, ANSWER, (6, "agent", "comment", "I fixed it for you.")],
                 customer="6", day=1),
]
# Two conversations exported from the list endpoint: no parts.
LISTED = {"type": "conversation.list", "conversations": [
    {k: v for k, v in conversation(IDS[name], [ASK, ANSWER], customer=c, day=2).items()
     if k != "conversation_parts"} for name, c in (("listed_1", "7"), ("listed_2", "8"))]}
# Warehouse rows of two anonymous customers a day apart: NULL is no customer, not one customer.
WAREHOUSE = [["conversation_id", "created_at", "actor_role", "actor_id", "event_type", "body"],
             ["w-1", "2026-10-03T10:00:00Z", "customer", "NULL", "message", "Opening hours?"],
             ["w-1", "2026-10-03T10:01:00Z", "ai_agent", "\\N", "message", "9 to 5."],
             ["w-2", "2026-10-04T10:00:00Z", "customer", "null", "message", "Do you ship?"],
             ["w-2", "2026-10-04T10:01:00Z", "ai_agent", "", "message", "Yes, worldwide."]]

# (conversation, billed at, amount, status, reasons)
BILL = [
    ("resolved", "01/10/2026 10:30", "$0.99", "confirmed", ""),
    ("gotcha", "01/10/2026 11:00", "$0.99", "disputed", "human_takeover"),
    ("unanswered", "01/10/2026 12:00", "$0.99", "disputed",
     "not_vendor_resolution;unanswered_followup"),
    ("thanked", "01/10/2026 12:30", "$0.99", "confirmed", ""),
    ("cut_off", "02/10/2026 10:30", "$0.99", "unverifiable", "quarantined_records"),
    ("bad_date", "02/10/2026 10:30", "$0.99", "unverifiable", "quarantined_records"),
    ("listed_1", "03/10/2026 10:30", "$0.99", "unverifiable", "incomplete_export"),
    ("listed_2", "03/10/2026 10:30", "$0.99", "unverifiable", "incomplete_export"),
    ("w-1", "03/10/2026 11:00", "$0.99", "confirmed", ""),
    ("w-2", "04/10/2026 11:00", "$0.99", "confirmed", ""),
    ("resolved", "15/10/2026 09:00", "$0.99", "disputed", "duplicate_billing"),
    ("ghost", "15/10/2026 09:00", "$0.99", "unverifiable", "not_in_export"),
]


def _id(name: str) -> str:
    return IDS.get(name, name)


@pytest.fixture(scope="module")
def month(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("mixed")
    export = folder / "export"
    export.mkdir()
    lines = [json.dumps(r) for r in RECORDS]
    lines[4] = lines[4][:120]  # cut off mid-record, after the id
    broken = RECORDS[5]["conversation_parts"]["conversation_parts"]
    broken[1]["created_at"] = "yesterday"  # the human agent's reply
    lines[5] = json.dumps(RECORDS[5])
    (export / "conversations.jsonl").write_text("\n".join(lines) + "\n")
    (export / "list.json").write_text(json.dumps(LISTED))
    write_csv(export / "warehouse_events.csv", WAREHOUSE[0], WAREHOUSE[1:])
    (export / "NOTES.txt").write_text("exported by hand on 2026-11-01")
    rows = [[_id(name), at, amount] for name, at, amount, _, _ in BILL]
    write_csv(folder / "invoice.csv", ["Conversation ID", "Billed At", "Amount"],
              rows + [["Total", "", f"${0.99 * len(BILL):.2f}"]])
    return folder


def test_every_line_of_the_mixed_month_gets_the_right_status(month: Path) -> None:
    out = month / "report"
    result = run_cli(["audit", str(month / "export"), "--billed", str(month / "invoice.csv"),
                      "--period", "2026-10-01..2026-10-31", "--as-of", "2026-11-01T00:00:00Z",
                      "--out", str(out)])
    assert result.exit_code == 1, result.output
    with open(out / "findings.csv", newline="") as handle:
        findings = list(csv.DictReader(handle))
    assert [(r["conversation_id"], r["status"], r["reasons"]) for r in findings] == \
        [(_id(name), status, reasons) for name, _, _, status, reasons in BILL]
    report = json.loads((out / "report.json").read_text())
    assert report["billed"]["items"] == len(BILL)  # the total row is not billed
    assert any("Total" in note for note in report["notes"])
    assert report["ingest"]["not_judged"] == {"incomplete_export": 2, "quarantined_records": 2}
    assert [f["reason"].split(" (")[0] for f in report["ingest"]["skipped_files"]] == \
        ["not a data file"]
    with open(out / "quarantine.csv", newline="") as handle:
        quarantined = {q["conversation_id"] for q in csv.DictReader(handle)}
    assert quarantined == {IDS["cut_off"], IDS["bad_date"]}


def test_the_same_bill_saved_with_rounded_ids_is_refused(month: Path) -> None:
    rows = [[f"{float(_id(name)):.4E}" if name in IDS else name, at, amount]
            for name, at, amount, _, _ in BILL]
    bill = write_csv(month / "excel.csv", ["Conversation ID", "Billed At", "Amount"], rows)
    result = run_cli(["audit", str(month / "export"), "--billed", str(bill)])
    assert result.exit_code == 2
    assert "saved by a spreadsheet that rounded the ids" in result.output
    assert result.output.count("\n") == 1
