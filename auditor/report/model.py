"""The reconciliation report as a pydantic model: what report.json holds, key for key.

Identities that always hold: confirmed + disputed + unverifiable = billed, for items and for
amounts. Money is rounded to cents only when rendered.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, Field, PlainSerializer

from auditor.sources import AiAgentIdentity, InputProvenance

# Exact decimals inside; dollars and cents in report.json.
Cents = Annotated[Decimal, PlainSerializer(lambda amount: float(round(amount, 2)),
                                           return_type=float)]


def usd(amount: float | Decimal) -> str:
    return f"${float(amount):,.2f}"


def share(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f}%" if whole else "0.0%"


class Money(BaseModel):
    items: int
    amount: Cents


class ReasonLine(BaseModel):
    code: str
    summary: str
    items: int
    amount: Cents


class Disputed(Money):
    by_reason: dict[str, int] = Field(
        description="Reason code -> number of disputed lines carrying it (a line may carry several).")
    amount_by_reason: dict[str, float]
    by_primary_reason: dict[str, int] = Field(
        description="Disputed lines by their first reason; adds up to disputed.items.")
    reasons: list[ReasonLine]


class Unverifiable(Money):
    by_reason: dict[str, int]


class Billed(Money):
    source: str = Field(description="list (a billed CSV), labels (vendor labels) or count.")
    unit_price: float | None


class Reproduction(BaseModel):
    """The vendor rule set's own count on the export against the bill, in billing units."""

    ruleset: str
    unit: str = Field(description="The vendor rule set's billing unit, e.g. resolution.")
    count: int = Field(description="Units the vendor's definition counts in the period, over the "
                                   "conversations that can be judged.")
    matched: int = Field(description="Billed units it reproduces (findings: reproduced = true).")
    billed_not_reproduced: int = Field(description="Billed units it does not (reproduced = false).")
    billed_undetermined: int = Field(
        description="Billed units it cannot tell (reproduced empty): the conversation is not in "
                    "the export or cannot be judged, or the vendor's verdict is undecided.")
    reproduced_not_billed: int


class CountOnly(BaseModel):
    billed_count: int
    vendor_count: int
    contract_count: int
    overbilled_items: int
    overbilled_amount: float
    unexplained_items: int = Field(description="Billed beyond what the vendor's own definition counts.")
    by_reason: dict[str, int] = Field(description="Vendor-counted conversations the contract rejects, by first reason.")


class Ingest(BaseModel):
    records_read: int
    events: int
    conversations: int
    quarantined: int
    ai_agents: list[AiAgentIdentity] = Field(
        default_factory=list,
        description="Helpdesk users taken as the AI agent and how (Zendesk); empty for exports "
                    "that mark the AI's messages themselves (Intercom, canonical).")


class RuleSetProvenance(BaseModel):
    id: str
    version: str
    sha256: str
    role: str


class Provenance(BaseModel):
    tool: str = "resolution-auditor"
    tool_version: str
    inputs: list[InputProvenance]
    billed: InputProvenance | None
    rulesets: list[RuleSetProvenance]


class Report(BaseModel):
    period: str | None
    contract: str
    vendor: str
    billed: Billed
    confirmed: Money
    disputed: Disputed
    unverifiable: Unverifiable
    reproduction: Reproduction
    count_only: CountOnly | None
    ingest: Ingest
    reasons: dict[str, str] = Field(description="Every reason code that can appear, with its summary.")
    notes: list[str] = Field(description="Things the reader should know about how figures were made.")
    provenance: Provenance

    @property
    def has_disputes(self) -> bool:
        return self.disputed.items > 0
