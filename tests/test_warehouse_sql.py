"""The portable subset and the scripts: what the lint refuses, what rule expressions become,
and `auditor sql` for every dialect, parsed back by sqlglot in that dialect (Snowflake and
BigQuery are generated and parsed, not run: docs/warehouse.md)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import sqlglot

from auditor.errors import RuleSetError
from auditor.facts import FACT_NAMES
from auditor.rulesets import list_rulesets, resolve_ruleset, ruleset_from_text
from auditor.warehouse import lint
from auditor.warehouse.dialects import DIALECTS, phrase_pattern, render
from auditor.warehouse.rules_sql import compile_portable, verdict_statement
from tests.conftest import run_cli

REFUSED = {
    "list aggregate": "SELECT list(x) FROM t",
    "lambda": "SELECT list_reduce(xs, (a, b) -> a) FROM t",
    "asof join": "SELECT * FROM a ASOF JOIN b ON a.k = b.k AND a.t >= b.t",
    "filter": "SELECT count(*) FILTER (WHERE x) FROM t",
    "exclude": "SELECT * EXCLUDE (x) FROM t",
    "using": "SELECT * FROM a JOIN b USING (k)",
    "regexp outside a macro": "SELECT regexp_matches(x, 'a') FROM t",
    "integer division": "SELECT a / b FROM t",
    "qualify": "SELECT x FROM t QUALIFY row_number() OVER (ORDER BY x) = 1",
    "date function": "SELECT date_diff('second', a, b) FROM t",
    "least outside a macro": "SELECT least(a, b) FROM t",
    "try_cast": "SELECT TRY_CAST(x AS INT) FROM t",
    "array": "SELECT [1, 2] FROM t",
}


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_the_lint_refuses_constructs_outside_the_subset(name: str) -> None:
    # Written as DuckDB writes them: the fast form's constructs must not pass.
    with pytest.raises(lint.NotPortable):
        lint.check(sqlglot.parse_one(REFUSED[name], read="duckdb"))


def test_the_lint_accepts_the_subset() -> None:
    lint.parse("WITH RECURSIVE c (k) AS (SELECT k FROM t UNION ALL SELECT k FROM c) "
               "SELECT a.k, COUNT(CASE WHEN x THEN 1 END), CAST(s AS DOUBLE) / 3600.0, "
               "AUD_SECONDS(a.t, b.t), ROW_NUMBER() OVER (PARTITION BY a.k ORDER BY a.t) "
               "FROM c AS a LEFT JOIN t AS b ON a.k = b.k GROUP BY a.k")


def test_every_builtin_rule_set_has_a_portable_form() -> None:
    for ruleset in list_rulesets():
        compile_portable(ruleset)  # raises if any expression is outside the subset


RULE = """
id = "x"
version = "1.0.0"
title = "x"
kind = "contract"
vendor = "any"
description = "x"
[params.channels]
default = ["chat", "email"]
description = "channels"
[[criteria]]
code = "c"
summary = "c"
when = "{when}"
evidence = "e"
"""


@pytest.mark.parametrize("when, portable", [
    ("date_diff('hour', first_event_at, last_event_at) >= 24", "AUD_FLOOR_DIV"),
    ("least(first_handoff_at, first_human_message_at) IS NOT NULL", "AUD_LEAST"),
    ("list_contains(channels, lower(channel))", "IN ('chat', 'email')"),
    ("n_events / n_customer_messages > 2", "CAST(n_events AS DOUBLE)"),
])
def test_rule_expressions_get_the_portable_rewrites(when: str, portable: str) -> None:
    ruleset = ruleset_from_text(RULE.format(when=when), "x.toml")
    assert portable in compile_portable(ruleset).criteria[0].condition.sql()


@pytest.mark.parametrize("when", [
    "regexp_matches(channel, 'chat')", "strftime(first_event_at, '%H') = '10'",
    "channel > 'a'", "date_diff('month', first_event_at, last_event_at) > 1",
])
def test_rule_expressions_outside_the_subset_are_refused_with_their_key(when: str) -> None:
    ruleset = ruleset_from_text(RULE.format(when=when), "x.toml")
    with pytest.raises(RuleSetError, match=r"x.toml, key 'criteria\[1\].when': cannot run in a "
                                           r"warehouse"):
        compile_portable(ruleset)


def test_phrase_patterns_are_the_same_text_for_every_engine() -> None:
    assert phrase_pattern([]) is None
    pattern = phrase_pattern(["ok.", "a+b", "didn't"])
    assert pattern is not None
    assert "[oO][kK]\\." in pattern and "[aA]\\+[bB]" in pattern and "[dD][iI][dD][nN]'[tT]" in pattern
    assert "(?" not in pattern and "\\b" not in pattern  # no flags, no engine-specific boundary
    assert re.search(pattern, "Ok. thanks") and not re.search(pattern, "okay")


def test_verdicts_render_for_every_dialect() -> None:
    statement = verdict_statement(resolve_ruleset("zendesk-ai-agents"), "facts", "v")
    for dialect in DIALECTS:
        sqlglot.parse_one(render(statement.select, dialect), read=dialect)


@pytest.mark.parametrize("dialect", DIALECTS)
def test_auditor_sql_writes_a_script_each_dialect_parses(dialect: str, tmp_path: Path) -> None:
    result = run_cli(["sql", "--dialect", dialect, "--events", "support.events",
                      "--conversations", "support.conversations", "--billed", "support.billed",
                      "--period", "2026-10-01..2026-10-31", "--prefix", "work.audit_",
                      "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    text = (tmp_path / f"audit.{dialect}.sql").read_text()
    assert "intercom-fin 1.1.1 (sha256 " in text and "strict 1.2.0 (sha256 " in text
    statements = [s for s in sqlglot.parse(text, read=dialect) if s is not None]
    assert len(statements) >= 20  # preamble, source, validation, facts, verdicts, findings
    created = set(re.findall(r"(?:TABLE|VIEW) (work\.audit_\w+)(?: USING parquet)? AS", text))
    assert {"work.audit_summary", "work.audit_findings", "work.audit_events"} <= created
    assert all(name.startswith("work.audit_") for name in
               re.findall(r"(?:CREATE|DROP) (?:OR REPLACE )?(?:TEMPORARY )?(?:TABLE|VIEW) "
                          r"(?:IF EXISTS )?([\w.]+)", text))


def test_auditor_sql_refuses_a_rule_set_that_cannot_run_in_a_warehouse(tmp_path: Path) -> None:
    rules = tmp_path / "mine.toml"
    rules.write_text(RULE.format(when="regexp_matches(channel, 'chat')"))
    result = run_cli(["sql", "--dialect", "postgres", "--contract", str(rules), "--events", "e",
                      "--billed", "b"])
    assert result.exit_code == 2
    assert "cannot run in a warehouse" in result.output and "criteria[1].when" in result.output


def test_auditor_sql_refuses_names_that_are_not_tables() -> None:
    result = run_cli(["sql", "--dialect", "postgres", "--events", "e; DROP TABLE x",
                      "--billed", "b"])
    assert result.exit_code == 2 and "is not a table name" in result.output


def test_fact_names_of_the_portable_facts_are_the_fact_columns() -> None:
    from auditor.facts import FactParams
    from auditor.warehouse.facts_sql import fact_statements

    final = fact_statements(FactParams(), events="e", attrs="a", prefix="p_", out="f")[-1]
    assert [s.alias for s in final.select.expressions] == [
        f for f in [c.name for c in __import__("auditor.facts").facts.FACT_COLUMNS]]
    assert set(s.alias for s in final.select.expressions) == FACT_NAMES
