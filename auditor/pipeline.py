"""`audit()`: the whole pipeline as a straight line.

sources -> canonical events -> conversation facts -> rule verdicts -> reconciliation -> reports
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
from pydantic import BaseModel, ConfigDict, model_validator

from auditor import billing, engine
from auditor.errors import UsageError
from auditor.facts import build_facts
from auditor.facts import last_event_at as export_last_event_at
from auditor.pricing.month_cost import month_cost
from auditor.pricing.plans import resolve_plan
from auditor.reconcile import Period, build_findings
from auditor.report.build import build_report
from auditor.report.evidence import EvidenceOptions, evidence_link, write_evidence
from auditor.report.model import Report
from auditor.report.write import (
    QUARANTINE_QUERY,
    copy_table,
    preload_page_renderer,
    write_outputs,
)
from auditor.rulesets import RuleSet, list_rulesets, resolve_ruleset
from auditor.schema import CONVERSATION_COLUMNS, EVENT_COLUMNS, column_names
from auditor.sources import IngestSummary, SourceOptions, default_vendor, load_sources
from auditor.verdicts import VERDICT_COLUMNS, evaluate_together, fact_params, facts_used

Progress = Callable[[str], None]


class AuditRequest(BaseModel):
    """Everything an audit needs; the CLI's options map one to one onto these fields."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    exports: list[str]
    format: str = "auto"
    billed_csv: str | None = None
    billed_from_labels: bool = False
    billed_count: int | None = None
    vendor: str | None = None  # None: the default for the export's format (default_vendor)
    contract: str = "strict"
    period: Period | None = None
    unit_price: Decimal | None = None
    # The billed list's headers, when not recognised by name (billing_columns.py), and the
    # format of its dates when not ISO 8601 (billing_values.py).
    id_column: str | None = None
    billed_at_column: str | None = None
    amount_column: str | None = None
    units_column: str | None = None
    date_format: str | None = None
    plan: str | None = None  # pricing plan for the "what this month cost" section
    display_names: dict[Path, str] = {}
    sources: SourceOptions = SourceOptions()  # what the user tells the adapters
    as_of: datetime | None = None  # end of observation (--as-of), naive UTC
    # What-ifs: params of the contract (--param) and vendor (--vendor-param) rule sets, as
    # typed (text) or as values; see auditor.rulesets.overrides.
    contract_params: dict[str, Any] = {}
    vendor_params: dict[str, Any] = {}

    @model_validator(mode="after")
    def _one_bill(self) -> AuditRequest:
        given = [self.billed_csv is not None, self.billed_from_labels, self.billed_count is not None]
        if sum(given) != 1:
            raise UsageError("give exactly one of --billed FILE, --billed-from-labels or "
                             "--billed-count N")
        if self.billed_count is not None and self.billed_count < 0:
            raise UsageError("--billed-count must be 0 or more")
        return self


class Stage:
    """Times pipeline stages and reports each one to a progress callback."""

    def __init__(self, progress: Progress | None) -> None:
        self.progress, self.started = progress, time.perf_counter()

    def __call__(self, message: str) -> None:
        if self.progress:
            self.progress(f"[{time.perf_counter() - self.started:6.1f}s] {message}")


def audit(request: AuditRequest, out_dir: Path | None = None,
          progress: Progress | None = None,
          evidence: EvidenceOptions | None = None) -> Report:
    """Run the audit; write report files into out_dir and the evidence pack when given;
    return the report."""
    stage = Stage(progress)
    if out_dir is not None:
        preload_page_renderer()
    con = engine.connect()
    try:
        stage(f"reading {len(request.exports)} export path(s)")
        ingest = load_sources(con, request.exports, request.format, request.display_names,
                              request.sources,
                              count_conversations=False)
        stage(f"{ingest.events:,} events ({ingest.quarantined:,} records quarantined)")
        vendor, contract = request_rulesets(request, ingest.formats)
        plan = resolve_plan(request.plan) if request.plan else None
        ends_at = observation_end(con, request.as_of, ingest.last_event_at)
        facts = build_all_facts(con, vendor, contract, ends_at)
        # One facts row per conversation: the count the ingest summary left open.
        ingest = ingest.model_copy(update={"conversations": int(engine.scalar(  # type: ignore[arg-type]
            con, "SELECT count(*) FROM vendor_facts"))})
        bill = load_bill(con, request, vendor)
        judge(con, vendor, contract, facts)
        stage("facts and verdicts computed")
        price = unit_price(vendor, request)
        build_findings(con, request.period, price, contract, vendor)
        stage("billed lines reconciled")
        report = build_report(con, request, vendor, contract, ingest, bill, price,
                              observed_until=ends_at)
        if plan is not None:
            report = report.model_copy(update={"month_cost": month_cost(report, plan)})
        if out_dir is not None:
            write_outputs(con, report, out_dir, evidence_link(out_dir, evidence))
            stage(f"report written to {out_dir}")
        if evidence is not None:
            write_evidence(con, report, evidence, vendor, contract, request.exports,
                           request.display_names)
            stage(f"evidence pack written to {evidence.pack}")
        return report
    finally:
        con.close()


# Facts the pipeline itself reads besides the rule sets: reproduction and count-only invoices
# are limited to the period by the AI's last message; --billed-from-labels reads vendor_state.
PIPELINE_FACTS = frozenset({"last_ai_message_at", "vendor_state"})


def observation_end(con: duckdb.DuckDBPyConnection, as_of: datetime | None,
                    last_event_at: datetime | None = None) -> datetime | None:
    """Until when the data shows what happened: `as_of` (--as-of), else the export's last event
    (`last_event_at` when the ingest saw it on the way, else read from `events`)."""
    if last_event_at is None:
        last_event_at = export_last_event_at(con)
    return end_of_observation(last_event_at, as_of)


def end_of_observation(last_event_at: datetime | None, as_of: datetime | None) -> datetime | None:
    """`as_of`, else the export's last event.

    An `as_of` before the export's last event is refused rather than cutting the export: the
    events after it would be observed after the end of observation.
    """
    if as_of is None:
        return last_event_at
    if last_event_at is not None and as_of < last_event_at:
        shown = f"{last_event_at.isoformat(sep=' ')} UTC"
        raise UsageError(f"--as-of {as_of.isoformat(sep=' ')} UTC is before the export's last "
                         f"event ({shown})", f"give {shown} or later, or leave --as-of out")
    return as_of


def request_rulesets(request: AuditRequest, formats: list[str]) -> tuple[RuleSet, RuleSet]:
    """The vendor rule set (by default the one the export's formats name) and the contract,
    with the command line's param overrides."""
    vendor = resolve_ruleset(request.vendor or default_vendor(formats))
    return (vendor.with_overrides(request.vendor_params, "--vendor-param"),
            resolve_ruleset(request.contract).with_overrides(request.contract_params))


def build_all_facts(con: duckdb.DuckDBPyConnection, vendor: RuleSet, contract: RuleSet,
                    ends_at: datetime | None = None) -> tuple[str, str]:
    """Facts once per distinct parameter set, as the views vendor_facts and contract_facts;
    returns the tables behind them (the same one when the parameters are)."""
    vendor_table, contract_table = build_facts_for(con, [vendor, contract], PIPELINE_FACTS,
                                                   ends_at)
    for role, table in (("vendor", vendor_table), ("contract", contract_table)):
        con.execute(f"CREATE OR REPLACE VIEW {role}_facts AS SELECT * FROM {table}")
    return vendor_table, contract_table


def build_facts_for(con: duckdb.DuckDBPyConnection, rulesets: list[RuleSet],
                    extra: frozenset[str] = frozenset(),
                    ends_at: datetime | None = None) -> list[str]:
    """The facts table for each rule set: one build per distinct FactParams, with only the
    columns some rule set (or `extra`) reads, observed until `ends_at` (observation_end)."""
    needed = frozenset().union(*(facts_used(r) for r in rulesets)) | extra
    built: dict[str, str] = {}  # FactParams key -> facts table
    for ruleset in rulesets:
        params = fact_params(ruleset)
        if params.key() not in built:
            built[params.key()] = f"facts_{len(built) + 1}"
            build_facts(con, built[params.key()], params, needed, ends_at)
    return [built[fact_params(r).key()] for r in rulesets]


def judge(con: duckdb.DuckDBPyConnection, vendor: RuleSet, contract: RuleSet,
          facts: tuple[str, str] = ("vendor_facts", "contract_facts")) -> None:
    """Both rule sets' verdicts over their `facts` tables, with evidence only for billed
    conversations (all a report shows; the vendor's backs `not_vendor_resolution`), in
    `conversation_verdicts` (which findings join once) and as the views vendor_verdicts and
    contract_verdicts (VERDICT_COLUMNS)."""
    evaluate_together(con, {"vendor": (vendor, facts[0]), "contract": (contract, facts[1])},
                      "conversation_verdicts", evidence_for="billed",
                      carried=("last_ai_message_at",))
    for role in ("vendor", "contract"):
        columns = ", ".join(f"{role}_{name} AS {name}" for name, *_ in VERDICT_COLUMNS
                            if name != "conversation_id")
        con.execute(f"CREATE OR REPLACE VIEW {role}_verdicts AS "
                    f"SELECT conversation_id, {columns} FROM conversation_verdicts")


def load_bill(con: duckdb.DuckDBPyConnection, request: AuditRequest,
              vendor: RuleSet) -> billing.BillRead | None:
    """The `billed` table; runs after the facts exist, so a billed list's ids can be checked
    against the export's (vendor_facts has one row per conversation)."""
    if request.billed_csv is not None:
        options = billing.BillOptions(
            id_column=request.id_column, billed_at_column=request.billed_at_column,
            amount_column=request.amount_column, units_column=request.units_column,
            date_format=request.date_format)
        return billing.load_billed_csv(con, request.billed_csv, options, request.display_names,
                                       export_ids="vendor_facts")
    if request.billed_from_labels:
        if not vendor.billed_labels:
            raise UsageError(f"rule set '{vendor.id}' names no billed_labels, so "
                             "--billed-from-labels has nothing to read")
        billing.billed_from_labels(con, "vendor_facts", list(vendor.billed_labels))
        _reject_unbilled_labels(con, vendor)
    else:
        billing.empty_billed(con)
    return None


def _reject_unbilled_labels(con: duckdb.DuckDBPyConnection, vendor: RuleSet) -> None:
    """Labels in the export, none of them billed by this vendor's rule set: a wrong --vendor,
    not an empty bill."""
    if engine.scalar(con, "SELECT count(*) FROM billed"):
        return
    found = dict(con.execute("SELECT vendor_state, count(*) FROM vendor_facts WHERE "
                             "vendor_state IS NOT NULL GROUP BY 1 ORDER BY 2 DESC").fetchall())
    if not found:
        return
    fitting = [r.id for r in list_rulesets() if set(r.billed_labels) & found.keys()]
    labels = ", ".join(f"{state} x{n:,}" for state, n in found.items())
    raise UsageError(f"--billed-from-labels: no conversation carries a label '{vendor.id}' "
                     f"bills ({', '.join(vendor.billed_labels)}); the export has {labels}",
                     f"did you mean --vendor {' or '.join(fitting)}?" if fitting else None)


def unit_price(vendor: RuleSet, request: AuditRequest) -> Decimal | None:
    """The line's amount comes first (in SQL); then --unit-price; then the vendor rule set's."""
    if request.unit_price is not None:
        return request.unit_price
    return Decimal(str(vendor.unit_price)) if vendor.unit_price is not None else None


def ingest_only(paths: list[str], fmt: str, out: Path,
                options: SourceOptions | None = None) -> IngestSummary:
    """Convert exports to the canonical event log (Parquet, CSV or JSONL by out's suffix).

    Conversation attributes go to `<stem>.conversations<suffix>` beside it, and quarantined
    records to `<stem>.quarantine.csv`.
    """
    con = engine.connect()
    try:
        summary = load_sources(con, paths, fmt, options=options)
        events = ", ".join(column_names(EVENT_COLUMNS))
        conversations = ", ".join(column_names(CONVERSATION_COLUMNS))
        copy_table(con, f"SELECT {events} FROM events "
                        "ORDER BY conversation_id, created_at, event_id", out)
        copy_table(con, f"SELECT {conversations} FROM conversations ORDER BY conversation_id",
                   out.with_name(f"{out.stem}.conversations{out.suffix}"))
        copy_table(con, QUARANTINE_QUERY, out.with_name(f"{out.stem}.quarantine.csv"))
        return summary
    finally:
        con.close()
