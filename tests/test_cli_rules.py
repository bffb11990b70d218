"""`auditor rules list|show|check`, and docs/rulesets.md staying in step with the rule sets."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

import auditor.cli.rules  # noqa: F401  (registers the `rules` group)
from auditor.cli import cli
from auditor.rulesets import list_rulesets
from auditor.rulesets.expressions import ALLOWED_FUNCTIONS
from auditor.rulesets.model import (
    Criterion,
    Example,
    ExampleConversation,
    ExampleEvent,
    Expectation,
    Observation,
    Param,
    RuleSet,
    SourceLink,
)

REPO = Path(__file__).resolve().parents[1]
DOCS = (REPO / "docs" / "rulesets.md").read_text(encoding="utf-8")

GOOD = """
id = "acme"
version = "0.1.0"
title = "ACME contract"
kind = "contract"
vendor = "any"
description = "No human replies."

[[criteria]]
code = "human_takeover"
summary = "A human replied."
when = "has_human_message"
evidence = "human replied {first_human_message_at}"

[[examples]]
name = "ai_only"
events = [
  {at = "10:00", role = "customer", body = "hi"},
  {at = "10:01", role = "ai_agent", body = "hello"},
]
expect = {counted = true, reasons = []}

[[examples]]
name = "human_replied"
events = [
  {at = "10:00", role = "customer", body = "hi"},
  {at = "10:01", role = "human_agent", body = "hello"},
]
expect = {counted = false, reasons = ["human_takeover"]}
"""


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def write(tmp_path: Path, text: str, name: str = "acme.toml") -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_list_shows_a_table_of_rule_sets() -> None:
    result = run("rules", "list")
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert lines[0].split() == ["id", "version", "kind", "vendor", "unit", "price", "title"]
    fin = next(line for line in lines if line.startswith("intercom-fin"))
    assert "1.1.1" in fin and "vendor" in fin and "Intercom" in fin and "0.99 USD" in fin
    strict = next(line for line in lines if line.startswith("strict"))
    assert "contract" in strict and " - " in strict


def test_show_prints_everything_a_reviewer_needs() -> None:
    result = run("rules", "show", "strict")
    assert result.exit_code == 0
    out = result.output
    assert "Strict contract definition" in out and "kind: contract" in out
    assert "https://www.intercom.com/help/en/articles/8205718-fin-resolutions" in out
    assert "repeat_contact_hours = 72" in out and "sha256: " in out
    positions = [out.index(f"{code}: ") for code in
                 ("no_ai_answer", "human_takeover", "handoff_requested", "unanswered_followup",
                  "reopened", "repeat_contact", "negative_feedback", "no_customer_message",
                  "preview")]
    assert positions == sorted(positions)
    assert "when: hours_to_next_contact <= repeat_contact_hours" in out
    assert ("observation window: repeat_contact_hours hours, observed as "
            "hours_observed_after_last_ai") in out


def test_show_accepts_a_path(tmp_path: Path) -> None:
    result = run("rules", "show", write(tmp_path, GOOD))
    assert result.exit_code == 0 and "ACME contract" in result.output


def test_show_unknown_id_suggests_one() -> None:
    result = run("rules", "show", "strct")
    assert result.exit_code == 2
    known = ", ".join(sorted(path.stem for path in (REPO / "rules").glob("*.toml")))
    assert result.output.strip() == ("Error: unknown rule set 'strct'; known rule sets: "
                                     f"{known} (did you mean 'strict'?)")


def test_check_passing_file(tmp_path: Path) -> None:
    result = run("rules", "check", write(tmp_path, GOOD))
    assert result.exit_code == 0 and result.output == "ok: 2 examples passed\n"


def test_check_builtins_with_their_case_tables() -> None:
    for ruleset_id in ("strict", "intercom-fin"):
        cases = REPO / "tests" / "cases" / f"{ruleset_id}.toml"
        result = run("rules", "check", ruleset_id, "--cases", str(cases))
        assert result.exit_code == 0, result.output
        assert re.fullmatch(r"ok: \d+ examples passed\n", result.output)


def test_check_failing_example_exits_1_and_explains(tmp_path: Path) -> None:
    wrong = GOOD.replace('expect = {counted = true, reasons = []}',
                         'expect = {counted = false, reasons = ["human_takeover"]}')
    result = run("rules", "check", write(tmp_path, wrong))
    assert result.exit_code == 1
    assert "FAIL acme::ai_only" in result.output and "examples[1]" in result.output
    assert "expected counted=false" in result.output and "got counted=true" in result.output
    assert result.output.endswith("1 of 2 examples failed\n")


def test_check_malformed_file_exits_2_naming_the_key(tmp_path: Path) -> None:
    bad = GOOD.replace('when = "has_human_message"', "when = \"read_csv('/etc/passwd')\"")
    result = run("rules", "check", write(tmp_path, bad))
    assert result.exit_code == 2
    assert result.output.startswith("Error: ") and result.output.count("\n") == 1
    assert "key 'criteria[1].when'" in result.output
    assert "function 'read_csv' is not allowed" in result.output


def test_check_cases_for_another_rule_set_is_refused(tmp_path: Path) -> None:
    result = run("rules", "check", write(tmp_path, GOOD), "--cases",
                 str(REPO / "tests" / "cases" / "strict.toml"))
    assert result.exit_code == 2 and "these cases are for 'strict', not 'acme'" in result.output


def test_check_without_examples_says_so(tmp_path: Path) -> None:
    result = run("rules", "check", write(tmp_path, GOOD.split("[[examples]]")[0]))
    assert result.exit_code == 0 and "add [[examples]]" in result.output


@pytest.mark.parametrize("command", [[], ["list"], ["show"], ["check"]])
def test_help_has_an_example(command: list[str]) -> None:
    result = run("rules", *command, "--help")
    assert result.exit_code == 0 and "Example:" in result.output
    assert "    auditor rules" in result.output  # \b keeps the example lines as written


# --- docs/rulesets.md ------------------------------------------------------------------------

def test_docs_cover_every_builtin_id_and_code() -> None:
    for ruleset in list_rulesets():
        assert f"### {ruleset.id}" in DOCS
        section = DOCS.split(f"### {ruleset.id}", 1)[1].split("\n### ", 1)[0]
        for code in ruleset.codes():
            assert f"`{code}`" in section, f"{ruleset.id}: {code} missing from docs/rulesets.md"


def test_docs_cover_every_file_key() -> None:
    models = (RuleSet, Param, Criterion, Example, ExampleEvent, ExampleConversation,
              Expectation, SourceLink, Observation)
    for model in models:
        for key in model.model_fields:
            assert f"`{key}`" in DOCS or f"{key} = " in DOCS, f"{model.__name__}.{key}"


def test_docs_list_the_whole_function_allowlist() -> None:
    allowlist = DOCS.split("these pure scalar functions", 1)[1].split("\n\n", 1)[0]
    assert set(re.findall(r"`(\w+)`", allowlist)) == set(ALLOWED_FUNCTIONS)


def test_docs_name_the_entry_point_group() -> None:
    assert '[project.entry-points."auditor.rulesets"]' in DOCS
    pyproject = (REPO / "pyproject.toml").read_text(encoding="utf-8")
    assert 'builtin = "auditor.rulesets.registry:builtin_ruleset_files"' in pyproject


def test_rules_readme_points_to_the_docs() -> None:
    assert "docs/rulesets.md" in (REPO / "rules" / "README.md").read_text(encoding="utf-8")


def test_the_confirmed_only_contract_in_the_docs_avoids_the_welcome_trap(tmp_path: Path) -> None:
    # docs/rulesets.md, "Confirmations": its criteria, with examples that show the trap.
    snippet = DOCS.split("## Confirmations", 1)[1].split("```toml\n", 1)[1].split("```", 1)[0]
    ask = '{ at = "10:00", role = "customer", body = "How do I export?" }'
    answer = '{ at = "10:01", role = "ai_agent", body = "Settings > Export." }'
    thanks = '{ at = "10:02", role = "customer", body = "thanks!" }'
    welcome = '{ at = "10:03", role = "ai_agent", body = "You\'re welcome!" }'
    path = tmp_path / "confirmed-only.toml"
    path.write_text(f"""
id = "confirmed-only"
version = "1.0.0"
title = "Only confirmed resolutions"
kind = "contract"
vendor = "any"
description = "Counts a conversation only if the customer confirmed an AI answer."
{snippet}
[[examples]]
name = "thanks_answered_with_you_are_welcome"
events = [{ask}, {answer}, {thanks}, {welcome}]
expect = {{ counted = true, reasons = [] }}

[[examples]]
name = "no_thanks"
events = [{ask}, {answer}]
expect = {{ counted = false, reasons = ["not_confirmed"] }}
""", encoding="utf-8")
    result = run("rules", "check", str(path))
    assert result.exit_code == 0 and "ok: 2 examples passed" in result.output, result.output
