"""trend.html: month over month as one self-contained page (charts inline, see charts.py)."""

from __future__ import annotations

from auditor.report import charts
from auditor.report.templating import render
from auditor.trend import Trend, label, table_rows


def render_html(result: Trend) -> str:
    labels = [label(m) for m in result.months]
    rates = charts.line_chart(
        "rates", "Dispute rate and reproduction gap by month",
        "Per month: disputed units per 100 billed (solid line) and billed units the vendor's "
        "own definition does not reproduce per 100 billed (dashed line).", labels,
        [("dispute rate", [m.dispute_rate for m in result.months], "o"),
         ("reproduction gap", [m.reproduction_gap for m in result.months], "s")],
        "% of billed units")
    units = charts.day_chart(
        "units", "Billed and contract-confirmed units by month",
        "Per month: units billed (dark bars) and units the contract definition confirms "
        "(light hatched bars).",
        [(label, m.billed_units, m.confirmed_units) for label, m in zip(labels, result.months)],
        label_from=0, unit="units")
    return render("trend.html.j2", trend=result, rows=table_rows(result), labels=labels,
                  rates=rates, units=units)
