"""Billing units beyond one per conversation: a bill of 24-hour windows, end to end.

The rule set here is written in the test (a windows contract, like salesforce-agentforce), so
the engine is shown to need nothing vendor-specific for units.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from tests.conftest import run_cli, write_csv, write_events

WINDOWS_RULESET = '''
id = "windows-contract"
version = "1.0.0"
title = "Test: 24-hour conversation windows the AI took part in"
kind = "contract"
vendor = "any"
billing_unit = "window"
units = "conversation_windows"
unit_price = 2.0
description = "Counts 24-hour windows of conversations where the AI wrote."

[params.window_hours]
default = 24
description = "Length of a window."

[[criteria]]
code = "no_ai_answer"
summary = "The AI never wrote."
when = "NOT has_ai_message"
evidence = "no AI message"
'''

C, AI = "customer", "ai_agent"
EVENTS = [
    # c1: three windows (day 1 10:00, day 2 10:30, day 4 09:00)
    ["c1", "2026-10-01T10:00:00Z", C, "u1", "message", "Where is my order?"],
    ["c1", "2026-10-01T10:01:00Z", AI, "bot", "message", "On its way."],
    ["c1", "2026-10-02T10:30:00Z", C, "u1", "message", "Still not here"],
    ["c1", "2026-10-04T09:00:00Z", C, "u1", "message", "Arrived, thanks"],
    # c2: one window
    ["c2", "2026-10-05T10:00:00Z", C, "u2", "message", "Refund please"],
    ["c2", "2026-10-05T10:01:00Z", AI, "bot", "message", "Refunded."],
    # c3: the AI never wrote
    ["c3", "2026-10-06T10:00:00Z", C, "u3", "message", "Hello?"],
]
# line, conversation, units, amount
BILL = [
    ["c1", 2, "4.00"],   # line 1: windows 1-2 of c1
    ["c1", 2, "4.00"],   # line 2: window 3 confirmed, a 4th window disputed
    ["c2", 1, "2.00"],   # line 3: confirmed
    ["c2", 1, "2.00"],   # line 4: c2 has one window: excess
    ["c3", 3, "6.00"],   # line 5: not counted: unit 1 has the reason, units 2-3 are excess
]


@pytest.fixture(scope="module")
def audited(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("units")
    ruleset = tmp / "windows-contract.toml"
    ruleset.write_text(WINDOWS_RULESET, encoding="utf-8")
    events = write_events(tmp / "events.csv", EVENTS)
    billed = write_csv(tmp / "billed.csv", ["conversation_id", "units", "amount"], BILL)
    result = run_cli(["audit", str(events), "--format", "canonical", "--billed", str(billed),
                      "--vendor", str(ruleset), "--contract", str(ruleset),
                      "--out", str(tmp / "out")])
    assert result.exit_code == 1, result.output
    return tmp / "out"


def findings(out: Path) -> list[tuple[str, str, str, str, str]]:
    with open(out / "findings.csv", newline="", encoding="utf-8") as handle:
        return [(r["line"], r["unit"], r["status"], r["reasons"], r["amount"])
                for r in csv.DictReader(handle)]


def test_each_billed_unit_gets_a_status_in_invoice_order(audited: Path) -> None:
    assert findings(audited) == [
        ("1", "1", "confirmed", "", "2.00"),
        ("1", "2", "confirmed", "", "2.00"),
        ("2", "1", "confirmed", "", "2.00"),
        ("2", "2", "disputed", "excess_units", "2.00"),
        ("3", "1", "confirmed", "", "2.00"),
        ("4", "1", "disputed", "excess_units", "2.00"),
        # The vendor rule set is the same file, so its own definition does not count it either.
        ("5", "1", "disputed", "not_vendor_resolution;no_ai_answer", "2.00"),
        ("5", "2", "disputed", "excess_units", "2.00"),
        ("5", "3", "disputed", "excess_units", "2.00"),
    ]


def test_money_follows_the_units(audited: Path) -> None:
    report = json.loads((audited / "report.json").read_text())
    assert report["billed"] == {
        "items": 9, "amount": 18.0, "source": "list", "unit_price": 2.0, "date_format": None,
        "columns": {"conversation_id": "conversation_id", "amount": "amount", "units": "units"}}
    assert report["confirmed"] == {"items": 4, "amount": 8.0}
    assert report["disputed"]["items"] == 5 and report["disputed"]["amount"] == 10.0
    assert report["disputed"]["by_primary_reason"] == {"excess_units": 4,
                                                        "not_vendor_resolution": 1}
    assert "excess_units" in report["reasons"] and "duplicate_billing" not in report["reasons"]


def test_reproduction_compares_units_per_conversation(audited: Path) -> None:
    r = json.loads((audited / "report.json").read_text())["reproduction"]
    # reproduced: c1 3 windows + c2 1 = 4; billed 9 units: 4 matched, 5 beyond
    assert r == {"ruleset": "windows-contract", "unit": "window", "count": 4, "matched": 4,
                 "billed_not_reproduced": 5, "billed_undetermined": 0,
                 "reproduced_not_billed": 0}


def test_excess_evidence_says_how_many_units_the_contract_gives(audited: Path) -> None:
    with open(audited / "findings.csv", newline="", encoding="utf-8") as handle:
        evidence = {(r["line"], r["unit"]): r["evidence"] for r in csv.DictReader(handle)}
    assert "billed window 4 of this conversation; the contract counts 3" in evidence[("2", "2")]


def test_an_amount_split_over_units_adds_up_exactly(tmp_path: Path) -> None:
    ruleset = tmp_path / "windows-contract.toml"
    ruleset.write_text(WINDOWS_RULESET, encoding="utf-8")
    events = write_events(tmp_path / "events.csv", EVENTS)
    billed = write_csv(tmp_path / "billed.csv", ["conversation_id", "quantity", "amount"],
                       [["c1", 3, "1.00"]])
    result = run_cli(["audit", str(events), "--format", "canonical", "--billed", str(billed),
                      "--vendor", str(ruleset), "--contract", str(ruleset),
                      "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["billed"]["items"] == 3 and report["billed"]["amount"] == 1.0


@pytest.mark.parametrize("units", ["0", "two", "1.5", "20000"])
def test_bad_units_are_a_clear_error(tmp_path: Path, units: str) -> None:
    events = write_events(tmp_path / "events.csv", EVENTS)
    billed = write_csv(tmp_path / "billed.csv", ["conversation_id", "units"], [["c1", units]])
    result = run_cli(["audit", str(events), "--format", "canonical", "--billed", str(billed)])
    assert result.exit_code == 2
    assert "billed.csv, line 2, field 'units'" in result.output
    assert "a whole number of units from 1 to 10,000" in result.output
