"""Month over month: several audits' report.json side by side, and the months that moved.

For each audit folder (`audit --out DIR`): billed units, dispute rate overall and by reason,
the reproduction gap (billed units the vendor's own definition does not reproduce) and the
effective price per confirmed resolution (what was billed, over what the contract confirms).
A month is flagged when its dispute rate or reproduction gap moves by more than
`alert_points` percentage points from the month before. Figures are read from each
report.json, never recomputed from data.
"""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel, Field, ValidationError

from auditor.errors import InputError, UsageError
from auditor.report.model import Report, usd

DEFAULT_ALERT_POINTS = 5.0


class Month(BaseModel):
    folder: str
    period: str | None
    vendor: str
    contract: str
    billed_units: int
    billed_amount: float
    confirmed_units: int
    disputed_units: int
    dispute_rate: float = Field(description="Disputed units per 100 billed units.")
    dispute_rate_by_reason: dict[str, float] = Field(
        description="Per reason: disputed units carrying it per 100 billed (reasons overlap).")
    reproduction_gap: float = Field(
        description="Billed units the vendor's own definition does not reproduce, per 100 billed.")
    effective_price: float | None = Field(
        description="Billed amount / confirmed units: the price paid per confirmed resolution.")
    flags: list[str] = Field(default_factory=list)


class Trend(BaseModel):
    alert_points: float
    months: list[Month]
    reasons: list[str] = Field(description="Every reason code in any month, in first-seen order.")

    @property
    def flagged(self) -> bool:
        return any(m.flags for m in self.months)


def trend(folders: list[Path], alert_points: float = DEFAULT_ALERT_POINTS) -> Trend:
    if len(folders) < 2:
        raise UsageError("trend needs at least two audit folders", "e.g. auditor trend "
                         "oct/ nov/ dec/ (each written by auditor audit --out)")
    if not alert_points >= 0:
        raise UsageError("--alert-points must be 0 or more")
    months = sorted((month_figures(f) for f in folders), key=_order)
    periods = [m.period for m in months if m.period]
    if len(set(periods)) != len(periods):
        raise UsageError("two of the folders audit the same period: "
                         + ", ".join(sorted({p for p in periods if periods.count(p) > 1})))
    for previous, month in zip(months, months[1:]):
        month.flags = _flags(previous, month, alert_points)
    reasons = list(dict.fromkeys(r for m in months for r in m.dispute_rate_by_reason))
    return Trend(alert_points=alert_points, months=months, reasons=reasons)


def month_figures(folder: Path) -> Month:
    path = folder / "report.json"
    if not path.is_file():
        raise InputError(str(folder), "no report.json here",
                         hint="give folders written by auditor audit --out")
    try:
        report = Report.model_validate(json.loads(path.read_text(encoding="utf-8")))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(str(path), f"is not JSON ({exc})") from None
    except ValidationError as exc:
        error = exc.errors()[0]
        raise InputError(str(path), "is not a report.json of this tool",
                         field=".".join(str(p) for p in error["loc"])) from None
    billed = report.billed.items
    rate = (lambda n: round(100 * n / billed, 2)) if billed else (lambda n: 0.0)
    return Month(
        folder=str(folder), period=report.period, vendor=report.vendor,
        contract=report.contract, billed_units=billed,
        billed_amount=float(round(report.billed.amount, 2)),
        confirmed_units=report.confirmed.items, disputed_units=report.disputed.items,
        dispute_rate=rate(report.disputed.items),
        dispute_rate_by_reason={c: rate(n) for c, n in report.disputed.by_reason.items()},
        reproduction_gap=rate(report.reproduction.billed_not_reproduced),
        effective_price=(round(float(report.billed.amount) / report.confirmed.items, 4)
                         if report.confirmed.items else None))


def _order(month: Month) -> tuple[str, str]:
    return (month.period or "", month.folder)


def _flags(previous: Month, month: Month, points: float) -> list[str]:
    flags = []
    for label, before, now in (("dispute rate", previous.dispute_rate, month.dispute_rate),
                               ("reproduction gap", previous.reproduction_gap,
                                month.reproduction_gap)):
        if abs(now - before) > points:
            flags.append(f"{label} {before:.1f}% -> {now:.1f}% ({now - before:+.1f} points)")
    return flags


def label(month: Month) -> str:
    """2026-10 for a period inside one calendar month, else the period (or the folder)."""
    if month.period and month.period[:7] == month.period.split("..")[-1][:7]:
        return month.period[:7]
    return month.period or month.folder


def table_rows(result: Trend) -> list[list[str]]:
    """Header and one row per month, for the terminal and trend.md."""
    rows = [["month", "billed units", "billed", "dispute rate", "reproduction gap",
             "price per confirmed", "flag"]]
    for m in result.months:
        rows.append([label(m), f"{m.billed_units:,}", usd(m.billed_amount),
                     f"{m.dispute_rate:.1f}%", f"{m.reproduction_gap:.1f}%",
                     usd(m.effective_price) if m.effective_price is not None else "-",
                     "; ".join(m.flags) or ""])
    return rows


def render_markdown(result: Trend) -> str:
    rows = table_rows(result)
    lines = ["# Month over month", "",
             f"A month is flagged when its dispute rate or reproduction gap moves by more than "
             f"{result.alert_points:g} points from the month before.", "",
             "| " + " | ".join(rows[0]) + " |", "|---|" + "---:|" * 5 + "---|"]
    lines += ["| " + " | ".join(r) + " |" for r in rows[1:]]
    lines += ["", "## Dispute rate by reason", "",
              "Disputed units carrying each reason per 100 billed; a line can carry several "
              "reasons, so these overlap.", "",
              "| reason | " + " | ".join(label(m) for m in result.months) + " |",
              "|---|" + "---:|" * len(result.months)]
    lines += [f"| `{code}` | " + " | ".join(
        f"{m.dispute_rate_by_reason.get(code, 0.0):.1f}%" for m in result.months) + " |"
        for code in result.reasons]
    return "\n".join(lines) + "\n"


def write_outputs(result: Trend, out_dir: Path) -> None:
    from auditor.report.trend_html import render_html  # matplotlib only when writing

    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"cannot create output directory {out_dir}: {exc.strerror}") from exc
    data = {**result.model_dump(mode="json"), "flagged": result.flagged}
    (out_dir / "trend.json").write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    (out_dir / "trend.md").write_text(render_markdown(result), encoding="utf-8")
    (out_dir / "trend.html").write_text(render_html(result), encoding="utf-8")
