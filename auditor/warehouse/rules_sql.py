"""Rule sets in the portable subset: criteria, units and observation windows, and the verdicts.

A rule set's expressions are checked by auditor/rulesets/expressions.py as for the local run,
then rewritten into the portable subset: least/greatest skip NULLs (AUD_LEAST), date_diff
counts boundaries from epoch seconds (AUD_SECONDS), lower() folds ASCII only (AUD_LOWER, as the
local run does), list_contains(list param, x) becomes x IN (...), a division divides a DOUBLE.
Anything else outside the subset (regular expressions, date parts, string formatting, text
compared with < or >) is refused with the rule set's file and key: such a rule set runs locally.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple

from sqlglot import exp

from auditor.errors import RuleSetError
from auditor.facts import FACT_COLUMNS, FACT_NAMES
from auditor.rulesets.expressions import Place, literal, parse_condition
from auditor.rulesets.model import ParamValue, RuleSet
from auditor.warehouse import lint
from auditor.warehouse.facts_sql import Statement

TEXT_FACTS = frozenset(f.name for f in FACT_COLUMNS if f.sql_type == "VARCHAR")
# date_diff units: microseconds per unit boundary (UTC; days start at midnight UTC).
DATE_DIFF_UNITS = {"second": 1_000_000, "minute": 60_000_000, "hour": 3_600_000_000,
                   "day": 86_400_000_000}
ORDERING = (exp.GT, exp.GTE, exp.LT, exp.LTE, exp.Between)


class PortableCriterion(NamedTuple):
    code: str
    condition: exp.Expression
    undecided: bool


class PortableRuleSet(NamedTuple):
    criteria: list[PortableCriterion]
    units: exp.Expression | None
    observation: tuple[exp.Expression, exp.Expression] | None  # (window, observed)


def compile_portable(ruleset: RuleSet) -> PortableRuleSet:
    """Every expression of `ruleset` in the portable subset; RuleSetError naming the key of
    the first one that cannot be."""
    params = ruleset.param_values()
    names = FACT_NAMES | params.keys()

    def portable(text: str, key: str) -> exp.Expression:
        place = Place(ruleset.path, key)
        return to_portable(parse_condition(text, place, names), params, place)

    criteria = [PortableCriterion(c.code, portable(c.when, f"criteria[{n}].when"), c.undecided)
                for n, c in enumerate(ruleset.criteria, start=1)]
    units = portable(ruleset.units, "units") if ruleset.units is not None else None
    observation = None
    if ruleset.observation is not None:
        observation = (portable(ruleset.observation.window_hours, "observation.window_hours"),
                       portable(ruleset.observation.observed_hours,
                                "observation.observed_hours"))
    return PortableRuleSet(criteria, units, observation)


def to_portable(tree: exp.Expression, params: Mapping[str, ParamValue],
                place: Place) -> exp.Expression:
    """A checked rule expression (DuckDB dialect) rewritten into the portable subset."""
    for node in tree.walk():
        if isinstance(node, ORDERING) and any(_is_text(n) for n in node.iter_expressions()):
            raise _refuse(place, node, "text compared with < or > depends on the collation")

    def rewrite(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.ArrayContains):  # list_contains(list, x)
            return _list_contains(node, params, place, rewrite)
        if isinstance(node, exp.Column) and node.name in params:
            value = params[node.name]
            if isinstance(value, list):
                raise _refuse(place, node, "a list param is only usable in list_contains")
            return literal(value)
        if isinstance(node, exp.Least | exp.Greatest):
            name = "AUD_LEAST" if isinstance(node, exp.Least) else "AUD_GREATEST"
            args = [node.this, *node.expressions]
            return exp.Anonymous(this=name, expressions=[a.transform(rewrite) for a in args])
        if isinstance(node, exp.DateDiff):
            return _date_diff(node, place, rewrite)
        if isinstance(node, exp.Lower):
            return exp.Anonymous(this="AUD_LOWER", expressions=[node.this.transform(rewrite)])
        if isinstance(node, exp.Div) and not lint._is_double(node.this):
            return exp.Div(this=exp.cast(node.this.transform(rewrite), "DOUBLE"),
                           expression=node.expression.transform(rewrite))
        if isinstance(node, exp.Trim) and node.expression is None:
            return exp.Trim(this=node.this.transform(rewrite), expression=exp.Literal.string(" "))
        return node

    result = tree.copy().transform(rewrite)
    try:
        lint.check(result)
    except lint.NotPortable as exc:
        raise place.error(f"cannot run in a warehouse: {exc}",
                          "run this rule set locally, or write it with the functions "
                          "docs/warehouse.md lists") from None
    return result


def _is_text(node: exp.Expression) -> bool:
    return (isinstance(node, exp.Literal) and node.is_string) or (
        isinstance(node, exp.Column) and node.name in TEXT_FACTS)


def _refuse(place: Place, node: exp.Expression, why: str) -> RuleSetError:
    return place.error(f"cannot run in a warehouse: '{node.sql(dialect='duckdb')}': {why}",
                       "run this rule set locally")


def _list_contains(node: exp.ArrayContains, params: Mapping[str, ParamValue],
                   place: Place, rewrite) -> exp.Expression:  # noqa: ANN001
    values = node.this
    if not (isinstance(values, exp.Column) and isinstance(params.get(values.name), list)):
        raise _refuse(place, node, "list_contains needs a list param as its first argument")
    items = [exp.Literal.string(v) for v in params[values.name]]  # type: ignore[union-attr]
    needle = node.expression.transform(rewrite)
    if not items:
        return exp.Case(ifs=[exp.If(this=exp.Is(this=needle, expression=exp.null()),
                                    true=exp.null())], default=exp.false())
    return exp.Paren(this=exp.In(this=needle, expressions=items))


def _date_diff(node: exp.DateDiff, place: Place, rewrite) -> exp.Expression:  # noqa: ANN001
    unit = (node.unit.name if node.unit is not None else "day").lower().rstrip("s")
    if unit not in DATE_DIFF_UNITS:
        raise _refuse(place, node, "date_diff is portable in seconds, minutes, hours and days")
    start, end = node.expression.transform(rewrite), node.this.transform(rewrite)
    if unit == "second":
        return exp.Anonymous(this="AUD_SECONDS", expressions=[start, end])
    per = exp.Literal.number(DATE_DIFF_UNITS[unit])

    def boundary(ts: exp.Expression) -> exp.Expression:
        return exp.Anonymous(this="AUD_FLOOR_DIV", expressions=[
            exp.Anonymous(this="AUD_EPOCH_US", expressions=[ts]), per.copy()])

    return exp.Paren(this=exp.Sub(this=boundary(end), expression=boundary(start)))


# --- verdicts ------------------------------------------------------------------------------

def verdict_statement(ruleset: RuleSet, facts_table: str, out: str) -> Statement:
    """`out`: one row per facts row (conversation_id, counted, units, decided, reasons as
    ';'-joined codes in rule order ('' when none), short_observed); no evidence, which the
    local run renders for billed conversations."""
    compiled = compile_portable(ruleset)
    n = len(compiled.criteria)
    applies = [f"COALESCE(({_text(c.condition)}), FALSE) AS a{i}"
               for i, c in enumerate(compiled.criteria)]
    counted = "NOT (" + " OR ".join(f"a{i}" for i in range(n)) + ")"
    decisive = [f"a{i}" for i, c in enumerate(compiled.criteria) if not c.undecided]
    extra = []
    if compiled.units is None:
        units = f"CAST(CASE WHEN {counted} THEN 1 ELSE 0 END AS BIGINT)"
    else:
        extra.append(f"({_text(compiled.units)}) AS units_value")
        units = (f"CAST(CASE WHEN {counted} THEN AUD_GREATEST(1, COALESCE(CAST(CEIL("
                 "units_value) AS BIGINT), 1)) ELSE 0 END AS BIGINT)")
    short = "FALSE"
    if compiled.observation is not None:
        window, observed = compiled.observation
        extra.append(f"({_text(observed)}) AS observed_value")
        short = f"COALESCE(observed_value < ({_text(window)}), FALSE)"
    reasons = " || ".join(f"CASE WHEN a{i} THEN ';{c.code}' ELSE '' END"
                          for i, c in enumerate(compiled.criteria))
    sql = (f"SELECT conversation_id, {counted} AS counted, {units} AS units,\n"
           f"    ({counted} OR {' OR '.join(decisive) or 'FALSE'}) AS decided,\n"
           f"    SUBSTRING({reasons}, 2) AS reasons,\n"
           f"    {counted} AND {short} AS short_observed\n"
           f"FROM (SELECT conversation_id, {', '.join(applies + extra)} FROM {facts_table}) "
           "AS applies")
    return Statement(out, lint.parse(sql))


def _text(tree: exp.Expression) -> str:
    return tree.sql(dialect=lint.READ)
