"""A whole rule set compiled to DuckDB SQL: every criterion, the evidence templates, units and
the observation window, each checked by `auditor.rulesets.expressions` first."""

from __future__ import annotations

import math
from typing import NamedTuple

import duckdb
from sqlglot import exp

from auditor.facts import FACT_NAMES
from auditor.rulesets.expressions import (
    Place, check_boolean, check_number, compile_condition, compile_template, parse_condition,
    parse_template, probe_facts, result_type,
)
from auditor.rulesets.model import Observation, ParamValue, RuleSet
from auditor.rulesets.type_errors import type_problem


class CompiledCriterion(NamedTuple):
    code: str
    condition: str  # DuckDB boolean SQL over one facts row
    evidence: str  # DuckDB VARCHAR SQL
    undecided: bool = False  # see model.Criterion.undecided


class CompiledObservation(NamedTuple):
    window: str  # DuckDB numeric SQL of params and literals only: hours, one number
    observed: str  # DuckDB numeric SQL over one facts row: hours the export shows
    evidence: str  # DuckDB VARCHAR SQL, for counted conversations observed for less


class CompiledRuleSet(NamedTuple):
    criteria: list[CompiledCriterion]
    confirmed_evidence: str
    units: str | None  # DuckDB numeric SQL over one facts row; None = one per conversation
    observation: CompiledObservation | None = None


def compile_ruleset(ruleset: RuleSet) -> CompiledRuleSet:
    """Check every expression and template of `ruleset` and compile them with its params."""
    params = ruleset.param_values()
    names = FACT_NAMES | params.keys()
    criteria = []
    for number, criterion in enumerate(ruleset.criteria, start=1):
        key = f"criteria[{number}]"
        when = parse_condition(criterion.when, Place(ruleset.path, f"{key}.when"), names)
        evidence = parse_template(criterion.evidence, Place(ruleset.path, f"{key}.evidence"),
                                  names)
        criteria.append(CompiledCriterion(criterion.code, compile_condition(when, params),
                                          compile_template(evidence, params),
                                          criterion.undecided))
    confirmed = parse_template(ruleset.confirmed_evidence,
                               Place(ruleset.path, "confirmed_evidence"), names)
    units = None
    if ruleset.units is not None:
        units = compile_condition(parse_condition(ruleset.units, Place(ruleset.path, "units"),
                                                  names), params)
    observation = None
    if ruleset.observation is not None:
        observation = _compile_observation(ruleset.observation, ruleset.path, params)
    return CompiledRuleSet(criteria, compile_template(confirmed, params), units, observation)


def _compile_observation(observation: Observation, source: str,
                         params: dict[str, ParamValue]) -> CompiledObservation:
    names = FACT_NAMES | params.keys()
    place = Place(source, "observation.window_hours")
    window = parse_condition(observation.window_hours, place, names)
    facts = sorted({c.name for c in window.find_all(exp.Column)} - params.keys())
    if facts:
        raise place.error(f"the window is one number for the whole rule set, but it reads the "
                          f"fact '{facts[0]}'", "write it with params and numbers, e.g. "
                          "'repeat_contact_hours'; facts belong in observed_hours")
    observed = parse_condition(observation.observed_hours,
                               Place(source, "observation.observed_hours"), names)
    evidence = parse_template(observation.evidence, Place(source, "observation.evidence"), names)
    return CompiledObservation(compile_condition(window, params),
                               compile_condition(observed, params),
                               compile_template(evidence, params))


def observation_window_hours(compiled: CompiledRuleSet) -> float | None:
    """The observation window in hours (None without one); `type_check` made sure it is a
    positive number."""
    if compiled.observation is None:
        return None
    con = duckdb.connect(":memory:")
    try:
        value = con.execute(f"SELECT CAST(({compiled.observation.window}) AS DOUBLE)").fetchall()
    finally:
        con.close()
    return float(value[0][0])


def type_check(compiled: CompiledRuleSet, source: str) -> None:
    """Ask DuckDB to bind every compiled expression against an empty facts table."""
    con = duckdb.connect(":memory:")
    try:
        probe_facts(con)
        for number, criterion in enumerate(compiled.criteria, start=1):
            check_boolean(con, criterion.condition, Place(source, f"criteria[{number}].when"))
            result_type(con, criterion.evidence, Place(source, f"criteria[{number}].evidence"))
        result_type(con, compiled.confirmed_evidence, Place(source, "confirmed_evidence"))
        if compiled.units is not None:
            check_number(con, compiled.units, Place(source, "units"))
        if compiled.observation is not None:
            _check_observation(con, compiled.observation, source)
    finally:
        con.close()


def _check_observation(con: duckdb.DuckDBPyConnection, observation: CompiledObservation,
                       source: str) -> None:
    hours = "a number of hours"
    window = Place(source, "observation.window_hours")
    check_number(con, observation.window, window, hours, "e.g. 'repeat_contact_hours'")
    try:
        value = con.execute(f"SELECT CAST(({observation.window}) AS DOUBLE)").fetchall()[0][0]
    except duckdb.Error as exc:
        raise window.error(*type_problem(exc)) from None
    if value is None or not math.isfinite(value) or value <= 0:
        raise window.error(f"expected a positive number of hours, got {value}")
    check_number(con, observation.observed, Place(source, "observation.observed_hours"), hours,
                 "e.g. 'hours_observed_after_last_ai'")
    result_type(con, observation.evidence, Place(source, "observation.evidence"))
