"""Record-level problems in an Intercom file go to quarantine, and the rest of the file is read:
the billed line of a quarantined conversation is unverifiable, never judged on what is left."""

from __future__ import annotations

import csv
import gzip
import json
from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest

from auditor.sources import intercom, load_sources
from auditor.sources.files import expand_inputs
from tests.conftest import run_cli, write_csv
from tests.intercom_builder import conversation, write_jsonl

ASK = (0, "customer", "comment", "My order never arrived")
ANSWER = (1, "fin", "comment", "A new one ships today.")
LATE = conversation("late", [ASK, ANSWER], customer="9", day=29, state=None)  # the export's end
SHAPE = "unexpected JSON shape (expected {}, got {})"


def good(cid: str) -> dict:
    return conversation(cid, [ASK, ANSWER])


def damaged(change: Callable[[dict], object]) -> str:
    """Conversation 'broken' as one JSONL line, after `change` (which may return the line)."""
    record = good("broken")
    line = change(record)
    return line if isinstance(line, str) else json.dumps(record)


def _part(record: dict) -> dict:
    return record["conversation_parts"]["conversation_parts"][0]


# (case, the damaged line, its quarantine row (record, conversation_id, field, reason),
#  the billed line's (status, reasons))
DAMAGE = [
    ("truncated line", damaged(lambda r: json.dumps(r)[:150]),
     ("line 2", "broken", "", "invalid JSON"), ("unverifiable", "quarantined_records")),
    ("truncated before its id", damaged(lambda r: '{"type": "conversation", "i'),
     ("line 2", "", "", "invalid JSON"), ("unverifiable", "not_in_export")),
    ("truncated in its id", damaged(lambda r: '{"type": "conversation", "id": "bro'),
     ("line 2", "", "", "invalid JSON"), ("unverifiable", "not_in_export")),
    ("conversation_parts is a list",
     damaged(lambda r: r.update(conversation_parts=r["conversation_parts"]["conversation_parts"])),
     ("line 2", "broken", "conversation_parts", SHAPE.format("an object", "an array")),
     ("unverifiable", "quarantined_records")),
    ("its parts are an object",
     damaged(lambda r: r["conversation_parts"].update(conversation_parts={"id": "p"})),
     ("line 2", "broken", "conversation_parts.conversation_parts",
      SHAPE.format("an array", "an object")), ("unverifiable", "quarantined_records")),
    ("ai_agent is a string", damaged(lambda r: r.update(ai_agent="fin")),
     ("line 2", "broken", "ai_agent", SHAPE.format("an object", "a string")),
     ("unverifiable", "quarantined_records")),
    ("a part's author is a number", damaged(lambda r: _part(r).update(author=7)),
     ("line 2", "broken", "conversation_parts.conversation_parts[].author",
      SHAPE.format("an object", "a number")), ("unverifiable", "quarantined_records")),
    ("id is an object", damaged(lambda r: r.update(id={"id": "broken"})),
     ("line 2", "", "id", "conversation id is an object, not a string or number"),
     ("unverifiable", "not_in_export")),
    ("id is a boolean", damaged(lambda r: r.update(id=True)),
     ("line 2", "", "id", "conversation id is a boolean, not a string or number"),
     ("unverifiable", "not_in_export")),
    ("a part id is an object", damaged(lambda r: _part(r).update(id={"n": 1})),
     ("conversation broken part 1", "broken", "conversation_parts.conversation_parts[].id",
      "part id is an object, not a string or number"), ("unverifiable", "quarantined_records")),
    ("a part's created_at does not parse", damaged(lambda r: _part(r).update(created_at="soon")),
     ("conversation broken part 1", "broken", "created_at",
      "cannot parse 'soon' as a timestamp (expected ISO 8601 or epoch seconds)"),
     ("unverifiable", "quarantined_records")),
]


def _read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.mark.parametrize("line, quarantined, billed", [d[1:] for d in DAMAGE],
                         ids=[d[0] for d in DAMAGE])
def test_a_damaged_record_is_quarantined_and_its_line_unverifiable(
        tmp_path: Path, line: str, quarantined: tuple, billed: tuple) -> None:
    export = tmp_path / "export.jsonl"
    export.write_text("\n".join([json.dumps(good("ok")), line, json.dumps(LATE)]) + "\n")
    bill = write_csv(tmp_path / "bill.csv", ["conversation_id"], [["ok"], ["broken"]])
    out = tmp_path / "out"
    result = run_cli(["audit", str(export), "--format", "intercom", "--billed", str(bill),
                      "--out", str(out)])
    assert result.exit_code == 0, result.output
    rows = _read_csv(out / "quarantine.csv")
    assert [(r["source_record"], r["conversation_id"], r["field"], r["reason"]) for r in rows] \
        == [quarantined]
    assert rows[0]["source_file"].endswith("export.jsonl")
    findings = _read_csv(out / "findings.csv")
    assert [(f["status"], f["reasons"]) for f in findings] == [("confirmed", ""), billed]
    report = json.loads((out / "report.json").read_text())
    assert report["ingest"]["records_read"] == 3  # a quarantined record is a record read


# --- where the record is: lines of the file, records of a document ------------------------------

BAD = {**good("broken"), "source": "email"}


@pytest.mark.parametrize("name, text, record", [
    ("array.json", json.dumps([good("ok"), BAD]), "record 2"),
    ("page.json", json.dumps({"type": "conversation.list", "conversations": [good("ok"), BAD]},
                             indent=2), "record 2"),
    ("pages.jsonl", json.dumps({"type": "conversation.list", "conversations": [good("ok"), BAD]})
     + "\n", "line 1, record 2"),
    ("lines.json", json.dumps(good("ok")) + "\n\n" + json.dumps(BAD) + "\n", "record 2"),
    ("blank-lines.jsonl", "\n" + json.dumps(good("ok")) + "\n\n" + json.dumps(BAD) + "\n",
     "line 4"),
    ("gzipped.jsonl.gz", json.dumps(good("ok")) + "\n" + json.dumps(BAD) + "\n", "line 2"),
])
def test_record_or_line_of_a_wrong_typed_record(con: duckdb.DuckDBPyConnection, tmp_path: Path,
                                                name: str, text: str, record: str) -> None:
    path = tmp_path / name
    path.write_bytes(gzip.compress(text.encode()) if name.endswith(".gz") else text.encode())
    summary = load_sources(con, [str(path)], "intercom")
    assert (summary.records_read, summary.conversations, summary.quarantined) == (2, 1, 1)
    assert con.execute("SELECT source_record, conversation_id, field, reason FROM quarantine")\
        .fetchall() == [(record, "broken", "source", SHAPE.format("an object", "a string"))]


def test_records_after_a_bad_line_keep_their_line(con: duckdb.DuckDBPyConnection,
                                                  tmp_path: Path) -> None:
    path = tmp_path / "export.jsonl"
    path.write_text("\n".join([json.dumps(good("a")), "{oops", "", json.dumps(good("b"))]) + "\n")
    intercom.load(con, expand_inputs([path]))
    assert con.execute("SELECT conversation_id, source_record FROM stage_conversations "
                       "ORDER BY source_ord").fetchall() == [("a", "line 1"), ("b", "line 4")]


def test_airbyte_records_of_the_wrong_shape(con: duckdb.DuckDBPyConnection,
                                            tmp_path: Path) -> None:
    conversation_record = {"stream": "conversations", "data": {**good("9"), "source": "email"}}
    part = {**_part(good("9")), "conversation_id": {"id": 9}}
    path = write_jsonl(tmp_path / "airbyte.jsonl", [
        {"stream": "conversations", "data": good("8")}, conversation_record,
        {"stream": "conversation_parts", "data": part},
        {"stream": "conversation_parts", "data": "not a part"}])
    summary = load_sources(con, [str(path)], "intercom")
    assert (summary.records_read, summary.conversations) == (4, 1)
    assert con.execute("SELECT source_record, conversation_id, field, reason FROM quarantine "
                       "ORDER BY source_record").fetchall() == [
        ("line 2", "9", "data.source", SHAPE.format("an object", "a string")),
        ("line 3", None, "conversation_id",
         "conversation part's conversation_id is an object, not a string or number"),
        ("line 4", None, "data", SHAPE.format("an object", "a string"))]


def test_a_file_with_no_usable_record_is_an_input_error(tmp_path: Path) -> None:
    path = tmp_path / "export.jsonl"
    path.write_text(json.dumps(BAD) + "\n{oops\n")
    result = run_cli(["audit", str(path), "--format", "intercom", "--billed-count", "1"])
    assert result.exit_code == 2
    assert result.stderr.strip().endswith(
        "export.jsonl, line 1, field 'source': unexpected JSON shape (expected an object, got a "
        "string); no record in this file is usable (the field does not have the type Intercom's "
        "API documents)")


def test_an_invalid_document_is_an_input_error(tmp_path: Path) -> None:
    path = tmp_path / "export.json"
    path.write_text(json.dumps([good("ok"), good("b")], indent=2)[:-20])
    result = run_cli(["audit", str(path), "--format", "intercom", "--billed-count", "1"])
    assert result.exit_code == 2 and "export.json, line " in result.stderr
    assert "invalid JSON" in result.stderr


# --- the fast path ------------------------------------------------------------------------------

def test_a_clean_file_is_read_once_by_the_typed_read(
        con: duckdb.DuckDBPyConnection, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    by_record = intercom.read_by_record

    def spy(con: duckdb.DuckDBPyConnection, file_no: int, file: object, *args: object) -> None:
        calls.append(file.display)  # type: ignore[attr-defined]
        by_record(con, file_no, file, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(intercom, "read_by_record", spy)
    clean = write_jsonl(tmp_path / "clean.jsonl", [good("a"), good("b")])
    broken = tmp_path / "broken.jsonl"
    broken.write_text(json.dumps(good("c")) + "\n{oops\n")
    summary = load_sources(con, [str(clean), str(broken)], "intercom")
    assert [Path(c).name for c in calls] == ["broken.jsonl"]
    assert (summary.conversations, summary.quarantined) == (3, 1)
