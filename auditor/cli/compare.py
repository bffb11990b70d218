"""`auditor compare`: what each billing definition counts on the same export."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import click

from auditor.cli import cli
from auditor.cli.audit import _period, _price
from auditor.cli.options import source_options
from auditor.compare import Comparison, CompareRequest, compare, price_lines, summary_rows
from auditor.reconcile import Period
from auditor.sources import FORMATS, SourceOptions

TOP_DISAGREEMENTS = 12


def _names(_: click.Context, __: click.Parameter, value: str | None) -> list[str]:
    return [n.strip() for n in (value or "").split(",") if n.strip()]


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
@source_options
def compare_command(exports: tuple[str, ...], rulesets: list[str], fmt: str,
                    period: Period | None, unit_price: Decimal | None, out: Path | None,
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
        auditor compare events.parquet --format canonical --period 2026-10-01..2026-10-31
        auditor compare export.jsonl.gz --rulesets intercom-fin,gorgias-ai-agent \\
            --unit-price 0.90
    """
    request = CompareRequest(exports=list(exports), rulesets=rulesets, format=fmt, period=period,
                             sources=sources, unit_price=unit_price)
    comparison = compare(request, out)
    for line in render(comparison):
        click.echo(line)
    if out is not None:
        click.echo(f"\nWritten to {out}/ (report.html, compare.md, compare.json, compare.csv)")


def render(comparison: Comparison) -> list[str]:
    period = f" ({comparison.period})" if comparison.period else ""
    lines = [f"{comparison.conversations:,} conversations compared{period}", "",
             f"  {'rule set':<24} {'unit':<24} {'conversations':>13} {'units':>9} {'amount':>13}"]
    lines += [f"  {a:<24} {b:<24} {c:>13} {d:>9} {e:>13}" for a, b, c, d, e in
              summary_rows(comparison)]
    lines += [f"  {line}" for line in price_lines(comparison)]
    biggest = sorted(comparison.disagreements, key=lambda d: -d.conversations)[:TOP_DISAGREEMENTS]
    if biggest:
        lines += ["", "Largest disagreements (counted by the first, not by the second, because):"]
        lines += [f"  {d.conversations:>7,}  {d.counted_by} not {d.not_counted_by}: {d.reason}"
                  for d in biggest]
        if len(comparison.disagreements) > len(biggest):
            lines.append(f"  ... {len(comparison.disagreements) - len(biggest)} more groups "
                         "(use --out for all of them)")
    return lines
