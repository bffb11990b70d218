"""Zendesk exports the data cannot judge: billed lines are unverifiable with a reason, never
confirmed or disputed on a guess (tickets without their messages, records that cannot be read).
Through the CLI, as an analyst runs it."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from tests import zendesk_builder as zd
from tests.conftest import run_cli, write_csv

STEPS = [(0, "customer", "comment", "My export fails"),
         (1, "ai", "comment", "Clear the cache and retry.")]


def audit(tmp_path: Path, export: list[Path] | Path, billed: list[str],
          *options: str) -> tuple[dict[str, tuple[str, str]], list[dict], dict]:
    """Run `auditor audit`; return {conversation_id: (status, reasons)} of the billed lines,
    the quarantine.csv rows and report.json."""
    out = tmp_path / "out"
    bill = write_csv(tmp_path / "bill.csv", ["conversation_id"], [[b] for b in billed])
    paths = [str(p) for p in (export if isinstance(export, list) else [export])]
    result = run_cli(["audit", *paths, "--billed", str(bill), "--out", str(out), *options])
    assert result.exit_code in (0, 1), result.output
    with open(out / "findings.csv", newline="") as handle:
        lines = {r["conversation_id"]: (r["status"], r["reasons"]) for r in csv.DictReader(handle)}
    with open(out / "quarantine.csv", newline="") as handle:
        quarantine = list(csv.DictReader(handle))
    return lines, quarantine, json.loads((out / "report.json").read_text())


def api_tickets(folder: Path, ticket_ids: range, *, comments_for: range | None = None) -> Path:
    """tickets page, users, and comments (JSONL) for `comments_for` (default: every ticket)."""
    folder.mkdir(exist_ok=True)
    zd.write_json(folder / "tickets.json",
                  {"tickets": [zd.ticket(t, STEPS, channel="email") for t in ticket_ids]})
    zd.write_json(folder / "users.json", {"users": zd.users()})
    with_comments = ticket_ids if comments_for is None else comments_for
    zd.write_jsonl(folder / "comments.jsonl",
                   [c for t in with_comments for c in zd.comments(t, STEPS, "email")])
    return folder


# --- tickets without their conversation --------------------------------------------------------

def test_a_tickets_only_export_is_not_judged(tmp_path: Path) -> None:
    """Before: the ticket's description stood in as the only message, and the line was
    disputed (no AI answer) on that guess."""
    folder = api_tickets(tmp_path / "x", range(7, 8))
    (folder / "comments.jsonl").unlink()
    lines, _, report = audit(tmp_path, folder / "tickets.json", ["7"])
    assert lines == {"7": ("unverifiable", "incomplete_export")}
    assert report["unverifiable"]["by_reason"] == {"incomplete_export": 1}


def test_tickets_are_judged_one_by_one_on_the_comments_the_export_has(tmp_path: Path) -> None:
    folder = api_tickets(tmp_path / "x", range(7, 9), comments_for=range(7, 8))
    lines, _, _ = audit(tmp_path, folder, ["7", "8"])
    assert lines == {"7": ("confirmed", ""), "8": ("unverifiable", "incomplete_export")}


def test_a_fivetran_ticket_table_without_ticket_comment_is_not_judged(tmp_path: Path) -> None:
    folder = zd.fivetran(tmp_path / "ft", 7, STEPS + [(2, "agent", "status", "solved")])
    (folder / "ticket_comment.csv").unlink()
    lines, _, report = audit(tmp_path, folder, ["7"])
    assert lines == {"7": ("unverifiable", "incomplete_export")}
    findings = (tmp_path / "out" / "findings.csv").read_text()
    assert "the export has ticket 7 but none of its comments, audits or chat events" in findings
    assert report["vendor"] == "zendesk-ai-agents"


def test_a_chat_on_two_tickets_of_the_export_leaves_both_incomplete(tmp_path: Path) -> None:
    folder = zd.fivetran(tmp_path / "ft", 7, [(0, "customer", "note", "VIP")],
                         channel="native_messaging")
    zd.write_table(folder / "ticket_chat.csv", ["chat_id", "ticket_id"], [["c1", 7]])
    zd.write_table(folder / "ticket_chat_event.csv", ["chat_id", "created_at", "type", "message"],
                   [["c1", zd.naive(1), "ChatMessage", "hi"]])
    with open(folder / "ticket.csv", "a") as tickets:  # a second ticket on the same chat
        tickets.write(f"8,{zd.naive(0)},{zd.naive(1)},501,501,open,hi,native_messaging\n")
    with open(folder / "ticket_chat.csv", "a") as chats:
        chats.write("c1,8\n")
    lines, quarantine, _ = audit(tmp_path, folder, ["7", "8"])
    assert lines == {"7": ("unverifiable", "incomplete_export"),
                     "8": ("unverifiable", "incomplete_export")}
    assert [q["reason"] for q in quarantine] == [
        "chat 'c1' belongs to several tickets in the export (7, 8)"]


# --- records that cannot be read: quarantined with their ticket, the run goes on -----------------

Mutation = Callable[[Path], None]


def _edit_json(name: str, change: Callable[[dict], None]) -> Mutation:
    def mutate(folder: Path) -> None:
        page = json.loads((folder / name).read_text())
        change(page)
        zd.write_json(folder / name, page)
    return mutate


def _edit_comment(change: Callable[[dict], None]) -> Mutation:
    """Change ticket 2's first comment (line 3 of comments.jsonl)."""
    def mutate(folder: Path) -> None:
        rows = [json.loads(line) for line in (folder / "comments.jsonl").read_text().splitlines()]
        change(rows[2])
        zd.write_jsonl(folder / "comments.jsonl", rows)
    return mutate


def _add(name: str, value: object) -> Mutation:
    return lambda folder: zd.write_json(folder / name, value)


def _cut_last_comment(folder: Path) -> None:
    """A download cut off in the middle of ticket 2's last comment."""
    text = (folder / "comments.jsonl").read_text()
    (folder / "comments.jsonl").write_text(text[:-40])


def _set_ticket(key: str, value: object) -> Mutation:
    return _edit_json("tickets.json", lambda page: page["tickets"][1].update({key: value}))


AUDIT = {"id": 9, "ticket_id": 2, "created_at": zd.iso(3), "author_id": 601}
CASES = [  # (mutation, quarantine row: source_record, field, reason)
    (_set_ticket("tags", "vip, billing"), ("tickets record 2", "tags",
     'tags is "vip, billing", expected a list; the ticket is read without it')),
    (_set_ticket("requester_id", {"id": 501}), ("tickets record 2", "requester_id",
     'requester_id is {"id":501}, expected a number or text (an id); the ticket is read '
     "without it")),
    (_edit_comment(lambda c: c.update(public="maybe")),
     ("line 3", "public", 'public is "maybe", expected true or false')),
    (_edit_comment(lambda c: c.update(id={"value": 7})),
     ("line 3", "id", 'id is {"value":7}, expected a number or text (an id)')),
    (_edit_comment(lambda c: c.update(author_id=True)),
     ("line 3", "author_id", "author_id is true, expected a number or text (an id)")),
    (_cut_last_comment, ("line 4", "", "invalid JSON (a cut-off or malformed line), so it was "
                                       "not read")),
    (_add("metrics.json", {"ticket_metrics": [{"ticket_id": 2, "reopens": "two"}]}),
     ("ticket_metrics record 1", "reopens", 'reopens is "two", expected a whole number')),
    (_add("audits.json", {"audits": [AUDIT | {"events": "Change"}]}),
     ("audits record 1", "events", 'events is "Change", expected a list')),
    (_add("audits.json", {"audits": [AUDIT | {"events": [{"type": "Comment", "id": 5,
                                                          "body": "x", "public": 1}]}]}),
     ("audits record 1", "events.public", "public of an element of events is 1, expected true "
                                          "or false")),
]


@pytest.mark.parametrize("mutate, row", CASES, ids=[r[1][2].split(",")[0] for r in CASES])
def test_a_bad_record_makes_its_ticket_unverifiable_not_the_run_fail(
        tmp_path: Path, mutate: Mutation, row: tuple[str, str, str]) -> None:
    folder = api_tickets(tmp_path / "x", range(1, 3))
    mutate(folder)
    lines, quarantine, _ = audit(tmp_path, folder, ["1", "2"])
    assert lines == {"1": ("confirmed", ""), "2": ("unverifiable", "quarantined_records")}
    assert [(q["source_record"], q["conversation_id"], q["field"], q["reason"])
            for q in quarantine] == [(row[0], "2", row[1], row[2])]


def test_fivetran_public_flag_that_is_not_true_or_false(tmp_path: Path) -> None:
    folder = zd.fivetran(tmp_path / "ft", 7, STEPS)
    text = (folder / "ticket_comment.csv").read_text().replace("TRUE", "maybe", 1)
    (folder / "ticket_comment.csv").write_text(text)
    lines, quarantine, _ = audit(tmp_path, folder, ["7"])
    assert lines == {"7": ("unverifiable", "quarantined_records")}
    assert [(q["source_record"], q["conversation_id"], q["field"]) for q in quarantine] == [
        ("line 2", "7", "public")]


def test_an_object_for_a_ticket_id_names_no_ticket(tmp_path: Path) -> None:
    folder = api_tickets(tmp_path / "x", range(1, 3), comments_for=range(1, 2))
    _set_ticket("id", {"id": 2})(folder)
    lines, quarantine, _ = audit(tmp_path, folder, ["1", "2"])
    assert lines == {"1": ("confirmed", ""), "2": ("unverifiable", "not_in_export")}
    assert [(q["source_record"], q["conversation_id"], q["field"]) for q in quarantine] == [
        ("tickets record 2", "", "id")]


def test_jsonl_line_numbers_are_physical_lines_also_after_blank_lines(tmp_path: Path) -> None:
    folder = api_tickets(tmp_path / "x", range(1, 3))
    rows = (folder / "comments.jsonl").read_text().splitlines()
    rows[3] = rows[3].replace('"public": true', '"public": "maybe"')
    (folder / "comments.jsonl").write_text("\n".join(["", *rows[:2], "   ", *rows[2:]]) + "\n")
    _, quarantine, _ = audit(tmp_path, folder, ["1"])
    assert [(q["source_record"], q["conversation_id"]) for q in quarantine] == [("line 6", "2")]


def test_a_cut_off_line_names_the_ticket_of_the_url_it_kept(tmp_path: Path) -> None:
    folder = api_tickets(tmp_path / "x", range(1, 3))
    tickets = [zd.ticket(t, STEPS, channel="email") for t in (1, 2)]
    (folder / "tickets.json").unlink()
    (folder / "tickets.jsonl").write_text(json.dumps(tickets[0]) + "\n"
                                          + json.dumps(tickets[1])[:90] + "\n")
    lines, quarantine, _ = audit(tmp_path, folder, ["1", "2"])
    assert lines == {"1": ("confirmed", ""), "2": ("unverifiable", "quarantined_records")}
    by_ticket = {(q["source_record"], q["conversation_id"]) for q in quarantine}
    assert ("line 2", "2") in by_ticket  # and ticket 2's comments, whose ticket is missing


def test_a_jsonl_file_with_no_json_line_is_the_wrong_file(tmp_path: Path) -> None:
    folder = api_tickets(tmp_path / "x", range(1, 2))
    (folder / "comments.jsonl").write_text("ticket_id;body\n1;hello\n")
    result = run_cli(["audit", str(folder), "--format", "zendesk", "--billed-count", "1"])
    assert result.exit_code == 2
    assert "comments.jsonl, line 1: invalid JSON" in result.stderr


# --- copies of records that are used do not make a ticket unjudgeable --------------------------

def test_a_ticket_repeated_by_an_incremental_export_is_still_judged(tmp_path: Path) -> None:
    folder = api_tickets(tmp_path / "x", range(1, 2))
    older = zd.ticket(1, STEPS[:1], channel="email") | {"tags": "not read: an older copy"}
    zd.write_json(folder / "older.json", {"tickets": [older]})
    lines, quarantine, _ = audit(tmp_path, folder, ["1"])
    assert lines == {"1": ("confirmed", "")}
    assert [(q["conversation_id"], q["field"]) for q in quarantine] == [("1", "id")]


def test_records_of_tickets_not_in_the_export_name_their_ticket(tmp_path: Path) -> None:
    folder = api_tickets(tmp_path / "x", range(1, 2), comments_for=range(1, 3))
    lines, quarantine, _ = audit(tmp_path, folder, ["1", "2"])
    assert lines == {"1": ("confirmed", ""), "2": ("unverifiable", "quarantined_records")}
    assert {(q["conversation_id"], q["reason"]) for q in quarantine} == {
        ("2", "comment's ticket 2 is not in the export")}


def test_in_a_json_file_of_one_object_per_line_records_are_counted(tmp_path: Path) -> None:
    folder = api_tickets(tmp_path / "x", range(1, 3))
    tickets = [json.dumps(zd.ticket(t, STEPS, channel="email")) for t in (1, 2)]
    (folder / "tickets.json").write_text(f"{tickets[0]}\n\n{tickets[1][:90]}\n")
    _, quarantine, _ = audit(tmp_path, folder, ["1"])
    assert ("record 2", "2") in {(q["source_record"], q["conversation_id"]) for q in quarantine}
