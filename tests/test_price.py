"""`auditor price`: the month under every plan, from figures and from an export, through the CLI."""

from __future__ import annotations

import csv
import json
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest

from tests.conftest import REPO, run_cli, write_csv, write_events

SAMPLE = REPO / "sample_data" / "intercom_2026-10.jsonl.gz"
WORKED_EXAMPLE = ["price", "--conversations", "3000", "--deflection", "0.60", "--plans",
                  "intercom-fin", "--seats", "6", "--seat-price", "39", "--human-cost", "6"]
C, AI, H = "customer", "ai_agent", "human_agent"
EVENTS = [
    # resolved by the AI: intercom-fin and strict both count it
    ["ai-only", "2026-10-02T10:00:00Z", C, "u1", "message", "Reset my password"],  # 17 chars
    ["ai-only", "2026-10-02T10:01:00Z", AI, "fin", "message", "Settings > Security"],  # 19 chars
    # the gotcha: intercom-fin bills it, strict does not
    ["gotcha", "2026-10-03T10:00:00Z", C, "u2", "message", "My invoice is wrong"],
    ["gotcha", "2026-10-03T10:01:00Z", AI, "fin", "message", "Invoices are under Billing."],
    ["gotcha", "2026-10-03T10:12:00Z", H, "a1", "message", "Fixed it and sent a new one."],
    ["gotcha", "2026-10-03T10:31:00Z", AI, "fin", "message", "Anything else I can help with?"],
    # no AI at all
    ["human-only", "2026-10-20T10:00:00Z", C, "u3", "message", "Cancel my order"],
    ["human-only", "2026-10-20T10:05:00Z", H, "a1", "message", "Done."],
    # a bad record: the conversation cannot be judged, so no plan counts it
    ["broken", "2026-10-21T10:00:00Z", C, "u4", "message", "Hello"],
    ["broken", "not a date", AI, "fin", "message", "Hi!"],
]


def cents(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def test_the_worked_example_is_reproduced_to_the_cent() -> None:
    result = run_cli(WORKED_EXAMPLE)
    assert result.exit_code == 0, result.output
    out = result.output
    for figure in ("1,800 resolutions", "1,800 resolutions x $0.99", "$1,782.00", "$234.00",
                   "$2,016.00", "$10,800.00 saving", "$9,018.00 net"):
        assert figure in out, figure
    assert "6 seats x $39.00" in out and "paid with or without the AI" in out


def test_a_per_token_plan_is_not_modelled_from_figures() -> None:
    result = run_cli(["price", "--conversations", "100", "--deflection", "50%", "--plans",
                      "openai-gpt-5-mini"])
    assert result.exit_code == 0, result.output
    assert "tokens cannot be modelled from figures; give an export" in result.output


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    tmp = tmp_path_factory.mktemp("price")
    events = write_events(tmp / "events.csv", EVENTS)
    plan = tmp / "tiered.toml"
    plan.write_text('id = "tiered"\nversion = "1.0.0"\ntitle = "Tiered"\nvendor = "Acme"\n'
                    'description = "Test."\n[[charges]]\nname = "resolutions"\n'
                    'kind = "per_unit"\nruleset = "intercom-fin"\nincluded = 1\n'
                    'minimum_commitment = 10\n'
                    'tiers = [{ up_to = 1, price = 5 }, { price = 0.25 }]\n')
    result = run_cli(["price", str(events), "--format", "canonical", "--plans",
                      f"intercom-fin,per-conversation,openai-gpt-5-mini,{plan}",
                      "--price", "per-conversation=0.40", "--seats", "2", "--seat-price", "10",
                      "--human-cost", "6", "--out", str(tmp / "out")])
    assert result.exit_code == 0, result.output
    return tmp / "out", result.output


def _plans(out: Path) -> dict[str, dict]:
    return {p["id"]: p for p in json.loads((out / "price.json").read_text())["plans"]}


def test_each_plan_counts_its_own_units(small: tuple[Path, str]) -> None:
    data = json.loads((small[0] / "price.json").read_text())
    assert (data["conversations"], data["ai_conversations"], data["contract_resolutions"],
            data["not_judged"]) == (3, 2, 1, 1)
    plans = _plans(small[0])
    fin = plans["intercom-fin"]
    assert (fin["units"], fin["vendor_count"], fin["contract_resolutions"]) == (2, 2, 1)
    assert (fin["cost"], fin["ai_cost"], fin["saving"], fin["net"]) == (21.98, 1.98, 6.0, 4.02)
    assert fin["cost_per_contract_resolution"] == 1.98  # the AI's cost / 1 real resolution
    assert fin["cost_at_contract_count"] == 20.99  # 1 resolution + the seats
    per_conversation = plans["per-conversation"]
    assert (per_conversation["units"], per_conversation["cost"]) == (2, 0.8)
    assert per_conversation["vendor_count"] is None


def test_tiers_included_units_and_commitment(small: tuple[Path, str]) -> None:
    tiered = _plans(small[0])["tiered"]
    # 2 resolutions: the first included, the second at $0.25; $10 minimum
    assert (tiered["usage_cost"], tiered["fixed_cost"], tiered["cost"]) == (0.25, 9.75, 10.0)
    assert [line["what"] for line in tiered["lines"]][1] == "minimum commitment shortfall"


def test_tokens_are_estimated_and_say_so(small: tuple[Path, str]) -> None:
    tokens = _plans(small[0])["openai-gpt-5-mini"]
    assert tokens["estimated"] is True
    with open(small[0] / "price.csv", newline="", encoding="utf-8") as handle:
        rows = {r["conversation_id"]: r for r in csv.DictReader(handle)}
    # one AI turn: reads the 17-character question (5 tokens), writes 19 characters (5 tokens)
    assert (rows["ai-only"]["openai-gpt-5-mini.tokens_in"],
            rows["ai-only"]["openai-gpt-5-mini.tokens_out"]) == ("5", "5")
    assert rows["ai-only"]["tokens_estimated"] == "true"
    assert Decimal(rows["ai-only"]["openai-gpt-5-mini.cost"]) == Decimal("0.00001125")
    assert "(estimated)" in small[1] and "estimated" in (small[0] / "price.md").read_text()


def test_price_csv_adds_up_to_price_json(small: tuple[Path, str]) -> None:
    check_csv_against_json(small[0])


def test_same_inputs_give_byte_identical_files(small: tuple[Path, str], tmp_path: Path) -> None:
    events, tiered = small[0].parent / "events.csv", small[0].parent / "tiered.toml"
    result = run_cli(["price", str(events), "--format", "canonical", "--plans",
                      f"intercom-fin,per-conversation,openai-gpt-5-mini,{tiered}",
                      "--price", "per-conversation=0.40", "--seats", "2", "--seat-price", "10",
                      "--human-cost", "6", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    for name in ("price.json", "price.md", "price.csv"):
        assert (tmp_path / name).read_bytes() == (small[0] / name).read_bytes(), name


def test_unjudgeable_conversations_are_left_out(small: tuple[Path, str]) -> None:
    with open(small[0] / "price.csv", newline="", encoding="utf-8") as handle:
        ids = [r["conversation_id"] for r in csv.DictReader(handle)]
    assert ids == ["ai-only", "gotcha", "human-only"]
    assert "1 conversations left out" in small[1]


def test_measured_tokens_are_used_as_given(tmp_path: Path) -> None:
    rows = [["c1", "2026-10-02T10:00:00Z", C, "message", "Hi", "", "", ""],
            ["c1", "2026-10-02T10:01:00Z", AI, "message", "Hello", "1200", "80", "300"]]
    events = write_csv(tmp_path / "events.csv", ["conversation_id", "created_at", "actor_role",
                                                 "event_type", "body", "tokens_in", "tokens_out",
                                                 "tokens_reasoning"], rows)
    result = run_cli(["price", str(events), "--format", "canonical", "--plans",
                      "openai-gpt-5-mini", "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    plan = _plans(tmp_path / "out")["openai-gpt-5-mini"]
    assert (plan["units"], plan["estimated"]) == (1580, False)
    assert json.loads((tmp_path / "out" / "price.json").read_text())["tokens"]["measured"] == 1
    # 1,200 x $0.25/M + (80 + 300) x $2.00/M = $0.00106
    with open(tmp_path / "out" / "price.csv", newline="", encoding="utf-8") as handle:
        [row] = list(csv.DictReader(handle))
    assert row["openai-gpt-5-mini.cost"] == "0.00106"


def test_a_flat_plan_cap_stops_the_ai_and_its_savings(tmp_path: Path) -> None:
    events = write_events(tmp_path / "events.csv", EVENTS[:8])
    plan = tmp_path / "capped.toml"
    plan.write_text('id = "capped"\nversion = "1.0.0"\ntitle = "Capped"\nvendor = "Acme"\n'
                    'description = "Test."\n[[charges]]\nname = "bundle"\nkind = "flat"\n'
                    'fee = 100\nfilter = "ai_involved"\nincluded = 1\n')
    result = run_cli(["price", str(events), "--format", "canonical", "--plans", str(plan),
                      "--human-cost", "6", "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    capped = _plans(tmp_path / "out")["capped"]
    # the AI answers only the first conversation (ai-only, the one strict confirms)
    assert (capped["cost"], capped["contract_resolutions"], capped["saving"]) == (100.0, 1, 6.0)


@pytest.mark.parametrize("args, message", [
    (["price"], "give an export, or --conversations N and --deflection D"),
    (["price", "--conversations", "10", "--deflection", "1.5"], "--deflection '1.5' is not from"),
    (["price", "--conversations", "10", "--deflection", "0.5", "--price", "intercom-fn=1"],
     "no plan 'intercom-fn' is being priced (did you mean 'intercom-fin'?)"),
    (["price", "--conversations", "10", "--deflection", "0.5", "--plans", "intercom-fn"],
     "unknown plan 'intercom-fn'"),
    (["price", "--conversations", "10", "--deflection", "0.5", "--price", "per-conversation"],
     "is not PLAN=X or PLAN.CHARGE=X"),
])
def test_usage_errors_are_one_line_with_exit_code_2(args: list[str], message: str) -> None:
    result = run_cli(args)
    assert result.exit_code == 2
    assert message in result.output and "Traceback" not in result.output


def check_csv_against_json(out: Path) -> None:
    """Recompute every plan's units and costs from price.csv: a plan's usage_cost is its cost
    column's exact sum, half-up to the cent; its cost adds the fixed charges."""
    with open(out / "price.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    for plan in json.loads((out / "price.json").read_text())["plans"]:
        units = sum(int(r[f"{plan['id']}.units"]) for r in rows)
        assert units == plan["units"], plan["id"]
        if plan["cost"] is None:
            assert all(r[f"{plan['id']}.cost"] == "" for r in rows)
            continue
        usage = cents(sum((Decimal(r[f"{plan['id']}.cost"]) for r in rows), Decimal(0)))
        assert usage == Decimal(str(plan["usage_cost"])), plan["id"]
        fixed = sum((Decimal(str(line["amount"])) for line in plan["lines"]
                     if not line["per_conversation"] and line["amount"] is not None), Decimal(0))
        assert usage + fixed == Decimal(str(plan["cost"])), plan["id"]


@pytest.fixture(scope="module")
def sample_month(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    out = tmp_path_factory.mktemp("sample-price") / "out"
    # The README's command (its output is shown there).
    result = run_cli(["price", str(SAMPLE), "--period", "2026-10-01..2026-10-31",
                      "--human-cost", "6", "--seats", "6", "--seat-price", "39",
                      "--price", "per-conversation=0.50", "--out", str(out)])
    assert result.exit_code == 0, result.output
    return out, result.output


def test_the_sample_month_compares_six_plans_of_four_kinds(sample_month: tuple[Path, str]) -> None:
    priced = [p for p in _plans(sample_month[0]).values() if p["cost"] is not None]
    assert len(priced) >= 6
    assert {"per_unit", "per_conversation", "flat", "per_token"} <= {p["kind"] for p in priced}
    ai_costs = [p["ai_cost"] for p in json.loads(
        (sample_month[0] / "price.json").read_text())["plans"] if p["ai_cost"] is not None]
    assert ai_costs == sorted(ai_costs)  # cheapest first


def test_the_sample_month_csv_adds_up(sample_month: tuple[Path, str]) -> None:
    check_csv_against_json(sample_month[0])


def test_the_vendor_count_sits_next_to_the_contract_count(sample_month: tuple[Path, str]) -> None:
    fin = _plans(sample_month[0])["intercom-fin"]
    assert fin["vendor_count"] > fin["contract_resolutions"] > 0
    assert fin["cost_at_contract_count"] < fin["cost"]
    assert "What we would pay, and what the AI earned" in (sample_month[0] / "price.md").read_text()


def test_the_readme_shows_the_sample_month_as_it_is(sample_month: tuple[Path, str]) -> None:
    readme = (REPO / "README.md").read_text()
    section = readme.split("## Which pricing model?", 1)[1].split("\n## ", 1)[0]
    shown = section.split("```text\n", 1)[1].split("```", 1)[0]
    assert shown == sample_month[1].replace(str(sample_month[0]), "price")
    model = section.split("```text\n")[2].split("```", 1)[0]
    assert model == run_cli(WORKED_EXAMPLE).output


def test_model_against_the_month(tmp_path: Path) -> None:
    result = run_cli(["price", str(SAMPLE), "--period", "2026-10-01..2026-10-31", "--plans",
                      "intercom-fin", "--deflection", "0.60", "--conversations", "3000",
                      "--seats", "6", "--seat-price", "39", "--human-cost", "6",
                      "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    model = json.loads((tmp_path / "price.json").read_text())["model"]
    [check] = model["reality"]
    assert (model["resolutions"], check["modelled_cost"]) == (1800, 2016.0)
    fin = _plans(tmp_path)["intercom-fin"]
    assert check["vendor_cost"] == fin["cost"] and check["vendor_units"] == fin["units"]
    assert check["excess"] == round(fin["cost"] - 2016.0, 2)
    assert "Model against your month" in result.output


def test_audit_with_a_plan_says_what_the_month_cost(tmp_path: Path) -> None:
    result = run_cli(["audit", str(SAMPLE), "--billed", str(REPO / "sample_data" /
                      "billed_2026-10.csv"), "--period", "2026-10-01..2026-10-31",
                      "--plan", "intercom-fin", "--out", str(tmp_path)])
    assert result.exit_code == 1, result.output
    report = json.loads((tmp_path / "report.json").read_text())
    cost = report["month_cost"]
    billed, confirmed = Decimal(str(report["billed"]["amount"])), report["confirmed"]["items"]
    assert cost["effective_price"] == float(cents(billed / confirmed))
    assert (cost["list_price"], cost["confirmed_items"]) == (0.99, confirmed)
    assert "## What this month cost" in (tmp_path / "report.md").read_text()
    assert "per confirmed item" in result.output


def test_audit_without_a_plan_has_no_cost_section(tmp_path: Path) -> None:
    events = write_events(tmp_path / "events.csv", EVENTS[:2])
    result = run_cli(["audit", str(events), "--format", "canonical", "--billed-count", "1",
                      "--unit-price", "0.99", "--out", str(tmp_path / "out")])
    assert result.exit_code in (0, 1), result.output
    assert "month_cost" not in (tmp_path / "out" / "report.json").read_text()


def test_a_bad_token_count_quarantines_its_record(tmp_path: Path) -> None:
    rows = [["c1", "2026-10-02T10:00:00Z", C, "message", "Hi", ""],
            ["c1", "2026-10-02T10:01:00Z", AI, "message", "Hello", "-5"],
            ["c2", "2026-10-02T11:00:00Z", C, "message", "Hi", ""],
            ["c2", "2026-10-02T11:01:00Z", AI, "message", "Hello", "40"]]
    events = write_csv(tmp_path / "events.csv", ["conversation_id", "created_at", "actor_role",
                                                 "event_type", "body", "tokens_out"], rows)
    result = run_cli(["ingest", str(events), "--format", "canonical",
                      "--out", str(tmp_path / "events.parquet")])
    assert result.exit_code == 0, result.output
    quarantine = (tmp_path / "events.quarantine.csv").read_text()
    assert "line 3,c1,tokens_out,tokens_out '-5' is not a whole number of 0 or more" in quarantine
    result = run_cli(["price", str(events), "--format", "canonical", "--plans",
                      "openai-gpt-5-mini", "--out", str(tmp_path / "out")])
    data = json.loads((tmp_path / "out" / "price.json").read_text())
    assert (data["conversations"], data["not_judged"], data["plans"][0]["units"]) == (1, 1, 40)
