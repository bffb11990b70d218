"""Read a rule-set file (TOML) into a checked `RuleSet`, or fail with file + key + what to fix.

Positions in keys count from 1, as a reader counts tables in the file: `criteria[1]` is the
first `[[criteria]]` table, `examples[2].events[3]` the third event of the second example.
"""

from __future__ import annotations

import hashlib
import tomllib
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from auditor.errors import RuleSetError, did_you_mean
from auditor.facts import FACT_NAMES, FactParams
from auditor.rulesets.compiled import compile_ruleset, type_check
from auditor.rulesets.expressions import Place
from auditor.rulesets.model import CaseFile, Example, RuleSet, param_value

TYPE_PROBLEMS: dict[str, str] = {
    "string_type": "expected a string (text in quotes)",
    "bool_type": "expected true or false",
    "int_type": "expected a whole number",
    "int_parsing": "expected a whole number",
    "int_from_float": "expected a whole number",
    "float_type": "expected a number",
    "float_parsing": "expected a number",
    "list_type": "expected a list",
    "dict_type": "expected a table",
    "model_type": "expected a table",
}


def load_ruleset(path: str | Path) -> RuleSet:
    """Read, validate and check a rule-set file; RuleSetError names the file and key."""
    source = str(path)
    raw = read_bytes(path)
    ruleset = _validate(RuleSet, parse_toml(raw, source), source)
    ruleset = ruleset.with_provenance(source, hashlib.sha256(raw).hexdigest())
    check_ruleset(ruleset)
    return ruleset


def ruleset_from_text(text: str, source: str = "<text>") -> RuleSet:
    """Like load_ruleset, for a TOML string (tests, generated rule sets)."""
    raw = text.encode("utf-8")
    ruleset = _validate(RuleSet, parse_toml(raw, source), source)
    ruleset = ruleset.with_provenance(source, hashlib.sha256(raw).hexdigest())
    check_ruleset(ruleset)
    return ruleset


def load_case_file(path: str | Path) -> CaseFile:
    """Read tests/cases/<ruleset-id>.toml: `ruleset = "<id>"` and `[[examples]]` tables."""
    source = str(path)
    return _validate(CaseFile, parse_toml(read_bytes(path), source), source).with_path(source)


def read_bytes(path: str | Path) -> bytes:
    try:
        return Path(path).read_bytes()
    except FileNotFoundError:
        raise RuleSetError(str(path), None, "file not found") from None
    except OSError as exc:
        raise RuleSetError(str(path), None, f"cannot be read: {exc.strerror}") from None


def parse_toml(raw: bytes, source: str) -> dict[str, Any]:
    try:
        return tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise RuleSetError(source, None, "is not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise RuleSetError(source, None, f"not valid TOML: {exc}",
                           "see docs/rulesets.md for the file format") from None


# --- pydantic errors -> RuleSetError ---------------------------------------------------------

M = typing.TypeVar("M", bound=BaseModel)


def _validate(model: type[M], data: dict[str, Any], source: str) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise as_ruleset_error(model, exc, source) from None


def key_path(loc: tuple[int | str, ...]) -> str | None:
    """('criteria', 1, 'when') -> 'criteria[2].when' (positions count from 1)."""
    key = ""
    for part in loc:
        key += f"[{part + 1}]" if isinstance(part, int) else (f".{part}" if key else str(part))
    return key or None


def as_ruleset_error(model: type[BaseModel], exc: ValidationError, source: str) -> RuleSetError:
    # An unknown key first: a typo ("sumary") also shows up as a missing key ("summary").
    error = sorted(exc.errors(), key=lambda e: e["type"] != "extra_forbidden")[0]
    loc, kind = tuple(error["loc"]), error["type"]
    more = exc.error_count() - 1
    later = f"{more} more problem(s) after this one" if more else None
    if kind == "missing":
        return RuleSetError(source, key_path(loc[:-1]), f"missing required key '{loc[-1]}'", later)
    if kind == "extra_forbidden":
        keys = _keys_at(model, loc[:-1])
        hint = did_you_mean(str(loc[-1]), keys) or "allowed keys: " + ", ".join(keys)
        return RuleSetError(source, key_path(loc), f"unknown key '{loc[-1]}'", hint)
    return RuleSetError(source, key_path(loc), _problem(error), later)


def _problem(error: Any) -> str:
    kind, ctx = error["type"], error.get("ctx") or {}
    if kind in TYPE_PROBLEMS:
        return f"{TYPE_PROBLEMS[kind]}, got {_describe(error['input'])}"
    if kind == "literal_error":
        return f"expected {ctx['expected']}, got {_describe(error['input'])}"
    if kind == "too_short":
        return f"expected at least {ctx.get('min_length', 1)} entry, got none"
    message = str(error["msg"]).removeprefix("Value error, ")
    return message[:1].lower() + message[1:]


def _describe(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return f"the number {value}"
    if isinstance(value, str):
        return f"'{value}'" if len(value) < 40 else "a string"
    return {list: "a list", dict: "a table"}.get(type(value), type(value).__name__)


def _keys_at(model: type[BaseModel], loc: tuple[int | str, ...]) -> list[str]:
    """The keys allowed in the table at `loc`, by walking the model's annotations."""
    current: Any = model
    for part in loc:
        current = _item_type(current, part)
    return list(current.model_fields) if _is_model(current) else []


def _item_type(annotation: Any, part: int | str) -> Any:
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        annotation = next(a for a in typing.get_args(annotation) if a is not type(None))
        origin = typing.get_origin(annotation)
    if origin in (list, dict):
        return typing.get_args(annotation)[-1]
    if _is_model(annotation) and isinstance(part, str) and part in annotation.model_fields:
        return annotation.model_fields[part].annotation
    return None


def _is_model(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


# --- checks across keys ----------------------------------------------------------------------

def check_ruleset(ruleset: RuleSet) -> None:
    """Checks one key cannot do alone: unique codes, param names, expressions, examples."""
    source = ruleset.path
    _check_unique([c.code for c in ruleset.criteria], "criteria", "code", source)
    for name in ruleset.params:
        _check_param_name(name, Place(source, f"params.{name}"))
    fact_params(ruleset)
    type_check(compile_ruleset(ruleset), source)
    check_examples(ruleset, ruleset.examples, source)


def _check_unique(values: list[str], table: str, key: str, source: str) -> None:
    seen: set[str] = set()
    for number, value in enumerate(values, start=1):
        if value in seen:
            raise RuleSetError(source, f"{table}[{number}].{key}", f"duplicate {key} '{value}'",
                               f"each {key} may appear once in the file")
        seen.add(value)


def _check_param_name(name: str, place: Place) -> None:
    if not name.isidentifier() or name != name.lower():
        raise place.error(f"param name '{name}' must be snake_case, e.g. 'repeat_contact_hours'")
    if name in FACT_NAMES:
        raise place.error(f"param '{name}' has the name of a fact column",
                          "rename the param so expressions stay unambiguous")


def fact_params(ruleset: RuleSet) -> FactParams:
    """FactParams defaults, overridden by the rule set's params with the same names."""
    overrides = {k: v for k, v in ruleset.param_values().items() if k in FactParams.model_fields}
    try:
        return FactParams.model_validate(overrides, strict=True)
    except ValidationError as exc:
        error = exc.errors()[0]
        name = str(error["loc"][0])
        raise RuleSetError(ruleset.path, f"params.{name}.default", _problem(error),
                           f"'{name}' changes how facts are computed (see docs/facts.md)") from None


def with_params(ruleset: RuleSet, overrides: Mapping[str, Any], place: Place) -> RuleSet:
    """A copy of `ruleset` whose param defaults are replaced by `overrides` (same types)."""
    params = dict(ruleset.params)
    for name, value in overrides.items():
        if name not in params:
            hint = did_you_mean(name, params) or "declared params: " + (", ".join(params) or "none")
            raise place.error(f"unknown param '{name}'", hint)
        params[name] = params[name].model_copy(update={"default": _same_kind(
            params[name].default, value, Place(place.source, f"{place.key}.{name}"))})
    changed = ruleset.model_copy(update={"params": params})
    fact_params(changed)
    return changed


def _same_kind(default: Any, value: Any, place: Place) -> Any:
    try:
        value = param_value(value)
    except ValueError as exc:
        raise place.error(str(exc)) from None
    kinds = (bool, int | float, str, list)
    expected = next(k for k in kinds if isinstance(default, k))
    if not isinstance(value, expected) or (expected is not bool and isinstance(value, bool)):
        raise place.error(f"expected a value like the default {default!r}, "
                          f"got {_describe(value)}")
    return value


def check_examples(ruleset: RuleSet, examples: list[Example], source: str,
                   table: str = "examples") -> None:
    """Example names are unique, params exist, expected reasons are codes, the target exists."""
    _check_unique([e.name for e in examples], table, "name", source)
    for number, example in enumerate(examples, start=1):
        where = f"{table}[{number}]"
        with_params(ruleset, example.params, Place(source, f"{where}.params"))
        codes = ruleset.codes()
        for reason in example.expect.reasons or []:
            if reason not in codes:
                hint = did_you_mean(reason, codes) or "codes: " + ", ".join(codes)
                raise RuleSetError(source, f"{where}.expect.reasons", f"unknown code '{reason}'",
                                   hint)
        ids = {e.conversation for e in example.events} | {c.id for c in example.conversations}
        if example.target not in ids:
            raise RuleSetError(source, f"{where}.target",
                               f"no conversation '{example.target}' in this example",
                               "conversations here: " + ", ".join(sorted(ids)))
