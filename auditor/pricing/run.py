"""`price()`: what the month costs under every plan, from the export or from figures.

sources -> canonical events -> facts -> the contract's and the plans' rule-set verdicts ->
price_scope, conversation_tokens, price_lines (SQL, auditor.pricing.sql) -> each plan's cost
lines and totals (Python over plans, auditor.pricing.costing) -> PriceReport -> files.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import duckdb
from pydantic import BaseModel, Field

from auditor import __version__, engine
from auditor.errors import UsageError
from auditor.pipeline import build_facts_for
from auditor.pricing import sql
from auditor.pricing.bands import band_cost, bands, cents
from auditor.pricing.costing import PriceOptions, Usage, apply_options, check_price_keys, \
    totals, unit_name
from auditor.pricing.figures import model_month
from auditor.pricing.plan import Plan
from auditor.pricing.plans import list_plans, plan_rulesets, resolve_plan
from auditor.pricing.report import ModelMonth, PlanCost, PriceReport, SourceRef, TokenSummary
from auditor.reconcile import Period
from auditor.report.build import ingest_section
from auditor.report.model import Ingest
from auditor.report.build import override_notes, ruleset_provenance
from auditor.report.model import RuleSetProvenance
from auditor.rulesets import RuleSet, resolve_ruleset
from auditor.sources import SourceOptions, load_sources
from auditor.verdicts import evaluate


class PriceRequest(BaseModel):
    """Everything pricing needs; the CLI's options map one to one onto these fields."""

    exports: list[str] = Field(default_factory=list)
    plans: list[str] = Field(default_factory=list)  # ids or paths; empty = every built-in
    contract: str = "strict"
    contract_params: dict[str, str] = Field(default_factory=dict)  # --param what-ifs
    format: str = "auto"
    period: Period | None = None
    sources: SourceOptions = Field(default_factory=SourceOptions)
    options: PriceOptions = Field(default_factory=PriceOptions)
    conversations: int | None = Field(default=None, ge=0)  # the model from figures
    deflection: Decimal | None = None


def resolve_plans(names: list[str]) -> list[Plan]:
    plans = [resolve_plan(n) for n in names] if names else list_plans()
    ids = [p.id for p in plans]
    if len(set(ids)) != len(ids):
        raise UsageError("--plans names the same plan twice: " + ", ".join(ids))
    currencies = sorted({p.currency for p in plans})
    if len(currencies) > 1:
        raise UsageError("plans in different currencies cannot be compared: "
                         + ", ".join(f"{p.id} ({p.currency})" for p in plans))
    return plans


def prepared_plans(request: PriceRequest) -> list[tuple[Plan, list[str]]]:
    """The plans with the user's prices and seats in place, and notes saying which."""
    plans = resolve_plans(request.plans)
    check_price_keys(plans, request.options)
    return [apply_options(plan, request.options) for plan in plans]


def model_only(request: PriceRequest) -> ModelMonth:
    """The month modelled from --conversations and --deflection alone (no export)."""
    if request.conversations is None or request.deflection is None:
        raise UsageError("give an export, or --conversations N and --deflection D to model a "
                         "month from figures")
    plans = prepared_plans(request)
    units = {p.id: unit_name(p.metered_charge(), _billing_unit(p)) for p, _ in plans}
    return model_month(plans, request.conversations, request.deflection,
                       request.options.human_cost, units)


def price(request: PriceRequest, out_dir: Path | None = None) -> PriceReport:
    """Price the export's month under every plan; write price files into out_dir when given."""
    if request.conversations is not None and request.deflection is None:
        raise UsageError("--conversations models a month from figures: give --deflection D too")
    plans = prepared_plans(request)
    contract = resolve_ruleset(request.contract).with_overrides(request.contract_params)
    con = engine.connect()
    try:
        ingest = load_sources(con, request.exports, request.format, options=request.sources)
        verdicts = _judge(con, contract, [p for p, _ in plans], request.period)
        sql.build_tokens(con)
        sql.build_lines(con, [sql.line_sql(n, p.metered_charge(), _bands(p), verdicts.get(n))
                              for n, (p, _) in enumerate(plans)])
        report = _report(con, request, plans, contract, ingest_section(ingest))
        report = report.model_copy(update={"inputs": ingest.inputs,
                                           "rulesets": _provenance(contract, plans)})
        if request.deflection is not None:
            report = report.model_copy(update={"model": _model_against(request, plans, report)})
        if out_dir is not None:
            from auditor.pricing.write import write_outputs

            write_outputs(con, report, [p for p, _ in plans], out_dir)
        return report
    finally:
        con.close()


def _bands(plan: Plan) -> list | None:
    charge = plan.metered_charge()
    return bands(charge) if charge is not None else None


def _billing_unit(plan: Plan) -> str | None:
    rulesets = plan_rulesets(plan)
    return rulesets[0].billing_unit if rulesets else None


def _key(ruleset: RuleSet) -> tuple[str, str, str]:
    """A rule set as evaluated: its file, and the params set on the command line."""
    return ruleset.id, ruleset.sha256, repr(ruleset.overrides)


def _provenance(contract: RuleSet,
                plans: list[tuple[Plan, list[str]]]) -> list[RuleSetProvenance]:
    """The contract, then each rule set a plan counts by (once), with versions and hashes."""
    seen = {_key(contract): ruleset_provenance(contract, "contract")}
    for plan, _ in plans:
        for ruleset in plan_rulesets(plan):
            seen.setdefault(_key(ruleset), ruleset_provenance(ruleset, f"plan {plan.id}"))
    return list(seen.values())


def _judge(con: duckdb.DuckDBPyConnection, contract: RuleSet, plans: list[Plan],
           period: Period | None) -> dict[int, str]:
    """Verdicts of the contract and of every rule set a plan counts (each once); build
    price_scope. Returns plan number -> its rule set's verdicts table."""
    distinct: dict[tuple[str, str, str], RuleSet] = {_key(contract): contract}
    wanted: dict[int, tuple[str, str, str]] = {}
    for number, plan in enumerate(plans):
        for ruleset in plan_rulesets(plan):
            key = _key(ruleset)
            distinct.setdefault(key, ruleset)
            wanted[number] = key
    keys = list(distinct)
    tables = build_facts_for(con, list(distinct.values()), sql.SCOPE_FACTS)
    for n, (key, table) in enumerate(zip(keys, tables, strict=True)):
        evaluate(con, distinct[key], table, f"price_verdicts_{n}", details=False)
    sql.build_scope(con, tables[0], "price_verdicts_0", period)
    return {number: f"price_verdicts_{keys.index(key)}" for number, key in wanted.items()}


def _report(con: duckdb.DuckDBPyConnection, request: PriceRequest,
            plans: list[tuple[Plan, list[str]]], contract: RuleSet, ingest: Ingest) -> PriceReport:
    conversations, ai_conversations, resolutions = con.execute(
        "SELECT count(*), count(*) FILTER (ai_involved), count(*) FILTER (contract_counted) "
        "FROM price_scope").fetchall()[0]
    measured, estimated = con.execute(
        "SELECT count(*) FILTER (measured), count(*) FILTER (estimated) "
        "FROM conversation_tokens").fetchall()[0]
    figures = sql.plan_figures(con)
    human_cost = request.options.human_cost
    costs = [_plan_cost(plan, notes, figures[n], int(conversations), human_cost)
             for n, (plan, notes) in enumerate(plans)]
    not_judged = int(engine.scalar(con, "SELECT count(*) FROM unjudgeable") or 0)
    tokens = TokenSummary(measured=int(measured), estimated=int(estimated), method=sql.TOKEN_METHOD)
    return PriceReport(
        period=str(request.period) if request.period else None, contract=contract.id,
        conversations=int(conversations), ai_conversations=int(ai_conversations),
        contract_resolutions=int(resolutions), not_judged=not_judged,
        human_cost=cents(human_cost) if human_cost is not None else None, tokens=tokens,
        plans=sorted(costs, key=_cheapest_first),
        notes=(override_notes([("contract", contract)])
               + _notes(not_judged, tokens, costs, human_cost)),
        ingest=ingest, tool_version=__version__, inputs=[])


def _cheapest_first(plan: PlanCost) -> tuple:
    return (plan.ai_cost is None, plan.ai_cost or Decimal(0), plan.id)


def _plan_cost(plan: Plan, notes: list[str], figures: tuple, conversations: int,
               human_cost: Decimal | None) -> PlanCost:
    units, exact, counted, resolutions, contract_units, estimated = figures
    charge = plan.metered_charge()
    billing_unit = _billing_unit(plan)
    unit = unit_name(charge, billing_unit)
    exact = Decimal(exact) if exact is not None else None
    result = totals(plan, Usage(int(units), exact, bool(estimated)), unit)
    at_contract = None
    if billing_unit is not None and _bands(plan):
        earned = totals(plan, Usage(int(contract_units),
                                    band_cost(_bands(plan), int(contract_units))), unit)
        at_contract = earned.cost
    saving = cents(human_cost * resolutions) if human_cost is not None else None
    ai_cost = result.ai_cost
    return PlanCost(
        id=plan.id, version=plan.version, sha256=plan.sha256, title=plan.title,
        vendor=plan.vendor, kind=plan.kind, unit=unit, currency=plan.currency, units=int(units),
        estimated=bool(estimated), vendor_count=int(counted) if billing_unit else None,
        contract_resolutions=int(resolutions), lines=result.lines,
        usage_cost=result.usage_cost, fixed_cost=result.fixed_cost, cost=result.cost,
        ai_cost=ai_cost,
        cost_per_conversation=_per(result.cost, conversations),
        cost_per_contract_resolution=_per(ai_cost, int(resolutions)),
        cost_at_contract_count=at_contract, saving=saving,
        net=saving - ai_cost if saving is not None and ai_cost is not None else None,
        not_priced=result.not_priced, left_out=result.left_out,
        notes=notes + [c.note for c in plan.typed_charges() if c.note],
        sources=[SourceRef(title=s.title, url=s.url, read=s.read, by=s.by, note=s.note)
                 for s in plan.sources])


def _per(amount: Decimal | None, count: int) -> Decimal | None:
    return cents(amount / count) if amount is not None and count else None


def _notes(not_judged: int, tokens: TokenSummary, costs: list[PlanCost],
           human_cost: Decimal | None) -> list[str]:
    notes = []
    if not_judged:
        notes.append(f"{not_judged:,} conversations are left out of every plan: the export "
                     "cannot support a verdict on them (incomplete export or quarantined "
                     "records), so they are not counted as resolutions or conversations.")
    if any(p.kind == "per_token" for p in costs):
        notes.append("Per-token plans price the model alone: no helpdesk, retrieval, hosting "
                     "or engineering.")
    if human_cost is None:
        notes.append("No --human-cost given: no saving or net is shown.")
    return notes


def _model_against(request: PriceRequest, plans: list[tuple[Plan, list[str]]],
                   report: PriceReport) -> ModelMonth:
    conversations = (request.conversations if request.conversations is not None
                     else report.conversations)
    units = {p.id: next(c.unit for c in report.plans if c.id == p.id) for p, _ in plans}
    return model_month(plans, conversations, request.deflection or Decimal(0),
                       request.options.human_cost, units, reality=report.plans)
