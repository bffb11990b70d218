"""Documentation is part of the feature: these tests keep it in step with the code."""

from __future__ import annotations

import re

import click
import pytest

from auditor.docs import stale_docs
from tests.conftest import REPO, run_cli


def _commands() -> list[tuple[str, click.Command]]:
    import auditor.cli.audit  # noqa: F401
    import auditor.cli.compare  # noqa: F401
    import auditor.cli.price  # noqa: F401
    import auditor.cli.pull  # noqa: F401
    import auditor.cli.rules  # noqa: F401
    import auditor.cli.trend  # noqa: F401
    from auditor.cli import cli

    found = []
    for name, command in cli.commands.items():
        found.append((name, command))
        if isinstance(command, click.Group):
            found += [(f"{name} {sub}", c) for sub, c in command.commands.items()]
    return found


def test_generated_doc_tables_match_the_code() -> None:
    assert stale_docs(REPO) == [], "run: python -m auditor.docs"


@pytest.mark.parametrize("name", [n for n, _ in _commands()])
def test_every_command_has_help_with_an_example_and_is_in_the_readme(name: str) -> None:
    result = run_cli([*name.split(), "--help"])
    assert result.exit_code == 0
    assert "Example:" in result.output
    assert f"auditor {name}" in (REPO / "README.md").read_text()


def test_readme_quick_start_is_two_commands_and_ci_runs_the_test_one() -> None:
    readme = (REPO / "README.md").read_text()
    quick_start = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    commands = re.findall(r"```sh\n(.*?)\n```", quick_start, re.S)
    assert len(commands) == 2 and all("\n" not in c for c in commands)
    assert "auditor demo" in commands[0] and "pytest" in commands[1]
    assert commands[1] in (REPO / ".ci" / "run").read_text()


def test_exit_codes_are_documented_where_users_look() -> None:
    from auditor.errors import ExitCode

    readme = (REPO / "README.md").read_text()
    for code in ExitCode:
        assert f"| {int(code)} |" in readme


def test_readme_lists_every_builtin_rule_set_with_its_price() -> None:
    from auditor.rulesets import list_rulesets

    readme = (REPO / "README.md").read_text()
    table = readme.split("### Built-in definitions", 1)[1].split("\n\n", 2)[1]
    rows = {line.split("|")[1].strip(" `"): line for line in table.splitlines()[2:]}
    for ruleset in list_rulesets():
        assert ruleset.id in rows, f"{ruleset.id} missing from the README's table"
        price = f"${ruleset.unit_price:.2f}" if ruleset.unit_price is not None else None
        assert price is None or price in rows[ruleset.id], ruleset.id


def test_every_reason_code_the_engine_can_give_is_explained_in_the_readme() -> None:
    from auditor.reconcile import BILLING_REASONS

    readme = (REPO / "README.md").read_text()
    missing = [code for code in BILLING_REASONS if code != "not_reproduced"
               and f"`{code}`" not in readme]
    assert missing == []
# --- rule sets the documentation names --------------------------------------------------------

DOCS = ["README.md", "sample_data/README.md", "rules/README.md", "benchmarks/README.md",
        *(str(p.relative_to(REPO)) for p in sorted((REPO / "docs").glob("*.md")))]
# A rule-set id as the docs write it: after an option that takes one, or in backticks when it
# starts like a vendor's id (`intercom-fin`, `zendesk-ai-agents`).
OPTION_IDS = re.compile(r"(?:--vendor|--contract|--rulesets|auditor rules show|auditor rules "
                        r"check)[ =]([a-z0-9][a-z0-9,-]*)(?=[\s`\\)]|$)")
VENDOR_PREFIXES = ("intercom", "zendesk", "gorgias", "hubspot", "kustomer", "salesforce",
                   "freshworks", "freshdesk", "ada", "decagon", "sierra", "forethought", "gladly",
                   "helpscout", "front", "dixa", "strict")
BACKTICKED = re.compile(r"`((?:" + "|".join(VENDOR_PREFIXES) + r")(?:-[a-z0-9]+)*)`")
SAID_MISSING = re.compile(
    r"\b(?:no|a|an)\s+(?P<a>[A-Z]\w+)\s+rule\s+set\s+(?:is|was|has)?\s*(?:not|yet|been)"
    r"|\bthere\s+is\s+no\s+(?P<b>[A-Z]\w+)\s+rule\s+set"
    r"|\b(?P<c>[A-Z]\w+)\s+rule\s+set\s+(?:is|was)\s+not\s+(?:yet\s+)?(?:written|available|built)")


def _builtin_ids() -> set[str]:
    """Built-in rule sets, and built-in pricing plans (named the same way in the docs)."""
    from auditor.pricing.plans import builtin_plan_files
    from auditor.rulesets import list_rulesets

    return {r.id for r in list_rulesets()} | set(builtin_plan_files())


@pytest.mark.parametrize("doc", DOCS)
def test_every_rule_set_a_doc_names_exists(doc: str) -> None:
    text = (REPO / doc).read_text()
    named = {i for found in OPTION_IDS.findall(text) for i in found.split(",") if i}
    named |= set(BACKTICKED.findall(text))
    named = {n for n in named if not n.endswith(".toml")}
    missing = sorted(named - _builtin_ids())
    assert not missing, f"{doc} names rule sets (or plans) that do not exist: {missing}"


@pytest.mark.parametrize("doc", DOCS)
def test_no_doc_says_a_built_in_vendor_has_no_rule_set(doc: str) -> None:
    from auditor.rulesets import list_rulesets

    vendors = {r.vendor.lower() for r in list_rulesets()}
    text = " ".join((REPO / doc).read_text().split())
    for claim in SAID_MISSING.finditer(text):
        vendor = next(v for v in claim.groups() if v)
        assert vendor.lower() not in vendors, f"{doc}: '{claim.group(0)}', but one is built in"


def test_the_doc_checks_see_what_they_look_for() -> None:
    named = OPTION_IDS.findall("auditor compare x --rulesets intercom-fin,strict --vendor ada-x")
    assert named == ["intercom-fin,strict", "ada-x"]
    assert BACKTICKED.findall("`zendesk-ai-agents` and `end-user`") == ["zendesk-ai-agents"]
    said = SAID_MISSING.search("with the Intercom definitions (a Zendesk rule set is not "
                               "written yet)")
    assert said is not None and said.group("a") == "Zendesk"
