"""Auditing Zendesk exports end to end: handoffs after the AI assigned a ticket to itself, both
API event shapes, who is taken as the AI agent, and the vendor rule set chosen by the format."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from auditor.schema import EVENT_COLUMNS, column_names
from tests import zendesk_builder as zd
from tests.conftest import run_cli, write_csv, write_events
from tests.intercom_builder import conversation, write_jsonl
from tests.zendesk_builder import ESCALATION, events_of, load

ASK = (0, "customer", "comment", "My export fails")
REPLY = (1, "ai", "comment", "Clear the cache and retry.")
SELF_ASSIGN = (1, "ai", "assignee_id", "700")  # the AI agent's user takes the ticket
STILL_FAILS = (5, "customer", "comment", "I tried that but it still fails")
TO_TIER_2 = (6, "system", "group_id", "9002")  # a trigger routes the ticket to Tier 2


def audit_cli(tmp_path: Path, export: list[Path], billed: list[str],
              *options: str) -> tuple[str, dict, str]:
    """`auditor audit` -> (terminal output, report.json, findings.csv)."""
    out = tmp_path / "out"
    bill = write_csv(tmp_path / "bill.csv", ["conversation_id"], [[b] for b in billed])
    result = run_cli(["audit", *map(str, export), "--billed", str(bill), "--out", str(out),
                      *options])
    assert result.exit_code in (0, 1), result.output
    return (result.output, json.loads((out / "report.json").read_text()),
            (out / "findings.csv").read_text())


def audits_export(folder: Path, tid: int, steps: list[zd.Step], *, together: bool = True,
                  channel: str = "email") -> list[Path]:
    folder.mkdir(exist_ok=True)
    return [zd.write_json(folder / "tickets.json", {"tickets": [zd.ticket(tid, steps,
                                                                          channel=channel)]}),
            zd.write_json(folder / "audits.json",
                          {"audits": zd.audits(tid, steps, channel, together=together)}),
            zd.write_json(folder / "users.json", {"users": zd.users()})]


def _line(report: dict, findings: str) -> tuple[str, str]:
    row = findings.splitlines()[1].split(",")
    return row[5], row[6]


# --- a reassignment after the AI took the ticket itself is a handoff ------------------------------

@pytest.mark.parametrize("steps", [
    [ASK, REPLY, SELF_ASSIGN, STILL_FAILS, TO_TIER_2],  # self-assigned in the audit of its reply
    [ASK, (0.5, "ai", "assignee_id", "700"), REPLY, STILL_FAILS, TO_TIER_2],  # before its reply
    [ASK, REPLY, STILL_FAILS, TO_TIER_2],  # never self-assigned
], ids=["self-assigned-with-reply", "self-assigned-before-reply", "not-self-assigned"])
def test_routing_after_the_ai_replied_is_a_handoff_whoever_held_the_ticket(
        tmp_path: Path, steps: list[zd.Step]) -> None:
    export = audits_export(tmp_path / "x", 7, steps)
    _, report, findings = audit_cli(tmp_path, export, ["7"], "--contract", "strict")
    status, reasons = _line(report, findings)
    assert status == "disputed" and "handoff_requested" in reasons.split(";")
    assert "handoff: 2026-10-01 10:06 UTC" in findings


def test_the_ai_assigning_the_ticket_to_itself_is_no_handoff(con: duckdb.DuckDBPyConnection,
                                                             tmp_path: Path) -> None:
    load(con, *audits_export(tmp_path / "x", 7, [ASK, REPLY, SELF_ASSIGN, STILL_FAILS]))
    assert events_of(con, "7") == [("message", "customer"), ("message", "ai_agent"),
                                   ("assignment", "ai_agent"), ("message", "customer")]


def test_only_the_first_routing_after_an_ai_reply_is_a_handoff(
        con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    steps = [ASK, REPLY, SELF_ASSIGN, TO_TIER_2, (8, "agent", "assignee_id", "601")]
    load(con, *audits_export(tmp_path / "x", 7, steps))
    assert [t for t, _ in events_of(con, "7")].count("handoff") == 1


# --- the incremental ticket events export gives the same events as the audits ------------------

FIELD_CHANGES = [(2, "agent", "priority", "high"), (2, "agent", "subject", "Export fails"),
                 (3, "agent", "tags", ["vip"]), (4, "agent", "requester_id", "501"),
                 (4, "agent", "tags", ["vip", "billing"])]


@pytest.mark.parametrize("steps", [ESCALATION, [*ESCALATION[:4], *FIELD_CHANGES, *ESCALATION[4:]]],
                         ids=["escalation", "with-other-field-changes"])
def test_ticket_events_and_audits_give_the_same_events(tmp_path: Path,
                                                       steps: list[zd.Step]) -> None:
    def events(name: str, page: dict) -> list[tuple]:
        folder = tmp_path / name
        folder.mkdir()
        zd.write_json(folder / "tickets.json", [zd.ticket(7, steps)])
        zd.write_json(folder / "events.json", page)
        zd.write_json(folder / "users.json", {"users": zd.users()})
        from auditor import engine
        con = engine.connect()
        try:
            load(con, folder)
            return con.execute(f"SELECT {', '.join(column_names(EVENT_COLUMNS))} FROM events "
                               "ORDER BY event_id").fetchall()
        finally:
            con.close()

    audits = events("audits", {"audits": zd.audits(7, steps)})
    ticket_events = events("ticket_events", {"ticket_events": zd.ticket_events(7, steps),
                                             "end_of_stream": True})
    assert audits == ticket_events
    other_fields = [s for s in steps if s[2] in ("priority", "subject", "tags", "requester_id")]
    assert [e[1] for e in audits if e[1].split("@")[0] in ("priority", "subject", "tags",
                                                           "requester_id")] \
        == sorted(f"{s[2]}@{zd.iso(s[0])}" for s in other_fields)


# --- who is taken as the AI agent, and the report says so ---------------------------------------

def test_the_report_names_the_ai_agent_found_by_its_channel(tmp_path: Path) -> None:
    output, report, _ = audit_cli(tmp_path, audits_export(tmp_path / "x", 7, [ASK, REPLY]),
                                  ["7"])
    assert report["ingest"]["ai_agents"] == [
        {"id": "700", "name": "Helper", "how": "via.channel answer_bot*"}]
    line = "Taken as the AI agent: user 700 (Helper), by via.channel answer_bot*."
    assert line in output and line in (tmp_path / "out" / "report.md").read_text()


def test_the_report_names_the_ai_agent_found_by_name_or_by_id(tmp_path: Path) -> None:
    folder = zd.fivetran(tmp_path / "ft", 7, [ASK, REPLY])  # comments carry no via
    zd.write_table(folder / "user.csv", ["id", "name", "role"],
                   [["501", "Casey", "end-user"], ["700", "Helper", "agent"],
                    ["701", "Answer Bot", "agent"]])
    _, report, _ = audit_cli(tmp_path, [folder], ["7"], "--ai-agent-id", "700")
    assert report["ingest"]["ai_agents"] == [
        {"id": "700", "name": "Helper", "how": "--ai-agent-id"},
        {"id": "701", "name": "Answer Bot", "how": "user name 'Answer Bot'"}]


def test_no_ai_agent_found_is_said_with_how_to_name_it(tmp_path: Path) -> None:
    folder = zd.fivetran(tmp_path / "ft", 7, [ASK, REPLY])
    output, report, _ = audit_cli(tmp_path, [folder], ["7"])
    assert report["ingest"]["ai_agents"] == []
    note = next(n for n in report["notes"] if n.startswith("No user was taken as the Zendesk"))
    assert "--ai-agent-id USER_ID" in note and f"Note: {note}" in output


# --- --vendor defaults by the export's format ---------------------------------------------------

def test_a_zendesk_export_without_vendor_is_priced_by_zendesk(tmp_path: Path) -> None:
    output, report, _ = audit_cli(tmp_path, audits_export(tmp_path / "x", 7, [ASK, REPLY]),
                                  ["7"])
    assert (report["vendor"], report["billed"]["unit_price"]) == ("zendesk-ai-agents", 1.5)
    assert report["reproduction"]["ruleset"] == "zendesk-ai-agents"
    note = ("No --vendor given: the export is zendesk, so it is checked against "
            "zendesk-ai-agents, the default for that format")
    assert any(n.startswith(note) for n in report["notes"]) and note in output


def test_an_explicit_vendor_wins_and_needs_no_note(tmp_path: Path) -> None:
    _, report, _ = audit_cli(tmp_path, audits_export(tmp_path / "x", 7, [ASK, REPLY]), ["7"],
                             "--vendor", "intercom-fin")
    assert report["vendor"] == "intercom-fin"
    assert not any(n.startswith("No --vendor") for n in report["notes"])


def test_an_intercom_export_without_vendor_keeps_intercom_fin(tmp_path: Path) -> None:
    export = write_jsonl(tmp_path / "export.jsonl", [conversation("c1", [
        (0, "customer", "comment", "hi"), (1, "fin", "comment", "hello")])])
    _, report, _ = audit_cli(tmp_path, [export], ["c1"])
    assert report["vendor"] == "intercom-fin" and report["ingest"]["ai_agents"] == []
    assert any("the export is intercom, so it is checked against intercom-fin" in n
               for n in report["notes"])


def test_formats_of_different_vendors_need_a_vendor(tmp_path: Path) -> None:
    folder = tmp_path / "x"
    export = audits_export(folder, 7, [ASK, REPLY])
    events = write_events(folder / "events.csv", [["c1", "2026-10-01T10:00:00Z", "customer",
                                                   "u1", "message", "hello"]])
    bill = write_csv(tmp_path / "bill.csv", ["conversation_id"], [["7"]])
    result = run_cli(["audit", *map(str, export), str(events), "--billed", str(bill)])
    assert result.exit_code == 2
    assert "mixes formats of different vendors (canonical, zendesk)" in result.stderr
    assert "--vendor intercom-fin or --vendor zendesk-ai-agents" in result.stderr


def test_ingest_names_the_ai_agent_too(tmp_path: Path) -> None:
    folder = zd.fivetran(tmp_path / "ft", 7, [ASK, REPLY])
    result = run_cli(["ingest", str(folder), "--ai-agent-id", "700", "--out",
                      str(tmp_path / "events.csv")])
    assert result.exit_code == 0, result.output
    assert "Taken as the AI agent: user 700 (Helper), by --ai-agent-id." in result.output
