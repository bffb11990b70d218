"""`auditor compare --sweep NAME=V1,V2,...`: one rule set run once per value of a param, and how
the conversations it counts, its units and its money move: the negotiator's table.

The variants are compared like any rule sets (auditor.compare); this module only picks their
rows out of the comparison and renders them side by side, each against the rule set's own value
(the file's, or --param's) when it is among the values swept, else against the first value.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from pydantic import BaseModel, Field

from auditor.report.model import Cents, usd
from auditor.rulesets.expressions import render_param
from auditor.rulesets.model import ParamValue, RuleSet
from auditor.rulesets.overrides import overridable

if TYPE_CHECKING:
    from auditor.compare import RuleSetCount


class SweepRow(BaseModel):
    value: ParamValue
    label: str = Field(description="The variant's label in the comparison, e.g. "
                                   "strict[repeat_contact_hours=24].")
    conversations: int
    units: int
    amount: Cents | None


class SweptRuleSet(BaseModel):
    id: str
    baseline: ParamValue = Field(description="The param's value without the sweep: the rule "
                                             "set file's, or the one given with --param.")
    rows: list[SweepRow] = Field(description="One per value swept, in the order given.")


class Sweep(BaseModel):
    param: str
    values: list[ParamValue]
    rulesets: list[SweptRuleSet]


def build_sweep(param: str, before: list[RuleSet], counts: list[RuleSetCount]) -> Sweep:
    """The sweep's rows out of the comparison's counts; `before` are the rule sets as they were
    before the sweep made variants of those that take `param`."""
    swept: list[SweptRuleSet] = []
    for ruleset in before:
        if param not in overridable(ruleset):
            continue
        # The sweep replaced this rule set by its variants: every count with its id is one.
        rows = [SweepRow(value=_value(c, param), label=c.label, conversations=c.conversations,
                         units=c.units, amount=c.amount) for c in counts if c.id == ruleset.id]
        swept.append(SweptRuleSet(id=ruleset.id, baseline=overridable(ruleset)[param],
                                  rows=rows))
    values = [row.value for row in swept[0].rows] if swept else []
    return Sweep(param=param, values=values, rulesets=swept)


def _value(count: RuleSetCount, param: str) -> ParamValue:
    return next(o.value for o in count.overrides if o.name == param)


SWEEP_COLUMNS = ("conversations", "change", "units", "amount", "change")
COLUMN_WIDTHS = (13, 8, 9, 13, 12)


def sweep_tables(sweep: Sweep) -> list[tuple[str, list[tuple[str, ...]]]]:
    """(title, rows) per swept rule set; rows are (value, *SWEEP_COLUMNS) as text."""
    return [(_title(sweep.param, swept), [_row(row, swept) for row in swept.rows])
            for swept in sweep.rulesets]


def _baseline(swept: SweptRuleSet) -> SweepRow:
    """The row the changes are measured from: the rule set's own value, else the first."""
    return next((r for r in swept.rows if r.value == swept.baseline), swept.rows[0])


def _title(param: str, swept: SweptRuleSet) -> str:
    base = _baseline(swept)
    values = [render_param(r.value) for r in swept.rows]
    against = ("" if base.value == swept.baseline
               else f"; changes against {render_param(base.value)}")
    return (f"{swept.id}: what if {param} were {', '.join(values[:-1])} or {values[-1]}? "
            f"(its own value: {render_param(swept.baseline)}{against})")


def _row(row: SweepRow, swept: SweptRuleSet) -> tuple[str, ...]:
    base = _baseline(swept)
    value = render_param(row.value) + (" (own)" if row.value == swept.baseline else "")
    if row is base:
        changes = ("-", "-")
    else:
        money = (_signed_usd(row.amount - base.amount)
                 if row.amount is not None and base.amount is not None else "-")
        changes = (f"{row.conversations - base.conversations:+,}", money)
    amount = usd(row.amount) if row.amount is not None else "no price"
    return (value, f"{row.conversations:,}", changes[0], f"{row.units:,}", amount, changes[1])


def _signed_usd(amount: Decimal) -> str:
    return ("+" if amount >= 0 else "") + usd(amount)


def sweep_markdown(sweep: Sweep) -> list[str]:
    """compare.md's section: one table per swept rule set."""
    lines = ["", f"## What if: {sweep.param}"]
    for title, rows in sweep_tables(sweep):
        lines += ["", title, "", f"| {sweep.param} | " + " | ".join(SWEEP_COLUMNS) + " |",
                  "|---|" + "---:|" * len(SWEEP_COLUMNS)]
        lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


def sweep_terminal(sweep: Sweep) -> list[str]:
    """The same tables for the terminal, columns aligned."""
    lines: list[str] = []
    width = max([len(sweep.param), *(len(r[0]) for _, rows in sweep_tables(sweep) for r in rows)])
    for title, rows in sweep_tables(sweep):
        lines += ["", title, "  " + f"{sweep.param:<{width}}" + "".join(
            f" {c:>{w}}" for c, w in zip(SWEEP_COLUMNS, COLUMN_WIDTHS, strict=True))]
        lines += ["  " + f"{row[0]:<{width}}" + "".join(
            f" {c:>{w}}" for c, w in zip(row[1:], COLUMN_WIDTHS, strict=True)) for row in rows]
    return lines
