"""The Intercom adapter: every input shape, the mapping table, quarantine and errors."""

from __future__ import annotations

import gzip
import json
import re
import shutil
from pathlib import Path

import duckdb
import pytest

from auditor.errors import InputError
from auditor.sources import IngestSummary, detect_format, intercom, load_sources
from auditor.sources.files import expand_inputs
from auditor.sources.intercom import CONDITIONS, Rule
from tests.conftest import REPO, SAMPLES

FIXTURES = Path(__file__).parent / "fixtures" / "intercom"
OPENAPI = SAMPLES / "intercom-openapi"
AIRBYTE = SAMPLES / "airbyte-source-intercom" / "expected_records_excerpt.jsonl"


def load(con: duckdb.DuckDBPyConnection, *paths: Path) -> IngestSummary:
    return load_sources(con, [str(p) for p in paths], "intercom")


def events_of(con: duckdb.DuckDBPyConnection, conversation_id: str) -> list[tuple]:
    return con.execute("""SELECT event_id, actor_role, event_type FROM events
                          WHERE conversation_id = ? ORDER BY created_at, source_ord""",
                       [conversation_id]).fetchall()


# --- the mapping table is data, and the doc shows the same data -------------------------------

def _doc_rows() -> list[Rule]:
    text = (REPO / "docs" / "intercom-mapping.md").read_text()
    table = text.split("| Intercom field |", 1)[1].split("\n\n", 1)[0].splitlines()[2:]
    cells = [[c.strip().strip("`") for c in line.strip().strip("|").split("|")] for line in table]
    return [Rule(*row) for row in cells]


def test_mapping_doc_table_equals_the_python_data() -> None:
    assert _doc_rows() == list(intercom.MAPPING)


def test_every_condition_in_the_table_has_sql() -> None:
    used = {r.when for r in intercom.MAPPING if r.when and r.value != "(any)"}
    assert used <= CONDITIONS.keys()


# --- what each fixture becomes ------------------------------------------------------------------

EVENTS = [  # (fixture, conversation, [(event_id, actor_role, event_type)] in time order)
    ("api-2.11-fin-took-over.json", "211001", [
        ("source", "customer", "message"), ("p1", "ai_agent", "message"),  # 2.11: no flag
        ("p2", "customer", "message"), ("p3", "ai_agent", "handoff"),
        ("p4", "human_agent", "message"), ("p5", "human_agent", "close"),
        ("p6", "customer", "message"),  # the customer writes after a close: a message
        ("p7", "ai_agent", "assignment")]),  # assigned to nobody_admin: not a handoff
    ("api-2.11-operator.jsonl", "211002", [
        ("source", "customer", "message"), ("q1", "bot", "message"),  # no AI in conversation
        ("q2", "customer", "message"),  # a customer reply arrives as an open part
        ("q3", "human_agent", "other")]),  # snoozed
    ("api-2.11-operator.jsonl", "211003", [  # ai_agent object without ai_agent_participated
        ("source", "customer", "message"), ("r1", "ai_agent", "message")]),
    ("api-2.14.jsonl", "214001", [
        ("source", "customer", "message"), ("s1", "ai_agent", "message"),
        ("s2", "bot", "message"),  # Operator auto-reply, from_ai_agent false
        ("s3", "customer", "message"),  # "That helped" quick reply
        ("s4", "ai_agent", "message"),  # type admin with from_ai_agent true
        ("s5", "human_agent", "note"),  # team author
        ("ai_agent_rating", "customer", "rating")]),
    ("api-2.14.jsonl", "214002", [
        ("source", "bot", "message"),  # operator_initiated
        ("t1", "customer", "message"), ("t2", "bot", "handoff"),  # bot routes to an admin
        ("t3", "system", "other"),  # no author
        ("conversation_rating", "customer", "rating")]),
    ("api-2.16-list.json", "216001", [  # list endpoint: no parts
        ("source", "customer", "message"), ("conversation_rating", "customer", "rating")]),
    ("api-2.16-list.json", "216003", [("source", "human_agent", "message")]),  # admin_initiated
    ("api-preview.json", "700001", [
        ("source", "customer", "message"), ("v1", "ai_agent", "message"),
        ("v2", "ai_agent", "message"), ("v3", "customer", "message"),
        ("v4", "ai_agent", "other"), ("ai_agent_rating", "customer", "rating")]),
    ("api-preview.json", "700002", [  # integer ids and string timestamps
        ("source", "bot", "message"), ("1", "customer", "message")]),
]


@pytest.mark.parametrize("fixture, conversation, expected", EVENTS,
                         ids=[f"{f}-{c}" for f, c, _ in EVENTS])
def test_events_of_each_fixture(con: duckdb.DuckDBPyConnection, fixture: str,
                                conversation: str, expected: list[tuple]) -> None:
    load(con, FIXTURES / fixture)
    assert events_of(con, conversation) == expected


CONVERSATIONS = [  # (fixture, id, customer_id, channel, vendor_label, vendor_state, is_preview,
    #                 ai_answered)
    ("api-2.11-fin-took-over.json", "211001", "u-1", "conversation", "abandoned",
     "negative_feedback", False, True),
    ("api-2.11-operator.jsonl", "211002", "lead-5", "conversation", None, None, False, None),
    ("api-2.14.jsonl", "214001", "u-3", "conversation", "routed_to_team", "escalated", False,
     True),
    ("api-2.14.jsonl", "214002", "u-4", "conversation", "confirmed_resolution",
     "confirmed_resolution", False, True),
    ("api-2.16-list.json", "216001", "lead-9", "email", "escalated", "escalated", False, True),
    ("api-2.16-list.json", "216002", "u-6", "messenger", "negative_feedback",
     "negative_feedback", False, True),
    ("api-2.16-list.json", "216003", "u-7", "zendesk_ticket", "procedure_handoff",
     "procedure_handoff", False, True),
    ("api-preview.json", "700001", "u-8", "messenger", "confirmed_resolution",
     "confirmed_resolution", True, True),
    # preview, Fin took part but delivered no answer (both ai_agent fields null)
    ("api-preview.json", "700002", "u-9", "conversation", None, None, True, False),
]


@pytest.mark.parametrize("row", CONVERSATIONS, ids=[f"{c[0]}-{c[1]}" for c in CONVERSATIONS])
def test_conversation_rows(con: duckdb.DuckDBPyConnection, row: tuple) -> None:
    fixture, *expected = row
    load(con, FIXTURES / fixture)
    assert list(con.execute("SELECT * FROM conversations WHERE conversation_id = ?",
                            [expected[0]]).fetchone()) == expected


def test_bodies_are_plain_text_and_quick_replies_read_as_their_text(
        con: duckdb.DuckDBPyConnection) -> None:
    load(con, FIXTURES / "api-2.11-fin-took-over.json", FIXTURES / "api-preview.json",
         FIXTURES / "api-2.16-list.json")
    bodies = dict(con.execute("SELECT conversation_id || '/' || event_id, body FROM events")
                  .fetchall())
    assert bodies["211001/source"] == "I can't log in"
    assert bodies["211001/p1"] == "Reset it under Settings & Security."
    assert bodies["700001/v2"] == "That helped 👍 | Get more help"  # options offered by Fin
    assert bodies["700001/v3"] == "That helped 👍"  # the option the customer clicked
    assert bodies["216001/source"] == "Refund"  # empty body: the subject


def test_ratings_are_customer_events_at_the_rating_time(con: duckdb.DuckDBPyConnection) -> None:
    load(con, FIXTURES / "api-2.14.jsonl", FIXTURES / "api-2.16-list.json")
    rows = con.execute("""SELECT conversation_id, event_id, strftime(created_at, '%H:%M:%S'),
                                 actor_id, rating, body FROM events
                          WHERE event_type = 'rating' ORDER BY 1""").fetchall()
    assert rows == [
        ("214001", "ai_agent_rating", "10:15:00", "u-3", 4, "ok"),  # ai_agent.updated_at
        ("214002", "conversation_rating", "12:43:20", "u-4", 5, "Great"),
        ("216001", "conversation_rating", "10:56:40", "lead-9", 2, "slow"),
        ("216002", "ai_agent_rating", "12:03:20", "u-6", 1, "useless")]  # ai_agent.created_at


# --- the role and state tables, one conversation per case ---------------------------------------

def one_part(author: dict | None, ai_participated: bool | None = None, part_type: str = "comment",
             assigned_to: object = None, resolution_state: str | None = None) -> dict:
    conversation = {"type": "conversation", "id": "c1", "created_at": 1790848800,
                    "source": {"delivered_as": "customer_initiated", "body": "hi",
                               "author": {"type": "user", "id": "u"}},
                    "conversation_parts": {"conversation_parts": [
                        {"id": "p1", "part_type": part_type, "created_at": 1790848860,
                         "author": author, "assigned_to": assigned_to}]}}
    if ai_participated is not None:
        conversation["ai_agent_participated"] = ai_participated
    if resolution_state:
        conversation["ai_agent"] = {"resolution_state": resolution_state}
    return conversation


def part_event(con: duckdb.DuckDBPyConnection, tmp_path: Path, conversation: dict) -> tuple:
    path = tmp_path / "c.json"
    path.write_text(json.dumps(conversation))
    load(con, path)
    return con.execute("SELECT actor_role, event_type FROM events WHERE event_id = 'p1'").fetchone()


ROLES = [  # (author, ai_agent_participated, expected actor_role)
    ({"type": "user", "id": "u"}, None, "customer"),
    ({"type": "lead", "id": "u"}, None, "customer"),
    ({"type": "contact", "id": "u"}, None, "customer"),
    ({"type": "bot", "id": "f"}, True, "ai_agent"),  # before 2.14: the documented default
    ({"type": "bot", "id": "f"}, False, "bot"),
    ({"type": "bot", "id": "f", "from_ai_agent": False, "is_ai_answer": False}, True, "bot"),
    ({"type": "bot", "id": "f", "from_ai_agent": True}, False, "ai_agent"),
    ({"type": "admin", "id": "274", "from_ai_agent": True, "is_ai_answer": False}, None,
     "ai_agent"),
    ({"type": "admin", "id": "a", "is_ai_answer": True}, None, "ai_agent"),
    ({"type": "admin", "id": "a"}, True, "human_agent"),
    ({"type": "admin", "id": "a", "from_ai_agent": "false"}, True, "human_agent"),
    ({"type": "team", "id": "t"}, None, "human_agent"),
    (None, None, "system"),
]


@pytest.mark.parametrize("author, participated, role", ROLES)
def test_author_role(con: duckdb.DuckDBPyConnection, tmp_path: Path, author: dict | None,
                     participated: bool | None, role: str) -> None:
    assert part_event(con, tmp_path, one_part(author, participated))[0] == role


def test_unknown_author_type_is_quarantined_not_guessed(con: duckdb.DuckDBPyConnection,
                                                        tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    path.write_text(json.dumps(one_part({"type": "visitor", "id": "v"})))
    summary = load(con, path)
    assert (summary.events, summary.quarantined) == (1, 1)
    assert con.execute("SELECT source_record, reason FROM quarantine").fetchone() == (
        "conversation c1 part 1", "unknown actor_role 'visitor' (expected customer, ai_agent, "
                                  "bot, human_agent, system)")


EVENT_TYPES = [  # (part_type, author, assigned_to, expected event_type)
    ("comment", {"type": "admin"}, None, "message"),
    ("note", {"type": "admin"}, None, "note"),
    ("assignment", {"type": "bot", "from_ai_agent": True}, {"type": "team", "id": "7"}, "handoff"),
    ("away_mode_assignment", {"type": "bot"}, {"type": "admin", "id": "9"}, "handoff"),
    ("message_strategy_assignment", {"type": "bot"}, "991267715", "handoff"),  # Airbyte string
    ("assignment", {"type": "bot"}, {"type": "nobody_admin", "id": None}, "assignment"),
    ("assignment", {"type": "bot"}, {"type": "admin", "id": "0"}, "assignment"),
    ("assignment", {"type": "bot"}, None, "assignment"),
    ("assignment", {"type": "admin"}, {"type": "team", "id": "7"}, "assignment"),  # human routes
    ("assign_and_reopen", {"type": "admin"}, {"type": "admin", "id": "9"}, "reopen"),
    ("close", {"type": "admin"}, None, "close"),
    ("open", {"type": "user"}, None, "message"),  # a customer reply
    ("open", {"type": "admin"}, None, "other"),  # nothing closed before it
    ("unsnoozed", {"type": "admin"}, None, "other"),
    ("conversation_attribute_updated_by_admin", {"type": "bot"}, None, "other"),
]


@pytest.mark.parametrize("part_type, author, assigned_to, event_type", EVENT_TYPES)
def test_part_type(con: duckdb.DuckDBPyConnection, tmp_path: Path, part_type: str, author: dict,
                   assigned_to: object, event_type: str) -> None:
    conversation = one_part({"id": "x", **author}, False, part_type, assigned_to)
    assert part_event(con, tmp_path, conversation)[1] == event_type


STATES = [  # (ai_agent.resolution_state, vendor_state): 2.11-2.14 names are renamed
    ("assumed_resolution", "assumed_resolution"), ("confirmed_resolution", "confirmed_resolution"),
    ("routed_to_team", "escalated"), ("abandoned", "negative_feedback"),
    ("escalated", "escalated"), ("negative_feedback", "negative_feedback"),
    ("procedure_handoff", "procedure_handoff"), ("something_new", None),
]


@pytest.mark.parametrize("label, state", STATES)
def test_vendor_state_normalisation(con: duckdb.DuckDBPyConnection, tmp_path: Path, label: str,
                                    state: str | None) -> None:
    part_event(con, tmp_path, one_part({"type": "user"}, resolution_state=label))
    assert con.execute("SELECT vendor_label, vendor_state FROM conversations").fetchone() \
        == (label, state)


# --- input shapes ----------------------------------------------------------------------------

def write_shape(tmp_path: Path, shape: str, conversations: list[dict]) -> Path:
    """The same conversations as a .json document, array, list page or JSONL, maybe gzipped."""
    name, gz = shape.removesuffix(".gz"), shape.endswith(".gz")
    texts = {
        "single.json": json.dumps(conversations[0], indent=2),
        "array.json": json.dumps(conversations),
        "list.json": json.dumps({"type": "conversation.list", "conversations": conversations},
                                indent=1),
        "page.json": json.dumps({"type": "conversation.list", "conversations": conversations}),
        "lines.jsonl": "\n".join(json.dumps(c) for c in conversations) + "\n",
        "lines.json": "\n".join(json.dumps(c) for c in conversations) + "\n",
        "pages.jsonl": json.dumps({"type": "conversation.list", "conversations": conversations}),
    }
    path = tmp_path / (name + (".gz" if gz else ""))
    data = texts[name].encode()
    path.write_bytes(gzip.compress(data) if gz else data)
    return path


SHAPES = ["single.json", "array.json", "list.json", "page.json", "lines.jsonl", "lines.json",
          "pages.jsonl"]


@pytest.mark.parametrize("shape", SHAPES + [s + ".gz" for s in SHAPES])
def test_every_shape_gives_the_same_events(con: duckdb.DuckDBPyConnection, tmp_path: Path,
                                           shape: str) -> None:
    conversations = [json.loads(line) for line in
                     (FIXTURES / "api-2.14.jsonl").read_text().splitlines()[:2]]
    if shape.startswith("single"):
        conversations = conversations[:1]
    path = write_shape(tmp_path, shape, conversations)
    assert detect_format(expand_inputs([path])[0]) == "intercom"
    summary = load(con, path)
    assert summary.conversations == len(conversations)
    for fixture, conversation, expected in EVENTS:
        if fixture == "api-2.14.jsonl" and conversation in [c["id"] for c in conversations]:
            assert events_of(con, conversation) == expected


RECORDS = [  # (shape, where the second conversation is in the file)
    ("lines.jsonl", "line 2"), ("lines.json", "record 2"), ("array.json", "record 2"),
    ("list.json", "record 2"), ("page.json", "record 2"), ("pages.jsonl", "line 1, record 2")]


@pytest.mark.parametrize("shape, record", RECORDS)
def test_lineage_names_line_record_and_part(con: duckdb.DuckDBPyConnection, tmp_path: Path,
                                            shape: str, record: str) -> None:
    conversations = [json.loads(line) for line in
                     (FIXTURES / "api-2.14.jsonl").read_text().splitlines()[:2]]
    intercom.load(con, expand_inputs([write_shape(tmp_path, shape, conversations)]))
    staged = con.execute("SELECT event_id, source_record, source_ord FROM stage_events "
                         "WHERE conversation_id = '214002' ORDER BY created_at").fetchall()
    assert [(e, r) for e, r, _ in staged[:3]] == [
        ("source", record), ("t1", "conversation 214002 part 1"),
        ("t2", "conversation 214002 part 2")]
    assert con.execute("SELECT source_record FROM stage_conversations WHERE "
                       "conversation_id = '214002'").fetchone() == (record,)
    ords = [o for (o,) in con.execute("SELECT source_ord FROM stage_events ORDER BY "
                                      "conversation_id, created_at").fetchall()]
    assert ords == sorted(ords) and len(set(ords)) == len(ords)  # file order, no ties


def test_a_directory_of_mixed_shapes_and_gzip(con: duckdb.DuckDBPyConnection,
                                              tmp_path: Path) -> None:
    folder = tmp_path / "export"
    shutil.copytree(FIXTURES, folder)
    for name in ("api-2.14.jsonl", "api-preview.json"):
        (folder / f"{name}.gz").write_bytes(gzip.compress((folder / name).read_bytes()))
        (folder / name).unlink()
    summary = load_sources(con, [str(folder)], "auto")
    assert {i.format for i in summary.inputs} == {"intercom"}
    assert (summary.records_read, summary.conversations, summary.quarantined) == (12, 10, 2)
    assert {i.path.rsplit("/", 1)[1]: i.rows for i in summary.inputs}["api-2.14.jsonl.gz"] == 4


def test_conversation_without_id_and_non_conversations_are_quarantined(
        con: duckdb.DuckDBPyConnection) -> None:
    summary = load(con, FIXTURES / "api-2.14.jsonl")
    assert summary.records_read == 4 and summary.conversations == 2
    assert con.execute("SELECT source_record, field, reason FROM quarantine").fetchall() == [
        ("line 3", "id", "conversation has no id"),
        ("line 4", "type", "record of type 'ticket' is not a conversation")]


# --- Airbyte -----------------------------------------------------------------------------------

def test_airbyte_records(con: duckdb.DuckDBPyConnection) -> None:
    summary = load_sources(con, [str(AIRBYTE)], "auto")
    assert summary.inputs[0].format == "intercom"
    assert (summary.records_read, summary.conversations, summary.events, summary.quarantined) \
        == (7, 2, 5, 2)
    assert events_of(con, "1") == [("source", "customer", "message"),
                                   ("7288120839", "customer", "message"),
                                   ("7288121348", "bot", "message"),  # Operator, 2.11, no AI
                                   ("7288121392", "bot", "message")]
    assert con.execute("SELECT source_record, reason FROM quarantine").fetchall() == [
        ("line 1", "airbyte stream 'admins' is not a conversation record"),
        ("line 7", "airbyte stream 'tickets' is not a conversation record")]


def test_airbyte_streams_in_separate_files_are_joined(con: duckdb.DuckDBPyConnection,
                                                      tmp_path: Path) -> None:
    lines = AIRBYTE.read_text().splitlines()
    by_stream: dict[str, list[str]] = {}
    for line in lines:
        by_stream.setdefault(json.loads(line)["stream"], []).append(line)
    for stream, rows in by_stream.items():
        (tmp_path / f"{stream}.jsonl").write_text("\n".join(rows) + "\n")
    wrapped = [json.dumps({"type": "RECORD", "record": json.loads(r)})
               for r in by_stream["conversation_parts"]]
    (tmp_path / "conversation_parts.jsonl").write_text("\n".join(wrapped) + "\n")
    summary = load(con, tmp_path)
    assert (summary.records_read, summary.events) == (7, 5)
    assert con.execute("SELECT DISTINCT channel FROM events WHERE conversation_id = '1'")\
        .fetchall() == [("conversation",)]


# --- every published example ingests -------------------------------------------------------------

EXAMPLES = sorted((OPENAPI / "examples-2.16").glob("*.json")) + \
    sorted((OPENAPI / "examples-preview-0").glob("*.json"))


def test_openapi_examples_are_bundled() -> None:
    """An empty glob would turn the parametrized test below into a silent skip."""
    assert len(EXAMPLES) == 20


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_openapi_examples_ingest(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    document = json.loads(path.read_text())
    conversations = document.get("conversations", [document])
    expected_events = sum(("source" in c) + len(c.get("conversation_parts", {})
                                                .get("conversation_parts", []))
                          for c in conversations)
    summary = load_sources(con, [str(path)], "auto")
    assert summary.inputs[0].format == "intercom"
    assert (summary.records_read, summary.conversations, summary.events, summary.quarantined) \
        == (len(conversations), len(conversations), expected_events, 0)


# --- detection and file-level errors -------------------------------------------------------------

@pytest.mark.parametrize("content, expected", [
    ('{"conversation_id": "c1", "created_at": "2026-10-01T10:00:00Z"}\n', False),  # canonical
    ('{"stream": "tickets", "data": {"id": 1, "type": "problem"}}\n', False),  # Zendesk Airbyte
    ('{"stream": "admins", "data": {"type": "admin", "id": "1"}}\n', True),
    ('{"id": "1", "source": {"type": "email"}}\n', True),
    ('{\n  "type": "conversation.list",\n  "conversations": [\n', True),  # head of a big page
])
def test_sniff(tmp_path: Path, content: str, expected: bool) -> None:
    path = tmp_path / "x.jsonl"
    path.write_text(content)
    assert intercom.sniff(expand_inputs([path])[0]) is expected


@pytest.mark.parametrize("name, content, message", [
    # No record is usable (one bad record among good ones is quarantined instead:
    # test_source_intercom_records.py); lines are the file's own, blank ones included.
    ("bad.jsonl", '\n{"type": "conversation", "id": 3,, }\n',
     r"^.*bad.jsonl, line 2: invalid JSON \(unexpected character\)$"),
    ("bad.json", '{\n  "type": "conversation",\n  "id": "1",\n  "source": {oops}\n}\n',
     r"^.*bad.json, line 4: invalid JSON \("),
    ("bad-array.json", '[\n{"type": "conversation", "id": "1"},\n{"type": "conversation" "id"}\n]',
     r"^.*bad-array.json, line 3: invalid JSON \("),
    ("shape.jsonl", '{"type": "conversation", "id": "1", "source": "email"}\n',
     r"^.*shape.jsonl, line 1, field 'source': unexpected JSON shape \(expected an object, "
     r"got a string\); no record in this file is usable"),
    ("nested.jsonl", '{"id": "2", "conversation_parts": '
                     '{"conversation_parts": [{"id": "p1", "author": "bob"}]}}\n',
     r"^.*nested.jsonl, line 1, field 'conversation_parts.conversation_parts\[\].author': "),
    ("other.json", '{"foo": 1, "bar": [1, 2]}',
     r"^.*other.json, record 1: not an Intercom conversation export"),
    ("other-pretty.json", '{\n  "foo": 1\n}\n',
     r"^.*other-pretty.json, record 1: not an Intercom conversation export"),
    ("numbers.json", "[1, 2, 3]", r"^.*numbers.json, record 1: unexpected JSON shape"),
])
def test_file_level_problems_are_one_line_input_errors(
        con: duckdb.DuckDBPyConnection, tmp_path: Path, name: str, content: str,
        message: str) -> None:
    path = tmp_path / name
    path.write_text(content)
    with pytest.raises(InputError) as info:
        load(con, path)
    assert re.match(message, str(info.value)) and "\n" not in str(info.value)
    assert con.execute("SELECT count(*) FROM stage_events").fetchone() == (0,)


def test_unreadable_gzip_is_an_input_error(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    path = tmp_path / "broken.jsonl.gz"
    lines = "".join(json.dumps({"type": "conversation", "id": str(n)}) + "\n" for n in range(999))
    data = gzip.compress(lines.encode())
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(InputError, match=r"broken.jsonl.gz.*: cannot be read"):
        load(con, path)
