"""price.md and the terminal's lines, rendered from a PriceReport or a modelled month."""

from __future__ import annotations

from decimal import Decimal

from auditor.pricing.report import ModelMonth, ModelPlan, PlanCost, PriceReport, RealityCheck
from auditor.report.model import usd

DASH = "-"


def money(amount: Decimal | None) -> str:
    return usd(amount) if amount is not None else DASH


def units_label(plan: PlanCost) -> str:
    return f"{plan.units:,} {plan.unit}s" + (" (estimated)" if plan.estimated else "")


def headline(report: PriceReport) -> list[str]:
    period = f" in {report.period}" if report.period else ""
    lines = [f"{report.conversations:,} conversations{period}, {report.ai_conversations:,} with "
             f"the AI; the `{report.contract}` contract definition says the AI resolved "
             f"{report.contract_resolutions:,}."]
    if report.not_judged:
        lines.append(f"{report.not_judged:,} conversations left out: the export cannot support "
                     "a verdict on them (incomplete export or quarantined records).")
    return lines


# --- terminal ----------------------------------------------------------------------------

def terminal_lines(report: PriceReport) -> list[str]:
    lines = [line.replace("`", "") for line in headline(report)]
    lines += ["", f"  {'plan':<30} {'units':>28} {'AI cost':>11} {'cost':>11} "
                  f"{'per AI resolution':>17} {'net':>12}"]
    for plan in report.plans:
        lines.append(f"  {plan.id:<30} {units_label(plan):>28} {money(plan.ai_cost):>11} "
                     f"{money(plan.cost):>11} {money(plan.cost_per_contract_resolution):>17} "
                     f"{money(plan.net):>12}")
    unpriced = [p for p in report.plans if p.not_priced]
    if unpriced:
        lines += ["", "Not priced (set the price to compare them):"]
        lines += [f"  {p.id}: {'; '.join(p.not_priced)}" for p in unpriced]
    left_out = [p for p in report.plans if p.left_out]
    if left_out:
        lines += ["", "Left out of the cost (paid with or without the AI):"]
        lines += [f"  {p.id}: {'; '.join(p.left_out)}" for p in left_out]
    lines += ["", "Cheapest AI cost first; per AI resolution = AI cost / resolutions the "
                  "contract confirms; net = saving - AI cost."]
    if any(p.kind == "per_token" for p in report.plans):
        lines.append(_short_token_sentence(report))
    lines += [f"Note: {note}" for note in report.notes]
    if report.model is not None:
        lines += ["", *model_lines(report.model)]
    return lines


def model_lines(model: ModelMonth) -> list[str]:
    """The modelled month, plan by plan; then the model against the export, if one was given."""
    lines = [f"Model from figures: {model.conversations:,} conversations a month, "
             f"{_percent(model.deflection)} resolved by the AI = "
             f"{model.resolutions:,} resolutions."]
    for plan in model.plans:
        lines += ["", f"{plan.id}  {plan.title}", *_model_plan_lines(plan, model)]
    if model.reality:
        lines += ["", "Model against your month:"]
        lines += [f"  {_reality_sentence(check)}" for check in model.reality]
    return lines


def _model_plan_lines(plan: ModelPlan, model: ModelMonth) -> list[str]:
    lines = [f"  {line.charge:<16} {line.what:<44} {money(line.amount):>12}"
             + ("  (paid with or without the AI)" if line.baseline else "")
             for line in plan.lines]
    lines.append(f"  {'total':<16} {'':<44} {money(plan.cost):>12}")
    if plan.not_priced:
        lines.append("  not priced: " + "; ".join(plan.not_priced))
    if plan.left_out:
        lines.append("  left out: " + "; ".join(plan.left_out))
    if plan.saving is not None and model.human_cost is not None:
        lines.append(f"  human handling avoided: {model.resolutions:,} x "
                     f"{money(model.human_cost)} = {money(plan.saving)} saving")
    if plan.net is not None:
        lines.append(f"  net of the AI's cost: {money(plan.saving)} - {money(plan.ai_cost)} = "
                     f"{money(plan.net)} net")
    lines += [f"  note: {note}" for note in plan.notes]
    return lines


def _reality_sentence(check: RealityCheck) -> str:
    vendor = (f"the vendor's definition counts {check.vendor_units:,} on your export"
              if check.vendor_units is not None else "on your export")
    text = (f"{check.id}: modelled {check.modelled_units:,} units, {money(check.modelled_cost)}; "
            f"{vendor}: {money(check.vendor_cost)}; your contract confirms "
            f"{check.contract_resolutions:,} resolutions")
    if check.contract_cost is not None:
        text += f" ({money(check.contract_cost)} if only those were billed)"
    if check.excess is not None:
        direction = "above" if check.excess >= 0 else "below"
        text += (f"; the real bill is {money(abs(check.excess))} ({abs(check.excess_percent or 0)}"
                 f"%) {direction} the model")
    return text + "."


def _percent(share: float) -> str:
    return f"{share * 100:g}%"


# --- price.md ----------------------------------------------------------------------------

def render_markdown(report: PriceReport) -> str:
    period = f" for {report.period}" if report.period else ""
    sections = [f"# What the month costs under each plan{period}", " ".join(headline(report)),
                _table(report), _vendor_vs_contract(report), _tokens(report),
                "\n".join(f"> Note: {n}" for n in report.notes)]
    sections += [_plan_section(plan) for plan in report.plans]
    if report.model is not None:
        sections.append("## Model from figures\n\n" + "\n".join(
            f"    {line}" if line else "" for line in model_lines(report.model)))
    sections.append(f"resolution-auditor {report.tool_version}; inputs: " + ", ".join(
        f"{i.path} (`{i.sha256[:16]}`)" for i in report.inputs) + ".")
    return "\n\n".join(s for s in sections if s) + "\n"


def _table(report: PriceReport) -> str:
    rows = ["| plan | kind | units | cost | AI cost | per conversation | per AI resolution | "
            "saving | net |", "|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    rows += [f"| `{p.id}` | {p.kind} | {units_label(p)} | {money(p.cost)} | {money(p.ai_cost)} | "
             f"{money(p.cost_per_conversation)} | {money(p.cost_per_contract_resolution)} | "
             f"{money(p.saving)} | {money(p.net)} |" for p in report.plans]
    return ("Cheapest AI cost first. *AI cost* leaves out charges paid with or without the AI "
            "(the team's seats); *per AI resolution* is the AI cost divided by the "
            f"conversations the `{report.contract}` contract says the AI resolved; *saving* is "
            "--human-cost for each of those; *net* is saving minus AI cost. Plans with a price "
            "not set show `-`.\n\n" + "\n".join(rows))


def _vendor_vs_contract(report: PriceReport) -> str:
    billed = [p for p in report.plans if p.vendor_count is not None]
    if not billed:
        return ""
    rows = ["| plan | the vendor's definition counts | bills | contract confirms | cost if "
            "only those were billed |", "|---|---:|---:|---:|---:|"]
    rows += [f"| `{p.id}` | {p.vendor_count:,} conversations, {p.units:,} {p.unit}s | "
             f"{money(p.cost)} | {p.contract_resolutions:,} | {money(p.cost_at_contract_count)} |"
             for p in billed]
    return ("## What we would pay, and what the AI earned\n\nFor plans that bill a vendor's "
            "unit: the vendor's own definition applied to your export, next to the "
            "conversations your contract definition says the AI resolved.\n\n" + "\n".join(rows))


def _short_token_sentence(report: PriceReport) -> str:
    t = report.tokens
    if not t.estimated:
        return f"Tokens: measured (token columns) in {t.measured:,} conversations."
    return (f"Tokens: estimated from the text in {t.estimated:,} conversations ({t.measured:,} "
            f"measured), about 4 characters a token, the history resent on every AI turn, no "
            f"instructions or articles unless --context-tokens: a floor (see price.md).")


def token_sentence(report: PriceReport) -> str:
    t = report.tokens
    if not t.estimated:
        return f"Tokens: measured (token columns) in {t.measured:,} conversations."
    return (f"Tokens: estimated in {t.estimated:,} conversations ({t.measured:,} measured); "
            f"{t.method}. Without --context-tokens the estimate is a floor.")


def _tokens(report: PriceReport) -> str:
    if not any(p.kind == "per_token" for p in report.plans):
        return ""
    return "## Tokens\n\n" + token_sentence(report).replace("estimated in", "**estimated** in", 1)


def _plan_section(plan: PlanCost) -> str:
    lines = [f"## `{plan.id}`: {plan.title}", ""]
    lines += [f"- {line.charge} ({line.kind}): {line.what}: {money(line.amount)}"
              + (" (paid with or without the AI)" if line.baseline else "")
              for line in plan.lines]
    lines += [f"- not priced: {item}" for item in plan.not_priced]
    lines += [f"- left out of the cost: {item}" for item in plan.left_out]
    lines += [f"- note: {note}" for note in plan.notes]
    if plan.sources:
        lines += ["", "Sources:"]
        lines += [f"- [{s.title}]({s.url}), read {s.read.isoformat()}"
                  + (" (third-party page)" if s.by == "third-party" else "")
                  + (f": {s.note}" if s.note else "") for s in plan.sources]
    else:
        lines += ["", "Sources: none given in the plan file."]
    return "\n".join(lines)
