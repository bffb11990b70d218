"""What-ifs: a rule set with some params set from the command line (`--param NAME=VALUE`).

An overridden rule set is the same file with other param values: its sha256 stays the file's,
and it records what was set (`RuleSet.overrides`), so a report can list the overrides beside the
file's hash and a rerun with the same options reproduces the figures. Any command can take
overrides: `resolve_ruleset("strict").with_overrides({"repeat_contact_hours": "168"})`.

A value given as text is read by the kind of the param's default: a number, true/false, text,
or a list (comma-separated). Besides its declared params, every rule set can take the fact
parameters (auditor.facts.FactParams: phrase lists, window_hours, ...), which change how the
facts it reads are computed.
"""

from __future__ import annotations

import math
import re
import textwrap
from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import BaseModel

from auditor.errors import RuleSetError, UsageError, did_you_mean
from auditor.facts import FACT_PARAMETERS, FactParams
from auditor.rulesets.compiled import compile_ruleset, type_check
from auditor.rulesets.expressions import render_param
from auditor.rulesets.loader import fact_params
from auditor.rulesets.model import Param, ParamValue, RuleSet, param_value

WHOLE_NUMBER = re.compile(r"^[+-]?\d+$")
DECIMAL_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
FACT_DEFAULTS: dict[str, Any] = FactParams().model_dump()


class ParamOverride(BaseModel):
    """One param set on the command line: what a rerun passes as --param NAME=VALUE."""

    name: str
    value: ParamValue
    default: ParamValue  # the value in the rule-set file (or the fact parameter's default)


def parse_assignments(items: Iterable[str], option: str = "--param") -> dict[str, str]:
    """["repeat_contact_hours=168", ...] -> {"repeat_contact_hours": "168"}, in the given order."""
    assignments: dict[str, str] = {}
    for item in items:
        name, equals, value = item.partition("=")
        name = name.strip()
        if not equals or not name:
            raise UsageError(f"{option} '{item}' is not NAME=VALUE",
                             f"for example {option} repeat_contact_hours=168")
        if name in assignments:
            raise UsageError(f"{option} {name} is given twice ({assignments[name]!r} and "
                             f"{value.strip()!r})", "give each param once")
        assignments[name] = value.strip()
    return assignments


def overridable(ruleset: RuleSet) -> dict[str, ParamValue]:
    """Every param a what-if may set, with its current value: the declared params, then the
    fact parameters the rule set leaves at their defaults."""
    values = ruleset.param_values()
    return values | {name: FACT_DEFAULTS[name] for name in FACT_PARAMETERS if name not in values}


def with_overrides(ruleset: RuleSet, overrides: Mapping[str, Any],
                   option: str = "--param") -> RuleSet:
    """A checked copy of `ruleset` with `overrides` (text as typed on a command line, or
    values) replacing its params' values; UsageError naming `option` when one does not fit."""
    if not overrides:
        return ruleset
    current = overridable(ruleset)
    params = dict(ruleset.params)
    recorded = {o.name: o for o in ruleset.overrides}
    for name, given in overrides.items():
        if name not in current:
            raise _unknown(ruleset, name, current, option)
        where = f"{option} {name}={_shown(given)}"
        value = read_value(given, current[name], where)
        if isinstance(FACT_DEFAULTS.get(name), int) and not isinstance(value, int):
            raise UsageError(f"{where}: expected a whole number")  # facts count characters
        described = params.get(name) or Param(default=current[name],
                                              description=FACT_PARAMETERS[name])
        params[name] = described.model_copy(update={"default": value})
        first = recorded.get(name)
        recorded[name] = ParamOverride(name=name, value=value,
                                       default=first.default if first else current[name])
    changed = ruleset.model_copy(update={"params": params})
    changed._overrides = [recorded[n] for n in current if n in recorded]  # declaration order
    _check(changed, option, overrides)
    return changed


def read_value(given: Any, default: ParamValue, where: str) -> ParamValue:
    """`given` as a value of the same kind as `default`; text is read by that kind."""
    if not isinstance(given, str) or isinstance(default, str):
        return _same_kind(given, default, where)
    text = given.strip()
    if isinstance(default, bool):
        if text.lower() not in ("true", "false"):
            raise UsageError(f"{where}: expected true or false, like the default "
                             f"{_shown(default)}")
        return text.lower() == "true"
    if isinstance(default, int | float):
        return _number(text, default, where)
    return [item.strip() for item in text.split(",") if item.strip()]


def _number(text: str, default: ParamValue, where: str) -> int | float:
    if WHOLE_NUMBER.match(text):
        return int(text)
    if not DECIMAL_NUMBER.match(text) or not math.isfinite(float(text)):
        hint = ("write decimals with a point, e.g. 1.5" if re.match(r"^[+-]?\d+,\d+$", text)
                else None)
        raise UsageError(f"{where}: expected a number, like the default {_shown(default)}",
                         hint)
    return float(text)


def _same_kind(value: Any, default: ParamValue, where: str) -> ParamValue:
    try:
        value = param_value(value)
    except ValueError as exc:
        raise UsageError(f"{where}: {exc}") from None
    kinds = (bool, int | float, str, list)
    expected = next(k for k in kinds if isinstance(default, k))
    if not isinstance(value, expected) or (expected is not bool and isinstance(value, bool)):
        raise UsageError(f"{where}: expected a value like the default {_shown(default)}")
    return value


def _unknown(ruleset: RuleSet, name: str, current: Mapping[str, ParamValue],
             option: str) -> UsageError:
    hint = did_you_mean(name, current) or "params it takes: " + ", ".join(current)
    return UsageError(f"{option} {name}: rule set '{ruleset.id}' has no param '{name}'", hint)


def _check(ruleset: RuleSet, option: str, overrides: Mapping[str, Any]) -> None:
    """Compile and type-check the rule set with the new values (a window of -5 hours, a
    fractional character count), saying which options led there."""
    given = " ".join(f"{option} {n}={_shown(v)}" for n, v in overrides.items())
    try:
        fact_params(ruleset)
    except RuleSetError as exc:  # the key it names is the file's, not what the user typed
        raise UsageError(f"{given}: {exc.problem}") from None
    try:
        type_check(compile_ruleset(ruleset), ruleset.path)
    except RuleSetError as exc:
        raise UsageError(f"{given}: {exc}") from None


def _shown(value: Any) -> str:
    return value if isinstance(value, str) else render_param(value)


def label(ruleset: RuleSet) -> str:
    """'strict', or 'strict[repeat_contact_hours=24]' for a what-if (tables, compare.csv)."""
    if not ruleset.overrides:
        return ruleset.id
    return f"{ruleset.id}[{', '.join(f'{o.name}={_shown(o.value)}' for o in ruleset.overrides)}]"


def describe_overrides(overrides: Iterable[ParamOverride]) -> str:
    """'repeat_contact_hours = 168 instead of 72', for notes and report headers."""
    return "; ".join(f"{o.name} = {_brief(o.value)} instead of {_brief(o.default)}"
                     for o in overrides)


def _brief(value: ParamValue) -> str:
    return textwrap.shorten(render_param(value), width=60, placeholder=" ...")


# --- several rule sets (compare): --param [ID.]NAME=VALUE and --sweep ---------------------------

def override_each(rulesets: list[RuleSet], assignments: Mapping[str, Any],
                  option: str = "--param") -> list[RuleSet]:
    """Each assignment set on every rule set that takes the param (`ID.NAME` for one rule set
    only); a name no rule set takes is an error."""
    per_ruleset: list[dict[str, Any]] = [{} for _ in rulesets]
    for target, value in assignments.items():
        for n in _takers(rulesets, target, option):
            per_ruleset[n][target.rpartition(".")[2]] = value
    return [r.with_overrides(given, option) for r, given in zip(rulesets, per_ruleset,
                                                                strict=True)]


def sweep_variants(rulesets: list[RuleSet], target: str, values: list[str],
                   option: str = "--sweep") -> list[RuleSet]:
    """Every rule set that takes the param becomes one variant per value, in place; the others
    stay as they are."""
    if len(values) < 2 or len(set(values)) != len(values):
        raise UsageError(f"{option} {target}: give two or more different values, "
                         "comma-separated", f"for example {option} repeat_contact_hours=24,72,168")
    takers = _takers(rulesets, target, option)
    name = target.rpartition(".")[2]
    swept: list[RuleSet] = []
    for n, ruleset in enumerate(rulesets):
        if n not in takers:
            swept.append(ruleset)
            continue
        if isinstance(overridable(ruleset)[name], list):
            raise UsageError(f"{option} {name}: a list param cannot be swept (its values are "
                             "comma-separated themselves)", "compare once per list with --param")
        swept += [ruleset.with_overrides({name: value}, option) for value in values]
    return swept


def _takers(rulesets: list[RuleSet], target: str, option: str) -> list[int]:
    """Positions of the rule sets an `[ID.]NAME` assignment applies to."""
    wanted, _, name = target.rpartition(".")
    chosen = [(n, r) for n, r in enumerate(rulesets) if not wanted or r.id == wanted]
    if not chosen:
        ids = [r.id for r in rulesets]
        raise UsageError(f"{option} {target}: '{wanted}' is not one of the rule sets compared",
                         did_you_mean(wanted, ids) or "compared: " + ", ".join(ids))
    takers = [n for n, r in chosen if name in overridable(r)]
    if not takers:
        names = sorted({p for _, r in chosen for p in overridable(r)})
        raise UsageError(f"{option} {target}: no rule set compared has a param '{name}'",
                         did_you_mean(name, names) or "params: " + ", ".join(names))
    return takers
