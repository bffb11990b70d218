"""`auditor compare`: what each billing definition counts on the same export."""

from __future__ import annotations

from decimal import Decimal
from datetime import datetime
from pathlib import Path

import click

from auditor.cli import cli
from auditor.cli.audit import _as_of, _period, _price
from auditor.cli.options import json_option, param_option, source_options
from auditor.compare import (
    Comparison, CompareRequest, compare, comparison_json, price_lines, summary_rows,
)
from auditor.rulesets.overrides import parse_assignments
from auditor.reconcile import Period
from auditor.sources import FORMATS, SourceOptions
from auditor.sweep import sweep_terminal

TOP_DISAGREEMENTS = 12


def _names(_: click.Context, __: click.Parameter, value: str | None) -> list[str]:
    return [n.strip() for n in (value or "").split(",") if n.strip()]


def _sweep(_: click.Context, __: click.Parameter,
           value: str | None) -> tuple[str, list[str]] | None:
    if value is None:
        return None
    name, values = next(iter(parse_assignments([value], "--sweep").items()))
    return name, [v.strip() for v in values.split(",") if v.strip()]


@cli.command(name="compare", epilog="Exit codes: 0 compared, 2 usage or input error.")
@click.argument("exports", nargs=-1, required=True, type=click.Path())
@click.option("--rulesets", callback=_names, metavar="ID,ID,...",
              help="Rule sets (ids or .toml paths), comma-separated; default: every registered one.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="auto", show_default=True,
              help="Export format; auto detects it per file.")
@click.option("--period", callback=_period, metavar="START..END",
              help="Only conversations whose AI's last message is in these dates (UTC).")
@click.option("--unit-price", callback=_price, metavar="X",
              help="Price per unit for rule sets that have no price of their own.")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), metavar="DIR",
              help="Write report.html, compare.md, compare.json and compare.csv (one row per "
                   "conversation).")
@click.option("--as-of", callback=_as_of, metavar="TIMESTAMP",
              help="When the export was taken, if later than its last event: the end of "
                   "observation for waits and windows.")
@param_option(role="every rule set compared that has it (ID.NAME=VALUE: only rule set ID)")
@click.option("--sweep", callback=_sweep, metavar="NAME=V1,V2,...",
              help="Run each rule set that has param NAME once per value, side by side: how "
                   "the conversations counted, units and money move with it.")
@json_option("compare.json's content")
@source_options
def compare_command(exports: tuple[str, ...], rulesets: list[str], fmt: str,
                    period: Period | None, unit_price: Decimal | None, out: Path | None,
                    as_of: datetime | None, params: dict[str, str],
                    sweep: tuple[str, list[str]] | None, as_json: bool,
                    sources: SourceOptions) -> None:
    """Compare what several billing definitions count on the same export.

    For each rule set: the conversations it counts, its billing units and what they
    would cost at its unit price (--unit-price for rule sets without one). Then where the
    definitions disagree: conversations one counts and another does not, grouped by the
    reason code that makes the difference.

    \b
    Example:
        auditor compare sample_data/intercom_2026-10.jsonl.gz \\
            --rulesets intercom-fin,zendesk-ai-agents,gorgias-ai-agent,strict --out compare/
        auditor compare events.parquet --format canonical --period 2026-10-01..2026-10-31 \\
            --as-of 2026-11-01T00:00:00Z
        auditor compare export.jsonl.gz --rulesets intercom-fin,gorgias-ai-agent \\
            --unit-price 0.90
        auditor compare sample_data/intercom_2026-10.jsonl.gz --rulesets strict \\
            --sweep repeat_contact_hours=24,72,168 --unit-price 0.99
        auditor compare export.jsonl.gz --rulesets intercom-fin,strict \\
            --param strict.negative_rating_max=3 --json > compare.json
    """
    request = CompareRequest(exports=list(exports), rulesets=rulesets, format=fmt, period=period,
                             sources=sources, unit_price=unit_price, as_of=as_of,
                             params=params, sweep=sweep)
    comparison = compare(request, out)
    written = f"Written to {out}/ (report.html, compare.md, compare.json, compare.csv)"
    if as_json:  # compare.json's content alone on stdout
        if out is not None:
            click.echo(written, err=True)
        click.echo(comparison_json(comparison), nl=False)
        return
    for line in render(comparison):
        click.echo(line)
    if out is not None:
        click.echo(f"\n{written}")


def render(comparison: Comparison) -> list[str]:
    period = f" ({comparison.period})" if comparison.period else ""
    width = max([24, *(len(r.label) for r in comparison.rulesets)])  # what-if labels are long
    left_out = (f"; {comparison.not_judged:,} left out: the export cannot support a verdict on "
                "them (incomplete export or quarantined records)" if comparison.not_judged else "")
    lines = [f"{comparison.conversations:,} conversations compared{period}{left_out}", "",
             f"  {'rule set':<{width}} {'unit':<24} {'conversations':>13} {'units':>9} "
             f"{'amount':>13}"]
    lines += [f"  {a:<{width}} {b:<24} {c:>13} {d:>9} {e:>13}" for a, b, c, d, e in
              summary_rows(comparison)]
    lines += [f"  {line}" for line in price_lines(comparison)]
    lines += sweep_terminal(comparison.sweep) if comparison.sweep else []
    biggest = sorted(comparison.disagreements, key=lambda d: -d.conversations)[:TOP_DISAGREEMENTS]
    if biggest:
        lines += ["", "Largest disagreements (counted by the first, not by the second, because):"]
        lines += [f"  {d.conversations:>7,}  {d.counted_by} not {d.not_counted_by}: {d.reason}"
                  for d in biggest]
        if len(comparison.disagreements) > len(biggest):
            lines.append(f"  ... {len(comparison.disagreements) - len(biggest)} more groups "
                         "(use --out for all of them)")
    return lines
