"""Conversation facts on tiny event logs: a case table of (events, fact, expected)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import duckdb
import pytest

from auditor.facts import FACT_COLUMNS, FactParams, build_facts
from auditor.sources import load_sources
from tests.conftest import write_events

C, AI, H = "customer", "ai_agent", "human_agent"


def at(day: int, hhmm: str) -> str:
    return f"2026-10-{day:02d}T{hhmm}:00Z"


def _ts(day: int, hhmm: str) -> datetime:
    return datetime(2026, 10, day, int(hhmm[:2]), int(hhmm[3:]))


ASK = ["c1", at(1, "10:00"), C, "u1", "message", "My card was charged twice"]
ANSWER = ["c1", at(1, "10:01"), AI, "fin", "message", "I have refunded the duplicate charge."]

CASES = {
    "thanks_after_ai_is_a_confirmation": (
        [ASK, ANSWER, ["c1", at(1, "10:02"), C, "u1", "message", "Thanks, that helped!"]],
        {"customer_confirmed_after_last_ai": True, "customer_followup_after_last_ai": False}),
    "thanks_with_a_question_is_a_followup": (
        [ASK, ANSWER, ["c1", at(1, "10:02"), C, "u1", "message", "Thanks, but when will I see it?"]],
        {"customer_confirmed_after_last_ai": False, "customer_followup_after_last_ai": True}),
    # A contract that "counts only if the customer confirmed" needs this fact: the AI answering
    # the thanks makes customer_confirmed_after_last_ai false.
    "thanks_answered_by_the_ai_is_still_a_confirmation": (
        [ASK, ANSWER, ["c1", at(1, "10:02"), C, "u1", "message", "Thanks, that helped!"],
         ["c1", at(1, "10:03"), AI, "fin", "message", "You're welcome!"]],
        {"customer_confirmed_after_first_ai": True, "customer_confirmed_after_last_ai": False,
         "customer_followup_unanswered": False}),
    "thanks_then_a_followup_still_confirmed_once": (
        [ASK, ANSWER, ["c1", at(1, "10:02"), C, "u1", "message", "Thanks!"],
         ["c1", at(1, "10:05"), C, "u1", "message", "Wait, it is still pending"]],
        {"customer_confirmed_after_first_ai": True, "customer_confirmed_after_last_ai": False,
         "customer_followup_unanswered": True, "unanswered_followup_at": _ts(1, "10:05")}),
    "thanks_before_any_ai_message_is_no_confirmation_of_it": (
        [["c1", at(1, "09:59"), C, "u1", "message", "Thanks in advance"], ASK, ANSWER],
        {"customer_confirmed_after_first_ai": False}),
    "a_question_is_no_confirmation": (
        [ASK, ANSWER, ["c1", at(1, "10:02"), C, "u1", "message", "Thanks, but when will I see it?"]],
        {"customer_confirmed_after_first_ai": False, "customer_followup_unanswered": True,
         "unanswered_followup_at": _ts(1, "10:02")}),
    "followup_answered_by_the_ai": (
        [ASK, ANSWER, ["c1", at(1, "10:02"), C, "u1", "message", "When will I see it?"],
         ["c1", at(1, "10:03"), AI, "fin", "message", "Within 5 days."]],
        {"customer_followup_unanswered": False, "unanswered_followup_at": None}),
    "followup_answered_by_a_human": (
        [ASK, ANSWER, ["c1", at(1, "10:02"), C, "u1", "message", "When will I see it?"],
         ["c1", at(1, "10:20"), H, "a1", "message", "Tomorrow."]],
        {"customer_followup_unanswered": False, "customer_followup_after_last_ai": True}),
    "a_human_note_does_not_answer_a_followup": (
        [ASK, ANSWER, ["c1", at(1, "10:02"), C, "u1", "message", "When will I see it?"],
         ["c1", at(1, "10:20"), H, "a1", "note", "customer asks about timing"]],
        {"customer_followup_unanswered": True}),
    "no_followup_without_an_ai_message": (
        [ASK, ["c1", at(1, "10:05"), H, "a1", "message", "Hello"],
         ["c1", at(1, "10:06"), C, "u1", "message", "When will I see it?"]],
        {"customer_followup_unanswered": False, "customer_confirmed_after_first_ai": False}),
    "asking_for_a_human": (
        [ASK, ["c1", at(1, "10:01"), C, "u1", "message", "Can I talk to a human?"]],
        {"customer_asked_for_human": True, "has_ai_message": False}),
    "internal_note_is_not_a_human_message": (
        [ASK, ANSWER, ["c1", at(1, "10:05"), H, "a1", "note", "checked the refund"]],
        {"has_human_message": False, "n_notes": 1}),
    "human_then_ai_closing": (
        [ASK, ANSWER, ["c1", at(1, "10:12"), H, "a1", "message", "Done, refunded manually."],
         ["c1", at(1, "10:31"), AI, "fin", "message", "Is there anything else I can help with?"]],
        {"has_human_message": True, "human_after_ai": True, "ai_after_human": True,
         "last_message_role": "ai_agent"}),
    "customer_writes_after_close": (
        [ASK, ANSWER, ["c1", at(1, "11:00"), "system", "", "close"],
         ["c1", at(3, "09:00"), C, "u1", "message", "It happened again"]],
        {"reopened": True, "n_reopen_events": 0}),
    "handoff_before_last_ai_message": (
        [ASK, ["c1", at(1, "10:00"), AI, "fin", "handoff"], ANSWER],
        {"has_handoff": True, "handoff_after_last_ai": False}),
    "repeat_contact_within_hours": (
        [ASK, ANSWER, ["c2", at(3, "10:00"), C, "u1", "message", "Charged again!"]],
        {"next_contact_conversation_id": "c2", "hours_to_next_contact": pytest.approx(47.9833, 1e-3)}),
    "ratings": (
        [ASK, ANSWER, ["c1", at(1, "10:05"), C, "u1", "rating", "", "2"],
         ["c1", at(1, "10:06"), C, "u1", "rating", "", "4"]],
        {"min_rating": 2, "last_rating": 4, "n_ratings": 2}),
    "outbound_without_customer_message": (
        [["c1", at(1, "09:00"), "bot", "op", "message", "Our prices change next month"],
         ["c1", at(1, "09:01"), AI, "fin", "message", "Ask me anything!"]],
        {"no_customer_message": True, "customer_id": None}),
    "thanks_then_question_is_a_followup_at_the_question": (
        [ASK, ANSWER, ["c1", at(1, "10:02"), C, "u1", "message", "Thanks!"],
         ["c1", at(2, "10:01"), C, "u1", "message", "Why is it still pending?"]],
        {"first_reply_after_last_ai_at": _ts(1, "10:02"),
         "first_followup_after_last_ai_at": _ts(2, "10:01"),
         "hours_to_followup_after_last_ai": 24.0}),
    "inactivity_is_measured_against_the_export_end": (
        [ASK, ANSWER, ["c9", at(4, "10:01"), C, "u9", "message", "unrelated, later"]],
        {"hours_observed_after_last_event": 72.0,
         "hours_observed_after_first_customer_message": pytest.approx(72.0167, 1e-3)}),
    "one_window_when_the_customer_writes_again_before_24h": (
        [ASK, ANSWER, ["c1", at(2, "09:59"), C, "u1", "message", "One more thing"]],
        {"conversation_windows": 1}),
    "a_new_window_at_exactly_24h": (
        [ASK, ANSWER, ["c1", at(2, "10:00"), C, "u1", "message", "One more thing"]],
        {"conversation_windows": 2}),
    # Greedy windows, not fixed buckets: 10:00, +30 h, +50 h is two windows (the third message
    # falls in the window opened at +30 h), where 24-hour buckets would say three.
    "windows_are_greedy_not_buckets": (
        [ASK, ANSWER, ["c1", at(2, "16:00"), C, "u1", "message", "Back again"],
         ["c1", at(3, "12:00"), C, "u1", "message", "And again"]],
        {"conversation_windows": 2}),
    "the_ai_welcome_opens_the_window": (
        [["c1", at(1, "09:00"), AI, "fin", "message", "Hi! How can I help?"],
         ["c1", at(2, "08:59"), C, "u1", "message", "Where is my order?"]],
        {"conversation_windows": 1}),
    "a_session_covers_the_customers_next_conversation": (
        [ASK, ANSWER, ["c2", at(1, "20:00"), C, "u1", "message", "New question"],
         ["c2", at(1, "20:01"), AI, "fin", "message", "Here you go"],
         ["c3", at(2, "10:00"), C, "u1", "message", "Third question"],
         ["c3", at(2, "10:01"), AI, "fin", "message", "Answered"]],
        {"customer_sessions_started": 1}),
    "no_session_without_the_ai": (
        [ASK, ["c1", at(1, "10:05"), H, "a1", "message", "A human answers"]],
        {"customer_sessions_started": 0, "conversation_windows": 1}),
}


SESSION_MONTH = CASES["a_session_covers_the_customers_next_conversation"][0]


@pytest.mark.parametrize("name", CASES)
def test_fact(name: str, tmp_path: Path, con: duckdb.DuckDBPyConnection) -> None:
    rows, expected = CASES[name]
    load_sources(con, [str(write_events(tmp_path / "e.csv", rows))], "canonical")
    build_facts(con, "facts", FactParams())
    result = con.execute("SELECT * FROM facts WHERE conversation_id = 'c1'")
    columns = [d[0] for d in result.description]
    facts = dict(zip(columns, result.fetchall()[0]))
    assert {k: facts[k] for k in expected} == expected


def test_facts_table_has_exactly_the_documented_columns(tmp_path: Path, con: duckdb.DuckDBPyConnection) -> None:
    load_sources(con, [str(write_events(tmp_path / "e.csv", [ASK, ANSWER]))], "canonical")
    build_facts(con, "facts", FactParams())
    described = con.execute("DESCRIBE facts").fetchall()
    assert [(n, t) for n, t, *_ in described] == [(f.name, f.sql_type) for f in FACT_COLUMNS]


def test_phrase_lists_are_parameters(tmp_path: Path, con: duckdb.DuckDBPyConnection) -> None:
    rows = [ASK, ANSWER, ["c1", at(1, "10:02"), C, "u1", "message", "merci beaucoup"]]
    load_sources(con, [str(write_events(tmp_path / "e.csv", rows))], "canonical")
    build_facts(con, "facts", FactParams(confirmation_phrases=["merci"]))
    assert con.execute("SELECT customer_confirmed_after_last_ai FROM facts").fetchall() == [(True,)]


def test_facts_limited_to_the_columns_rule_sets_read_keep_their_values(tmp_path: Path, con: duckdb.DuckDBPyConnection) -> None:
    rows = [ASK, ANSWER, ["c2", at(2, "10:00"), C, "u1", "message", "Charged again!"]]
    load_sources(con, [str(write_events(tmp_path / "e.csv", rows))], "canonical")
    build_facts(con, "all_facts", FactParams())
    build_facts(con, "narrow", FactParams(), {"has_ai_message", "hours_to_next_contact"})
    assert [d[0] for d in con.execute("SELECT * FROM narrow").description] == \
        ["conversation_id", "has_ai_message", "hours_to_next_contact"]
    query = "SELECT conversation_id, has_ai_message, hours_to_next_contact FROM {} ORDER BY 1"
    assert con.execute(query.format("narrow")).fetchall() == con.execute(query.format("all_facts")).fetchall()


def test_sessions_belong_to_the_conversation_where_they_start(
        tmp_path: Path, con: duckdb.DuckDBPyConnection) -> None:
    # c1 opens the session at 10:00; c2 (20:00) falls inside it; c3 (next day 10:00) is 24 h
    # after 10:00 and opens the second one.
    load_sources(con, [str(write_events(tmp_path / "e.csv", SESSION_MONTH))], "canonical")
    build_facts(con, "facts", FactParams(), ["customer_sessions_started"])
    rows = con.execute("SELECT conversation_id, customer_sessions_started FROM facts "
                       "ORDER BY 1").fetchall()
    assert rows == [("c1", 1), ("c2", 0), ("c3", 1)]


def test_observation_ends_at_the_given_time(tmp_path: Path, con: duckdb.DuckDBPyConnection) -> None:
    load_sources(con, [str(write_events(tmp_path / "e.csv", [ASK, ANSWER]))], "canonical")
    build_facts(con, "export_end", FactParams(), ["hours_observed_after_last_ai"])
    build_facts(con, "as_of", FactParams(), ["hours_observed_after_last_ai"],
                ends_at=_ts(2, "10:01"))
    assert con.execute("SELECT e.hours_observed_after_last_ai, a.hours_observed_after_last_ai "
                       "FROM export_end e, as_of a").fetchall() == [(0.0, 24.0)]


def test_window_length_is_a_parameter(tmp_path: Path, con: duckdb.DuckDBPyConnection) -> None:
    rows = CASES["windows_are_greedy_not_buckets"][0]
    load_sources(con, [str(write_events(tmp_path / "e.csv", rows))], "canonical")
    build_facts(con, "facts", FactParams(window_hours=12), ["conversation_windows"])
    assert con.execute("SELECT conversation_windows FROM facts").fetchall() == [(3,)]
