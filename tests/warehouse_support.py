"""Test plumbing for the warehouse SQL: the fast local run and the portable SQL on an engine,
on the same validated events, compared table by table, row by row, column by column."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import duckdb
import pyarrow as pa

from auditor import billing, engine
from auditor.engines import Engine
from auditor.facts import FACT_COLUMNS, build_facts
from auditor.pipeline import judge, observation_end
from auditor.reconcile import Period, build_findings
from auditor.rulesets import RuleSet, list_rulesets, resolve_ruleset
from auditor.sources import load_sources
from auditor.verdicts import evaluate, fact_params
from auditor.warehouse import dialects
from auditor.warehouse.facts_sql import Statement, fact_statements
from auditor.warehouse.reconcile_sql import findings_statements
from auditor.warehouse.rules_sql import verdict_statement

PREFIX = "w_"
FACT_NAMES = [f.name for f in FACT_COLUMNS]
VERDICT_COLUMNS = ["conversation_id", "counted", "units", "decided", "reasons", "short_observed"]
FINDING_COLUMNS = ["line", "unit", "conversation_id", "billed_at", "amount", "status", "reasons",
                   "reproduced"]


@dataclass
class Month:
    """A month audited locally (fast form), with every fact of every parameter set."""

    con: duckdb.DuckDBPyConnection
    ends_at: datetime | None
    period: Period | None
    vendor: RuleSet
    contract: RuleSet
    rulesets: list[RuleSet] = field(default_factory=list)
    facts: dict[str, str] = field(default_factory=dict)  # FactParams key -> local table


def fast_month(paths: Iterable[str | Path], billed_csv: str | Path | None, *,
               fmt: str = "auto", vendor: str = "intercom-fin", contract: str = "strict",
               period: str | None = "2026-10-01..2026-10-31") -> Month:
    con = engine.connect()
    load_sources(con, [str(p) for p in paths], fmt)
    month = Month(con, observation_end(con, None), Period.parse(period) if period else None,
                  resolve_ruleset(vendor), resolve_ruleset(contract), list_rulesets())
    for ruleset in month.rulesets:
        key = fact_params(ruleset).key()
        if key not in month.facts:
            month.facts[key] = f"fast_facts_{len(month.facts) + 1}"
            build_facts(con, month.facts[key], fact_params(ruleset), None, month.ends_at)
        evaluate(con, ruleset, month.facts[key], _verdicts(ruleset))
    if billed_csv is not None:
        billing.load_billed_csv(con, billed_csv, export_ids="fast_facts_1")
    else:
        billing.empty_billed(con)
    # The verdicts findings read, as the pipeline judges them.
    judge(con, month.vendor, month.contract,
          (month.facts[fact_params(month.vendor).key()],
           month.facts[fact_params(month.contract).key()]))
    price = month.vendor.unit_price
    build_findings(con, month.period, None if price is None else _decimal(price),
                   month.contract, month.vendor)
    return month


def _decimal(value: float):  # noqa: ANN202
    from decimal import Decimal
    return Decimal(str(value))


def _verdicts(ruleset: RuleSet) -> str:
    return "fast_verdicts_" + ruleset.id.replace("-", "_")


# --- the portable SQL on an engine --------------------------------------------------------

def load_inputs(month: Month, target: Engine) -> None:
    """The month's validated tables, as the portable stages read them, into `target`."""
    tables = {
        "events": "SELECT conversation_id, event_id, created_at, CAST(actor_role AS VARCHAR) "
                  "AS actor_role, actor_id, CAST(event_type AS VARCHAR) AS event_type, body, "
                  "rating, channel FROM events",
        "conversation_attrs": "SELECT * FROM conversation_attrs",
        "unjudgeable": "SELECT conversation_id, array_to_string(reasons, ';') AS reasons, "
                       "CAST(1 AS BIGINT) AS n_quarantined, evidence AS first_problem "
                       "FROM unjudgeable",
        "billed": "SELECT line, unit, conversation_id, billed_at, amount FROM billed "
                  "UNION ALL SELECT line, 1, conversation_id, billed_at, amount "
                  "FROM billed_credits",
    }
    for name, query in tables.items():
        target.load_arrow(PREFIX + name, month.con.sql(query).to_arrow_table())


def run(target: Engine, statements: list[Statement]) -> None:
    for statement in statements:
        target.create_table(statement.table,
                            dialects.render(statement.select, target.dialect, statement.phrases))


def portable_month(month: Month, target: Engine) -> dict[str, str]:
    """Every fact, every rule set's verdicts and the findings, by the portable SQL on
    `target`; returns FactParams key -> facts table there."""
    for text in dialects.preamble(target.dialect):  # UTC, whatever the server's default
        target.execute(text)
    load_inputs(month, target)
    facts: dict[str, str] = {}
    for ruleset in month.rulesets:
        params = fact_params(ruleset)
        if params.key() not in facts:
            number = len(facts) + 1
            facts[params.key()] = f"{PREFIX}facts_{number}"
            run(target, fact_statements(params, events=f"{PREFIX}events",
                                        attrs=f"{PREFIX}conversation_attrs",
                                        prefix=f"{PREFIX}f{number}_", out=facts[params.key()],
                                        ends_at=month.ends_at))
        run(target, [verdict_statement(ruleset, facts[params.key()],
                                       PREFIX + _verdicts(ruleset))])
    for role, ruleset in (("vendor", month.vendor), ("contract", month.contract)):
        run(target, [verdict_statement(ruleset, facts[fact_params(ruleset).key()],
                                       f"{PREFIX}{role}_verdicts")])
    price = month.vendor.unit_price
    run(target, findings_statements(PREFIX, facts[fact_params(month.vendor).key()], month.period,
                                    None if price is None else _decimal(price), month.contract,
                                    month.vendor))
    return facts


# --- comparing ----------------------------------------------------------------------------

def differences(month: Month, local_query: str, remote: pa.Table, key: list[str],
                columns: list[str]) -> list[str]:
    """Rows and columns where the local query and the engine's table differ (empty: equal)."""
    con = month.con
    con.register("remote_rows", remote)
    try:
        con.execute(f"CREATE OR REPLACE TEMP TABLE local_rows AS {local_query}")
        count_local = con.execute("SELECT count(*) FROM local_rows").fetchall()[0][0]
        problems = [] if count_local == remote.num_rows else [
            f"{count_local} local rows, {remote.num_rows} in the engine"]
        on = " AND ".join(f"l.{k} IS NOT DISTINCT FROM r.{k}" for k in key)
        for column in columns:
            rows = con.execute(
                f"SELECT l.{key[-1]}, l.{column}, r.{column} FROM local_rows l "
                f"FULL JOIN remote_rows r ON {on} "
                f"WHERE l.{column} IS DISTINCT FROM r.{column} LIMIT 3").fetchall()
            if rows:
                problems.append(f"{column}: {rows}")
        return problems
    finally:
        con.unregister("remote_rows")


def all_differences(month: Month, target: Engine, facts: dict[str, str]) -> dict[str, list[str]]:
    """Facts of every parameter set, every rule set's verdicts and the findings."""
    found: dict[str, list[str]] = {}
    for key, table in facts.items():
        local = month.facts[key]
        found[table] = differences(month, f"SELECT * FROM {local}",
                                   target.fetch_arrow(f"SELECT * FROM {table}"),
                                   ["conversation_id"], FACT_NAMES)
    for ruleset in month.rulesets:
        name = _verdicts(ruleset)
        found[name] = differences(
            month, f"SELECT conversation_id, counted, units, decided, "
                   f"array_to_string(reasons, ';') AS reasons, short_observed FROM {name}",
            target.fetch_arrow(f"SELECT * FROM {PREFIX}{name}"), ["conversation_id"],
            VERDICT_COLUMNS)
    found["findings"] = differences(
        month, "SELECT line, unit, conversation_id, billed_at, amount, status, "
               "array_to_string(reasons, ';') AS reasons, reproduced FROM findings",
        target.fetch_arrow(f"SELECT * FROM {PREFIX}findings"), ["line", "unit"],
        FINDING_COLUMNS)
    return {k: v for k, v in found.items() if v}
