"""What-ifs from the command line: --param / --vendor-param overrides, compare --sweep, --json.

The sample month answers the negotiator's question "what if repeat contact counted for 7 days,
not 3?": more repeat contacts are disputed, and the report says the figures are a what-if.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from auditor.errors import UsageError
from auditor.rulesets import resolve_ruleset, ruleset_from_text
from auditor.rulesets.overrides import parse_assignments, sweep_variants
from auditor.verdicts import fact_params
from tests.conftest import REPO, run_cli, write_events

EXPORT = str(REPO / "sample_data" / "intercom_2026-10.jsonl.gz")
BILLED = str(REPO / "sample_data" / "billed_2026-10.csv")
AUDIT = ["audit", EXPORT, "--billed", BILLED, "--period", "2026-10-01..2026-10-31"]


def repeat_contact_lines(out: Path) -> int:
    with open(out / "findings.csv", newline="", encoding="utf-8") as handle:
        return sum("repeat_contact" in row["reasons"].split(";") for row in csv.DictReader(handle))


@pytest.fixture(scope="module")
def audited(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The sample month as the contract says (72 hours), and with 168 hours, with --json."""
    outs = {"file": tmp_path_factory.mktemp("file"), "week": tmp_path_factory.mktemp("week")}
    assert run_cli([*AUDIT, "--out", str(outs["file"])]).exit_code == 1
    result = run_cli([*AUDIT, "--out", str(outs["week"]), "--param", "repeat_contact_hours=168",
                      "--json"])
    assert result.exit_code == 1, result.output
    (outs["week"] / "stdout.json").write_text(result.stdout, encoding="utf-8")
    (outs["week"] / "stderr.txt").write_text(result.stderr, encoding="utf-8")
    return outs


def test_a_longer_repeat_window_disputes_more_repeat_contacts(audited: dict[str, Path]) -> None:
    file, week = (repeat_contact_lines(audited[k]) for k in ("file", "week"))
    assert 0 < file < week
    reports = {k: json.loads((audited[k] / "report.json").read_text()) for k in audited}
    by_reason = {k: r["disputed"]["by_reason"]["repeat_contact"] for k, r in reports.items()}
    assert by_reason == {"file": file, "week": week}
    disputed = [reports[k]["disputed"] for k in ("week", "file")]
    readme = " ".join((REPO / "README.md").read_text().split())  # the figures it quotes
    assert (f"{week:,} billed lines carry `repeat_contact` instead of {file:,}, and "
            f"{disputed[0]['items']:,} lines (${disputed[0]['amount']:,.2f}) are disputed "
            f"instead of {disputed[1]['items']:,}") in readme


def test_the_report_records_the_override_beside_the_files_hash(audited: dict[str, Path]) -> None:
    report = json.loads((audited["week"] / "report.json").read_text())
    contract = next(r for r in report["provenance"]["rulesets"] if r["role"] == "contract")
    assert contract["overrides"] == [{"name": "repeat_contact_hours", "value": 168,
                                      "default": 72}]
    assert contract["sha256"] == resolve_ruleset("strict").sha256
    vendor = next(r for r in report["provenance"]["rulesets"] if r["role"] == "vendor")
    assert vendor["overrides"] == []
    assert report["notes"][0].startswith("What-if: the contract rule set strict was run with "
                                         "repeat_contact_hours = 168 instead of 72")
    markdown = (audited["week"] / "report.md").read_text()
    headline = markdown.split("\n\n")[1]
    assert "`strict` contract definition (what-if: repeat_contact_hours = 168 instead of 72)" \
        in headline
    assert "| rule set strict 1.2.0 (contract), with repeat_contact_hours=168 |" in markdown


def test_json_is_report_json_alone_on_stdout(audited: dict[str, Path]) -> None:
    stdout = (audited["week"] / "stdout.json").read_text()
    assert stdout == (audited["week"] / "report.json").read_text()
    assert json.loads(stdout)["provenance"]["tool"] == "resolution-auditor"
    stderr = (audited["week"] / "stderr.txt").read_text()
    assert "Report written to" in stderr and "Note: What-if:" in stderr


@pytest.mark.parametrize(("option", "message"), [
    (["--param", "repeat_contact_hour=168"],
     "--param repeat_contact_hour: rule set 'strict' has no param 'repeat_contact_hour' "
     "(did you mean 'repeat_contact_hours'?)"),
    (["--vendor-param", "negative_rating=3"],
     "--vendor-param negative_rating: rule set 'intercom-fin' has no param 'negative_rating' "
     "(did you mean 'negative_rating_max'?)"),
    (["--param", "repeat_contact_hours=3 days"],
     "--param repeat_contact_hours=3 days: expected a number, like the default 72"),
    (["--param", "repeat_contact_hours=1,5"], "(write decimals with a point, e.g. 1.5)"),
    (["--param", "repeat_contact_hours=0"], "expected a positive number of hours, got 0"),
    (["--param", "confirmation_max_chars=80.5"], "expected a whole number"),
    (["--param", "repeat_contact_hours"], "--param 'repeat_contact_hours' is not NAME=VALUE"),
    (["--param", "negative_rating_max=2", "--param", "negative_rating_max=3"], "given twice"),
])
def test_a_bad_override_is_a_usage_error(option: list[str], message: str) -> None:
    result = run_cli([*AUDIT, *option])
    assert result.exit_code == 2
    assert message in result.stderr and result.stderr.startswith("Error: --")


# --- the library: RuleSet.with_overrides ----------------------------------------------------

def test_text_is_read_by_the_kind_of_the_default() -> None:
    text = (REPO / "tests" / "test_rulesets.py").read_text().split('MINIMAL = """', 1)[1]
    ruleset = ruleset_from_text(text.split('"""', 1)[0] + (
        '\n[params.flag]\ndefault = false\ndescription = "x"\n'
        '\n[params.channels]\ndefault = ["chat"]\ndescription = "x"\n'
        '\n[params.label]\ndefault = "a"\ndescription = "x"\n'))
    changed = ruleset.with_overrides({"flag": "TRUE", "channels": "email, chat,", "label": "b, c",
                                      "negative_rating_max": "2.5"})
    assert changed.param_values() == {"negative_rating_max": 2.5, "flag": True,
                                      "channels": ["email", "chat"], "label": "b, c"}
    with pytest.raises(UsageError, match="expected true or false, like the default false"):
        ruleset.with_overrides({"flag": "yes"})


def test_fact_parameters_flow_into_the_facts_even_when_not_declared() -> None:
    strict = resolve_ruleset("strict")
    assert "negative_reaction_phrases" not in strict.params
    changed = strict.with_overrides({"negative_reaction_phrases": "rubbish,no good",
                                     "confirmation_max_chars": "40"})
    params = fact_params(changed)
    assert params.negative_reaction_phrases == ["rubbish", "no good"]
    assert params.confirmation_max_chars == 40
    assert fact_params(strict).confirmation_max_chars == 80
    assert changed.sha256 == strict.sha256 and changed.label == (
        "strict[confirmation_max_chars=40, negative_reaction_phrases=rubbish, no good]")


def test_overriding_twice_keeps_the_files_default() -> None:
    twice = resolve_ruleset("strict").with_overrides({"repeat_contact_hours": 24}) \
        .with_overrides({"repeat_contact_hours": "48"})
    assert [(o.name, o.value, o.default) for o in twice.overrides] == [
        ("repeat_contact_hours", 48, 72)]


def test_assignments_keep_text_after_the_first_equals_sign() -> None:
    assert parse_assignments(["label=a=b", " x = 1 "]) == {"label": "a=b", "x": "1"}


def test_a_list_param_cannot_be_swept() -> None:
    with pytest.raises(UsageError, match="a list param cannot be swept"):
        sweep_variants([resolve_ruleset("strict")], "human_request_phrases", ["a", "b"])


# --- compare --sweep and --param -------------------------------------------------------------

SWEEP = ["compare", EXPORT, "--period", "2026-10-01..2026-10-31", "--rulesets", "strict",
         "--sweep", "repeat_contact_hours=24,72,168", "--unit-price", "0.99"]


@pytest.fixture(scope="module")
def swept(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    out = tmp_path_factory.mktemp("sweep")
    result = run_cli([*SWEEP, "--out", str(out)])
    assert result.exit_code == 0, result.output
    return out, result.output


def test_sweep_prints_the_negotiators_table(swept: tuple[Path, str]) -> None:
    out, terminal = swept
    data = json.loads((out / "compare.json").read_text())
    rows = data["sweep"]["rulesets"][0]["rows"]
    assert [r["label"] for r in rows] == [f"strict[repeat_contact_hours={v}]"
                                         for v in (24, 72, 168)]
    counted = [r["conversations"] for r in rows]
    assert counted[0] > counted[1] > counted[2] > 0  # a longer window disputes more
    assert data["sweep"]["rulesets"][0]["baseline"] == 72
    title = "strict: what if repeat_contact_hours were 24, 72 or 168? (its own value: 72)"
    assert title in terminal and title in (out / "compare.md").read_text()
    own = next(line for line in terminal.splitlines() if line.strip().startswith("72 (own)"))
    assert f"{counted[1]:,}" in own
    week = next(line for line in terminal.splitlines() if line.strip().startswith("168 "))
    assert f"{counted[2] - counted[1]:+,}" in week and "-$" in week


def test_the_readme_shows_the_sweep_as_it_prints(swept: tuple[Path, str]) -> None:
    table = swept[1].split("\n\nstrict: what if", 1)[1].split("\n\n", 1)[0]
    assert f"strict: what if{table}\n```" in (REPO / "README.md").read_text()


def test_sweep_variants_have_their_own_columns(swept: tuple[Path, str]) -> None:
    header = (swept[0] / "compare.csv").read_text().splitlines()[0]
    assert "strict[repeat_contact_hours=168].counted" in header.split(",")


def test_compare_json_is_compare_json_alone_on_stdout(tmp_path: Path) -> None:
    result = run_cli(["compare", EXPORT, "--rulesets", "intercom-fin,strict", "--param",
                      "strict.negative_rating_max=3", "--json", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert result.stdout == (tmp_path / "compare.json").read_text()
    labels = [r["label"] for r in json.loads(result.stdout)["rulesets"]]
    assert labels == ["intercom-fin", "strict[negative_rating_max=3]"]
    assert "Written to" in result.stderr


@pytest.mark.parametrize(("option", "message"), [
    (["--sweep", "repeat_contact_hour=24,72"], "did you mean 'repeat_contact_hours'?"),
    (["--sweep", "repeat_contact_hours=24"], "give two or more different values"),
    (["--param", "strct.repeat_contact_hours=1"], "'strct' is not one of the rule sets "
                                                 "compared (did you mean 'strict'?)"),
])
def test_bad_sweeps_are_usage_errors(option: list[str], message: str) -> None:
    result = run_cli(["compare", EXPORT, "--rulesets", "strict,intercom-fin", *option])
    assert result.exit_code == 2 and message in result.stderr


def test_rules_list_and_show_print_json() -> None:
    listed = json.loads(run_cli(["rules", "list", "--json"]).stdout)
    assert "strict" in [r["id"] for r in listed["rulesets"]]
    shown = json.loads(run_cli(["rules", "show", "strict", "--json"]).stdout)
    assert shown["params"]["repeat_contact_hours"]["default"] == 72
    assert shown["sha256"] == resolve_ruleset("strict").sha256 and "examples" not in shown


def test_a_phrase_list_override_changes_the_facts_a_rule_set_reads(tmp_path: Path) -> None:
    events = write_events(tmp_path / "events.csv", [
        ["c1", "2026-10-02T10:00:00Z", "customer", "u1", "message", "Can I talk to a human?"],
        ["c1", "2026-10-02T10:01:00Z", "ai_agent", "fin", "message", "Sure, here is how."],
    ])
    counted = {}
    for phrases in ("human", "robot overlord"):
        result = run_cli(["compare", str(events), "--format", "canonical", "--rulesets",
                          "strict,intercom-fin", "--param",
                          f"strict.human_request_phrases={phrases}", "--json"])
        assert result.exit_code == 0, result.output
        strict = json.loads(result.stdout)["rulesets"][0]
        counted[phrases] = (strict["label"], strict["conversations"])
    assert counted == {"human": ("strict[human_request_phrases=human]", 0),
                       "robot overlord": ("strict[human_request_phrases=robot overlord]", 1)}
