"""The pricing-plan file format, as pydantic models: what a TOML plan file may contain.

A plan is what a vendor (or your contract) charges for a month: one or more `charges`, each of
one kind. Prices are exact decimals; a price the vendor does not publish is left out of the file
and set by the user (`--price`, `--seat-price`), never guessed. The loader
(`auditor.pricing.plans`) turns pydantic errors into `PlanError`s naming file and key, and
checks what spans keys (unique charge names, one metered charge, known rule sets).
docs/pricing-plans.md documents the same format for people.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, PrivateAttr, field_validator, model_validator

from auditor.rulesets.model import KEBAB_ID, SEMVER, SNAKE_NAME, SourceLink, Strict, one_line

MAX_PRICE = Decimal(1_000_000)
PRICE_DECIMALS = 6  # so a price per million tokens is exact per token in DECIMAL(38, 12)
CURRENCY = re.compile(r"^[A-Z]{3}$")
CONVERSATION_FILTERS = ("all", "ai_involved")


def price_value(value: Any) -> Decimal:
    """A price from TOML: a number or a string such as "0.99" (exact); 0 to 1,000,000."""
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        raise ValueError("expected a price such as 0.99")
    try:
        amount = Decimal(str(value).strip().lstrip("$"))
    except InvalidOperation:
        raise ValueError(f"expected a price such as 0.99, got '{value}'") from None
    if not amount.is_finite() or not 0 <= amount <= MAX_PRICE:
        raise ValueError("expected a price from 0 to 1,000,000")
    if -int(amount.as_tuple().exponent) > PRICE_DECIMALS:
        raise ValueError(f"expected at most {PRICE_DECIMALS} decimal places, got {value}")
    return amount


def read_date(value: Any) -> dt.date:
    """The day a price was read: a TOML date (2026-12-02) or the same as a string."""
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise ValueError("expected the date the price was read, such as 2026-12-02")


Price = Annotated[Decimal, BeforeValidator(price_value)]
ReadDate = Annotated[dt.date, BeforeValidator(read_date)]


class PriceSource(SourceLink):
    """Where a price comes from: the page, the day it was read, and who published it."""

    read: ReadDate
    by: Literal["vendor", "third-party"]
    note: str = ""


class Tier(Strict):
    """Units up to `up_to` (counted from the month's first unit) cost `price` each."""

    up_to: int | None = Field(default=None, ge=1)
    price: Price


class Charge(Strict):
    name: str
    note: str = ""

    @field_validator("name")
    @classmethod
    def check_name(cls, value: str) -> str:
        if not SNAKE_NAME.match(value):
            raise ValueError("expected a snake_case name such as 'resolutions'")
        return value

    @property
    def metered(self) -> bool:
        """Priced per conversation (price.csv), not as a monthly amount."""
        return False


class Metered(Charge):
    """A price per unit, graduated: the first `included` units are free, then each unit costs
    its tier's price (or `price`); `minimum_commitment` is the least the charge bills."""

    price: Price | None = None
    tiers: list[Tier] = Field(default_factory=list)
    included: int = Field(default=0, ge=0)
    minimum_commitment: Price | None = None

    @model_validator(mode="after")
    def check_tiers(self) -> Metered:
        if self.price is not None and self.tiers:
            raise ValueError("give either price or tiers, not both")
        bounds = [t.up_to for t in self.tiers]
        if bounds and bounds[-1] is not None:
            raise ValueError("the last tier has no up_to: it prices every unit above the "
                             "tier before it")
        rising = bounds[:-1]
        if any(b is None for b in rising):
            raise ValueError("only the last tier may leave out up_to")
        if any(b <= a for a, b in zip(rising, rising[1:], strict=False)):  # type: ignore[operator]
            raise ValueError("tiers' up_to must rise from one tier to the next")
        return self

    @property
    def metered(self) -> bool:
        return True


class PerUnit(Metered):
    kind: Literal["per_unit"]
    ruleset: str = Field(description="Rule set (id or .toml path) whose units are billed.")


class PerConversation(Metered):
    kind: Literal["per_conversation"]
    filter: Literal["all", "ai_involved"] = "ai_involved"


class PerSeat(Charge):
    kind: Literal["per_seat"]
    price: Price | None = None
    seats: int | None = Field(default=None, ge=0)
    # Seats for the human team are paid with or without the AI: part of the cost, not of the
    # AI's cost, so the net saving leaves them out.
    baseline: bool = False


class Flat(Charge):
    """A monthly fee; with a meter (a rule set's units or conversations), `included` units
    come with it, units above cost `overage_price`, and the AI stops answering at `cap`."""

    kind: Literal["flat"]
    fee: Price | None = None
    ruleset: str | None = None
    filter: Literal["all", "ai_involved"] | None = None
    included: int = Field(default=0, ge=0)
    overage_price: Price | None = None
    cap: int | None = Field(default=None, ge=0)
    baseline: bool = False

    @model_validator(mode="after")
    def check_meter(self) -> Flat:
        if self.ruleset is not None and self.filter is not None:
            raise ValueError("count either a rule set's units (ruleset) or conversations "
                             "(filter), not both")
        meterless = self.ruleset is None and self.filter is None
        if meterless and (self.included or self.overage_price is not None or self.cap is not None):
            raise ValueError("included, overage_price and cap need something to count: add "
                             "ruleset = \"...\" or filter = \"all\"")
        if self.cap is not None and self.cap < self.included:
            raise ValueError(f"cap {self.cap} is below included {self.included}")
        return self

    @property
    def metered(self) -> bool:
        return self.ruleset is not None or self.filter is not None


class PerToken(Charge):
    """Model API prices per million tokens; reasoning tokens cost the output price unless
    `reasoning_per_million` says otherwise."""

    kind: Literal["per_token"]
    model: str
    input_per_million: Price | None = None
    output_per_million: Price | None = None
    reasoning_per_million: Price | None = None
    # Estimation only: tokens of instructions and retrieved articles sent with every AI turn,
    # which the export cannot see.
    context_tokens_per_turn: int = Field(default=0, ge=0)

    @property
    def metered(self) -> bool:
        return True

    @property
    def reasoning_price(self) -> Decimal | None:
        return (self.reasoning_per_million if self.reasoning_per_million is not None
                else self.output_per_million)


AnyCharge = PerUnit | PerConversation | PerSeat | Flat | PerToken
CHARGE_KINDS: dict[str, type[Charge]] = {
    "per_unit": PerUnit, "per_conversation": PerConversation, "per_seat": PerSeat,
    "flat": Flat, "per_token": PerToken,
}


class Plan(Strict):
    id: str
    version: str
    title: str
    vendor: str
    currency: str = "USD"
    description: str
    sources: list[PriceSource] = Field(default_factory=list)
    # Checked one by one against CHARGE_KINDS by the loader, so errors name the charge's keys.
    charges: list[Any] = Field(min_length=1)

    _path: str = PrivateAttr(default="<memory>")
    _sha256: str = PrivateAttr(default="")

    @field_validator("id")
    @classmethod
    def check_id(cls, value: str) -> str:
        if not KEBAB_ID.match(value):
            raise ValueError("expected a kebab-case id such as 'intercom-fin'")
        return value

    @field_validator("version")
    @classmethod
    def check_version(cls, value: str) -> str:
        if not SEMVER.match(value):
            raise ValueError("expected a semantic version such as \"1.0.0\"")
        return value

    @field_validator("title")
    @classmethod
    def check_title(cls, value: str) -> str:
        return one_line(value)

    @field_validator("currency")
    @classmethod
    def check_currency(cls, value: str) -> str:
        if not CURRENCY.match(value):
            raise ValueError("expected a three-letter currency code such as \"USD\"")
        return value

    @property
    def path(self) -> str:
        return self._path

    @property
    def sha256(self) -> str:
        return self._sha256

    def with_provenance(self, path: str, sha256: str) -> Plan:
        copy = self.model_copy()
        copy._path, copy._sha256 = path, sha256
        return copy

    def typed_charges(self) -> list[AnyCharge]:
        return list(self.charges)

    def metered_charge(self) -> AnyCharge | None:
        """The one charge priced per conversation, if any (the loader allows at most one)."""
        return next((c for c in self.typed_charges() if c.metered), None)

    @property
    def kind(self) -> str:
        """The plan's kind: its metered charge's, else its first charge's."""
        return (self.metered_charge() or self.typed_charges()[0]).kind
