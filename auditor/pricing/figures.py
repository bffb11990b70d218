"""A month modelled from figures alone, as buyers do in a spreadsheet, and that model next to
the month an export shows.

From figures: `conversations` x `deflection` = resolutions (half-up to a whole number). A
charge on a rule set's units bills one unit per resolution; a charge per conversation bills
every conversation (the AI is assumed to see them all); tokens cannot be modelled without an
export. The saving is --human-cost x the resolutions; the net leaves out baseline charges
(the team's seats, paid with or without the AI).
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from auditor.pricing.bands import band_cost, bands, cents, served_units
from auditor.pricing.costing import Usage, totals
from auditor.pricing.plan import Flat, PerToken, Plan
from auditor.pricing.report import ModelMonth, ModelPlan, PlanCost, RealityCheck


def modelled_resolutions(conversations: int, deflection: Decimal) -> int:
    return int((conversations * deflection).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def model_month(plans: list[tuple[Plan, list[str]]], conversations: int, deflection: Decimal,
                human_cost: Decimal | None, units: dict[str, str],
                reality: list[PlanCost] | None = None) -> ModelMonth:
    """Every plan priced on the modelled month; with `reality` (the same plans priced on an
    export), each one's model against the real bill."""
    resolutions = modelled_resolutions(conversations, deflection)
    modelled = [_model_plan(plan, notes, conversations, resolutions, human_cost, units[plan.id])
                for plan, notes in plans]
    checks = []
    if reality is not None:
        real = {p.id: p for p in reality}
        checks = [_reality(m, u, real[m.id]) for m, u in modelled
                  if m.id in real and m.cost is not None]
    return ModelMonth(conversations=conversations, deflection=float(deflection),
                      resolutions=resolutions,
                      human_cost=cents(human_cost) if human_cost is not None else None,
                      plans=[m for m, _ in modelled], reality=checks)


def _model_plan(plan: Plan, notes: list[str], conversations: int, resolutions: int,
                human_cost: Decimal | None, unit: str) -> tuple[ModelPlan, int]:
    charge = plan.metered_charge()
    notes = list(notes)
    counts_resolutions = charge is not None and getattr(charge, "ruleset", None) is not None
    units = resolutions if counts_resolutions else (conversations if charge is not None else 0)
    if isinstance(charge, PerToken):
        units = 0
    if counts_resolutions and unit != "resolution":
        notes.append(f"Modelled as one {unit} per resolution; the export shows the real count.")
    if getattr(charge, "filter", None) == "ai_involved":
        notes.append("Every conversation is assumed to reach the AI.")
    price_bands = bands(charge) if charge is not None else None
    exact = band_cost(price_bands, units) if price_bands else None
    if charge is None:
        exact = Decimal(0)
    served = resolutions
    if price_bands is not None and isinstance(charge, Flat):
        served = (served_units(price_bands, resolutions) if counts_resolutions else
                  modelled_resolutions(served_units(price_bands, conversations),
                                       Decimal(resolutions) / conversations
                                       if conversations else Decimal(0)))
    result = totals(plan, Usage(units, exact), unit)
    not_priced, lines = list(result.not_priced), result.lines
    if isinstance(charge, PerToken):
        not_priced = [f"{charge.name}: tokens cannot be modelled from figures; give an export"]
        lines = [line.model_copy(update={"what": "tokens: not modelled from figures",
                                         "units": None, "amount": None})
                 if line.kind == "per_token" else line for line in lines]
    saving = cents(human_cost * served) if human_cost is not None else None
    priced = not not_priced
    return ModelPlan(
        id=plan.id, title=plan.title, lines=lines,
        cost=result.cost if priced else None, ai_cost=result.ai_cost if priced else None,
        saving=saving,
        net=saving - result.ai_cost if priced and saving is not None and result.ai_cost is not None
        else None,
        not_priced=not_priced, left_out=result.left_out, notes=notes), units


def _reality(model: ModelPlan, modelled_units: int, real: PlanCost) -> RealityCheck:
    excess = (real.cost - model.cost if real.cost is not None and model.cost is not None
              else None)
    percent = (float((100 * excess / model.cost).quantize(Decimal("0.1"), ROUND_HALF_UP))
               if excess is not None and model.cost else None)
    return RealityCheck(id=model.id, modelled_units=modelled_units, modelled_cost=model.cost,
                        vendor_units=real.units if real.vendor_count is not None else None,
                        vendor_cost=real.cost, contract_resolutions=real.contract_resolutions,
                        contract_cost=real.cost_at_contract_count, excess=excess,
                        excess_percent=percent)
