"""What `auditor price` reports, as pydantic models: price.json holds these, key for key.

Money is exact inside and rounded half-up to the cent where it is shown (bands.cents); a
plan's `cost` is `usage_cost` (the sum of its price.csv column, rounded) plus `fixed_cost`
(seats, monthly fees, a commitment's shortfall).
"""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, Field

from auditor.report.model import Cents, Ingest, RuleSetProvenance
from auditor.sources import InputProvenance


class CostLine(BaseModel):
    charge: str = Field(description="The charge's name in the plan file.")
    kind: str
    what: str = Field(description="How the amount is made, e.g. '1,663 resolution x $0.99'.")
    units: int | None
    amount: Cents | None = Field(description="null: a price or a count is not set.")
    per_conversation: bool = Field(description="Spread over conversations in price.csv.")
    baseline: bool = Field(description="Paid with or without the AI (the team's seats): not "
                                       "part of ai_cost or of the net saving.")


class SourceRef(BaseModel):
    title: str
    url: str
    read: dt.date
    by: str = Field(description="vendor (the vendor's own page) or third-party.")
    note: str = ""


class PlanCost(BaseModel):
    id: str
    version: str
    sha256: str
    title: str
    vendor: str
    kind: str = Field(description="The kind of the plan's usage charge (else its first charge).")
    unit: str = Field(description="What `units` counts: resolution, conversation, token, ...")
    currency: str
    units: int = Field(description="Billable units of the usage charge in the month.")
    estimated: bool = Field(description="Token counts were estimated from message text.")
    vendor_count: int | None = Field(
        description="Conversations the plan's rule set counts (the vendor's definition); null "
                    "when the plan bills no rule set's units.")
    contract_resolutions: int = Field(
        description="Conversations the contract definition says the AI resolved, and that the "
                    "plan lets the AI answer (a flat plan's cap can stop it).")
    lines: list[CostLine]
    usage_cost: Cents | None = Field(description="The sum of price.csv's cost column, rounded.")
    fixed_cost: Cents | None
    cost: Cents | None = Field(description="What the month costs; null when a price is not set.")
    ai_cost: Cents | None = Field(description="cost without baseline charges (seats).")
    cost_per_conversation: Cents | None
    cost_per_contract_resolution: Cents | None
    cost_at_contract_count: Cents | None = Field(
        description="The same plan if only the contract's resolutions were billed (plans that "
                    "bill a rule set's units): what the AI earned.")
    saving: Cents | None = Field(description="--human-cost x contract_resolutions.")
    net: Cents | None = Field(description="saving - ai_cost.")
    not_priced: list[str] = Field(description="Prices or counts to set before the plan has a "
                                              "cost; empty when priced.")
    left_out: list[str] = Field(description="Baseline charges left out of cost, and why.")
    notes: list[str]
    sources: list[SourceRef]


class TokenSummary(BaseModel):
    measured: int = Field(description="Conversations with token columns in the export.")
    estimated: int = Field(description="Conversations with AI messages whose tokens were "
                                       "estimated from the text.")
    method: str


class ModelPlan(BaseModel):
    """A plan priced from figures alone (--conversations, --deflection)."""

    id: str
    title: str
    lines: list[CostLine]
    cost: Cents | None
    ai_cost: Cents | None
    saving: Cents | None
    net: Cents | None
    not_priced: list[str]
    left_out: list[str]
    notes: list[str]


class RealityCheck(BaseModel):
    """The model next to the month the export shows, for one plan."""

    id: str
    modelled_units: int
    modelled_cost: Cents | None
    vendor_units: int | None = Field(description="What the vendor's definition bills.")
    vendor_cost: Cents | None = Field(description="The plan's cost on the export: the real bill.")
    contract_resolutions: int
    contract_cost: Cents | None = Field(description="The plan billed on the contract's count.")
    excess: Cents | None = Field(description="vendor_cost - modelled_cost.")
    excess_percent: float | None = Field(description="excess / modelled_cost x 100, one decimal.")


class ModelMonth(BaseModel):
    conversations: int
    deflection: float
    resolutions: int = Field(description="conversations x deflection, rounded half-up.")
    human_cost: Cents | None
    plans: list[ModelPlan]
    reality: list[RealityCheck] = Field(default_factory=list)


class PriceReport(BaseModel):
    period: str | None
    contract: str
    conversations: int = Field(description="Conversations priced (in the period, if given).")
    ai_conversations: int = Field(description="Of those, conversations the AI took part in.")
    contract_resolutions: int
    not_judged: int = Field(description="Conversations left out because the data cannot "
                                        "support a verdict (incomplete export, quarantined "
                                        "records): no plan counts them.")
    human_cost: Cents | None
    tokens: TokenSummary
    plans: list[PlanCost] = Field(description="Cheapest AI cost first; plans without a price "
                                              "last.")
    model: ModelMonth | None = None
    notes: list[str]
    ingest: Ingest
    tool_version: str
    inputs: list[InputProvenance]
    rulesets: list[RuleSetProvenance] = Field(
        default_factory=list, description="The contract and the rule sets plans count by: "
                                          "versions, sha256 and command-line overrides.")
