"""Intercom conversations the export has without (all) their parts are incomplete: their billed
lines are unverifiable (incomplete_export), never disputed for the messages that are missing."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import duckdb
import pytest

from auditor.sources import load_sources
from tests.conftest import SAMPLES, run_cli, write_csv
from tests.intercom_builder import conversation, write_jsonl

FIXTURES = Path(__file__).parent / "fixtures" / "intercom"
SEARCH = SAMPLES / "intercom-openapi" / "examples-2.16" / "post_conversations_search_successful.json"
AIRBYTE = SAMPLES / "airbyte-source-intercom" / "expected_records_excerpt.jsonl"
LIST_EXPORT = "no conversation_parts (a list or search export)"

ASK = (0, "customer", "comment", "My order never arrived")
ANSWER = (1, "fin", "comment", "A new one ships today.")


def full(cid: str, answers: int = 1) -> dict:
    """A retrieved conversation: its parts, and total_count saying how many there are."""
    return conversation(cid, [ASK] + [(1 + n / 10, "fin", "comment", f"answer {n}")
                                      for n in range(answers)])


def listed(cid: str) -> dict:
    """The same conversation as `GET /conversations` returns it: no conversation_parts."""
    record = full(cid)
    del record["conversation_parts"]
    return record


def counted(cid: str, present: int, total: int | None, stated: int | None = None) -> dict:
    record = full(cid, present)
    if total is None:
        del record["conversation_parts"]["total_count"]
    else:
        record["conversation_parts"]["total_count"] = total
    if stated is not None:
        record["statistics"] = {"type": "conversation_statistics",
                                "count_conversation_parts": stated}
    return record


def airbyte(stream: str, data: dict) -> dict:
    return {"stream": stream, "data": data, "emitted_at": 1707747714058}


def airbyte_conversation(cid: str, stated: int | None) -> dict:
    record = listed(cid)  # Airbyte's conversations stream carries no parts
    if stated is not None:
        record["statistics"] = {"count_conversation_parts": stated}
    return airbyte("conversations", record)


def airbyte_part(cid: str, part_id: str) -> dict:
    part = full(cid)["conversation_parts"]["conversation_parts"][0]
    return airbyte("conversation_parts", {**part, "id": part_id, "conversation_id": int(cid)})


def incomplete(con: duckdb.DuckDBPyConnection, *paths: Path) -> list[tuple]:
    load_sources(con, [str(p) for p in paths], "intercom")
    return con.execute("SELECT conversation_id, source_record, detail FROM "
                       "incomplete_conversations ORDER BY conversation_id").fetchall()


CASES = [  # (case, records of one JSONL file, [(conversation, record, detail)])
    ("retrieved whole", [full("c1", 3)], []),
    ("list record", [listed("c1")], [("c1", "line 1", LIST_EXPORT)]),
    ("capped at 500 parts", [counted("c1", 500, 512)],
     [("c1", "line 1", "500 of 512 parts (the API returns at most 500)")]),
    ("fewer parts than total_count", [counted("c1", 2, 3)], [("c1", "line 1", "2 of 3 parts")]),
    ("total_count decides over statistics", [counted("c1", 2, 2, stated=3)], []),
    ("statistics when total_count is absent", [counted("c1", 2, None, stated=4)],
     [("c1", "line 1", "2 of 4 parts (statistics.count_conversation_parts)")]),
    ("neither count: the parts given are all", [counted("c1", 2, None)], []),
    ("says it has no parts", [counted("c1", 0, 0)], []),
    ("list record saying it has no parts", [{**listed("c1"), "statistics": {
        "count_conversation_parts": 0}}], []),
    ("list record and the retrieved one", [listed("c1"), full("c1")], []),
    ("list record, the retrieved one capped", [listed("c1"), counted("c1", 2, 3)],
     [("c1", "line 2", "2 of 3 parts")]),
    ("page of list records", [{"type": "conversation.list",
                               "conversations": [listed("c1"), full("c2")]}],
     [("c1", "line 1, record 1", LIST_EXPORT)]),
    ("airbyte: all parts", [airbyte_conversation("7", 2), airbyte_part("7", "p1"),
                            airbyte_part("7", "p2")], []),
    ("airbyte: a part twice is one part", [airbyte_conversation("7", 2),
                                           airbyte_part("7", "p1"), airbyte_part("7", "p1")],
     [("7", "line 1", "1 of 2 parts (statistics.count_conversation_parts)")]),
    ("airbyte: no count, parts present", [airbyte_conversation("7", None),
                                          airbyte_part("7", "p1")], []),
    ("airbyte: no parts records", [airbyte_conversation("7", 2)],
     [("7", "line 1", "no conversation_parts records for it (Airbyte's conversation_parts "
                      "stream)")]),
    ("airbyte: no parts records, none counted", [airbyte_conversation("7", 0)], []),
    ("airbyte: parts without their conversation", [airbyte_part("8", "p1")],
     [("8", "line 1", "conversation_parts records without the conversation record "
                      "(no first message, no ai_agent)")]),
]


@pytest.mark.parametrize("records, expected", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_incomplete_conversations(con: duckdb.DuckDBPyConnection, tmp_path: Path,
                                  records: list[dict], expected: list[tuple]) -> None:
    assert incomplete(con, write_jsonl(tmp_path / "export.jsonl", records)) == expected


def test_a_list_page_is_incomplete(con: duckdb.DuckDBPyConnection) -> None:
    assert incomplete(con, FIXTURES / "api-2.16-list.json") == [
        ("216001", "record 1", LIST_EXPORT), ("216002", "record 2", LIST_EXPORT),
        ("216003", "record 3", LIST_EXPORT)]


def test_search_results_are_incomplete(con: duckdb.DuckDBPyConnection) -> None:
    assert incomplete(con, SEARCH) == [("515", "record 1", LIST_EXPORT)]


def test_airbyte_excerpt_has_some_parts_only(con: duckdb.DuckDBPyConnection) -> None:
    assert incomplete(con, AIRBYTE) == [
        ("1", "line 2", "3 of 7 parts (statistics.count_conversation_parts)"),
        ("60", "line 3", "no conversation_parts records for it (Airbyte's conversation_parts "
                         "stream)")]


def test_airbyte_streams_in_two_files(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    conversations = write_jsonl(tmp_path / "conversations.jsonl", [airbyte_conversation("7", 2)])
    wrapped = [{"type": "RECORD", "record": airbyte_part("7", p)} for p in ("p1", "p2")]
    parts = write_jsonl(tmp_path / "conversation_parts.jsonl", wrapped)
    assert incomplete(con, conversations, parts) == []


# --- end to end: the lines billed for them ------------------------------------------------------

def _audit(tmp_path: Path, export: Path, billed: list[str]) -> tuple[int, list[dict[str, str]]]:
    bill = write_csv(tmp_path / "bill.csv", ["conversation_id"], [[c] for c in billed])
    out = tmp_path / "out"
    result = run_cli(["audit", str(export), "--format", "intercom", "--billed", str(bill),
                      "--out", str(out)])
    with open(out / "findings.csv", newline="") as handle:
        return result.exit_code, list(csv.DictReader(handle))


def test_a_list_export_is_unverifiable_not_disputed(tmp_path: Path) -> None:
    """`GET /conversations` has no parts: every line would otherwise be disputed no_ai_answer."""
    exit_code, findings = _audit(tmp_path, FIXTURES / "api-2.16-list.json",
                                 ["216001", "216002", "216003"])
    assert [(f["status"], f["reasons"], f["reproduced"]) for f in findings] == \
        [("unverifiable", "incomplete_export", "")] * 3
    assert findings[0]["evidence"] == f"cannot be judged: incomplete export: {LIST_EXPORT}"
    assert exit_code == 0


def test_a_capped_conversation_is_unverifiable(tmp_path: Path) -> None:
    late = conversation("late", [ASK, ANSWER], customer="9", day=29, state=None)
    export = write_jsonl(tmp_path / "export.jsonl",
                         [full("whole"), counted("capped", 500, 512), late])
    exit_code, findings = _audit(tmp_path, export, ["whole", "capped"])
    assert [(f["status"], f["reasons"]) for f in findings] == [
        ("confirmed", ""), ("unverifiable", "incomplete_export")]
    assert findings[1]["evidence"].endswith("500 of 512 parts (the API returns at most 500)")
    assert exit_code == 0


def test_report_counts_the_incomplete_lines(tmp_path: Path) -> None:
    _audit(tmp_path, FIXTURES / "api-2.16-list.json", ["216001", "216002"])
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["unverifiable"]["by_reason"] == {"incomplete_export": 2}
    assert report["disputed"]["items"] == 0

