"""The canonical format: what warehouse users write themselves."""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path

import duckdb
import pytest

from auditor.errors import InputError
from auditor.sources import load_sources
from tests.conftest import write_csv, write_events

GOOD = [
    ["c1", "2026-10-01T10:00:00Z", "customer", "u1", "message", "How do I reset my password?"],
    ["c1", "2026-10-01T12:01:00+02:00", "AI_AGENT", "fin", "message", "Settings > Security."],
    ["c1", "1790848920", "customer", "u1", "rating", "", "5"],
]


def test_csv_timestamps_in_every_accepted_form_become_utc(tmp_path: Path, con: duckdb.DuckDBPyConnection) -> None:
    summary = load_sources(con, [str(write_events(tmp_path / "e.csv", GOOD))], "canonical")
    assert (summary.records_read, summary.events, summary.quarantined) == (3, 3, 0)
    times = [str(t) for (t,) in con.execute("SELECT created_at FROM events ORDER BY event_id").fetchall()]
    assert times == ["2026-10-01 10:00:00", "2026-10-01 10:01:00", "2026-10-01 10:02:00"]
    assert con.execute("SELECT list(actor_role ORDER BY created_at) FROM events").fetchall()[0][0] \
        == ["customer", "ai_agent", "customer"]


def test_bad_rows_go_to_quarantine_with_file_line_field_and_reason(tmp_path: Path, con: duckdb.DuckDBPyConnection) -> None:
    rows = GOOD + [["c2", "yesterday", "customer", "u2", "message", "hi"],
                   ["c2", "2026-10-02T10:00:00Z", "robot", "r", "message", "hi"],
                   ["c2", "2026-10-02T10:00:00Z", "customer", "u2", "message", "hi", "9"],
                   ["", "2026-10-02T10:00:00Z", "customer", "u2", "message", "hi"]]
    summary = load_sources(con, [str(write_events(tmp_path / "e.csv", rows))], "canonical")
    assert summary.records_read == summary.events + summary.quarantined == 7
    quarantine = con.execute("SELECT source_record, field, reason FROM quarantine ORDER BY 1").fetchall()
    assert [(r, f) for r, f, _ in quarantine] == [
        ("line 5", "created_at"), ("line 6", "actor_role"), ("line 7", "rating"),
        ("line 8", "conversation_id")]
    assert "cannot parse 'yesterday'" in quarantine[0][2]
    assert "unknown actor_role 'robot'" in quarantine[1][2]


# Ids: e1 twice in c1 (the second copy is quarantined), e1 again in c2 (another conversation:
# fine), one row without an id (derived), and two invalid rows.
CHECKED_HEADER = ["conversation_id", "event_id", "created_at", "actor_role", "actor_id",
                  "event_type", "body"]
CHECKED = [
    ["c1", "e1", "2026-10-01T10:00:00Z", "customer", "u1", "message", "hi"],
    ["c1", "e2", "2026-10-01T10:01:00Z", "ai_agent", "fin", "message", "hello"],
    ["c1", "e1", "2026-10-01T10:02:00Z", "customer", "u1", "message", "copy"],
    ["c2", "e1", "2026-10-01T11:00:00Z", "customer", "u2", "message", "hi"],
    ["c2", "", "2026-10-01T11:01:00Z", "ai_agent", "fin", "message", "no id"],
    ["c2", "e9", "yesterday", "customer", "u2", "message", "bad time"],
    ["c3", "e1", "2026-10-01T12:00:00Z", "robot", "r", "message", "bad role"],
]


@pytest.mark.parametrize("missing_id", [True, False])
def test_parquet_is_checked_as_csv_is(tmp_path: Path, missing_id: bool) -> None:
    """Staged Parquet is not copied into a table (events is a view over the file); its
    quarantine, duplicate ids, derived ids and events equal those of the same rows as CSV."""
    from auditor import engine

    rows = CHECKED if missing_id else [r for r in CHECKED if r[1]]
    csv_file = write_csv(tmp_path / "e.csv", CHECKED_HEADER, rows)
    parquet = tmp_path / "e.parquet"
    duckdb.execute(f"COPY (SELECT * FROM read_csv('{csv_file}', all_varchar = true, "
                   f"nullstr = '')) TO '{parquet}'")
    seen = []
    for path in (csv_file, parquet):
        con = engine.connect()
        summary = load_sources(con, [str(path)], "canonical")
        seen.append((
            (summary.records_read, summary.events, summary.quarantined),
            con.execute("SELECT conversation_id, event_id, created_at, actor_role, body "
                        "FROM events ORDER BY ALL").fetchall(),
            con.execute("SELECT conversation_id, field, reason, redundant FROM quarantine "
                        "ORDER BY ALL").fetchall(),
            con.execute("SELECT table_type FROM information_schema.tables "
                        "WHERE table_name = 'checked_events'").fetchall()))
        con.close()
    (csv_counts, csv_events, csv_quarantine, csv_kind), (counts, events, quarantine, kind) = seen
    assert (counts, events, quarantine) == (csv_counts, csv_events, csv_quarantine)
    assert (csv_kind, kind) == ([("BASE TABLE",)], [("VIEW",)])
    assert counts == ((7, 4, 3) if missing_id else (6, 3, 3))
    assert [r[4] for r in events if r[:2] == ("c1", "e1")] == ["hi"]  # the first copy kept
    # A derived id numbers the row in its conversation's time order ('#n').
    assert [r[1] for r in events if r[0] == "c2"] == (["#2", "e1"] if missing_id else ["e1"])
    assert [f for _, f, _, _ in quarantine] == ["event_id", "created_at", "actor_role"]


# The latest time in each case is held by a row that is not a valid event: an invalid row, or
# the ignored copy of a repeated id.
LATEST_ELSEWHERE = {
    "valid rows only": [],
    "invalid row": [["c2", "e5", "2026-10-09T10:00:00Z", "robot", "r", "message", "bad role"]],
    "ignored copy": [["c1", "e1", "2026-10-09T10:00:00Z", "customer", "u1", "message", "copy"]],
}


@pytest.mark.parametrize("case", LATEST_ELSEWHERE)
@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_the_export_ends_at_its_last_valid_event(tmp_path: Path, case: str, suffix: str) -> None:
    """The ingest reports the last event on its way through the rows; observation ends there,
    exactly where a pass over `events` says."""
    from auditor import engine
    from auditor.pipeline import observation_end

    rows = [CHECKED[0], CHECKED[1], CHECKED[3], *LATEST_ELSEWHERE[case]]
    path = write_csv(tmp_path / "e.csv", CHECKED_HEADER, rows)
    if suffix == ".parquet":
        path, csv_file = tmp_path / "e.parquet", path
        duckdb.execute(f"COPY (SELECT * FROM read_csv('{csv_file}', all_varchar = true)) "
                       f"TO '{path}'")
    con = engine.connect()
    summary = load_sources(con, [str(path)], "canonical")
    last = con.execute("SELECT max(created_at) FROM events").fetchall()[0][0]
    assert str(last) == "2026-10-01 11:00:00"
    assert observation_end(con, None, summary.last_event_at) == last
    # Seen on the way unless ignored copies were taken out afterwards.
    assert (summary.last_event_at is None) == (case == "ignored copy")
    con.close()


@pytest.mark.parametrize("suffix", [".parquet", ".jsonl", ".csv.gz", ".jsonl.gz"])
def test_parquet_jsonl_and_gzip_read_the_same(tmp_path: Path, suffix: str, con: duckdb.DuckDBPyConnection) -> None:
    source = write_events(tmp_path / "e.csv", GOOD)
    target = tmp_path / f"events{suffix}"
    if suffix == ".parquet":
        duckdb.execute(f"COPY (SELECT * FROM read_csv('{source}', all_varchar=true)) TO '{target}'")
    elif suffix.startswith(".jsonl"):
        header = ["conversation_id", "created_at", "actor_role", "actor_id", "event_type", "body"]
        lines = [json.dumps(dict(zip(header, row))) for row in GOOD]
        opener = gzip.open if suffix.endswith(".gz") else open
        with opener(target, "wt") as handle:
            handle.write("\n".join(lines) + "\n")
    else:
        with open(source, "rb") as src, gzip.open(target, "wb") as dst:
            shutil.copyfileobj(src, dst)
    summary = load_sources(con, [str(target)], "auto")
    assert (summary.events, summary.conversations, summary.inputs[0].format) == (3, 1, "canonical")


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_conversation_table_beside_the_event_log(tmp_path: Path, con: duckdb.DuckDBPyConnection,
                                                 suffix: str) -> None:
    events = write_events(tmp_path / "events.csv", GOOD)
    conversations = write_csv(tmp_path / "conversations.csv",
                              ["conversation_id", "customer_id", "vendor_state", "is_preview"],
                              [["c1", "cust-9", "assumed_resolution", "true"]])
    if suffix == ".parquet":  # typed, as a warehouse writes it (staged as a view, not copied)
        typed = tmp_path / "conversations.parquet"
        duckdb.execute(f"COPY (SELECT * FROM read_csv('{conversations}')) TO '{typed}'")
        conversations = typed
    load_sources(con, [str(events), str(conversations)], "canonical")
    assert con.execute("SELECT customer_id, vendor_state, is_preview FROM conversations").fetchall() \
        == [("cust-9", "assumed_resolution", True)]


@pytest.mark.parametrize(("label", "state"), [
    ("Resolved", "automated_resolution"),  # Ada's automated_resolution_classification
    ("Not Resolved", "not_resolved"),
    ("routed_to_team", "escalated"),  # Intercom <= 2.14
    ("something else", None),
])
def test_known_vendor_labels_give_a_state(tmp_path: Path, label: str, state: str | None,
                                          con: duckdb.DuckDBPyConnection) -> None:
    events = write_events(tmp_path / "events.csv", GOOD)
    conversations = write_csv(tmp_path / "conversations.csv", ["conversation_id", "vendor_label"],
                              [["c1", label]])
    load_sources(con, [str(events), str(conversations)], "canonical")
    assert con.execute("SELECT vendor_label, vendor_state FROM conversations").fetchall() \
        == [(label, state)]


@pytest.mark.parametrize("header, expected", [
    (["conversation_id", "actor_role", "event_type"], "missing required column 'created_at'"),
    (["id", "created_at", "actor_role", "event_type"], "missing required column 'conversation_id'"),
])
def test_missing_required_column_is_a_one_line_error(tmp_path: Path, header: list[str], expected: str, con: duckdb.DuckDBPyConnection) -> None:
    path = write_csv(tmp_path / "e.csv", header, [["c1"] * len(header)])
    with pytest.raises(InputError, match=expected) as info:
        load_sources(con, [str(path)], "canonical")
    assert "e.csv" in str(info.value) and "\n" not in str(info.value)


def test_file_with_no_valid_row_is_an_error_naming_record_and_field(tmp_path: Path, con: duckdb.DuckDBPyConnection) -> None:
    path = write_events(tmp_path / "e.csv", [["c1", "04/10/2026 10:00", "customer", "u", "message"]])
    with pytest.raises(InputError, match=r"e.csv, line 2, field 'created_at': cannot parse"):
        load_sources(con, [str(path)], "canonical")


def test_duplicate_event_ids_are_quarantined_not_double_counted(tmp_path: Path, con: duckdb.DuckDBPyConnection) -> None:
    path = write_csv(tmp_path / "e.csv", ["conversation_id", "event_id", "created_at", "actor_role", "event_type"],
                     [["c1", "p1", "2026-10-01T10:00:00Z", "customer", "message"],
                      ["c1", "p1", "2026-10-01T10:00:00Z", "customer", "message"]])
    summary = load_sources(con, [str(path)], "canonical")
    assert (summary.events, summary.quarantined) == (1, 1)


def test_missing_file_and_unknown_format(tmp_path: Path, con: duckdb.DuckDBPyConnection) -> None:
    with pytest.raises(InputError, match="no such file"):
        load_sources(con, [str(tmp_path / "nope.csv")], "canonical")
    from auditor.errors import UsageError
    with pytest.raises(UsageError, match="did you mean 'intercom'"):
        load_sources(con, [str(tmp_path)], "intercon")


def test_an_export_with_no_records_is_an_error(tmp_path: Path, con: duckdb.DuckDBPyConnection) -> None:
    empty = write_events(tmp_path / "events.csv", [])
    with pytest.raises(InputError, match="events.csv: holds no records"):
        load_sources(con, [str(empty)], "canonical")


@pytest.mark.parametrize("value", ["maybe", "2"])
def test_a_true_false_attribute_that_is_neither(tmp_path: Path, value: str,
                                                con: duckdb.DuckDBPyConnection) -> None:
    events = write_events(tmp_path / "events.csv", GOOD)
    conversations = write_csv(tmp_path / "conversations.csv", ["conversation_id", "ai_answered"],
                              [["c1", "yes"], ["c2", value]])
    with pytest.raises(InputError, match=rf"conversations.csv, line 3, field 'ai_answered': "
                                         rf"cannot read '{value}' as true/false"):
        load_sources(con, [str(events), str(conversations)], "canonical")


@pytest.mark.parametrize("when", ["99999-10-01T00:01:00Z", "1969-12-31T23:59:59Z", "-1"])
def test_dates_outside_the_plausible_range_are_quarantined(
        tmp_path: Path, when: str, con: duckdb.DuckDBPyConnection) -> None:
    rows = [*GOOD, ["c1", when, "ai_agent", "fin", "message", "late"]]
    load_sources(con, [str(write_events(tmp_path / "e.csv", rows))], "canonical")
    reasons = con.execute("SELECT field, reason FROM quarantine").fetchall()
    assert len(reasons) == 1 and reasons[0][0] == "created_at"
    assert "is outside the years 1970-2199" in reasons[0][1]


def test_a_ragged_row_deep_in_an_event_log_is_an_input_error(
        tmp_path: Path, con: duckdb.DuckDBPyConnection) -> None:
    rows = [["c1", "2026-10-01T10:00:00Z", "customer", "u1", "message", "hi"]] * 30_000
    path = write_events(tmp_path / "e.csv", rows)
    with open(path, "a", encoding="utf-8") as handle:
        handle.write("c1,2026-10-01T10:00:00Z,customer,u1,message,hi,,extra,more\n")
    # DuckDB only finds it while reading, past the sniffed head; it names no line for this one.
    with pytest.raises(InputError, match=r"e.csv(, line 30002)?: cannot be read"):
        load_sources(con, [str(path)], "canonical")
