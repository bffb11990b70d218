"""Rule verdicts: one row per conversation saying whether a rule set counts it, and why not.

The semantics are the same for every rule set (no vendor-specific branches): a conversation is
counted iff none of the rule set's criteria applies; `reasons` lists the codes of all criteria
that apply, in file order. A criterion whose expression is NULL does not apply, so a missing
fact never disputes a conversation by itself.
"""

from __future__ import annotations

import re

import duckdb
import sqlglot
from sqlglot import exp

from auditor.engine import error_text, sql_string
from auditor.errors import RuleSetError
from auditor.facts import FACT_NAMES, FactParams
from auditor.rulesets import loader
from auditor.rulesets.compiled import CompiledRuleSet, compile_ruleset
from auditor.rulesets.model import RuleSet

VERDICT_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("conversation_id", "VARCHAR", "The conversation."),
    ("counted", "BOOLEAN",
     "True when no criterion applies: billable (vendor) / confirmed (contract)."),
    ("units", "BIGINT",
     "Billing units of a counted conversation (the rule set's `units`, at least 1; 1 when it "
     "has none); 0 when not counted."),
    ("decided", "BOOLEAN",
     "False when the only criteria that apply are `undecided` ones (the data cannot tell yet, "
     "e.g. the vendor's waiting time had not passed when the export ends); true otherwise."),
    ("reasons", "VARCHAR[]",
     "Codes of the criteria that apply, in rule-set order; empty if counted."),
    ("evidence", "VARCHAR",
     "Evidence sentences of the criteria that apply, joined by '; '; else confirmed_evidence "
     "(observation.evidence when short_observed)."),
    ("short_observed", "BOOLEAN",
     "Counted, but the export shows less than the rule set's observation window after it "
     "(observation.observed_hours < observation.window_hours): counted on what was observed. "
     "False without an observation window."),
)
TABLE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$")


def fact_params(ruleset: RuleSet) -> FactParams:
    """FactParams for `ruleset`: the defaults, overridden by its params of the same name."""
    return loader.fact_params(ruleset)


def evaluate(con: duckdb.DuckDBPyConnection, ruleset: RuleSet, facts_table: str,
             out_table: str, *, details: bool = True, evidence_for: str | None = None) -> None:
    """Create `out_table` (VERDICT_COLUMNS), one row per row of `facts_table`, in one query.

    `facts_table` must have been built with `fact_params(ruleset)`. With details=False only
    `counted` is filled (reasons and evidence are NULL): cheaper where only the verdict is read
    (reproduction). With
    `evidence_for` (a table with a conversation_id column), evidence is written only for those
    conversations: the billed ones are all a report shows.
    """
    sql = verdict_sql(ruleset, _table(facts_table), details=details, evidence_for=evidence_for)
    try:
        con.execute(f"CREATE OR REPLACE TABLE {_table(out_table)} AS {sql}")
    except duckdb.Error as exc:  # e.g. a division by zero in one conversation's facts
        problem = error_text(exc).split(". Use TRY(", 1)[0]  # DuckDB's advice names SQL, not params
        raise RuleSetError(ruleset.path, None, f"an expression failed on the data: {problem}",
                           "guard divisions with nullif(x, 0) and casts with try_cast") from exc


def verdict_sql(ruleset: RuleSet, facts_table: str, *, details: bool = True,
                evidence_for: str | None = None) -> str:
    """The SELECT behind `evaluate` (also handy to show a rule set's SQL to a reviewer)."""
    applies, columns = _verdict_parts(compile_ruleset(ruleset), "", "", details,
                                      _evidence_wanted(evidence_for))
    listed = ",\n    ".join(columns)
    return (f"WITH applies AS (SELECT *, {', '.join(applies)} FROM {_table(facts_table)})\n"
            f"SELECT conversation_id, {listed}\nFROM applies")


def _evidence_wanted(evidence_for: str | None) -> str | None:
    """SQL: the conversation is in `evidence_for` (None: every conversation gets evidence)."""
    if evidence_for is None:
        return None
    return f"conversation_id IN (SELECT conversation_id FROM {_table(evidence_for)})"


def _verdict_parts(compiled: CompiledRuleSet, tag: str, prefix: str, details: bool,
                   evidence_when: str | None) -> tuple[list[str], list[str]]:
    """(the criteria's `applies_{tag}N` flags, the VERDICT_COLUMNS but conversation_id as
    `{prefix}name`) of one rule set, over its facts; evidence only `evidence_when` (SQL)."""
    reasons = _reasons(compiled, tag) if details else "CAST(NULL AS VARCHAR[])"
    sentence = _evidence(compiled, tag) if details else "CAST(NULL AS VARCHAR)"
    if details and evidence_when:
        sentence = f"CASE WHEN {evidence_when} THEN {sentence} END"
    applies = [f"coalesce(({c.condition}), false) AS applies_{tag}{n}"
               for n, c in enumerate(compiled.criteria)]
    counted = _counted(compiled, tag)
    columns = [f"{counted} AS {prefix}counted", f"{_units(compiled, tag)} AS {prefix}units",
               f"{_decided(compiled, tag)} AS {prefix}decided", f"{reasons} AS {prefix}reasons",
               f"{sentence} AS {prefix}evidence",
               f"{counted} AND {_short_observed(compiled)} AS {prefix}short_observed"]
    return applies, columns


def evaluate_together(con: duckdb.DuckDBPyConnection, rulesets: dict[str, tuple[RuleSet, str]],
                      out_table: str, *, evidence_for: str | None = None,
                      carried: tuple[str, ...] = ()) -> None:
    """Create `out_table`: one row per conversation with each rule set's VERDICT_COLUMNS as
    `{role}_{column}` (`rulesets`: role -> (rule set, its facts table)) and the `carried`
    facts. Rule sets that share a facts table are judged in one pass over it, so readers join
    one table, not one per rule set: at 10M conversations each pass and each join spills.
    """
    tables = {facts for _, facts in rulesets.values()}
    if len(tables) > 1:  # different facts (what-if params)
        _evaluate_apart(con, rulesets, out_table, evidence_for, carried)
        return
    # Whether a conversation gets evidence is looked up once, for all the rule sets.
    wanted = _evidence_wanted(evidence_for)
    applies, columns = ([f"{wanted} AS evidence_wanted_"] if wanted else []), list(carried)
    for n, (role, (ruleset, _)) in enumerate(rulesets.items()):
        flags, verdict = _verdict_parts(compile_ruleset(ruleset), f"{n}_", f"{role}_", True,
                                        "evidence_wanted_" if wanted else None)
        applies += flags
        columns += verdict
    try:
        con.execute(f"CREATE OR REPLACE TABLE {_table(out_table)} AS "
                    f"WITH applies AS (SELECT *, {', '.join(applies)} FROM {_table(tables.pop())})"
                    f"\nSELECT conversation_id, {', '.join(columns)}\nFROM applies")
    except duckdb.OutOfMemoryException:
        raise  # not an expression's fault (the CLI says how to give DuckDB more memory)
    except duckdb.Error:
        for ruleset, facts in rulesets.values():  # the rule set whose expression failed says so
            evaluate(con, ruleset, facts, f"{out_table}_check", evidence_for=evidence_for)
        raise


def _evaluate_apart(con: duckdb.DuckDBPyConnection, rulesets: dict[str, tuple[RuleSet, str]],
                    out_table: str, evidence_for: str | None, carried: tuple[str, ...]) -> None:
    """evaluate_together for rule sets with different facts: each on its own, then joined."""
    for role, (ruleset, facts) in rulesets.items():
        evaluate(con, ruleset, facts, f"{out_table}_{role}", evidence_for=evidence_for)
    first, *others = rulesets
    columns = [f"{first}_f.{c} AS {c}" for c in carried] + [
        f"{role}_v.{name} AS {role}_{name}" for role in rulesets
        for name, *_ in VERDICT_COLUMNS if name != "conversation_id"]
    joins = " ".join(f"JOIN {out_table}_{role} {role}_v USING (conversation_id)"
                     for role in others)
    con.execute(f"CREATE OR REPLACE TABLE {_table(out_table)} AS "
                f"SELECT conversation_id, {', '.join(columns)} "
                f"FROM {out_table}_{first} {first}_v {joins} "
                f"JOIN {rulesets[first][1]} {first}_f USING (conversation_id)")
    for role in rulesets:
        con.execute(f"DROP TABLE {out_table}_{role}")


def _counted(compiled: CompiledRuleSet, tag: str = "") -> str:
    return "NOT (" + " OR ".join(f"applies_{tag}{n}" for n in range(len(compiled.criteria))) + ")"


def _decided(compiled: CompiledRuleSet, tag: str = "") -> str:
    """Counted, or turned away by at least one criterion that is not `undecided`."""
    decisive = [f"applies_{tag}{n}" for n, c in enumerate(compiled.criteria) if not c.undecided]
    return f"({_counted(compiled, tag)} OR {' OR '.join(decisive) or 'false'})"


def _short_observed(compiled: CompiledRuleSet) -> str:
    """Observed for less than the window; `counted` is ANDed by the caller."""
    if compiled.observation is None:
        return "false"
    observation = compiled.observation
    return f"coalesce(({observation.observed}) < ({observation.window}), false)"


def _units(compiled: CompiledRuleSet, tag: str = "") -> str:
    # A counted conversation is at least one unit: a rule set says why a conversation adds
    # nothing with a criterion (and its reason code), not with 0 units.
    if compiled.units is None:
        return f"CAST(CASE WHEN {_counted(compiled, tag)} THEN 1 ELSE 0 END AS BIGINT)"
    return (f"CASE WHEN {_counted(compiled, tag)} THEN "
            f"greatest(1, coalesce(CAST(ceil(({compiled.units})) AS BIGINT), 1)) ELSE 0 END")


def _reasons(compiled: CompiledRuleSet, tag: str = "") -> str:
    # The codes of the criteria that apply, in file order, joined and split again: half the
    # cost of concatenating one-element lists on a million conversations. Codes are snake_case
    # (rulesets/model.py), so a comma never occurs in one.
    codes = ", ".join(f"CASE WHEN applies_{tag}{n} THEN {sql_string(c.code)} END"
                      for n, c in enumerate(compiled.criteria))
    return (f"CASE WHEN {_counted(compiled, tag)} THEN CAST([] AS VARCHAR[]) "
            f"ELSE string_split(concat_ws(',', {codes}), ',') END")


def _evidence(compiled: CompiledRuleSet, tag: str = "") -> str:
    sentences = [f"CASE WHEN applies_{tag}{n} THEN {c.evidence} END"
                 for n, c in enumerate(compiled.criteria)]
    confirmed = compiled.confirmed_evidence
    if compiled.observation is not None:
        confirmed = (f"CASE WHEN {_short_observed(compiled)} THEN "
                     f"{compiled.observation.evidence} ELSE {confirmed} END")
    return (f"CASE WHEN {_counted(compiled, tag)} THEN {confirmed} "
            f"ELSE concat_ws('; ', {', '.join(sentences)}) END")


def _table(name: str) -> str:
    if not TABLE_NAME.match(name):
        raise ValueError(f"not a plain table name: {name!r}")
    return name


def facts_used(ruleset: RuleSet) -> frozenset[str]:
    """The fact columns a rule set's conditions and evidence templates read."""
    compiled = compile_ruleset(ruleset)
    sql = [c.condition for c in compiled.criteria] + [c.evidence for c in compiled.criteria]
    sql.append(compiled.confirmed_evidence)
    if compiled.observation is not None:
        sql += [compiled.observation.observed, compiled.observation.evidence]
    if compiled.units is not None:
        sql.append(compiled.units)
    names = {column.name for text in sql
             for column in sqlglot.parse_one(text, dialect="duckdb").find_all(exp.Column)}
    return frozenset(names & FACT_NAMES)
