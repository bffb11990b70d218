"""Facts computed one range of conversation ids at a time: the ranges cover every id once, are
only used where the files' order makes them cheap, and change no output."""

from __future__ import annotations

import filecmp
import itertools
from pathlib import Path

import duckdb
import pytest

from auditor import engine, facts, pipeline
from auditor.conversation_ranges import EVERYTHING, IdRange, conversation_ranges
from auditor.pipeline import AuditRequest
from auditor.sources import load_sources

SAMPLE = Path(__file__).resolve().parents[1] / "sample_data"
SMALL = 4_000  # events per range here: the sample month's 20k events make three


@pytest.fixture(scope="module")
def month(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The Intercom sample month as canonical Parquet, in row groups of 2,048 events: ordered
    by conversation (sorted.parquet), in no order (shuffled.parquet), and as CSV."""
    folder = tmp_path_factory.mktemp("ranges")
    pipeline.ingest_only([str(SAMPLE / "intercom_2026-10.jsonl.gz")], "auto",
                         folder / "canonical.parquet")
    con = duckdb.connect()
    events = f"read_parquet('{folder / 'canonical.parquet'}')"
    for name, order in (("sorted", "conversation_id, created_at, event_id"),
                        ("shuffled", "hash(event_id)")):
        con.execute(f"COPY (SELECT * FROM {events} ORDER BY {order}) TO "
                    f"'{folder / name}.parquet' (FORMAT parquet, ROW_GROUP_SIZE 2048)")
    con.execute(f"COPY (SELECT * FROM {events}) TO '{folder / 'events.csv'}' (HEADER true)")
    con.execute(f"COPY (SELECT * REPLACE (hash(conversation_id) % 1000000 AS "
                f"conversation_id) FROM {events} ORDER BY 1) TO '{folder / 'numbers.parquet'}' "
                "(FORMAT parquet, ROW_GROUP_SIZE 2048)")
    return folder


def _loaded(month: Path, events: str) -> duckdb.DuckDBPyConnection:
    con = engine.connect()
    load_sources(con, [str(month / events), str(month / "canonical.conversations.parquet")],
                 "canonical")
    return con


def _split_small(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Make the facts split into ranges of SMALL events; returns the number of ranges of each
    split (filled in as the facts are built)."""
    split: list[int] = []

    def small_ranges(con: duckdb.DuckDBPyConnection) -> list[IdRange]:
        split.append(len(found := conversation_ranges(con, events_per_range=SMALL)))
        return found

    monkeypatch.setattr(facts, "conversation_ranges", small_ranges)
    return split


def test_ordered_parquet_is_split_into_ranges_holding_every_conversation_once(
        month: Path) -> None:
    con = _loaded(month, "sorted.parquet")
    ranges = conversation_ranges(con, events_per_range=SMALL)
    assert len(ranges) >= 3
    assert ranges[0].low is None and ranges[-1].high is None
    assert all(a.high == b.low for a, b in itertools.pairwise(ranges))
    in_ranges = " + ".join(f"CAST({r.condition()} AS INTEGER)" for r in ranges)
    assert con.execute(f"SELECT count(*) FILTER (({in_ranges}) <> 1), count(*) "
                       "FROM conversations").fetchone() == (0, 3018)


@pytest.mark.parametrize("events", ["shuffled.parquet", "events.csv", "numbers.parquet"])
def test_files_not_ordered_by_text_ids_are_not_split(month: Path, events: str) -> None:
    assert conversation_ranges(_loaded(month, events), events_per_range=SMALL) == EVERYTHING


def test_a_range_says_which_ids_it_holds() -> None:
    assert IdRange(None, None).condition() == "true"
    assert IdRange("a'b", None).condition("id") == "id >= 'a''b'"
    assert IdRange("a", "c").condition() == "conversation_id >= 'a' AND conversation_id < 'c'"


def test_reports_are_the_same_split_or_not(month: Path, tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    request = AuditRequest(
        exports=[str(month / "sorted.parquet"), str(month / "canonical.conversations.parquet")],
        format="canonical", billed_csv=str(SAMPLE / "billed_2026-10.csv"),
        vendor="intercom-fin", display_names={month / "sorted.parquet": "events.parquet"})
    pipeline.audit(request, tmp_path / "whole")
    split = _split_small(monkeypatch)
    pipeline.audit(request, tmp_path / "split")
    assert split and split[0] >= 3
    names = sorted(p.name for p in (tmp_path / "whole").iterdir())
    assert filecmp.cmpfiles(tmp_path / "whole", tmp_path / "split", names, shallow=False)[0] \
        == names


@pytest.mark.parametrize("sessions", [False, True], ids=["split", "sessions-at-once"])
def test_every_fact_is_the_same_split_or_not(month: Path, sessions: bool,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """Without an end of observation (auditor compare's case) too; a table that asks for
    sessions, which span a customer's conversations, is computed at once."""
    columns = [f.name for f in facts.FACT_COLUMNS
               if sessions or f.name != "customer_sessions_started"]
    con = _loaded(month, "sorted.parquet")
    facts.build_facts(con, "whole", facts.FactParams(), columns)
    split = _split_small(monkeypatch)
    facts.build_facts(con, "split", facts.FactParams(), columns)
    assert split == ([] if sessions else [3])
    for a, b in (("whole", "split"), ("split", "whole")):
        assert con.execute(f"SELECT count(*) FROM (FROM {a} EXCEPT ALL FROM {b})").fetchone() \
            == (0,)
    assert con.execute("SELECT count(*) FROM split").fetchone() == (3018,)


def test_ranges_that_miss_events_are_not_trusted(month: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """Statistics a writer got wrong would make DuckDB skip row groups a range needs: the
    ranges' events must add up to every event, else the facts are computed at once."""
    con = _loaded(month, "sorted.parquet")
    middle = con.execute("SELECT quantile_disc(conversation_id, 0.5) FROM events").fetchone()[0]
    gap = [IdRange(None, middle), IdRange(middle + "0", None)]  # leaves `middle` out
    monkeypatch.setattr(facts, "conversation_ranges", lambda con: gap)
    facts.build_facts(con, "f", facts.FactParams(), ["conversation_id", "n_ai_messages"])
    assert con.execute("SELECT count(*), count(*) FILTER (conversation_id = ?) FROM f",
                       [middle]).fetchone() == (3018, 1)
    assert "n_events" not in [r[0] for r in con.execute("DESCRIBE f").fetchall()]
