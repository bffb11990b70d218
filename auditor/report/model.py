"""The reconciliation report as a pydantic model: what report.json holds, key for key.

Identities that always hold: confirmed + disputed + unverifiable = billed, for items and for
amounts (credits, the bill's negative lines, are apart). Money is rounded to cents only when
rendered.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, Field, PlainSerializer

from auditor.rulesets.overrides import ParamOverride, describe_overrides
from auditor.sources import AiAgentIdentity, InputProvenance, SkippedFile

# Exact decimals inside; dollars and cents in report.json.
Cents = Annotated[Decimal, PlainSerializer(lambda amount: float(round(amount, 2)),
                                           return_type=float)]


def usd(amount: float | Decimal) -> str:
    """$1,234.50; a credit is -$0.99."""
    return ("-" if amount < 0 else "") + f"${abs(float(amount)):,.2f}"


def share(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f}%" if whole else "0.0%"


def observed_until(end: ObservationEnd) -> str:
    """'observed until 2026-10-31T22:36:21Z (the export's last event)'"""
    source = "--as-of" if end.source == "as_of" else "the export's last event"
    return f"observed until {end.ends_at or 'unknown'} ({source})"


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
    columns: dict[str, str] = Field(
        default_factory=dict,
        description="Billed list: the header read as conversation_id, billed_at, amount, units.")
    date_format: str | None = Field(
        default=None, description="Billed list: the date format read besides ISO 8601.")


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
    unverifiable_items: int = Field(
        default=0, description="Billed items that could be conversations the export cannot "
                               "judge (incomplete export, quarantined records): left out of "
                               "the estimate, never counted as over-billing.")
    by_reason: dict[str, int] = Field(description="Vendor-counted conversations the contract rejects, by first reason.")


class ObservationEnd(BaseModel):
    """Until when the data shows what happened: what the hours_observed_* facts measure to."""

    ends_at: str | None = Field(description="UTC, ISO 8601; null for an export without events.")
    source: Literal["export", "as_of"] = Field(
        description="export: the export's last event; as_of: given with --as-of.")

    @classmethod
    def of(cls, ends_at: datetime | None, as_of: bool) -> ObservationEnd:
        return cls(ends_at=ends_at.isoformat() + "Z" if ends_at else None,
                   source="as_of" if as_of else "export")


class Observation(ObservationEnd):
    window_hours: float | None = Field(
        description="The contract's observation window (its [observation]); null without one.")
    confirmed_short_observed: Money = Field(
        description="Confirmed lines observed for less than window_hours: the export ends "
                    "sooner, so they are confirmed on what it shows, and their evidence says so.")


class Ingest(BaseModel):
    records_read: int
    events: int
    conversations: int
    quarantined: int
    not_judged: dict[str, int] = Field(
        default_factory=dict,
        description="Conversations the data cannot support a verdict on, by reason "
                    "(incomplete_export, quarantined_records); one may carry both.")
    skipped_files: list[SkippedFile] = Field(
        default_factory=list, description="Files in input folders that were not read, and why.")
    ai_agents: list[AiAgentIdentity] = Field(
        default_factory=list,
        description="Helpdesk users taken as the AI agent and how (Zendesk); empty for exports "
                    "that mark the AI's messages themselves (Intercom, canonical).")


class RuleSetProvenance(BaseModel):
    id: str
    version: str
    sha256: str = Field(description="Of the rule-set file as read; overrides do not change it.")
    role: str
    overrides: list[ParamOverride] = Field(
        default_factory=list,
        description="Params set on the command line for this run (--param, --vendor-param): "
                    "name, value, and the file's default; a rerun with them gives the same "
                    "figures.")


class PullProvenance(BaseModel):
    """An input folder written by `auditor pull`: its manifest.json, summarised."""

    path: str
    sha256: str = Field(description="Of manifest.json, which lists each data file's sha256.")
    vendor: str
    api_version: str
    window_from: str
    window_to: str
    window_field: str
    counts: dict[str, int]
    started_at: str
    finished_at: str
    tool_version: str
    files: int


class Provenance(BaseModel):
    tool: str = "resolution-auditor"
    tool_version: str
    inputs: list[InputProvenance]
    billed: InputProvenance | None
    rulesets: list[RuleSetProvenance]
    pulls: list[PullProvenance] = Field(
        default_factory=list, description="manifest.json of input folders `auditor pull` wrote "
                                          "(left out of report.json when there is none).")


class MonthCost(BaseModel):
    """`audit --plan`: the invoice's effective price per contract-confirmed item."""

    plan: str
    title: str
    billed_amount: Cents
    confirmed_items: int
    effective_price: Cents | None = Field(
        description="billed_amount / confirmed_items, half-up to the cent; null if none.")
    list_price: Cents | None = Field(description="The plan's price per unit (null if tiered "
                                                 "or not set).")
    list_price_label: str
    above_list_percent: float | None


class Report(BaseModel):
    period: str | None
    contract: str
    vendor: str
    warnings: list[str] = Field(
        default_factory=list,
        description="Problems that may make the figures wrong (e.g. most billed ids are not in "
                    "the export); each a sentence naming the likely cause.")
    billed: Billed
    confirmed: Money
    disputed: Disputed
    unverifiable: Unverifiable
    credits: Money = Field(
        default_factory=lambda: Money(items=0, amount=Decimal(0)),
        description="Negative lines of the billed list (the vendor's credits): not billed "
                    "units, never disputed; amount is negative.")
    reproduction: Reproduction
    count_only: CountOnly | None
    observation: Observation
    ingest: Ingest
    reasons: dict[str, str] = Field(description="Every reason code that can appear, with its summary.")
    notes: list[str] = Field(description="Things the reader should know about how figures were made.")
    provenance: Provenance
    month_cost: MonthCost | None = Field(
        default=None, description="With --plan: what this month cost per contract-confirmed "
                                  "item (only in report.json when --plan is given).")

    @property
    def has_disputes(self) -> bool:
        return self.disputed.items > 0

    def what_if(self, role: str) -> str:
        """' (what-if: repeat_contact_hours = 168 instead of 72)' for the rule set in `role`
        (vendor or contract) when it ran with --param overrides, else ''."""
        overrides = next((r.overrides for r in self.provenance.rulesets if r.role == role), [])
        return f" (what-if: {describe_overrides(overrides)})" if overrides else ""
