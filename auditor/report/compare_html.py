"""report.html for `auditor compare`: each definition's count and cost, and where they differ.

One self-contained page like the audit's (charts inline, see charts.py); the figures are the
Comparison's (compare.json), only laid out here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from auditor.report import charts
from auditor.report.templating import render

if TYPE_CHECKING:
    from auditor.compare import Comparison


def render_compare_html(comparison: Comparison) -> str:
    from auditor.compare import price_lines, summary_rows

    bars = [charts.Bar(r.label, r.units, f"{r.units:,} {r.billing_unit}s"
                       + (f", ${float(r.amount):,.2f}" if r.amount is not None else ""),
                       charts.DISPUTE_STYLES[n % len(charts.DISPUTE_STYLES)])
            for n, r in enumerate(comparison.rulesets)]
    chart = charts.hbar_chart(
        "rulesets", "Billing units each definition counts",
        "For each rule set, the billing units it counts on the same export, with their cost "
        "at its unit price.", bars, "billing units")
    return render("compare.html.j2", comparison=comparison, chart=chart,
                  rows=summary_rows(comparison), prices=price_lines(comparison))
