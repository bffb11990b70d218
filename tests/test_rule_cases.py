"""Every built-in rule set's examples and case table, run through the real pipeline.

Test ids are `<ruleset-id>::<example name>`:
`pytest -k "strict::human_takeover_then_ai_closing"` runs one.
The case tables live in tests/cases/<ruleset-id>.toml, in the same format as [[examples]].
"""

from __future__ import annotations

import functools
from pathlib import Path

import pytest

from auditor.rulesets import list_rulesets, load_case_file
from auditor.rulesets.examples import ExampleResult, run_examples
from auditor.rulesets.model import CaseFile, Example, RuleSet

CASES_DIR = Path(__file__).resolve().parent / "cases"
BUILTIN_IDS = ("intercom-fin", "strict", "kustomer-kiq", "salesforce-agentforce",
               "freshworks-freddy", "zendesk-ai-agents", "intercom-fin-outcomes",
               "gorgias-ai-agent", "hubspot-customer-agent")
BUILTINS: dict[str, RuleSet] = {r.id: r for r in list_rulesets() if r.id in BUILTIN_IDS}


def case_file(ruleset_id: str) -> CaseFile:
    return load_case_file(CASES_DIR / f"{ruleset_id}.toml")


def sources(ruleset: RuleSet) -> dict[str, list[Example]]:
    """Where a rule set's examples come from: its own file, and its case table."""
    cases = case_file(ruleset.id)
    return {ruleset.path: list(ruleset.examples), cases.path: list(cases.examples)}


@functools.cache
def results(ruleset_id: str, source: str) -> dict[str, ExampleResult]:
    """All examples of one source, run together once (run_examples batches them)."""
    ruleset = BUILTINS[ruleset_id]
    ran = run_examples(ruleset, sources(ruleset)[source], source=source)
    return {result.name: result for result in ran}


CASES = [(r.id, source, example.name) for r in BUILTINS.values()
         for source, examples in sources(r).items() for example in examples]


@pytest.mark.parametrize(("ruleset_id", "source", "name"), CASES,
                         ids=[f"{r}::{name}" for r, _, name in CASES])
def test_case(ruleset_id: str, source: str, name: str) -> None:
    result = results(ruleset_id, source)[name]
    assert result.passed, result.describe()


def test_examples_give_the_same_verdict_alone_as_in_a_batch() -> None:
    strict = BUILTINS["strict"]
    for example in strict.examples:
        [alone] = run_examples(strict, [example])
        assert alone.model_dump(exclude={"origin"}) == results(
            "strict", strict.path)[example.name].model_dump(exclude={"origin"})


@pytest.mark.parametrize("ruleset_id", BUILTIN_IDS)
def test_case_table_is_for_its_rule_set_and_big_enough(ruleset_id: str) -> None:
    cases = case_file(ruleset_id)
    assert cases.ruleset == ruleset_id
    assert len(cases.examples) >= 12 and len(BUILTINS[ruleset_id].examples) >= 6
    in_file = {e.name for e in BUILTINS[ruleset_id].examples}
    assert not in_file & {e.name for e in cases.examples}, "test ids must be unique"


@pytest.mark.parametrize("ruleset_id", BUILTIN_IDS)
def test_every_criterion_is_exercised_and_something_is_counted(ruleset_id: str) -> None:
    ruleset = BUILTINS[ruleset_id]
    examples = ruleset.examples + case_file(ruleset_id).examples
    expected = {code for e in examples for code in e.expect.reasons or []}
    assert expected == set(ruleset.codes())
    assert any(e.expect.counted for e in ruleset.examples)


def test_the_gotcha_is_billed_by_intercom_and_disputed_by_strict() -> None:
    fin = next(e for e in BUILTINS["intercom-fin"].examples
               if e.name == "human_takeover_then_ai_closing")
    [billed] = run_examples(BUILTINS["intercom-fin"], [fin])
    [disputed] = run_examples(BUILTINS["strict"], [fin.model_copy(
        update={"expect": fin.expect.model_copy(
            update={"counted": False, "reasons": ["human_takeover"]})})])
    assert billed.passed and billed.counted is True
    assert disputed.passed, disputed.describe()


def test_a_wrong_expectation_fails_with_a_readable_message() -> None:
    strict = BUILTINS["strict"]
    example = strict.examples[1]
    wrong = example.model_copy(update={"expect": example.expect.model_copy(
        update={"counted": True, "reasons": []})})
    [result] = run_examples(strict, [wrong])
    assert not result.passed
    assert result.describe().startswith(f"FAIL strict::{example.name} (")
    assert "expected counted=true" in result.describe()
    assert "got counted=false reasons=[human_takeover]" in result.describe()
