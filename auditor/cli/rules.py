"""`auditor rules ...`: list, show and check rule sets. Parses options, calls the library."""

from __future__ import annotations

import json
import textwrap
from typing import Any

import click

from auditor.cli import AuditorGroup, cli
from auditor.cli.options import json_option
from auditor.errors import ExitCode, RuleSetError
from auditor.rulesets import list_rulesets, load_case_file, resolve_ruleset
from auditor.rulesets.examples import ExampleResult, run_examples
from auditor.rulesets.model import RuleSet

LIST_COLUMNS = ("id", "version", "kind", "vendor", "unit price", "title")
# Same meaning as for `auditor audit`: 1 = it ran, and something did not hold up.
EXAMPLES_FAILED = ExitCode.DISPUTES_FOUND


@cli.group(cls=AuditorGroup)
def rules() -> None:
    """List, inspect and check rule sets: the definitions of what a vendor may bill.

    A rule set is a TOML file (see docs/rulesets.md). Built in: one per vendor's
    documented billing unit (intercom-fin, zendesk-ai-agents, salesforce-agentforce, ...)
    and strict, the buyer's contract definition; `auditor rules list` shows them all.

    \b
    Example:
        auditor rules list
        auditor rules show strict
        auditor rules check my-contract.toml
    """


@rules.command("list")
@json_option("the rule sets (id, version, kind, vendor, title, billing unit, price, file, sha256)")
def list_command(as_json: bool) -> None:
    """List every available rule set: built-in ones and those installed by plugins.

    \b
    Example:
        auditor rules list
        auditor rules list --json
    """
    if as_json:
        _echo_json({"rulesets": [_summary_json(r) for r in list_rulesets()]})
        return
    rows = [LIST_COLUMNS] + [_list_row(r) for r in list_rulesets()]
    widths = [max(len(row[i]) for row in rows) for i in range(len(LIST_COLUMNS) - 1)]
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
        click.echo("  ".join([*cells, row[-1]]))


def _echo_json(document: dict[str, Any]) -> None:
    click.echo(json.dumps(document, indent=2))


def _summary_json(ruleset: RuleSet) -> dict[str, Any]:
    return {"id": ruleset.id, "version": ruleset.version, "kind": ruleset.kind,
            "vendor": ruleset.vendor, "title": ruleset.title,
            "billing_unit": ruleset.billing_unit, "unit_price": ruleset.unit_price,
            "currency": ruleset.currency, "path": ruleset.path, "sha256": ruleset.sha256}


def _show_json(ruleset: RuleSet) -> dict[str, Any]:
    """The file's content as read (params with their values and descriptions, criteria, ...),
    without its examples (`auditor rules check` runs them), plus where it came from."""
    content = ruleset.model_dump(mode="json", exclude={"examples"})
    return {**content, "examples_count": len(ruleset.examples), "path": ruleset.path,
            "sha256": ruleset.sha256}


def _list_row(ruleset: RuleSet) -> tuple[str, ...]:
    return (ruleset.id, ruleset.version, ruleset.kind, ruleset.vendor, _price(ruleset),
            ruleset.title)


def _price(ruleset: RuleSet) -> str:
    if ruleset.unit_price is None:
        return "-"
    return f"{ruleset.unit_price:.2f} {ruleset.currency} per {ruleset.billing_unit}"


@rules.command("show")
@click.argument("id_or_path")
@json_option("the rule set (its file's keys without the examples, plus path and sha256)")
def show_command(id_or_path: str, as_json: bool) -> None:
    """Show a rule set in full: what it counts, its sources, params and criteria.

    ID_OR_PATH is a rule-set id from `auditor rules list` or a path to a .toml file.
    Its params are what `--param NAME=VALUE` can set on `auditor audit` and `compare`.

    \b
    Example:
        auditor rules show intercom-fin
        auditor rules show rules/strict.toml
        auditor rules show strict --json
    """
    ruleset = resolve_ruleset(id_or_path)
    if as_json:
        _echo_json(_show_json(ruleset))
        return
    blocks = (_header(ruleset), _sources(ruleset), _params(ruleset),
              _criteria(ruleset, id_or_path))
    for block in blocks:
        click.echo("\n".join(block) + "\n")


def _header(ruleset: RuleSet) -> list[str]:
    labels = ", ".join(ruleset.billed_labels) or "-"
    return [f"{ruleset.title}",
            f"id: {ruleset.id}   version: {ruleset.version}   kind: {ruleset.kind}   "
            f"vendor: {ruleset.vendor}",
            f"unit price: {_price(ruleset)}   units per counted conversation: "
            f"{ruleset.units or '1'}   billed labels: {labels}",
            f"file: {ruleset.path}   sha256: {ruleset.sha256}", *_observation(ruleset),
            "", ruleset.description.strip()]


def _observation(ruleset: RuleSet) -> list[str]:
    o = ruleset.observation
    if o is None:
        return []
    return [f"observation window: {o.window_hours} hours, observed as {o.observed_hours} "
            "(counted conversations observed for less say so in their evidence)"]


def _sources(ruleset: RuleSet) -> list[str]:
    return ["Sources:"] + [f"  - {s.title}\n    {s.url}" for s in ruleset.sources or []] + (
        [] if ruleset.sources else ["  (none)"])


def _params(ruleset: RuleSet) -> list[str]:
    lines = ["Params:"]
    for name, param in ruleset.params.items():
        default = param.default if not isinstance(param.default, list) else (
            ", ".join(param.default))
        lines.append(f"  {name} = {_shorten(str(default))}")
        lines.append(f"      {param.description}")
    return lines if ruleset.params else lines + ["  (none)"]


def _criteria(ruleset: RuleSet, id_or_path: str) -> list[str]:
    lines = ["Criteria (a conversation is counted only if none applies; reasons in this order):"]
    for number, criterion in enumerate(ruleset.criteria, start=1):
        lines.append(f"  {number}. {criterion.code}: {criterion.summary}")
        lines.append(f"      when: {criterion.when}")
    lines.append(f"\n{len(ruleset.examples)} example(s) in the file; run them with "
                 f"`auditor rules check {id_or_path}`.")
    return lines


def _shorten(text: str) -> str:
    return textwrap.shorten(text, width=100, placeholder=" ...")


@rules.command("check")
@click.argument("file")
@click.option("--cases", "cases_file", metavar="CASES.toml",
              help="Also run a case table (same format as [[examples]], with ruleset = \"<id>\").")
@click.pass_context
def check_command(ctx: click.Context, file: str, cases_file: str | None) -> None:
    """Check a rule-set file and run its examples through the real pipeline.

    FILE is a .toml rule-set file (or a built-in id). Prints "ok: N examples passed", or each
    failing example. Exit codes: 0 all examples pass, 1 an example fails, 2 the file is
    malformed (the message names the key to fix).

    \b
    Example:
        auditor rules check my-contract.toml
        auditor rules check strict --cases tests/cases/strict.toml
    """
    ruleset = resolve_ruleset(file)
    results = run_examples(ruleset)
    if cases_file:
        results += _run_case_file(ruleset, cases_file)
    failures = [r for r in results if not r.passed]
    for result in failures:
        click.echo(result.describe())
    click.echo(_summary(results, failures))
    if failures:
        ctx.exit(EXAMPLES_FAILED)


def _run_case_file(ruleset: RuleSet, cases_file: str) -> list[ExampleResult]:
    cases = load_case_file(cases_file)
    if cases.ruleset != ruleset.id:
        raise RuleSetError(cases.path, "ruleset", f"these cases are for '{cases.ruleset}', "
                           f"not '{ruleset.id}'")
    return run_examples(ruleset, cases.examples, source=cases.path)


def _summary(results: list[ExampleResult], failures: list[ExampleResult]) -> str:
    if failures:
        return f"{len(failures)} of {len(results)} examples failed"
    if not results:
        return "ok: 0 examples passed (add [[examples]] so the rule set's behaviour is tested)"
    return f"ok: {len(results)} examples passed"
