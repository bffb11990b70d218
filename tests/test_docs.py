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
