"""The Zendesk adapter on Fivetran tables, the third-party samples and the sample month."""

from __future__ import annotations

import csv
import io
import json
import shutil
from contextlib import closing
from pathlib import Path

import duckdb
import pytest

from auditor import engine
from auditor.sources import load_sources
from tests import zendesk_builder as zd
from tests.conftest import REPO, SAMPLES, run_cli
from tests.zendesk_builder import ESCALATION, ESCALATION_EVENTS, REOPEN, events_of, load, quarantine

SEEDS = SAMPLES / "fivetran-dbt_zendesk"
AIRBYTE = SAMPLES / "airbyte-source-zendesk-support" / "expected_records_excerpt.jsonl"
MONTH = REPO / "sample_data" / "zendesk_2026-10"


# --- Fivetran tables -----------------------------------------------------------------------------

def test_fivetran_tables_give_the_same_events_as_the_api(con: duckdb.DuckDBPyConnection,
                                                         tmp_path: Path) -> None:
    zd.write_json(tmp_path / "tickets.json", [zd.ticket(7, ESCALATION, channel="email")])
    zd.write_json(tmp_path / "audits.json", {"audits": zd.audits(7, ESCALATION, "email")})
    zd.write_json(tmp_path / "users.json", {"users": zd.users()})
    load(con, tmp_path, ai_agent_ids=["700"])
    api = con.execute("SELECT * FROM events ORDER BY event_id").fetchall()
    with closing(engine.connect()) as again:
        load(again, zd.fivetran(tmp_path / "ft", 7, ESCALATION), ai_agent_ids=["700"])
        fivetran = again.execute("SELECT * FROM events ORDER BY event_id").fetchall()
        assert events_of(again, "7") == ESCALATION_EVENTS
    assert [row[:9] for row in api] == [row[:9] for row in fivetran]


def test_fivetran_parquet_and_previous_status_from_history(con: duckdb.DuckDBPyConnection,
                                                           tmp_path: Path) -> None:
    folder = zd.fivetran(tmp_path / "ft", 8, REOPEN)
    with open(folder / "ticket_field_history.csv", "a") as history:  # another ticket's row
        history.write(f"priority,9,{zd.naive(5)},-1,low\n")
    for table in ("ticket", "ticket_field_history"):
        duckdb.execute(f"COPY (SELECT * FROM read_csv('{folder / table}.csv', all_varchar = true))"
                       f" TO '{folder / table}.parquet' (FORMAT parquet)")
        (folder / f"{table}.csv").unlink()
    load(con, folder)
    assert [t for t, _ in events_of(con, "8")] == [
        "message", "other", "message", "close", "message", "reopen", "close", "other"]
    assert quarantine(con) == [("row 6", "ticket_id", "field change's ticket 9 is not in the "
                                                      "export")]


def test_fivetran_chat_events_carry_messaging_tickets(con: duckdb.DuckDBPyConnection,
                                                      tmp_path: Path) -> None:
    steps = [(0, "customer", "note", "internal: VIP")]
    folder = zd.fivetran(tmp_path / "ft", 7, steps, channel="native_messaging")
    bot = {"author": {"type": "business", "display_name": "Larkspur Bot"},
           "content": {"text": {"text": "Hi! How can I help?"}}, "source": {"type": "zd:answerBot"}}
    zd.write_table(folder / "ticket_chat.csv", ["chat_id", "ticket_id", "user_id"],
                   [["c1", 7, 501], ["c1", 99, 501], ["c2", 98, 501]])
    zd.write_table(folder / "ticket_chat_event.csv",
                   ["chat_id", "created_at", "actor_id", "chat_index", "message", "type",
                    "original_message"],
                   [["c1", zd.naive(1), "agent:123", 0, "", "ChatMessage", json.dumps(bot)],
                    ["c1", zd.naive(2), "501", 1, "thanks", "ChatMessage", ""],
                    ["c1", zd.naive(3), "agent:601", 2, "", "ChatJoin", ""],
                    ["c2", zd.naive(4), "__trigger", 0, "x", "ChatMessage", ""],
                    ["c3", zd.naive(5), "__system", 0, "y", "ChatMessage", ""]])
    load(con, folder)
    rows = con.execute("SELECT event_id, actor_role, event_type, body FROM events "
                       "WHERE event_id LIKE 'c1%' ORDER BY event_id").fetchall()
    assert rows == [("c1#0", "ai_agent", "message", "Hi! How can I help?"),
                    ("c1#1", "customer", "message", "thanks"),
                    ("c1#2", "human_agent", "other", None)]
    assert [(r, f) for r, f, _ in quarantine(con)] == [
        ("line 3", "ticket_id"), ("line 4", "ticket_id"), ("line 5", "chat_id"),
        ("line 6", "chat_id")]
    assert "chat 'c3' is not in ticket_chat" in quarantine(con)[-1][2]


def test_chat_events_of_tickets_with_public_comments_are_quarantined(
        con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    folder = zd.fivetran(tmp_path / "ft", 7, [(0, "customer", "comment", "hi")])
    zd.write_table(folder / "ticket_chat.csv", ["chat_id", "ticket_id"], [["c1", 7]])
    zd.write_table(folder / "ticket_chat_event.csv", ["chat_id", "created_at", "type", "message"],
                   [["c1", zd.naive(0), "ChatMessage", "hi"]])
    summary = load(con, folder)
    assert summary.events == 1 and quarantine(con)[0][2].startswith(
        "ticket 7 has public comments, which hold the conversation")


# --- third-party samples -------------------------------------------------------------------------

def test_fivetran_dbt_seeds_ingest_with_dangling_references_quarantined(
        con: duckdb.DuckDBPyConnection) -> None:
    summary = load_sources(con, [str(SEEDS)], "auto")
    assert {i.format for i in summary.inputs} == {"zendesk"}
    assert summary.records_read == summary.quarantined + 42  # rows used or turned into events
    reasons = con.execute("SELECT source_file, reason FROM quarantine").fetchall()
    comments = [r for f, r in reasons if f.endswith("ticket_comment_data.csv")]
    assert len(comments) == 20 and all(r.endswith("is not in the export") for r in comments)
    chats = [r for f, r in reasons if f.endswith("ticket_chat_event_data.csv")]
    assert len(chats) == 10 and "chat '4323.953441.TzBlankActor' is not in ticket_chat" in chats
    # ticket 11071's status walk: solved is a close; closed after solved is not another one
    assert con.execute("SELECT list(event_type ORDER BY created_at) FILTER (event_id LIKE "
                       "'status@%') FROM events WHERE conversation_id = '11071'"
                       ).fetchall()[0][0][-2:] == ["close", "other"]
    # ticket 6605's chat: Answer Bot messages
    assert con.execute("SELECT DISTINCT actor_role FROM events WHERE conversation_id = '6605'"
                       ).fetchall() == [("ai_agent",)]


def test_airbyte_zendesk_records_ingest(con: duckdb.DuckDBPyConnection) -> None:
    summary = load_sources(con, [str(AIRBYTE)], "auto")
    assert (summary.records_read, summary.conversations) == (11, 3)
    assert sorted(r for _, _, r in quarantine(con)) == sorted(
        ["airbyte stream 'ticket_metric_events' is not used by the audit"] * 3
        + [f"ticket metric's ticket {t} is not in the export" for t in (161, 160, 159)])
    assert con.execute("SELECT conversation_id, is_preview FROM conversations ORDER BY 1"
                       ).fetchall() == [("1", True), ("145", False), ("146", False)]


# --- the sample month: one story, two export shapes ----------------------------------------------

def _canonical_tables(path: Path) -> tuple[list[tuple], list[tuple]]:
    from auditor import engine

    con = engine.connect()
    try:
        load_sources(con, [str(path)], "auto")
        events = con.execute("SELECT conversation_id, event_id, created_at, actor_role::VARCHAR, "
                             "actor_id, event_type::VARCHAR, body, rating, channel FROM events "
                             "ORDER BY conversation_id, event_id").fetchall()
        return events, con.execute("SELECT * FROM conversations ORDER BY 1").fetchall()
    finally:
        con.close()


def test_sample_month_api_and_fivetran_give_the_same_canonical_tables() -> None:
    api_events, api_conversations = _canonical_tables(MONTH / "api")
    fivetran_events, fivetran_conversations = _canonical_tables(MONTH / "fivetran")
    assert len(api_conversations) == 610 and len(api_events) > 5000
    assert api_events == fivetran_events
    assert api_conversations == fivetran_conversations


@pytest.fixture(scope="module")
def month_findings(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """findings.csv of `auditor audit` on each shape of the sample month."""
    findings = {}
    for shape in ("api", "fivetran"):
        out = tmp_path_factory.mktemp(shape)
        result = run_cli(["audit", str(MONTH / shape), "--billed", str(MONTH / "billed.csv"),
                          "--vendor", "zendesk-ai-agents", "--contract", "strict",
                          "--period", "2026-10-01..2026-10-31", "--out", str(out)])
        assert result.exit_code == 1, result.output
        findings[shape] = (out / "findings.csv").read_text()
    return findings


def test_sample_month_audit_is_the_same_from_both_shapes(month_findings: dict[str, str]) -> None:
    assert month_findings["api"] == month_findings["fivetran"]


def test_sample_month_findings_match_the_scenarios(month_findings: dict[str, str]) -> None:
    scenarios = {r["ticket_id"]: r["scenario"]
                 for r in csv.DictReader((MONTH / "scenarios.csv").open())}
    reasons: dict[str, set[str]] = {}
    rows = list(csv.DictReader(io.StringIO(month_findings["api"])))
    for row in rows:  # the first line of each billed ticket (later ones are duplicates)
        if row["reasons"] != "duplicate_billing":
            reasons.setdefault(scenarios[row["conversation_id"]], set()).add(row["reasons"])
    assert sum(row["reasons"] == "duplicate_billing" for row in rows) == 8
    assert reasons["ai_resolved_messaging"] == reasons["ai_resolved_email"] == {""}
    # Zendesk's own definition does not count an escalated ticket either.
    assert reasons["escalated_billed"] >= {"not_vendor_resolution;human_takeover;handoff_requested"}
    assert all("reopened" in r for r in reasons["reopened_billed"])
    assert all("repeat_contact" in r for r in reasons["repeat_contact_first"])
    assert all("negative_feedback" in r for r in reasons["ai_rated_bad"])
    assert {"ai_pending", "escalated_messaging", "human_only"}.isdisjoint(reasons)


def test_sample_month_zendesk_definition_reproduces_the_ai_only_tickets(
        month_findings: dict[str, str]) -> None:
    scenarios = {r["ticket_id"]: r["scenario"]
                 for r in csv.DictReader((MONTH / "scenarios.csv").open())}
    reproduced: dict[str, set[str]] = {}
    for row in csv.DictReader(io.StringIO(month_findings["api"])):
        if row["reasons"] != "duplicate_billing":
            reproduced.setdefault(scenarios[row["conversation_id"]], set()).add(row["reproduced"])
    # Zendesk's own definition: AI-handled email tickets are automated resolutions; tickets a
    # human took over are not, so their billing is not reproduced either way.
    assert reproduced["ai_resolved_email"] == {"true"}
    assert reproduced["escalated_billed"] == {"false"}




def test_sample_month_zendesk_labels_are_a_bill(tmp_path: Path) -> None:
    """--billed-from-labels reads Zendesk's own AI agent status (automated_resolution)."""
    labelled = [c for c in _canonical_tables(MONTH / "api")[1] if "automated_resolution" in c]
    result = run_cli(["audit", str(MONTH / "api"), "--billed-from-labels",
                      "--vendor", "zendesk-ai-agents", "--out", str(tmp_path)])
    assert result.exit_code == 1, result.output
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["billed"]["source"] == "labels"
    assert report["billed"]["items"] == len(labelled) > 0
    assert report["billed"]["amount"] == round(1.50 * len(labelled), 2)


def test_an_empty_table_among_others_is_fine(tmp_path: Path) -> None:
    """An account without chat exports a header-only ticket_chat table: not an error."""
    folder = tmp_path / "fivetran"
    shutil.copytree(MONTH / "fivetran", folder)
    header = (folder / "ticket_chat.csv").read_text().splitlines()[0]
    (folder / "ticket_chat.csv").write_text(header + "\n")
    con = engine.connect()
    try:
        summary = load_sources(con, [str(folder)], "zendesk")
    finally:
        con.close()
    empty = [i for i in summary.inputs if i.path.endswith("ticket_chat.csv")]
    assert empty and empty[0].rows == 0 and summary.events > 0
