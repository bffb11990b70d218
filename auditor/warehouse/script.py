"""The whole audit as SQL statements for one engine, stage by stage (`auditor sql`).

    preamble        pin the session to UTC (and Spark's recursion limits)
    source          the source mapping's views over the user's tables
    validation      events, quarantine, conversation attributes, unjudgeable conversations
    facts           once per distinct set of fact parameters
    verdicts        the vendor's and the contract's rule set
    findings        every billed unit's status, reasons and reproduced; the summary figures

Every table is named with the user's prefix. The same stages run through an engine connection
in auditor/warehouse/run.py, so a script and a run never differ.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import NamedTuple

from auditor import __version__
from auditor.facts import FactParams
from auditor.reconcile import Period
from auditor.rulesets import RuleSet
from auditor.verdicts import fact_params, facts_used
from auditor.warehouse import dialects
from auditor.warehouse.facts_sql import Statement, fact_statements
from auditor.warehouse.reconcile_sql import findings_statements
from auditor.warehouse.rules_sql import verdict_statement
from auditor.warehouse.sources import SourceTables, source_statements
from auditor.warehouse.validate_sql import validation_statements

# Facts the pipeline reads besides the rule sets (auditor/pipeline.py PIPELINE_FACTS).
PIPELINE_FACTS = frozenset({"last_ai_message_at", "vendor_state"})


class AuditPlan(NamedTuple):
    vendor: RuleSet
    contract: RuleSet
    tables: SourceTables
    billed: str  # table of billed units: line, unit, conversation_id, billed_at, amount
    prefix: str = "audit_"
    source: str = "canonical"
    period: Period | None = None
    unit_price: Decimal | None = None
    as_of: datetime | None = None  # end of observation; default: the last event


class Stage(NamedTuple):
    name: str
    comment: str
    statements: list[Statement]
    views: bool = False  # the statements create views, not tables


def plan_stages(plan: AuditPlan) -> list[Stage]:
    p = plan.prefix
    sources, label = source_statements(plan.source, plan.tables, p)
    stages = [Stage("source", f"the {plan.source} source's views over the input tables",
                    sources, views=True),
              Stage("validation", "canonical events checked as local ingest checks them",
                    validation_statements(p, label))]
    facts, tables = _facts(plan)
    stages.append(Stage("facts", "conversation facts (docs/facts.md)", facts))
    stages.append(Stage("verdicts", "each rule set's verdict on every conversation", [
        verdict_statement(plan.vendor, tables[0], f"{p}vendor_verdicts"),
        verdict_statement(plan.contract, tables[1], f"{p}contract_verdicts")]))
    findings = findings_statements(p, tables[0], plan.period, plan.unit_price, plan.contract,
                                   plan.vendor)
    stages.append(Stage("findings", "every billed unit's status, reasons and reproduced; the "
                        "report's figures in summary", _billed_from(findings, plan)))
    return stages


def facts_tables(plan: AuditPlan) -> tuple[str, str]:
    """(vendor facts table, contract facts table): one table per distinct fact parameters."""
    return _facts(plan)[1]


def _facts(plan: AuditPlan) -> tuple[list[Statement], tuple[str, str]]:
    needed = facts_used(plan.vendor) | facts_used(plan.contract) | PIPELINE_FACTS
    built: dict[str, str] = {}
    statements: list[Statement] = []
    for ruleset in (plan.vendor, plan.contract):
        params: FactParams = fact_params(ruleset)
        if params.key() not in built:
            number = len(built) + 1
            built[params.key()] = f"{plan.prefix}facts_{number}"
            statements += fact_statements(
                params, events=f"{plan.prefix}events", attrs=f"{plan.prefix}conversation_attrs",
                prefix=f"{plan.prefix}f{number}_", out=built[params.key()], columns=needed,
                ends_at=plan.as_of)
    vendor, contract = (built[fact_params(r).key()] for r in (plan.vendor, plan.contract))
    return statements, (vendor, contract)


def _billed_from(statements: list[Statement], plan: AuditPlan) -> list[Statement]:
    """The findings read the user's billed table under its own name."""
    default = f"{plan.prefix}billed"
    if plan.billed == default:
        return statements
    from sqlglot import exp

    def rename(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Table) and node.sql() == default:
            return exp.to_table(plan.billed)
        return node

    return [s._replace(select=s.select.transform(rename)) for s in statements]


def render_stage(stage: Stage, dialect: str) -> list[str]:
    """A stage's statements as SQL text for `dialect`."""
    out: list[str] = []
    for statement in stage.statements:
        sql = dialects.render(statement.select, dialect, statement.phrases)
        out += (dialects.create_view(dialect, statement.table, sql) if stage.views else
                dialects.create_table(dialect, statement.table, sql))
    return out


def script(plan: AuditPlan, dialect: str) -> str:
    """The whole audit as one SQL file for `dialect`'s own client."""
    lines = header(plan, dialect)
    lines += [f"{s};" for s in dialects.preamble(dialect)]
    for stage in plan_stages(plan):
        lines += ["", f"-- stage: {stage.name}: {stage.comment}"]
        lines += [f"{s};" for s in render_stage(stage, dialect)]
    lines += ["", f"-- The report's figures: SELECT * FROM {plan.prefix}summary ORDER BY figure;",
              f"-- Every billed unit: SELECT * FROM {plan.prefix}findings ORDER BY line, unit;"]
    return "\n".join(lines) + "\n"


def _source_line(plan: AuditPlan) -> str:
    tables = plan.tables
    if tables.schema is not None:
        ids = ", ".join(tables.ai_agent_ids) or "none"
        absent = ", ".join(tables.absent_columns) or "none"
        return (f"-- source: {plan.source}; schema: {tables.schema}; AI agent ids: {ids}; "
                f"absent columns: {absent}; billed units: {plan.billed}")
    return (f"-- source: {plan.source}; events: {tables.events}; conversations: "
            f"{tables.conversations or 'none'}; billed units: {plan.billed}")


def header(plan: AuditPlan, dialect: str) -> list[str]:
    def ruleset(role: str, r: RuleSet) -> str:
        return f"-- {role}: {r.id} {r.version} (sha256 {r.sha256 or 'n/a'})"

    return [
        f"-- resolution-auditor {__version__}: the audit as SQL for {dialect}",
        ruleset("vendor rule set", plan.vendor), ruleset("contract rule set", plan.contract),
        _source_line(plan),
        f"-- period: {plan.period or 'none'}; unit price: {plan.unit_price or 'none'}; "
        f"end of observation: {plan.as_of.isoformat(sep=' ') + ' UTC' if plan.as_of else 'the last event'}",
        f"-- tables created: {plan.prefix}*",
        "-- The billed units table has: line BIGINT, unit BIGINT, conversation_id, billed_at "
        "TIMESTAMP, amount DECIMAL(18, 4)",
        "-- (a negative amount is a credit). Generated SQL: do not edit; see docs/warehouse.md.",
    ]
