"""`compare()`: what several billing definitions count on the same month, and where they differ.

sources -> canonical events -> facts (once per parameter set) -> each rule set's verdicts ->
one table per conversation -> counts, money, and pairwise disagreements grouped by the reason
code that makes the difference.

A disagreement "A counts it, B does not" is grouped by B's first reason: the criterion of B
that turns the conversation away. That is what a negotiator needs to point at.
"""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
from pydantic import BaseModel, Field

from auditor import __version__, engine
from auditor.errors import UsageError
from auditor.pipeline import build_facts_for, observation_end
from auditor.reconcile import Period
from auditor.report.build import ingest_section
from auditor.report.model import Cents, Ingest, ObservationEnd, observed_until, usd
from auditor.report.write import copy_table
from auditor.rulesets import RuleSet, list_rulesets, resolve_ruleset
from auditor.rulesets.overrides import ParamOverride, override_each, sweep_variants
from auditor.sources import InputProvenance, SourceOptions, load_sources
from auditor.sweep import Sweep, build_sweep, sweep_markdown
from auditor.verdicts import evaluate

EXAMPLES_PER_GROUP = 3
# The period is judged on the AI's last message, as in an audit's reproduction figures.
PERIOD_FACT = "last_ai_message_at"


class CompareRequest(BaseModel):
    """Everything a comparison needs; the CLI's options map one to one onto these fields."""

    exports: list[str]
    rulesets: list[str] = Field(default_factory=list)  # ids or paths; empty = every registered
    format: str = "auto"
    period: Period | None = None
    sources: SourceOptions = Field(default_factory=SourceOptions)
    unit_price: Decimal | None = None  # --unit-price: for rule sets without a price of their own
    as_of: datetime | None = None  # end of observation (--as-of), naive UTC
    # What-ifs: --param [ID.]NAME=VALUE for every rule set that takes NAME, and --sweep
    # NAME=V1,V2,...: (NAME, values), each rule set that takes NAME once per value.
    params: dict[str, Any] = Field(default_factory=dict)
    sweep: tuple[str, list[str]] | None = None


class RuleSetCount(BaseModel):
    id: str
    label: str = Field(description="The id, with the params set for this run: "
                                   "strict[repeat_contact_hours=24]; names it everywhere below.")
    overrides: list[ParamOverride] = Field(
        default_factory=list, description="Params set with --param or --sweep: name, value, "
                                          "and the file's default.")
    version: str
    sha256: str
    title: str
    vendor: str
    billing_unit: str
    conversations: int = Field(description="Conversations the rule set counts.")
    units: int = Field(description="Billing units those conversations are.")
    unit_price: float | None
    price_from: str | None = Field(
        description="Where unit_price comes from: 'rule set', '--unit-price' (the rule set has "
                    "none) or null (no price).")
    currency: str
    amount: Cents | None = Field(description="units x unit_price; null without a price.")


class Disagreement(BaseModel):
    counted_by: str
    not_counted_by: str
    reason: str = Field(description="not_counted_by's first reason code for these conversations.")
    summary: str
    conversations: int
    units: int = Field(description="Units counted_by bills for them.")
    examples: list[str]


class Comparison(BaseModel):
    period: str | None
    conversations: int = Field(description="Conversations compared (in the period, if given).")
    not_judged: int = Field(description="Conversations left out because the data cannot "
                                        "support a verdict (incomplete export, quarantined "
                                        "records); see ingest.not_judged.")
    rulesets: list[RuleSetCount]
    counted_by_not_by: dict[str, dict[str, int]] = Field(
        description="[A][B]: conversations A counts and B does not.")
    disagreements: list[Disagreement]
    sweep: Sweep | None = Field(default=None, description="--sweep: the swept rule sets' "
                                                          "counts side by side, value by value.")
    observation: ObservationEnd
    ingest: Ingest
    tool_version: str
    inputs: list[InputProvenance]


def compare(request: CompareRequest, out_dir: Path | None = None) -> Comparison:
    """Evaluate every rule set on the export; write compare files into out_dir when given."""
    before = _resolve(request.rulesets)
    rulesets = _what_ifs(before, request)
    con = engine.connect()
    try:
        ingest = load_sources(con, request.exports, request.format,
                              options=request.sources)
        ends_at = observation_end(con, request.as_of, ingest.last_event_at)
        _judge_all(con, rulesets, request.period, ends_at)
        disagreements = _disagreements(con, rulesets)
        counts = _counts(con, rulesets, request.unit_price)
        comparison = Comparison(
            period=str(request.period) if request.period else None,
            conversations=int(engine.scalar(con, "SELECT count(*) FROM in_scope") or 0),
            rulesets=counts,
            counted_by_not_by=_matrix(rulesets, disagreements),
            disagreements=disagreements,
            sweep=build_sweep(request.sweep[0].rpartition(".")[2], before, counts)
            if request.sweep else None,
            not_judged=int(engine.scalar(con, "SELECT count(*) FROM unjudgeable") or 0),
            observation=ObservationEnd.of(ends_at, as_of=request.as_of is not None),
            ingest=ingest_section(ingest),
            tool_version=__version__, inputs=ingest.inputs)
        if out_dir is not None:
            _write(con, comparison, rulesets, out_dir)
        return comparison
    finally:
        con.close()


def _resolve(names: list[str]) -> list[RuleSet]:
    rulesets = [resolve_ruleset(n) for n in names] if names else list_rulesets()
    ids = [r.id for r in rulesets]
    if len(set(ids)) != len(ids):
        raise UsageError("--rulesets names the same rule set twice: " + ", ".join(ids),
                         "to compare a rule set with itself under other params, use --sweep")
    return rulesets


def _what_ifs(rulesets: list[RuleSet], request: CompareRequest) -> list[RuleSet]:
    """--param, then --sweep's variants; at least two rule sets (or variants) to compare."""
    rulesets = override_each(rulesets, request.params)
    if request.sweep is not None:
        rulesets = sweep_variants(rulesets, *request.sweep)
    if len(rulesets) < 2:
        raise UsageError("compare needs at least two rule sets",
                         "e.g. --rulesets intercom-fin,strict, or --rulesets strict "
                         "--sweep repeat_contact_hours=24,72,168")
    return rulesets


def _judge_all(con: duckdb.DuckDBPyConnection, rulesets: list[RuleSet],
               period: Period | None, ends_at: datetime | None) -> None:
    """`verdicts_all`: one row per (rule set number, conversation in scope)."""
    tables = build_facts_for(con, rulesets, frozenset({PERIOD_FACT}), ends_at)
    in_period = period.sql_contains(PERIOD_FACT) if period else "true"
    # Conversations the data cannot support a verdict on are counted by no rule set.
    con.execute(f"CREATE TEMP TABLE in_scope AS SELECT conversation_id FROM {tables[0]} "
                f"ANTI JOIN unjudgeable USING (conversation_id) WHERE {in_period}")
    parts = []
    for n, (ruleset, table) in enumerate(zip(rulesets, tables, strict=True)):
        evaluate(con, ruleset, table, f"verdicts_{n}")
        parts.append(f"SELECT {n} AS r, v.* FROM verdicts_{n} v SEMI JOIN in_scope USING "
                     "(conversation_id)")
    con.execute("CREATE TEMP TABLE verdicts_all AS " + " UNION ALL ".join(parts))


def _counts(con: duckdb.DuckDBPyConnection, rulesets: list[RuleSet],
            fallback_price: Decimal | None) -> list[RuleSetCount]:
    """Conversations, units and money of every rule set, from one pass over the verdicts."""
    totals = {int(n): (int(c), int(u)) for n, c, u in con.execute(
        "SELECT r, count(*) FILTER (counted), coalesce(sum(units), 0) FROM verdicts_all "
        "GROUP BY r").fetchall()}
    return [_count(r, *totals.get(n, (0, 0)), fallback_price) for n, r in enumerate(rulesets)]


def _count(ruleset: RuleSet, conversations: int, units: int,
           fallback_price: Decimal | None) -> RuleSetCount:
    """A rule set's own price first; --unit-price only for one that has none."""
    price, source = ((Decimal(str(ruleset.unit_price)), "rule set")
                     if ruleset.unit_price is not None else
                     (fallback_price, "--unit-price" if fallback_price is not None else None))
    return RuleSetCount(
        id=ruleset.id, label=ruleset.label, overrides=ruleset.overrides,
        version=ruleset.version, sha256=ruleset.sha256, title=ruleset.title,
        vendor=ruleset.vendor, billing_unit=ruleset.billing_unit, conversations=conversations,
        units=units, unit_price=float(price) if price is not None else None, price_from=source,
        currency=ruleset.currency, amount=price * units if price is not None else None)


def _matrix(rulesets: list[RuleSet],
            disagreements: list[Disagreement]) -> dict[str, dict[str, int]]:
    """[A][B]: the disagreements' conversations summed over B's reasons (every conversation B
    does not count has exactly one first reason), so no second self-join of the verdicts."""
    matrix = {a.label: {b.label: 0 for b in rulesets if b.label != a.label} for a in rulesets}
    for d in disagreements:
        matrix[d.counted_by][d.not_counted_by] += d.conversations
    return matrix


def _disagreements(con: duckdb.DuckDBPyConnection,
                   rulesets: list[RuleSet]) -> list[Disagreement]:
    rows = con.execute(f"""
        SELECT a.r, b.r, b.reasons[1] AS reason, count(*), sum(a.units),
            list(a.conversation_id ORDER BY a.conversation_id)[1:{EXAMPLES_PER_GROUP}]
        FROM verdicts_all a JOIN verdicts_all b
            ON a.conversation_id = b.conversation_id AND a.counted AND NOT b.counted
        GROUP BY ALL ORDER BY 1, 2, 4 DESC, 3
    """).fetchall()
    summaries = [{c.code: c.summary for c in r.criteria} for r in rulesets]
    return [Disagreement(counted_by=rulesets[a].label, not_counted_by=rulesets[b].label,
                         reason=str(code), summary=summaries[b].get(str(code), ""),
                         conversations=int(n), units=int(units), examples=list(examples))
            for a, b, code, n, units, examples in rows]


def _write(con: duckdb.DuckDBPyConnection, comparison: Comparison, rulesets: list[RuleSet],
           out_dir: Path) -> None:
    """compare.json, compare.md, report.html and compare.csv (one row per conversation, a
    column group per rule set). Same inputs give byte-identical files."""
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"cannot create output directory {out_dir}: {exc.strerror}") from exc
    (out_dir / "compare.json").write_text(comparison_json(comparison), encoding="utf-8")
    (out_dir / "compare.md").write_text(render_markdown(comparison), encoding="utf-8")
    from auditor.report.compare_html import render_compare_html  # matplotlib only when writing

    (out_dir / "report.html").write_text(render_compare_html(comparison), encoding="utf-8")
    columns = ", ".join(
        f"any_value(counted) FILTER (r = {n}) AS {_column(r, 'counted')}, "
        f"any_value(units) FILTER (r = {n}) AS {_column(r, 'units')}, "
        f"array_to_string(any_value(reasons) FILTER (r = {n}), ';') AS {_column(r, 'reasons')}"
        for n, r in enumerate(rulesets))
    copy_table(con, f"SELECT conversation_id, {columns} FROM verdicts_all "
                    "GROUP BY conversation_id ORDER BY conversation_id", out_dir / "compare.csv")


def comparison_json(comparison: Comparison) -> str:
    """compare.json's content (and `auditor compare --json`'s output)."""
    return json.dumps(comparison.model_dump(mode="json"), indent=2) + "\n"


def _column(ruleset: RuleSet, what: str) -> str:
    """compare.csv's header for one of a rule set's columns: "strict.counted",
    "strict[repeat_contact_hours=24].units" (a quoted SQL name: labels hold any text)."""
    return '"' + f"{ruleset.label}.{what}".replace('"', '""') + '"'


def summary_rows(comparison: Comparison) -> list[tuple[str, str, str, str, str]]:
    """(rule set, billing unit, conversations, units, amount) rows for a table."""
    return [(r.label, r.billing_unit, f"{r.conversations:,}", f"{r.units:,}",
             usd(r.amount) if r.amount is not None else "no price")
            for r in comparison.rulesets]


def price_lines(comparison: Comparison) -> list[str]:
    """Which rule sets were priced at --unit-price, and which have no price at all."""
    given = [r for r in comparison.rulesets if r.price_from == "--unit-price"]
    unpriced = [r for r in comparison.rulesets if r.price_from is None]
    lines = []
    if given:
        lines.append(f"Priced at --unit-price {given[0].unit_price:g} (no price of their own): "
                     + _ids(given) + ".")
    if unpriced:
        lines.append("No price: " + _ids(unpriced) + "; pass --unit-price X to price them.")
    return lines


def _ids(counts: list[RuleSetCount]) -> str:
    """'intercom-fin, strict' (a rule set swept once per value is named once)."""
    return ", ".join(dict.fromkeys(c.id for c in counts))


def _matrix_markdown(comparison: Comparison) -> list[str]:
    ids = [r.label for r in comparison.rulesets]
    lines = ["## Counted by the row's rule set, not by the column's", "",
             "| counted by, not by: | " + " | ".join(f"`{i}`" for i in ids) + " |",
             "|---|" + "---:|" * len(ids)]
    for a in ids:
        cells = [f"{comparison.counted_by_not_by[a][b]:,}" if a != b else "-" for b in ids]
        lines.append(f"| `{a}` | " + " | ".join(cells) + " |")
    return lines


def render_markdown(comparison: Comparison) -> str:
    period = f" for {comparison.period}" if comparison.period else ""
    lines = [f"# What each definition counts{period}", "",
             f"{comparison.conversations:,} conversations compared, from "
             f"{comparison.ingest.records_read:,} records "
             f"({comparison.ingest.quarantined:,} quarantined); {comparison.not_judged:,} "
             "left out because the export cannot support a verdict on them (incomplete export "
             f"or quarantined records); {observed_until(comparison.observation)}.", "",
             "| rule set | unit | conversations | units | amount |", "|---|---|---:|---:|---:|"]
    lines += [f"| `{a}` | {b} | {c} | {d} | {e} |" for a, b, c, d, e in summary_rows(comparison)]
    prices = price_lines(comparison)
    lines += ["", *prices] if prices else []
    lines += sweep_markdown(comparison.sweep) if comparison.sweep else []
    lines += ["", *_matrix_markdown(comparison)]
    lines += ["", "## Where they disagree", "",
              "Conversations the first rule set counts and the second does not, by the second's "
              "reason.", "", "| counted by | not by | reason | conversations | units | e.g. |",
              "|---|---|---|---:|---:|---|"]
    lines += [f"| `{d.counted_by}` | `{d.not_counted_by}` | `{d.reason}` | "
              f"{d.conversations:,} | {d.units:,} | {', '.join(d.examples)} |"
              for d in comparison.disagreements]
    return "\n".join(lines) + "\n"
