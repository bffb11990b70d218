"""Assemble the `Report` from the reconciled tables: aggregates only, all in SQL."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

import duckdb

from auditor import __version__
from auditor.reconcile import (
    BILLING_REASONS, build_reproduction, count_only_breakdown, excess_reason,
    primary_reason_totals, reason_totals, status_totals,
)
from auditor.report.model import (
    Billed, CountOnly, Disputed, Ingest, Money, Provenance, Report, ReasonLine, Reproduction,
    RuleSetProvenance, Unverifiable,
)
from auditor.rulesets import RuleSet
from auditor.sources import IngestSummary, InputProvenance

if TYPE_CHECKING:
    from auditor.pipeline import AuditRequest


def build_report(con: duckdb.DuckDBPyConnection, request: AuditRequest, vendor: RuleSet,
                 contract: RuleSet, ingest: IngestSummary, billed_input: InputProvenance | None,
                 price: Decimal | None) -> Report:
    glossary = reason_glossary(contract)
    totals = status_totals(con)
    count_only = (_count_only(con, request, price, contract)
                  if request.billed_count is not None else None)
    billed_items = sum(n for n, _ in totals.values())
    billed_amount = sum((a for _, a in totals.values()), Decimal(0))
    confirmed, disputed, unverifiable = totals["confirmed"], totals["disputed"], totals["unverifiable"]
    if count_only is not None:  # a count-only invoice: the estimate stands in for line statuses
        billed_items, billed_amount = count_only.billed_count, _amount(count_only.billed_count, price)
        disputed = (count_only.overbilled_items, _amount(count_only.overbilled_items, price))
        confirmed = (billed_items - disputed[0], billed_amount - disputed[1])
    return Report(
        period=str(request.period) if request.period else None,
        contract=contract.id, vendor=vendor.id,
        billed=Billed(items=billed_items, amount=billed_amount, source=_bill_source(request),
                      unit_price=float(price) if price is not None else None),
        confirmed=Money(items=confirmed[0], amount=confirmed[1]),
        disputed=_disputed(con, disputed, glossary, count_only, price),
        unverifiable=Unverifiable(items=unverifiable[0], amount=unverifiable[1],
                                  by_reason={c: n for c, n, _ in reason_totals(con, "unverifiable")}),
        reproduction=Reproduction(ruleset=vendor.id, unit=vendor.billing_unit,
                                  **build_reproduction(con, request.period)),
        count_only=count_only,
        ingest=Ingest(records_read=ingest.records_read, events=ingest.events,
                      conversations=ingest.conversations, quarantined=ingest.quarantined,
                      ai_agents=ingest.ai_agents),
        reasons=glossary,
        notes=_notes(request, vendor, price) + _ingest_notes(request, vendor, ingest),
        provenance=Provenance(tool_version=__version__, inputs=ingest.inputs, billed=billed_input,
                              rulesets=[_ruleset_provenance(vendor, "vendor"),
                                        _ruleset_provenance(contract, "contract")]),
    )


def reason_glossary(contract: RuleSet) -> dict[str, str]:
    """Billing-level reasons first, then the contract's criteria in rule order."""
    glossary = {code: BILLING_REASONS[code]
                for code in (excess_reason(contract), "outside_period", "not_vendor_resolution")}
    glossary.update({c.code: c.summary for c in contract.criteria})
    glossary.update({c: BILLING_REASONS[c] for c in (
        "not_in_export", "incomplete_export", "quarantined_records", "not_reproduced")})
    return glossary


def _disputed(con: duckdb.DuckDBPyConnection, totals: tuple[int, Decimal],
              glossary: dict[str, str], count_only: CountOnly | None,
              price: Decimal | None) -> Disputed:
    if count_only is not None:
        lines = [(c, n, _amount(n, price)) for c, n in count_only.by_reason.items()]
        primary = dict(count_only.by_reason)
    else:
        lines = reason_totals(con, "disputed")
        primary = {c: n for c, n, _ in primary_reason_totals(con)}
    order = list(glossary)
    lines.sort(key=lambda r: (order.index(r[0]) if r[0] in order else len(order), r[0]))
    return Disputed(
        items=totals[0], amount=totals[1],
        by_reason={c: n for c, n, _ in lines},
        amount_by_reason={c: float(round(a, 2)) for c, _, a in lines},
        by_primary_reason=primary,
        reasons=[ReasonLine(code=c, summary=glossary.get(c, ""), items=n, amount=a)
                 for c, n, a in lines],
    )


def _count_only(con: duckdb.DuckDBPyConnection, request: AuditRequest,
                price: Decimal | None, contract: RuleSet) -> CountOnly:
    billed = int(request.billed_count or 0)
    vendor_count, contract_count, breakdown = count_only_breakdown(con, request.period, contract)
    unexplained = max(billed - vendor_count, 0)
    by_reason = dict(breakdown)
    if unexplained:
        by_reason["not_reproduced"] = unexplained
    over = max(billed - contract_count, 0)
    return CountOnly(billed_count=billed, vendor_count=vendor_count, contract_count=contract_count,
                     overbilled_items=over, overbilled_amount=float(round(_amount(over, price), 2)),
                     unexplained_items=unexplained, by_reason=by_reason)


def _notes(request: AuditRequest, vendor: RuleSet, price: Decimal | None) -> list[str]:
    notes = []
    if request.unit_price is not None and price != request.unit_price:
        notes.append(f"--unit-price {request.unit_price} was not used: rule set '{vendor.id}' sets "
                     f"the unit price {price}; put an amount column in the billed list to price "
                     "lines differently.")
    if price is None:
        notes.append("No unit price: lines without an amount count as $0. Pass --unit-price.")
    if request.period is None:
        notes.append("No --period given: billed_at was not checked and reproduction covers the "
                     "whole export.")
    return notes


def _ingest_notes(request: AuditRequest, vendor: RuleSet, ingest: IngestSummary) -> list[str]:
    """What the reader should know about how the export was read, and the vendor rule set
    taken by default."""
    notes = list(ingest.notes)
    if request.vendor is None:
        notes.append(f"No --vendor given: the export is {' and '.join(ingest.formats)}, so it is "
                     f"checked against {vendor.id}, the default for that format; pass --vendor "
                     "to check it against another vendor's definition.")
    return notes


def _amount(items: int, price: Decimal | None) -> Decimal:
    return Decimal(items) * (price if price is not None else Decimal(0))


def _bill_source(request: AuditRequest) -> str:
    if request.billed_csv is not None:
        return "list"
    return "labels" if request.billed_from_labels else "count"


def _ruleset_provenance(ruleset: RuleSet, role: str) -> RuleSetProvenance:
    return RuleSetProvenance(id=ruleset.id, version=ruleset.version, sha256=ruleset.sha256,
                             role=role)
