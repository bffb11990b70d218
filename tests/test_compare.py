"""`auditor compare`: several definitions on the same export, through the CLI."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from tests.conftest import REPO, run_cli, write_events

C, AI, H = "customer", "ai_agent", "human_agent"
EVENTS = [
    # ai-only: every definition that wants an AI resolution counts it
    ["ai-only", "2026-10-02T10:00:00Z", C, "u1", "message", "How do I reset my password?"],
    ["ai-only", "2026-10-02T10:01:00Z", AI, "fin", "message", "Settings > Security > Reset."],
    # gotcha: a human solves it, the AI closes: intercom-fin counts it, strict does not
    ["gotcha", "2026-10-03T10:00:00Z", C, "u2", "message", "My invoice is wrong"],
    ["gotcha", "2026-10-03T10:01:00Z", AI, "fin", "message", "Invoices are under Billing."],
    ["gotcha", "2026-10-03T10:12:00Z", H, "a1", "message", "Fixed it and sent a new one."],
    ["gotcha", "2026-10-03T10:31:00Z", AI, "fin", "message", "Anything else I can help with?"],
    # human-only: nobody counts it (and it is late enough for the 24-hour wait to pass)
    ["human-only", "2026-10-20T10:00:00Z", C, "u3", "message", "Cancel my order"],
    ["human-only", "2026-10-20T10:05:00Z", H, "a1", "message", "Done."],
]
RULESETS = "intercom-fin,strict"


@pytest.fixture(scope="module")
def compared(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    tmp = tmp_path_factory.mktemp("compare")
    events = write_events(tmp / "events.csv", EVENTS)
    result = run_cli(["compare", str(events), "--format", "canonical", "--rulesets", RULESETS,
                      "--out", str(tmp / "out")])
    assert result.exit_code == 0, result.output
    return tmp / "out", result.output


def test_counts_and_money_per_definition(compared: tuple[Path, str]) -> None:
    data = json.loads((compared[0] / "compare.json").read_text())
    counts = {r["id"]: (r["conversations"], r["units"], r["amount"]) for r in data["rulesets"]}
    assert counts == {"intercom-fin": (2, 2, 1.98), "strict": (1, 1, None)}
    assert data["conversations"] == 3


def test_unit_price_prices_rule_sets_without_one(tmp_path: Path) -> None:
    events = write_events(tmp_path / "events.csv", EVENTS)
    result = run_cli(["compare", str(events), "--format", "canonical", "--rulesets", RULESETS,
                      "--unit-price", "0.50", "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    data = json.loads((tmp_path / "out" / "compare.json").read_text())
    prices = {r["id"]: (r["unit_price"], r["price_from"], r["amount"]) for r in data["rulesets"]}
    assert prices == {"intercom-fin": (0.99, "rule set", 1.98), "strict": (0.5, "--unit-price", 0.5)}
    line = "Priced at --unit-price 0.5 (no price of their own): strict."
    assert line in result.output and line in (tmp_path / "out" / "compare.md").read_text()


def test_rule_sets_without_a_price_say_how_to_price_them(compared: tuple[Path, str]) -> None:
    assert "No price: strict; pass --unit-price X to price them." in compared[1]


def test_disagreements_grouped_by_the_reason_that_makes_the_difference(
        compared: tuple[Path, str]) -> None:
    data = json.loads((compared[0] / "compare.json").read_text())
    assert data["counted_by_not_by"] == {"intercom-fin": {"strict": 1}, "strict": {"intercom-fin": 0}}
    [only] = data["disagreements"]
    assert (only["counted_by"], only["not_counted_by"], only["reason"], only["examples"]) == \
        ("intercom-fin", "strict", "human_takeover", ["gotcha"])
    assert "human_takeover" in compared[1] and "intercom-fin not strict" in compared[1]


def test_one_csv_row_per_conversation_with_every_verdict(compared: tuple[Path, str]) -> None:
    with open(compared[0] / "compare.csv", newline="", encoding="utf-8") as handle:
        rows = {r["conversation_id"]: r for r in csv.DictReader(handle)}
    assert rows["gotcha"]["intercom-fin.counted"] == "true"
    assert rows["gotcha"]["strict.reasons"] == "human_takeover"
    assert rows["human-only"]["intercom-fin.units"] == "0"


def test_same_inputs_give_identical_files(tmp_path: Path, compared: tuple[Path, str]) -> None:
    events = write_events(tmp_path / "events.csv", EVENTS)
    run_cli(["compare", str(events), "--format", "canonical", "--rulesets", RULESETS,
             "--out", str(tmp_path / "again")])
    for name in ("compare.json", "compare.md", "compare.csv"):
        first = (compared[0] / name).read_bytes()
        assert first.replace(str(compared[0].parent).encode(), b"") == \
            (tmp_path / "again" / name).read_bytes().replace(str(tmp_path).encode(), b""), name


def test_sample_month_every_builtin_definition(tmp_path: Path) -> None:
    export = REPO / "sample_data" / "intercom_2026-10.jsonl.gz"
    result = run_cli(["compare", str(export), "--period", "2026-10-01..2026-10-31",
                      "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    data = json.loads((tmp_path / "compare.json").read_text())
    counts = {r["id"]: r for r in data["rulesets"]}
    assert {"intercom-fin", "strict", "zendesk-ai-agents", "salesforce-agentforce"} <= set(counts)
    # The vendor's own definition counts the gotcha; the contract does not.
    assert counts["intercom-fin"]["conversations"] > counts["strict"]["conversations"]
    assert data["counted_by_not_by"]["intercom-fin"]["strict"] > 0
    # Windows are activity, not outcomes: at least one window per AI conversation.
    assert counts["salesforce-agentforce"]["units"] >= counts["salesforce-agentforce"]["conversations"]


@pytest.mark.parametrize(("rulesets", "message"), [
    ("strict", "compare needs at least two rule sets"),
    ("strict,strict", "names the same rule set twice"),
    ("strict,intercom-fn", "did you mean 'intercom-fin'?"),
])
def test_bad_rulesets_option(tmp_path: Path, rulesets: str, message: str) -> None:
    events = write_events(tmp_path / "events.csv", EVENTS)
    result = run_cli(["compare", str(events), "--format", "canonical", "--rulesets", rulesets])
    assert result.exit_code == 2 and message in result.output


def test_report_html_draws_one_bar_per_rule_set(compared: tuple[Path, str]) -> None:
    page = (compared[0] / "report.html").read_text()
    assert page.count('id="rulesets-bar-') == len(RULESETS.split(","))
    assert "where they disagree" in page.lower()
