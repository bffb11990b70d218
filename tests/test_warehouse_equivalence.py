"""The portable warehouse SQL, run on DuckDB, equals the fast local form: every fact column of
every fact parameter set, every built-in rule set's verdicts (counted, units, decided, reasons,
short_observed) and the findings (status, reasons, reproduced, amounts), row by row.

On the sample months, the edge-case month and generated months; tests/test_warehouse_engines.py
runs the same comparison on PostgreSQL and Spark.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from auditor.engines.duckdb_engine import DuckDBEngine
from tests.conftest import REPO, write_csv
from tests.edge_month import BILLED_HEADER, EVENT_HEADER, write_edge_month
from tests.warehouse_support import all_differences, fast_month, portable_month

SAMPLE = REPO / "sample_data"


def _assert_equal(paths: list[Path], billed: Path | None, **options: str) -> None:
    month = fast_month(paths, billed, **options)
    target = DuckDBEngine()
    try:
        assert all_differences(month, target, portable_month(month, target)) == {}
    finally:
        target.close()
        month.con.close()


def test_intercom_sample_month() -> None:
    _assert_equal([SAMPLE / "intercom_2026-10.jsonl.gz"], SAMPLE / "billed_2026-10.csv")


def test_zendesk_sample_month() -> None:
    _assert_equal([SAMPLE / "zendesk_2026-10" / "api"], SAMPLE / "zendesk_2026-10" / "billed.csv",
                  fmt="zendesk", vendor="zendesk-ai-agents")


def test_edge_case_month(tmp_path: Path) -> None:
    events, conversations, billed = write_edge_month(tmp_path)
    _assert_equal([events, conversations], billed, fmt="canonical")


def test_edge_case_month_pins_what_engines_disagree_on(tmp_path: Path) -> None:
    """The definitions the portable form pinned, as the local run now computes them too."""
    events, conversations, billed = write_edge_month(tmp_path)
    month = fast_month([events, conversations], billed, fmt="canonical")
    facts = dict(month.con.execute(
        "SELECT conversation_id, [customer_asked_for_human, customer_confirmed_after_last_ai, "
        "customer_reacted_negatively] FROM fast_facts_1 WHERE conversation_id LIKE 'look-%'"
    ).fetchall())
    assert facts["look-kelvin"] == [False, False, False]  # the Kelvin sign is not a k
    assert facts["look-longs"] == [False, False, False]  # the long s is not an s
    assert facts["look-accent"][0] and facts["look-upper"][0]  # é bounds a word; ASCII folds
    assert not facts["look-plural"][0] and not facts["look-underscore"][1]
    assert facts["look-straight"][2] and not facts["look-curly"][2]
    rows = dict(month.con.execute(
        "SELECT conversation_id, [next_contact_conversation_id, CAST(hours_to_next_contact AS "
        "VARCHAR), CAST(conversation_windows AS VARCHAR), CAST(customer_sessions_started AS "
        "VARCHAR)] FROM fast_facts_1").fetchall())
    assert rows["sess-2"][0] == "sess-3"  # two next contacts at one instant: the smaller id
    assert rows["tie-a"][0] == "tie-m"
    assert rows["b72-first"][1] == "72.0" and rows["five"][2] == "5"
    assert [rows[f"sess-{n}"][3] for n in range(1, 5)] == ["1", "0", "1", "0"]
    assert rows["subsec"][0] is None


# --- generated months ------------------------------------------------------------------------

START = datetime(2026, 10, 3, 9, 0)
STEPS = [timedelta(0), timedelta(milliseconds=200), timedelta(seconds=1), timedelta(minutes=7),
         timedelta(hours=1), timedelta(hours=24), timedelta(hours=72), timedelta(days=2)]
TEXTS = ["Where is my order?", "thanks", "Thank you!", "that didn't help", "I want a HUMAN",
         "humans", "Than\u212as", "ok thanks?", "\u017fure", "speak to someone please", "",
         "great \U0001f44d", "not helpful at all", "sure"]
ROLES = ["customer", "customer", "ai_agent", "ai_agent", "human_agent", "bot", "system"]
TYPES = ["message", "message", "message", "handoff", "close", "reopen", "rating", "note"]


@st.composite
def generated_month(draw: st.DrawFn) -> tuple[list[list[object]], list[list[object]]]:
    rows: list[list[object]] = []
    ids = []
    for n in range(draw(st.integers(1, 10))):
        cid = f"g{n}"
        ids.append(cid)
        customer = draw(st.sampled_from(["cu1", "cu2", "cu3", ""]))
        moment = START + draw(st.sampled_from(STEPS)) * draw(st.integers(0, 3))
        for k in range(draw(st.integers(0, 7))):
            moment += draw(st.sampled_from(STEPS))
            role, kind = draw(st.sampled_from(ROLES)), draw(st.sampled_from(TYPES))
            rating = draw(st.sampled_from([1, 2, 5])) if kind == "rating" else ""
            stamp = moment.isoformat(timespec="milliseconds") + "Z"
            rows.append([cid, f"{cid}-{k}", stamp, role, customer if role == "customer" else
                         "fin", kind, draw(st.sampled_from(TEXTS)), rating, "chat"])
    billed = [[draw(st.sampled_from([*ids, "ghost"])), "2026-10-20T00:00:00Z",
               draw(st.sampled_from(["", "0.99"]))] for _ in range(draw(st.integers(0, 8)))]
    return rows, billed


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                 HealthCheck.function_scoped_fixture])
@given(data=generated_month())
def test_generated_months(tmp_path_factory: pytest.TempPathFactory,
                          data: tuple[list[list[object]], list[list[object]]]) -> None:
    rows, billed = data
    if not rows:
        return
    folder = tmp_path_factory.mktemp("generated")
    events = write_csv(folder / "events.csv", EVENT_HEADER, rows)
    bill = write_csv(folder / "billed.csv", BILLED_HEADER, billed) if billed else None
    _assert_equal([events], bill, fmt="canonical")
