"""Run a rule set's examples (and case tables) through the real pipeline.

Each example is a tiny scenario: a few events, optional conversation attributes, optional param
overrides, and the expected verdict for one conversation. It goes through exactly what an audit
does (staging tables -> finish_ingest -> build_facts -> evaluate), so an example that passes
here means the same thing on a real export. Examples with the same param overrides share one
run, each under its own id prefix, so checking a file with many examples stays fast.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, NamedTuple

import duckdb
from pydantic import BaseModel

from auditor.engine import STAGE_CONVERSATION_COLUMNS, connect
from auditor.facts import build_facts
from auditor.rulesets.expressions import Place
from auditor.rulesets.loader import check_examples, with_params
from auditor.rulesets.model import Example, RuleSet
from auditor.sources.validate import finish_ingest
from auditor.verdicts import evaluate, fact_params


class ExampleResult(BaseModel):
    """The outcome of one example: what was expected, what the pipeline said."""

    ruleset_id: str
    name: str
    origin: str  # "rules/strict.toml, examples[3]"
    description: str
    expected_counted: bool
    expected_reasons: list[str] | None
    counted: bool | None
    reasons: list[str]
    units: int | None = None
    evidence: str | None
    problems: list[str]

    @property
    def passed(self) -> bool:
        return not self.problems

    @property
    def test_id(self) -> str:
        return f"{self.ruleset_id}::{self.name}"

    def describe(self) -> str:
        """One paragraph for `auditor rules check` and pytest failure messages."""
        if self.passed:
            return f"ok {self.test_id}"
        got = (f"got counted={_bool(self.counted)} reasons=[{', '.join(self.reasons)}]; "
               f"evidence: {self.evidence}")
        return f"FAIL {self.test_id} ({self.origin}): " + "; ".join(self.problems) + f"\n    {got}"


def _bool(value: bool | None) -> str:
    return "missing" if value is None else str(value).lower()


class _Staged(NamedTuple):
    """An example with its place in the file and the prefix that keeps its ids apart."""

    example: Example
    origin: str  # "rules/strict.toml, examples[3]"
    prefix: str  # "ex3/": conversation, actor and customer ids of this example


def run_examples(ruleset: RuleSet, cases: Sequence[Example] | None = None, *,
                 source: str | None = None, table: str = "examples") -> list[ExampleResult]:
    """Run `cases` (default: the rule set's own [[examples]]) and report each one, in order.

    `source`/`table` say where the cases came from, for messages (e.g. tests/cases/strict.toml,
    table "examples"). Malformed cases (unknown params or codes) raise RuleSetError.
    """
    examples = list(ruleset.examples if cases is None else cases)
    origin = source or ruleset.path
    check_examples(ruleset, examples, origin, table)
    staged = [_Staged(example, f"{origin}, {table}[{n}]", f"ex{n}/")
              for n, example in enumerate(examples, start=1)]
    results: dict[str, ExampleResult] = {}
    for batch in _batches(staged):
        results.update((item.origin, result) for item, result in
                       zip(batch, _run_batch(ruleset, batch), strict=True))
    return [results[item.origin] for item in staged]


def _batches(staged: list[_Staged]) -> list[list[_Staged]]:
    """Examples with the same param overrides share one pipeline run (their ids are prefixed,
    so no fact crosses from one example to another, repeat contacts included)."""
    groups: dict[str, list[_Staged]] = {}
    for item in staged:
        key = json.dumps([item.example.params, item.example.export_end.isoformat()], sort_keys=True)
        groups.setdefault(key, []).append(item)
    return list(groups.values())


def _run_batch(ruleset: RuleSet, batch: list[_Staged]) -> list[ExampleResult]:
    first = batch[0]
    effective = with_params(ruleset, first.example.params, Place(first.origin, "params"))
    con = connect()
    try:
        con.execute("SET threads = 1")  # a few dozen rows: starting threads costs more
        for item in batch:
            _stage(con, item)
        _stage_export_end(con, first)
        finish_ingest(con)
        build_facts(con, "facts", fact_params(effective))
        evaluate(con, effective, "facts", "verdicts")
        return [_result(con, ruleset, item) for item in batch]
    finally:
        con.close()


def _result(con: duckdb.DuckDBPyConnection, ruleset: RuleSet, item: _Staged) -> ExampleResult:
    rows = con.execute("SELECT counted, reasons, evidence, units FROM verdicts "
                       "WHERE conversation_id = ?", [item.prefix + item.example.target]).fetchall()
    row = rows[0] if rows else None
    if row is not None and row[2] is not None:  # evidence may name conversations: unprefix
        row = (row[0], row[1], str(row[2]).replace(item.prefix, ""), row[3])
    quarantined = [r[0] for r in con.execute(
        "SELECT reason FROM quarantine WHERE source_file = ?", [item.origin]).fetchall()]
    return _compare(ruleset, item.example, item.origin, row, quarantined)


def _stage(con: duckdb.DuckDBPyConnection, item: _Staged) -> None:
    """Insert the example's events and conversation attributes into the staging tables."""
    events = [_event_row(item, n) for n in range(len(item.example.events))]
    con.executemany(f"INSERT INTO stage_events VALUES ({', '.join(['?'] * 16)})", events)
    conversations = [
        (item.prefix + c.id, c.customer_id and item.prefix + c.customer_id, c.channel,
         c.vendor_state, c.vendor_state, c.is_preview, c.ai_answered, item.origin,
         f"conversations[{n + 1}]", n + 1)
        for n, c in enumerate(item.example.conversations)
    ]
    if conversations:
        slots = ", ".join(["?"] * len(STAGE_CONVERSATION_COLUMNS))
        con.executemany(f"INSERT INTO stage_conversations VALUES ({slots})", conversations)


def _stage_export_end(con: duckdb.DuckDBPyConnection, item: _Staged) -> None:
    """One system event in a conversation of its own marks when the example's export ends."""
    end = item.example.export_end
    con.execute("INSERT INTO stage_events VALUES (?, NULL, ?, 'system', NULL, 'other', NULL, NULL, "
                "NULL, NULL, NULL, ?, NULL, ?, 'export_end', 0)",
                ["__export_end__", end, end.isoformat(), item.origin])


def _event_row(item: _Staged, index: int) -> tuple[Any, ...]:
    # Column order of engine.STAGE_EVENT_COLUMNS: the canonical event columns (without rating;
    # the three token columns empty), created_at_raw, rating_raw, then lineage (source_file,
    # source_record, source_ord).
    event = item.example.events[index]
    rating = None if event.rating is None else str(event.rating)
    return (item.prefix + event.conversation, None, event.at, event.role,
            item.prefix + event.actor_id(), event.type, event.body, event.channel,
            None, None, None, event.at.isoformat(), rating, item.origin, f"events[{index + 1}]", index + 1)


def _compare(ruleset: RuleSet, example: Example, origin: str, row: tuple[Any, ...] | None,
             quarantined: list[str]) -> ExampleResult:
    counted, reasons, evidence, units = row if row else (None, [], None, None)
    expect = example.expect
    problems = [f"event refused by ingest: {q}" for q in quarantined]
    if row is None:
        problems.append(f"no verdict for conversation '{example.target}'")
    elif counted != expect.counted:
        problems.append(f"expected counted={_bool(expect.counted)}")
    if row is not None and expect.reasons is not None and list(reasons) != expect.reasons:
        problems.append(f"expected reasons=[{', '.join(expect.reasons)}]")
    if row is not None and expect.units is not None and units != expect.units:
        problems.append(f"expected units={expect.units}, got {units}")
    problems += [f"evidence does not contain '{text}'" for text in expect.evidence_contains
                 if text not in (evidence or "")]
    return ExampleResult(ruleset_id=ruleset.id, name=example.name, origin=origin,
                         description=example.description, expected_counted=expect.counted,
                         expected_reasons=expect.reasons, counted=counted,
                         reasons=list(reasons), units=units, evidence=evidence,
                         problems=problems)
