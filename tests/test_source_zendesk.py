"""The Zendesk adapter on API shapes: the mapping table, roles, quarantine, errors, detection."""

from __future__ import annotations

import gzip
import json
import shutil
from contextlib import closing
from pathlib import Path

import duckdb
import pytest

from auditor import engine
from auditor.errors import InputError
from auditor.sources import detect_format, load_sources
from auditor.sources import zendesk_mapping as mapping
from auditor.sources.files import expand_inputs
from tests import zendesk_builder as zd
from tests.conftest import REPO, SAMPLES, run_cli, write_events
from tests.zendesk_builder import (
    ESCALATION, ESCALATION_EVENTS, REOPEN, api_export, events_of, load, quarantine,
)

INTERCOM = REPO / "tests" / "fixtures" / "intercom"


# --- the mapping table is data, and the doc shows the same data --------------------------------

def _doc_rows() -> list[mapping.Rule]:
    text = (REPO / "docs" / "zendesk-mapping.md").read_text()
    table = text.split("| Zendesk field |", 1)[1].split("\n\n", 1)[0].splitlines()[2:]
    cells = [[c.strip().strip("`") for c in line.strip().strip("|").split("|")] for line in table]
    return [mapping.Rule(*row) for row in cells]


def test_mapping_doc_table_equals_the_python_data() -> None:
    assert _doc_rows() == list(mapping.MAPPING)


def test_every_condition_of_a_generated_rule_is_defined() -> None:
    generated = {"actor_role", "event_type", "rating", "vendor_state", "is_preview"}
    used = {r.when for r in mapping.MAPPING if r.when and r.column in generated}
    assert used <= mapping.CONDITIONS.keys()


# --- API shapes ----------------------------------------------------------------------------------

def test_tickets_comments_and_users_map_roles_and_types(con: duckdb.DuckDBPyConnection,
                                                        tmp_path: Path) -> None:
    steps = [s for s in ESCALATION if s[2] in ("comment", "note")]
    summary = load(con, api_export(tmp_path / "x", 7, steps))
    assert (summary.records_read, summary.quarantined) == (1 + len(steps) + 4, 0)
    assert events_of(con, "7") == [("message", "customer"), ("message", "ai_agent"),
                                   ("message", "customer"), ("note", "human_agent"),
                                   ("message", "human_agent")]
    assert con.execute("SELECT * FROM conversations").fetchall() == [
        ("7", "501", "native_messaging", None, None, False, None)]


def test_audits_alone_give_comments_status_assignments_handoff_and_rating(
        con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    zd.write_json(tmp_path / "tickets.json", [zd.ticket(7, ESCALATION)])
    zd.write_json(tmp_path / "audits.json", {"audits": zd.audits(7, ESCALATION)})
    zd.write_json(tmp_path / "users.json", {"users": zd.users()})
    load(con, tmp_path)
    assert events_of(con, "7") == ESCALATION_EVENTS
    assert con.execute("SELECT rating, actor_id FROM events WHERE event_type = 'rating'"
                       ).fetchall() == [(5, "501")]
    handoff = con.execute("SELECT event_id, actor_id FROM events WHERE event_type = 'handoff'")
    assert handoff.fetchall() == [("handoff@2026-10-01T10:03:00Z", "700")]


def test_comments_repeated_in_audits_are_read_once(con: duckdb.DuckDBPyConnection,
                                                   tmp_path: Path) -> None:
    folder = api_export(tmp_path / "x", 7, ESCALATION)
    zd.write_json(folder / "audits.json", {"audits": zd.audits(7, ESCALATION)})
    summary = load(con, folder)
    assert summary.quarantined == 0
    assert events_of(con, "7") == ESCALATION_EVENTS


def test_reopen_after_solved_and_closed_after_solved(con: duckdb.DuckDBPyConnection,
                                                     tmp_path: Path) -> None:
    zd.write_jsonl(tmp_path / "tickets.jsonl", [zd.ticket(8, REOPEN)])
    zd.write_jsonl(tmp_path / "audits.jsonl", zd.audits(8, REOPEN))
    zd.write_json(tmp_path / "users.json", {"users": zd.users()})
    load(con, tmp_path)
    assert events_of(con, "8") == [
        ("message", "customer"), ("other", "customer"), ("message", "ai_agent"),
        ("close", "ai_agent"), ("message", "customer"), ("reopen", "customer"),
        ("close", "human_agent"), ("other", "system")]


def test_ticket_metrics_reopens_without_history_is_a_reopen_event(
        con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    steps = [(0, "customer", "comment", "hi"), (1, "ai", "comment", "hello")]
    folder = api_export(tmp_path / "x", 9, steps)
    metrics = [{"ticket_id": 9, "reopens": 2, "updated_at": zd.iso(60)},
               {"ticket_id": 9, "reopens": 1, "updated_at": zd.iso(30)}]
    zd.write_json(folder / "metrics.json", {"ticket_metrics": metrics})
    load(con, folder)
    assert con.execute("SELECT event_id, created_at::VARCHAR, actor_role FROM events "
                       "WHERE event_type = 'reopen'").fetchall() == [
        ("ticket_metrics.reopens", "2026-10-01 11:00:00", "system")]


def test_metrics_do_not_add_a_reopen_when_status_history_exists(
        con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    zd.write_json(tmp_path / "tickets.json", {"tickets": [zd.ticket(8, REOPEN)]})
    zd.write_json(tmp_path / "audits.json", {"audits": zd.audits(8, REOPEN)})
    zd.write_json(tmp_path / "metrics.json", {"ticket_metric": {"ticket_id": 8, "reopens": 1,
                                                                "updated_at": zd.iso(5)}})
    load(con, tmp_path)
    assert con.execute("SELECT count(*) FROM events WHERE event_type = 'reopen'"
                       ).fetchall() == [(1,)]


@pytest.mark.parametrize("score, rating", [("good", 5), ("bad", 1), ("bad_with_comment", 1),
                                           ("offered", None)])
def test_ticket_satisfaction_rating_without_history(con: duckdb.DuckDBPyConnection,
                                                    tmp_path: Path, score: str,
                                                    rating: int | None) -> None:
    steps = [(0, "customer", "comment", "hi"), (1, "ai", "comment", "hello")]
    load(con, api_export(tmp_path / "x", 9, steps, score=score))
    ratings = con.execute("SELECT rating, actor_role FROM events WHERE event_type = 'rating'")
    assert ratings.fetchall() == ([(rating, "customer")] if rating else [])


@pytest.mark.parametrize("tags, custom, label, state", [
    (("bot_handled", "vip"), None, "bot_handled", "automated_resolution"),
    ((), "Automated resolution", "Automated resolution", "automated_resolution"),
    (("answered",), None, "answered", "automated_resolution"),
    (("ai_agent_agent_escalation", "bot_handled"), None, "ai_agent_agent_escalation",
     "escalated"),
    (("escalation_failed",), None, "escalation_failed", "not_resolved"),
    (("vip",), True, None, None),
])
def test_ai_agent_status_from_tags_and_custom_fields(con: duckdb.DuckDBPyConnection,
                                                     tmp_path: Path, tags: tuple[str, ...],
                                                     custom: object, label: str | None,
                                                     state: str | None) -> None:
    steps = [(0, "customer", "comment", "hi"), (1, "ai", "comment", "hello")]
    load(con, api_export(tmp_path / "x", 9, steps, tags=tags, custom=custom))
    assert con.execute("SELECT vendor_label, vendor_state FROM conversations").fetchall() == [
        (label, state)]


def test_single_objects_arrays_pretty_pages_gzip_and_sideloads(con: duckdb.DuckDBPyConnection,
                                                               tmp_path: Path) -> None:
    steps = [(0, "customer", "comment", "hi"), (1, "ai", "comment", "hello")]
    zd.write_json(tmp_path / "one.json", {"ticket": zd.ticket(1, steps)})
    zd.write_json(tmp_path / "array.json", [zd.ticket(2, steps), zd.ticket(3, steps)])
    page = {"tickets": [zd.ticket(4, steps)], "users": zd.users(), "end_of_stream": True}
    with gzip.open(tmp_path / "page.json.gz", "wt") as handle:
        handle.write(json.dumps(page, indent=2))
    page_comments = [{k: v for k, v in c.items() if k != "ticket_id"} for c in zd.comments(4, steps)]
    zd.write_json(tmp_path / "comments.json", {"comments": page_comments, "ticket_id": 4})
    summary = load(con, tmp_path)
    assert summary.conversations == 4 and summary.quarantined == 0
    assert con.execute("SELECT count(*) FROM events WHERE conversation_id = '4'").fetchall() \
        == [(2,)]  # the comments page names its ticket; description is not repeated


def test_incremental_ticket_events_export(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    events = [{"id": 1, "ticket_id": 7, "updater_id": 501, "via": "Web form",
               "created_at": zd.iso(0), "event_type": "Audit", "child_events": [
                   {"id": 11, "event_type": "Comment", "body": "hi", "comment_public": True},
                   {"id": 12, "event_type": "Create", "status": "new"}]},
              {"id": 2, "ticket_id": 7, "updater_id": 700, "via": "Answer Bot for Web Widget",
               "created_at": zd.iso(1), "event_type": "Audit", "child_events": [
                   {"id": 21, "event_type": "Comment", "body": "hello", "public": True},
                   {"id": 22, "event_type": "Change", "status": "solved",
                    "previous_value": "new"}]}]
    zd.write_json(tmp_path / "events.json", {"ticket_events": events, "end_of_stream": True})
    zd.write_json(tmp_path / "tickets.json", [zd.ticket(7, [(0, "customer", "comment", "hi")])])
    load(con, tmp_path)  # via "Answer Bot for Web Widget" is answer_bot_for_web_widget
    assert events_of(con, "7") == [("message", "customer"), ("other", "customer"),
                                   ("message", "ai_agent"), ("close", "ai_agent")]


def test_airbyte_records_bare_and_wrapped(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    steps = [(0, "customer", "comment", "hi"), (1, "ai", "comment", "hello")]
    records = [{"stream": "tickets", "data": zd.ticket(3, steps)},
               *({"type": "RECORD", "record": {"stream": "ticket_comments", "data": c}}
                 for c in zd.comments(3, steps)),
               {"stream": "users", "data": zd.users()[0]},
               {"stream": "satisfaction_ratings", "data": {"id": 1}}]
    summary = load(con, zd.write_jsonl(tmp_path / "airbyte.jsonl", records))
    assert events_of(con, "3") == [("message", "customer"), ("message", "ai_agent")]
    assert summary.records_read == 5 and quarantine(con) == [
        ("line 5", "stream", "airbyte stream 'satisfaction_ratings' is not used by the audit")]


# --- roles ---------------------------------------------------------------------------------------

def test_ai_agent_ids_option_names_the_ai_in_fivetran_comments(con: duckdb.DuckDBPyConnection,
                                                               tmp_path: Path) -> None:
    steps = [(0, "customer", "comment", "hi"), (1, "ai", "comment", "hello"),
             (2, "agent", "comment", "and me")]
    folder = zd.fivetran(tmp_path / "ft", 7, steps)
    load(con, folder)
    assert [r for _, r in events_of(con, "7")] == ["customer", "human_agent", "human_agent"]
    with closing(engine.connect()) as again:
        load(again, folder, ai_agent_ids=["700"])
        assert [r for _, r in events_of(again, "7")] == ["customer", "ai_agent", "human_agent"]


@pytest.mark.parametrize("extra_user, ticket_tags, expected", [
    (("700", "agent", "Zendesk AI agent"), (), "ai_agent"),  # the AI agent's user, by name
    (None, (), "human_agent"),  # unknown author: a person
    (None, ("ai_agent_ticket",), "ai_agent"),  # unknown author in an AI agent ticket
    (("700", "end-user", "Someone"), (), "customer"),
    (("700", "admin", "Boss"), (), "human_agent"),
])
def test_author_role_from_users(con: duckdb.DuckDBPyConnection, tmp_path: Path,
                                extra_user: tuple[str, str, str] | None,
                                ticket_tags: tuple[str, ...], expected: str) -> None:
    steps = [(0, "customer", "comment", "hi"), (1, "700", "comment", "hello")]
    zd.write_json(tmp_path / "tickets.json", [zd.ticket(7, steps, tags=ticket_tags)])
    zd.write_json(tmp_path / "comments.json", {"comments": zd.comments(7, steps)})
    people = [u for u in zd.users() if u["id"] == 501]
    if extra_user:
        people += zd.users([extra_user])[-1:]
    zd.write_json(tmp_path / "users.json", {"users": people})
    load(con, tmp_path)
    assert events_of(con, "7") == [("message", "customer"), ("message", expected)]


def test_unknown_user_role_is_quarantined_with_a_clear_reason(con: duckdb.DuckDBPyConnection,
                                                              tmp_path: Path) -> None:
    steps = [(0, "customer", "comment", "hi"), (1, "800", "comment", "hello")]
    folder = api_export(tmp_path / "x", 7, steps)
    zd.write_json(folder / "more_users.json", [{"id": 800, "role": "superhero", "name": "X"}])
    summary = load(con, folder)
    assert summary.events == 1
    assert quarantine(con) == [("line 2", "role", "user 800 has role 'superhero' (expected "
                                                  "end-user, agent or admin)")]


# --- bad input -----------------------------------------------------------------------------------

def _error(args: list[str]) -> str:
    result = run_cli(args)
    assert result.exit_code == 2, result.output
    message = result.stderr.strip()
    assert message.startswith("Error: ") and "\n" not in message and "Traceback" not in message
    return message


def test_invalid_json_document_names_file_and_line(tmp_path: Path) -> None:
    folder = api_export(tmp_path / "x", 7, [(0, "customer", "comment", "hi")])
    text = (folder / "tickets.json").read_text()
    (folder / "tickets.json").write_text(text[:len(text) // 2])  # a page cut off: nothing to keep
    message = _error(["ingest", str(folder), "--format", "zendesk", "--out",
                      str(tmp_path / "e.csv")])
    assert "tickets.json, line " in message and ": invalid JSON" in message


def test_a_cut_off_jsonl_line_is_quarantined_with_its_ticket(con: duckdb.DuckDBPyConnection,
                                                             tmp_path: Path) -> None:
    folder = api_export(tmp_path / "x", 7, [(0, "customer", "comment", "hi")])
    with open(folder / "comments.jsonl", "a") as handle:
        handle.write('{"id": 5, "ticket_id": 7, "body": "oops"\n')
    summary = load(con, folder)
    assert (summary.events, summary.quarantined) == (1, 1)
    assert con.execute("SELECT source_record, conversation_id, reason FROM quarantine"
                       ).fetchall() == [("line 2", "7", "invalid JSON (a cut-off or malformed "
                                                        "line), so it was not read")]


def test_comments_table_without_ticket_id_column(tmp_path: Path) -> None:
    folder = zd.fivetran(tmp_path / "ft", 7, [(0, "customer", "comment", "hi")])
    zd.write_table(folder / "ticket_comment.csv", ["id", "body", "created", "user_id"],
                   [[1, "hi", zd.naive(0), 501]])
    message = _error(["audit", str(folder), "--billed-count", "1"])
    assert "ticket_comment.csv: missing required column 'ticket_id'" in message


def test_comments_file_whose_comments_name_no_ticket(tmp_path: Path) -> None:
    folder = api_export(tmp_path / "x", 7, [(0, "customer", "comment", "hi")])
    zd.write_jsonl(folder / "comments.jsonl", [{"id": 1, "body": "hi", "author_id": 501}])
    message = _error(["audit", str(folder), "--format", "zendesk", "--billed-count", "1"])
    assert "comments.jsonl, line 1, field 'ticket_id': no comment in this file" in message


@pytest.mark.parametrize("name, content, expected", [
    ("other.json", '[{"hello": "world"}]', "other.json, record 1: not a Zendesk export"),
    ("events.csv", "conversation_id,created_at,actor_role,event_type\n", "not a Zendesk table"),
])
def test_files_that_are_not_zendesk_under_format_zendesk(tmp_path: Path, name: str,
                                                         content: str, expected: str) -> None:
    (tmp_path / name).write_text(content)
    assert expected in _error(["audit", str(tmp_path / name), "--format", "zendesk",
                               "--billed-count", "1"])


# --- format detection and the command line -------------------------------------------------------

@pytest.mark.parametrize("content, suffix, expected", [
    ('{"tickets": [{"id": 1, "requester_id": 2}], "end_of_stream": true}', ".json", "zendesk"),
    ('{"id": 1, "ticket_id": 2, "author_id": 3, "body": "x"}\n', ".jsonl", "zendesk"),
    ('{"stream": "ticket_audits", "data": {"id": 1}}\n', ".jsonl", "zendesk"),
    ('{"audits": [' + "1, " * 30000 + '1]}', ".json", "zendesk"),  # head ends inside the page
    ('{"type": "conversation", "id": "1", "source": {}}\n', ".jsonl", "intercom"),
    ('{"conversation_id": "c", "created_at": "2026-10-01", "actor_role": "customer", '
     '"event_type": "message"}\n', ".jsonl", "canonical"),
    ("conversation_id,created_at,actor_role,event_type\nc,2026-10-01,customer,message\n", ".csv",
     "canonical"),
    ("id,requester_id,via_channel,created_at\n1,2,email,2026-10-01\n", ".csv", "zendesk"),
])
def test_auto_detection(tmp_path: Path, content: str, suffix: str, expected: str) -> None:
    path = tmp_path / f"export{suffix}"
    path.write_text(content)
    assert detect_format(expand_inputs([path])[0]) == expected


def test_other_fivetran_connectors_are_not_taken_for_zendesk() -> None:
    with pytest.raises(InputError, match="format not recognised"):
        detect_format(expand_inputs([SAMPLES / "fivetran-dbt_hubspot" / "ticket_data.csv"])[0])
    intercom = SAMPLES / "fivetran-dbt_intercom" / "conversation_history_data.csv"
    assert detect_format(expand_inputs([intercom])[0]) == "fivetran-intercom"


def test_ingest_with_ai_agent_ids_and_gzip(tmp_path: Path) -> None:
    folder = zd.fivetran(tmp_path / "ft", 7, [(0, "customer", "comment", "hi"),
                                                (1, "ai", "comment", "hello")])
    with open(folder / "ticket_comment.csv", "rb") as raw, \
            gzip.open(folder / "ticket_comment.csv.gz", "wb") as packed:
        shutil.copyfileobj(raw, packed)
    (folder / "ticket_comment.csv").unlink()
    out = tmp_path / "events.csv"
    result = run_cli(["ingest", str(folder), "--ai-agent-id", "700", "--ai-agent-id", "701",
                      "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "ai_agent" in out.read_text() and "zendesk" not in result.output.lower()


def test_canonical_files_beside_a_zendesk_export_keep_their_format(tmp_path: Path) -> None:
    folder = api_export(tmp_path / "x", 7, [(0, "customer", "comment", "hi")])
    write_events(folder / "events.csv", [["c1", "2026-10-01T10:00:00Z", "customer", "u1",
                                          "message", "hello"]])
    summary = load_sources(duckdb_connect(), [str(folder)], "auto")
    assert {(Path(i.path).name, i.format) for i in summary.inputs} >= {
        ("events.csv", "canonical"), ("tickets.json", "zendesk")}
    assert summary.conversations == 2


def duckdb_connect() -> duckdb.DuckDBPyConnection:
    from auditor import engine

    return engine.connect()


def test_intercom_fixtures_are_still_intercom() -> None:
    for path in sorted(INTERCOM.iterdir()):
        assert detect_format(expand_inputs([path])[0]) == "intercom", path.name
