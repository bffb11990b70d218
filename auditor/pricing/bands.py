"""Money rules shared by every way a month is priced: exact decimals, price bands, rounding.

A metered charge's price is a list of bands over the month's units, counted from the first:
units 1..included are free, then each unit costs its tier's price (graduated tiers). A flat
charge's units above `cap` are not served: the AI stops answering. The same bands price a
month from figures (`band_cost`) and each conversation in SQL (auditor.pricing.sql), so the two
always agree.

Rounding: amounts stay exact until a total is shown; totals are rounded half-up to the cent.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import NamedTuple

from auditor.pricing.plan import AnyCharge, Flat, Metered, PerToken

CENT = Decimal("0.01")
MILLION = Decimal(1_000_000)


class Band(NamedTuple):
    lo: int  # units after this many ...
    hi: int | None  # ... up to this many (None: no end)
    price: Decimal
    served: bool = True  # False: the AI stops answering here (a flat plan's cap)


def cents(amount: Decimal) -> Decimal:
    """Half-up to the cent: $0.005 is $0.01."""
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def bands(charge: AnyCharge) -> list[Band] | None:
    """The price bands of a metered charge; None when a price is not set."""
    if isinstance(charge, Flat):
        return _flat_bands(charge)
    if not isinstance(charge, Metered):
        return None
    if charge.price is None and not charge.tiers:
        return None
    tiers = [(t.up_to, t.price) for t in charge.tiers] or [(None, charge.price)]
    edges = sorted({0, charge.included, *(up for up, _ in tiers if up is not None)})
    result = [Band(lo, hi, Decimal(0) if hi <= charge.included else _tier_price(tiers, hi))
              for lo, hi in zip(edges, edges[1:], strict=False)]
    result.append(Band(edges[-1], None, tiers[-1][1]))  # type: ignore[arg-type]
    return [b for b in result if b.hi is None or b.hi > b.lo]


def _tier_price(tiers: list[tuple[int | None, Decimal | None]], unit: int) -> Decimal:
    """The price of unit number `unit`: the first tier that reaches it."""
    return next(p for up, p in tiers if up is None or up >= unit)  # type: ignore[return-value]


def _flat_bands(charge: Flat) -> list[Band] | None:
    free = Band(0, charge.included, Decimal(0))
    if charge.overage_price is None:  # nothing to pay above included: the AI stops there
        return [free, Band(charge.included, None, Decimal(0), served=False)]
    if charge.cap is None:
        return [free, Band(charge.included, None, charge.overage_price)]
    return [free, Band(charge.included, charge.cap, charge.overage_price),
            Band(charge.cap, None, Decimal(0), served=False)]


def band_cost(price_bands: list[Band], units: int) -> Decimal:
    """What `units` units in a month cost, exactly."""
    return sum((max(0, min(units, b.hi if b.hi is not None else units) - b.lo) * b.price
                for b in price_bands), Decimal(0))


def served_units(price_bands: list[Band], units: int) -> int:
    """How many of `units` the AI answers before a cap stops it."""
    cap = served_cap(price_bands)
    return units if cap is None else min(units, cap)


def served_cap(price_bands: list[Band] | None) -> int | None:
    return next((b.lo for b in price_bands or [] if not b.served), None)


def per_token_prices(charge: PerToken) -> tuple[Decimal, Decimal, Decimal] | None:
    """Prices per single token (input, output, reasoning), exact; None when one is not set."""
    prices = (charge.input_per_million, charge.output_per_million, charge.reasoning_price)
    if any(p is None for p in prices):
        return None
    return tuple(p / MILLION for p in prices)  # type: ignore[return-value, operator]


def unit_price_label(charge: AnyCharge) -> str | None:
    """'$0.99' or 'tiered from $2.00' for a metered charge's list price; None without one."""
    price_bands = bands(charge)
    if not price_bands:
        return None
    paid = [b.price for b in price_bands if b.price > 0]
    if not paid:
        return "$0.00"
    if len(set(paid)) == 1:
        return f"${paid[0]:,.2f}" if paid[0] >= CENT else f"${paid[0]}"
    return f"tiered from ${paid[0]:,.2f}"
