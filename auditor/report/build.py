"""Assemble the `Report` from the reconciled tables: aggregates only, all in SQL."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from decimal import Decimal
from typing import TYPE_CHECKING, NamedTuple

import duckdb

from auditor import __version__
from auditor.engine import scalar
from auditor.billing import BillRead
from auditor.reconcile import (
    BILLING_REASONS, build_reproduction, count_only_breakdown, excess_reason,
    primary_reason_totals, reason_totals, status_totals,
)
from auditor.report.model import (
    Billed, CountOnly, Disputed, Ingest, Money, Observation, ObservationEnd, Provenance, PullProvenance,
    Report,
    ReasonLine, Reproduction, RuleSetProvenance, Unverifiable, usd,
)
from auditor.rulesets import RuleSet
from auditor.rulesets.compiled import compile_ruleset, observation_window_hours
from auditor.rulesets.overrides import describe_overrides
from auditor.sources import IngestSummary

if TYPE_CHECKING:
    from auditor.pipeline import AuditRequest


class ExportFigures(NamedTuple):
    """Figures over the whole export, when its verdicts are not in `con` (an audit run in a
    warehouse engine, whose summary computed them): the vendor's units in the period and the
    count-only breakdown (vendor units, contract units, [(reason, units)])."""

    vendor_units: int
    count_only: tuple[int, int, list[tuple[str, int]]]


def build_report(con: duckdb.DuckDBPyConnection, request: AuditRequest, vendor: RuleSet,
                 contract: RuleSet, ingest: IngestSummary, bill: BillRead | None,
                 price: Decimal | None, observed_until: datetime | None = None,
                 export: ExportFigures | None = None) -> Report:
    glossary = reason_glossary(contract)
    totals = status_totals(con)
    count_only = (_count_only(con, request, price, contract, vendor, ingest, export)
                  if request.billed_count is not None else None)
    billed_items = sum(n for n, _ in totals.values())
    billed_amount = sum((a for _, a in totals.values()), Decimal(0))
    observation = _observation(con, contract, ObservationEnd.of(
        observed_until, as_of=request.as_of is not None))
    confirmed, disputed, unverifiable = totals["confirmed"], totals["disputed"], totals["unverifiable"]
    if count_only is not None:  # a count-only invoice: the estimate stands in for line statuses
        billed_items, billed_amount = count_only.billed_count, _amount(count_only.billed_count, price)
        disputed = (count_only.overbilled_items, _amount(count_only.overbilled_items, price))
        unverifiable = (count_only.unverifiable_items,
                        _amount(count_only.unverifiable_items, price))
        confirmed = (billed_items - disputed[0] - unverifiable[0],
                     billed_amount - disputed[1] - unverifiable[1])
    return Report(
        period=str(request.period) if request.period else None,
        contract=contract.id, vendor=vendor.id,
        warnings=ingest_warnings(ingest) + (list(bill.warnings) if bill else []),
        billed=Billed(items=billed_items, amount=billed_amount, source=_bill_source(request),
                      unit_price=float(price) if price is not None else None,
                      columns=bill.columns if bill else {},
                      date_format=bill.date_format if bill else None),
        confirmed=Money(items=confirmed[0], amount=confirmed[1]),
        disputed=_disputed(con, disputed, glossary, count_only, price),
        unverifiable=Unverifiable(items=unverifiable[0], amount=unverifiable[1],
                                  by_reason={c: n for c, n, _ in reason_totals(con, "unverifiable")}),
        credits=_credits(con),
        reproduction=Reproduction(ruleset=vendor.id, unit=vendor.billing_unit,
                                  **build_reproduction(
                                      con, request.period,
                                      export.vendor_units if export else None)),
        count_only=count_only,
        observation=observation,
        ingest=ingest_section(ingest),
        reasons=glossary,
        notes=(override_notes([("contract", contract), ("vendor", vendor)])
               + (bill.notes if bill else [])
               + _notes(request, vendor, price, bill)
               + _observation_notes(observation) + ingest_notes(ingest)
               + _ingest_notes(request, vendor, ingest)),
        provenance=Provenance(tool_version=__version__, inputs=ingest.inputs,
                              billed=bill.provenance if bill else None,
                              rulesets=[ruleset_provenance(vendor, "vendor"),
                                        ruleset_provenance(contract, "contract")],
                              pulls=pull_provenance(request.exports, request.display_names)),
    )


def pull_provenance(exports: list[str], display: dict[Path, str]) -> list[PullProvenance]:
    """The manifest.json `auditor pull` left in an input folder, for each such folder."""
    from auditor.pull.store import MANIFEST_FILE, is_pull_manifest
    from auditor.sources.files import display_path, sha256_of

    found = []
    for export in exports:
        manifest = Path(export) / MANIFEST_FILE
        if not (Path(export).is_dir() and is_pull_manifest(manifest)):
            continue
        body = json.loads(manifest.read_text(encoding="utf-8"))
        window = body.get("window") or {}
        found.append(PullProvenance(
            path=display.get(manifest) or display_path(manifest), sha256=sha256_of(manifest),
            vendor=str(body.get("vendor")), api_version=str(body.get("api_version")),
            window_from=str(window.get("from")), window_to=str(window.get("to")),
            window_field=str(window.get("field")),
            counts={k: int(v) for k, v in (body.get("counts") or {}).items()},
            started_at=str(body.get("started_at")), finished_at=str(body.get("finished_at")),
            tool_version=str(body.get("tool_version")), files=len(body.get("files") or [])))
    return found


def ingest_section(ingest: IngestSummary) -> Ingest:
    return Ingest(records_read=ingest.records_read, events=ingest.events,
                  conversations=ingest.conversations or 0, quarantined=ingest.quarantined,
                  not_judged=ingest.unjudgeable, skipped_files=ingest.skipped_files,
                  ai_agents=ingest.ai_agents)


# From this share of incomplete conversations on, the export itself is likely the wrong kind.
INCOMPLETE_WARNING_SHARE = 0.10


def ingest_warnings(ingest: IngestSummary) -> list[str]:
    """Said up front: an export that lacks most conversations' messages cannot back a bill."""
    incomplete, total = ingest.unjudgeable.get("incomplete_export", 0), ingest.conversations or 0
    if not total or incomplete < INCOMPLETE_WARNING_SHARE * total:
        return []
    return [f"{incomplete:,} of {total:,} conversations in the export have no or only some of "
            f"their messages ({ingest.incomplete_detail}): this looks like a list or search "
            f"export, not a full one. Their billed lines are unverifiable, not disputed. Export "
            f"each conversation with all its messages; see docs/getting-the-export.md."]


def ingest_notes(ingest: IngestSummary) -> list[str]:
    notes = []
    incomplete = ingest.unjudgeable.get("incomplete_export", 0)
    if incomplete and not ingest_warnings(ingest):
        notes.append(f"{incomplete:,} conversations have no or only some of their messages in "
                     f"the export ({ingest.incomplete_detail}); their billed lines are "
                     "unverifiable (incomplete_export).")
    if quarantined := ingest.unjudgeable.get("quarantined_records", 0):
        notes.append(f"{quarantined:,} conversations have records in quarantine.csv; they are "
                     "not judged on the rest, so their billed lines are unverifiable "
                     "(quarantined_records).")
    if ingest.skipped_files:
        notes.append(f"{len(ingest.skipped_files):,} files in the input folders were not read "
                     f"(e.g. {ingest.skipped_files[0].path}: {ingest.skipped_files[0].reason}); "
                     "see ingest.skipped_files in report.json.")
    return notes


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


def _observation(con: duckdb.DuckDBPyConnection, contract: RuleSet,
                 end: ObservationEnd) -> Observation:
    """Confirmed lines whose contract verdict was made on less than the observation window."""
    items, amount = con.execute("""
        SELECT count(*), coalesce(sum(f.amount), 0) FROM findings f
        JOIN contract_verdicts c USING (conversation_id)
        WHERE f.status = 'confirmed' AND c.short_observed
    """).fetchall()[0]
    return Observation(**end.model_dump(),
                       window_hours=observation_window_hours(compile_ruleset(contract)),
                       confirmed_short_observed=Money(items=int(items), amount=Decimal(amount)))


def _observation_notes(observation: Observation) -> list[str]:
    notes = []
    if observation.source == "as_of":
        notes.append(f"--as-of: observation ends {observation.ends_at}, not at the export's "
                     "last event; hours observed are measured to it.")
    short = observation.confirmed_short_observed
    if short.items and observation.window_hours is not None:
        lines, were = (("1 confirmed line", "was") if short.items == 1
                       else (f"{short.items:,} confirmed lines", "were"))
        notes.append(f"{lines} ({usd(short.amount)}) {were} observed for less than the "
                     f"{observation.window_hours:g} hours the contract asks: the export ends "
                     "sooner, so they are confirmed on what it shows, and their evidence says "
                     "how many hours were observed.")
    return notes


def _count_only(con: duckdb.DuckDBPyConnection, request: AuditRequest,
                price: Decimal | None, contract: RuleSet, vendor: RuleSet,
                ingest: IngestSummary, export: ExportFigures | None = None) -> CountOnly:
    """The over-billing estimate of a count-only invoice, on the conversations the export can
    judge. Billed items that could be conversations it cannot judge are taken off first: they
    are unverifiable, never estimated as over-billing."""
    billed = int(request.billed_count or 0)
    # In an engine only the counts by reason came back: their sum may count a conversation
    # twice, which only makes the estimate more cautious.
    unjudged = (sum(ingest.unjudgeable.values()) if export
                else int(scalar(con, "SELECT count(*) FROM unjudgeable") or 0))
    # A conversation is at least one unit; with several units per conversation, no bound.
    allowance = unjudged if vendor.units is None or not unjudged else billed
    judged_billed = max(billed - allowance, 0)
    vendor_count, contract_count, breakdown = (
        export.count_only if export else count_only_breakdown(con, request.period, contract))
    unexplained = max(judged_billed - vendor_count, 0)
    by_reason = dict(breakdown)
    if unexplained:
        by_reason["not_reproduced"] = unexplained
    over = max(judged_billed - contract_count, 0)
    return CountOnly(billed_count=billed, vendor_count=vendor_count, contract_count=contract_count,
                     overbilled_items=over, overbilled_amount=float(round(_amount(over, price), 2)),
                     unexplained_items=unexplained, unverifiable_items=billed - judged_billed,
                     by_reason=by_reason)


def _credits(con: duckdb.DuckDBPyConnection) -> Money:
    items, amount = con.execute("SELECT count(*), coalesce(sum(amount), 0) "
                                "FROM billed_credits").fetchall()[0]
    return Money(items=int(items), amount=Decimal(amount))


def _notes(request: AuditRequest, vendor: RuleSet, price: Decimal | None,
           bill: BillRead | None) -> list[str]:
    notes = []
    if request.unit_price is not None and vendor.unit_price is not None:
        notes.append(f"--unit-price {request.unit_price} was used instead of the unit price "
                     f"{vendor.unit_price} of rule set {vendor.id} for billed items without an "
                     "amount.")
    if price is None:
        notes.append("No unit price: lines without an amount count as $0. Pass --unit-price.")
    if request.period is None:
        notes.append("No --period given: billed_at was not checked and reproduction covers the "
                     "whole export.")
    elif bill is not None and "billed_at" not in bill.columns:
        notes.append("The billed list has no billed_at column, so its lines were not checked "
                     "against --period; if a column holds the billing time, name it with "
                     "--billed-at-column.")
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


def ruleset_provenance(ruleset: RuleSet, role: str) -> RuleSetProvenance:
    return RuleSetProvenance(id=ruleset.id, version=ruleset.version, sha256=ruleset.sha256,
                             role=role, overrides=ruleset.overrides)


def override_notes(rulesets: list[tuple[str, RuleSet]]) -> list[str]:
    """What-ifs first among the notes: the figures are not the rule set files' own.
    `rulesets` are (role, rule set) pairs."""
    return [f"What-if: the {role} rule set {ruleset.id} was run with "
            f"{describe_overrides(ruleset.overrides)}, set on the command line; the file's "
            "sha256 is unchanged and the rule sets' provenance lists the overrides."
            for role, ruleset in rulesets if ruleset.overrides]
