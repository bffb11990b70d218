"""Both rule sets' verdicts in one table (pipeline.judge): one pass when they share the facts,
separate passes joined when they do not (what-if params); the two give the same table, and
the per-rule-set views match `evaluate`."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from auditor import engine
from auditor.facts import build_facts
from auditor.pipeline import judge
from auditor.rulesets import resolve_ruleset
from auditor.sources import load_sources
from auditor.verdicts import VERDICT_COLUMNS, evaluate, evaluate_together, fact_params

SAMPLE = Path(__file__).resolve().parent.parent / "sample_data"


@pytest.fixture(scope="module")
def month() -> duckdb.DuckDBPyConnection:
    con = engine.connect()
    load_sources(con, [str(SAMPLE / "intercom_2026-10.jsonl.gz")], "auto")
    vendor = resolve_ruleset("intercom-fin")
    # The same facts twice: a table each, as when the rule sets' fact params differ.
    for table in ("facts_a", "facts_b"):
        build_facts(con, table, fact_params(vendor))
    con.execute("CREATE TABLE billed AS SELECT conversation_id FROM facts_a "
                "ORDER BY conversation_id LIMIT 40")
    return con


def _rows(con: duckdb.DuckDBPyConnection, table: str) -> list[tuple]:
    return con.execute(f"SELECT * FROM {table} ORDER BY conversation_id").fetchall()


def _columns(con: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    return [row[0] for row in con.execute(f"DESCRIBE {table}").fetchall()]


def test_one_pass_and_separate_passes_give_the_same_table(month) -> None:
    vendor, contract = resolve_ruleset("intercom-fin"), resolve_ruleset("strict")
    evaluate_together(month, {"vendor": (vendor, "facts_a"), "contract": (contract, "facts_a")},
                      "together_one", evidence_for="billed", carried=("last_ai_message_at",))
    evaluate_together(month, {"vendor": (vendor, "facts_a"), "contract": (contract, "facts_b")},
                      "together_two", evidence_for="billed", carried=("last_ai_message_at",))
    names = [name for name, *_ in VERDICT_COLUMNS if name != "conversation_id"]
    expected = (["conversation_id", "last_ai_message_at"]
                + [f"{role}_{name}" for role in ("vendor", "contract") for name in names])
    assert _columns(month, "together_one") == _columns(month, "together_two") == expected
    rows = _rows(month, "together_one")
    assert rows == _rows(month, "together_two")
    assert any(row[expected.index("contract_evidence")] for row in rows)  # billed: evidence
    assert any(row[expected.index("contract_evidence")] is None for row in rows)  # others: none


@pytest.mark.parametrize("facts", [("facts_a", "facts_a"), ("facts_a", "facts_b")])
def test_the_views_are_what_evaluate_gives(month, facts: tuple[str, str]) -> None:
    vendor, contract = resolve_ruleset("intercom-fin"), resolve_ruleset("strict")
    judge(month, vendor, contract, facts)
    for role, ruleset, table in (("vendor", vendor, facts[0]), ("contract", contract, facts[1])):
        evaluate(month, ruleset, table, f"alone_{role}", evidence_for="billed")
        assert _columns(month, f"{role}_verdicts") == [name for name, *_ in VERDICT_COLUMNS]
        assert _rows(month, f"{role}_verdicts") == _rows(month, f"alone_{role}")
