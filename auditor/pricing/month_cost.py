"""`auditor audit --plan ID`: what the invoice cost per resolution the contract confirms.

The effective price is the billed amount divided by the billed items the contract definition
confirms, rounded half-up to the cent, next to the plan's list price per unit.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from auditor.pricing.bands import bands, cents, unit_price_label
from auditor.pricing.plan import Plan
from auditor.report.model import MonthCost, Report


def list_price(plan: Plan) -> Decimal | None:
    """The plan's one price per unit, when it has exactly one (no tiers)."""
    charge = plan.metered_charge()
    paid = {b.price for b in (bands(charge) or []) if b.price > 0} if charge else set()
    return paid.pop() if len(paid) == 1 else None


def month_cost(report: Report, plan: Plan) -> MonthCost:
    confirmed, billed = report.confirmed.items, report.billed.amount
    exact = billed / confirmed if confirmed else None
    price = list_price(plan)
    above = (float((100 * (exact - price) / price).quantize(Decimal("0.1"), ROUND_HALF_UP))
             if exact is not None and price else None)
    effective = cents(exact) if exact is not None else None
    charge = plan.metered_charge()
    return MonthCost(plan=plan.id, title=plan.title, billed_amount=billed,
                     confirmed_items=confirmed, effective_price=effective,
                     list_price=cents(price) if price is not None else None,
                     list_price_label=(unit_price_label(charge) if charge else None)
                     or "not set", above_list_percent=above)
