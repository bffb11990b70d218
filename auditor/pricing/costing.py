"""A plan's charges -> cost lines and totals: Python over plans and charges only.

The month's usage (units of the plan's usage charge and their exact cost) comes from SQL over
the export (auditor.pricing.sql) or from figures (auditor.pricing.figures); everything here is
the same for both.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import NamedTuple

from pydantic import BaseModel, Field

from auditor.errors import UsageError, did_you_mean
from auditor.pricing.bands import cents, unit_price_label
from auditor.pricing.plan import AnyCharge, Flat, Metered, PerSeat, PerToken, Plan
from auditor.pricing.report import CostLine


class PriceOptions(BaseModel):
    """What the user sets on the command line: counts and prices the plan files leave open."""

    seats: int | None = Field(default=None, ge=0)
    seat_price: Decimal | None = None  # for per_seat charges without a price of their own
    prices: dict[str, Decimal] = Field(default_factory=dict)  # "plan" or "plan.charge" -> price
    human_cost: Decimal | None = None
    # Estimation: instructions and articles sent with every AI turn, for every per-token plan.
    context_tokens: int | None = Field(default=None, ge=0)


class Usage(NamedTuple):
    units: int  # of the usage charge, in the month
    exact_cost: Decimal | None  # their cost before commitments, exact; None: no price set
    estimated: bool = False  # token counts estimated from text


class Totals(NamedTuple):
    lines: list[CostLine]
    not_priced: list[str]
    left_out: list[str]
    usage_cost: Decimal | None
    fixed_cost: Decimal | None
    cost: Decimal | None
    ai_cost: Decimal | None


def check_price_keys(plans: list[Plan], options: PriceOptions) -> None:
    """Every --price names a plan (and charge) being priced."""
    by_id = {p.id: p for p in plans}
    for key in options.prices:
        plan_id, _, charge = key.partition(".")
        if plan_id not in by_id:
            raise UsageError(f"--price {key}: no plan '{plan_id}' is being priced",
                             did_you_mean(plan_id, by_id) or "plans: " + ", ".join(by_id))
        names = [c.name for c in by_id[plan_id].typed_charges()]
        if charge and charge not in names:
            raise UsageError(f"--price {key}: plan '{plan_id}' has no charge '{charge}'",
                             did_you_mean(charge, names) or "charges: " + ", ".join(names))
        if not charge and by_id[plan_id].metered_charge() is None:
            raise UsageError(f"--price {key}: plan '{plan_id}' has no usage charge; name the "
                             f"charge: --price {plan_id}.CHARGE=X", "charges: " + ", ".join(names))


def apply_options(plan: Plan, options: PriceOptions) -> tuple[Plan, list[str]]:
    """The plan with the user's prices and seat count in place, and notes saying which."""
    notes: list[str] = []
    charges = [_with_options(plan, c, options, notes) for c in plan.typed_charges()]
    return plan.model_copy(update={"charges": charges}), notes


def _with_options(plan: Plan, charge: AnyCharge, options: PriceOptions,
                  notes: list[str]) -> AnyCharge:
    key = f"{plan.id}.{charge.name}"
    price = options.prices.get(key)
    if price is None and charge is plan.metered_charge():
        price = options.prices.get(plan.id)
    if price is not None:
        if isinstance(charge, PerToken):
            raise UsageError(f"--price {key}: per-token prices are set in the plan file "
                             "(input_per_million, output_per_million)")
        field = "fee" if isinstance(charge, Flat) else "price"
        notes.append(f"{charge.name}: price {_money(price)} set with --price.")
        charge = charge.model_copy(update={field: price, "tiers": []} if field == "price"
                                   and isinstance(charge, Metered) else {field: price})
    if isinstance(charge, PerToken) and options.context_tokens is not None:
        notes.append(f"{charge.name}: {options.context_tokens:,} context tokens per AI turn, "
                     "from --context-tokens.")
        charge = charge.model_copy(update={"context_tokens_per_turn": options.context_tokens})
    if isinstance(charge, PerSeat):
        if charge.price is None and options.seat_price is not None:
            notes.append(f"{charge.name}: {_money(options.seat_price)} a seat, from --seat-price.")
            charge = charge.model_copy(update={"price": options.seat_price})
        if options.seats is not None:
            charge = charge.model_copy(update={"seats": options.seats})
    return charge


def unit_name(charge: AnyCharge | None, billing_unit: str | None) -> str:
    """What the plan's usage charge counts."""
    if isinstance(charge, PerToken):
        return "token"
    if billing_unit is not None:
        return billing_unit
    return "conversation" if charge is not None else "month"


def totals(plan: Plan, usage: Usage, unit: str) -> Totals:
    """Cost lines for every charge, and the plan's totals (None while a price is missing)."""
    lines: list[CostLine] = []
    not_priced: list[str] = []
    left_out: list[str] = []
    for charge in plan.typed_charges():
        lines += _charge_lines(plan.id, charge, usage, unit, not_priced, left_out)
    priced = not not_priced
    usage_cost = _sum(line for line in lines if line.per_conversation)
    fixed_cost = _sum(line for line in lines if not line.per_conversation)
    ai_cost = _sum(line for line in lines if not line.baseline)
    return Totals(lines, not_priced, left_out,
                  usage_cost if priced else None, fixed_cost if priced else None,
                  usage_cost + fixed_cost if priced else None, ai_cost if priced else None)


def _sum(lines: Iterable[CostLine]) -> Decimal:
    return sum((line.amount for line in lines if line.amount is not None), Decimal(0))


def _charge_lines(plan_id: str, charge: AnyCharge, usage: Usage, unit: str,
                  not_priced: list[str], left_out: list[str]) -> list[CostLine]:
    if isinstance(charge, PerSeat):
        return [_seat_line(charge, not_priced, left_out)]
    lines = []
    if isinstance(charge, Flat):
        lines.append(_fixed(charge, "monthly fee", None, charge.fee, charge.baseline))
        if charge.fee is None:
            _missing(charge, f"no monthly fee set (--price {plan_id}.{charge.name}=X)",
                     not_priced, left_out)
    if charge.metered:
        amount = cents(usage.exact_cost) if usage.exact_cost is not None else None
        if amount is None:
            not_priced.append(f"{charge.name}: no price set (--price {plan_id}.{charge.name}=X)")
        lines.append(CostLine(charge=charge.name, kind=charge.kind,
                              what=_usage_what(charge, usage, unit), units=usage.units,
                              amount=amount, per_conversation=True, baseline=False))
    if isinstance(charge, Metered) and charge.minimum_commitment is not None \
            and usage.exact_cost is not None and usage.exact_cost < charge.minimum_commitment:
        lines.append(_fixed(charge, "minimum commitment shortfall", None,
                            charge.minimum_commitment - usage.exact_cost, False))
    return lines


def _usage_what(charge: AnyCharge, usage: Usage, unit: str) -> str:
    if isinstance(charge, PerToken):
        estimated = " (estimated)" if usage.estimated else ""
        return f"{usage.units:,} tokens{estimated} of {charge.model}"
    label = unit_price_label(charge)
    included = getattr(charge, "included", 0)
    free = f", the first {included:,} included" if included else ""
    return f"{usage.units:,} {plural(unit, usage.units)} x {label or 'price not set'}{free}"


def plural(unit: str, count: int) -> str:
    return unit if count == 1 else f"{unit}s"


def _seat_line(charge: PerSeat, not_priced: list[str], left_out: list[str]) -> CostLine:
    amount = None
    if charge.seats is None:
        _missing(charge, "no seat count (--seats N)", not_priced, left_out)
    elif charge.price is None:
        _missing(charge, "no seat price (--seat-price X)", not_priced, left_out)
    else:
        amount = charge.price * charge.seats
    what = (f"{charge.seats:,} seats x {_money(charge.price)}"
            if charge.seats is not None and charge.price is not None else "seats")
    return _fixed(charge, what, charge.seats, amount, charge.baseline)


def _missing(charge: AnyCharge, what: str, not_priced: list[str], left_out: list[str]) -> None:
    """A baseline charge without a price is left out of the cost; any other leaves the plan
    without a cost."""
    (left_out if getattr(charge, "baseline", False) else not_priced).append(
        f"{charge.name}: {what}")


def _fixed(charge: AnyCharge, what: str, units: int | None, amount: Decimal | None,
           baseline: bool) -> CostLine:
    return CostLine(charge=charge.name, kind=charge.kind, what=what, units=units,
                    amount=cents(amount) if amount is not None else None,
                    per_conversation=False, baseline=baseline)


def _money(amount: Decimal | None) -> str:
    return "price not set" if amount is None else f"${amount:,.2f}"
