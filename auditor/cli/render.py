"""Terminal rendering of a report: a short summary table an ops analyst can read."""

from __future__ import annotations

import click

from auditor.report.markdown import ai_agents_sentence, month_cost_sentence
from auditor.report.model import Report
from auditor.report.model import usd as _usd


def _row(label: str, items: int, amount: float, total: int) -> str:
    share = f"{100 * items / total:5.1f}%" if total else "    -"
    return f"  {label:<30} {items:>9,}  {_usd(amount):>13}  {share}"


def summary_lines(report: Report) -> list[str]:
    b = report.billed
    head = f"Invoice{' ' + report.period if report.period else ''}: vendor rule set " \
           f"{report.vendor}{report.what_if('vendor')}, contract {report.contract}" \
           f"{report.what_if('contract')}"
    lines = [f"Warning: {w}" for w in report.warnings] + ([""] if report.warnings else [])
    lines += [head, f"  {'':<30} {'items':>9}  {'amount':>13}  share"]
    lines.append(_row("billed", b.items, float(b.amount), b.items))
    lines.append(_row("confirmed", report.confirmed.items, float(report.confirmed.amount), b.items))
    lines.append(_row("disputed", report.disputed.items, float(report.disputed.amount), b.items))
    lines.append(_row("unverifiable", report.unverifiable.items,
                      float(report.unverifiable.amount), b.items))
    if report.credits.items:  # the bill's negative lines: apart from the billed items
        lines.append(f"  {'credits (not in billed)':<30} {report.credits.items:>9,}  "
                     f"{_usd(report.credits.amount):>13}")
    lines += _unverifiable_lines(report) + _dispute_lines(report)
    lines += ["", *reproduction_lines(report), *ingest_lines(report)]
    if report.month_cost is not None:
        lines.append("Cost: " + month_cost_sentence(report).replace("**", "").replace("`", ""))
    lines += [f"Note: {note}" for note in report.notes]
    return lines


def _unverifiable_lines(report: Report) -> list[str]:
    return [f"    {code:<28} {n:>9,}" for code, n in report.unverifiable.by_reason.items()]


def _dispute_lines(report: Report) -> list[str]:
    """Reasons overlap, so two views: every reason a line carries, and each line once."""
    d, total = report.disputed, report.billed.items
    if not d.reasons:
        return []
    lines = ["", "Disputed, by reason (a line can carry several, so these overlap):"]
    lines += [_row(f"  {r.code}", r.items, float(r.amount), total) for r in d.reasons]
    lines.append("Disputed, each line once by its first reason:")
    lines += [f"    {code:<28} {n:>9,}" for code, n in d.by_primary_reason.items()]
    return lines


def reproduction_lines(report: Report) -> list[str]:
    r = report.reproduction
    lines = [f"Reproduction with {r.ruleset}: counts {r.count:,} {r.unit}s; "
             f"{r.matched:,} billed and reproduced, {r.billed_not_reproduced:,} billed but not "
             f"reproduced, {r.billed_undetermined:,} billed that it cannot tell, "
             f"{r.reproduced_not_billed:,} reproduced but not billed."]
    if report.count_only:
        c = report.count_only
        lines.append(f"Count-only invoice: billed {c.billed_count:,}, vendor definition counts "
                     f"{c.vendor_count:,}, contract accepts {c.contract_count:,}: estimated "
                     f"over-billing {c.overbilled_items:,} items ({_usd(c.overbilled_amount)})"
                     + (f"; {c.unverifiable_items:,} unverifiable (conversations the export "
                        "cannot judge)." if c.unverifiable_items else "."))
    return lines


def ingest_lines(report: Report) -> list[str]:
    i = report.ingest
    agents = ai_agents_sentence(i.ai_agents)
    return [f"Input: {i.records_read:,} records -> {i.events:,} events in "
            f"{i.conversations:,} conversations; {i.quarantined:,} quarantined.",
            *([agents] if agents else [])]


def echo_summary(report: Report) -> None:
    for line in summary_lines(report):
        warning = line.startswith("Warning: ")
        bold = warning or line.startswith(("  disputed", "Invoice"))
        click.secho(line, bold=bold, fg="red" if warning else None)
