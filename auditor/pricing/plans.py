"""Read pricing-plan files, and find the built-in ones (plans/, shipped in the wheel).

Plan files are checked like rule sets, with the same messages: file, key, what is wrong, and
"did you mean" for an unknown key or kind. A plan's id is its file name without `.toml`, so
`resolve_plan("intercom-fin")` reads one file.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from pydantic import ValidationError

import auditor
from auditor.errors import PlanError, RuleSetError, UsageError, did_you_mean
from auditor.pricing.plan import CHARGE_KINDS, AnyCharge, Plan
# The rule-set loader's TOML reading and error wording, so both file formats read alike.
from auditor.rulesets.loader import as_ruleset_error, parse_toml, read_bytes
from auditor.rulesets.model import RuleSet
from auditor.rulesets.registry import looks_like_path, resolve_ruleset


def builtin_plans_dir() -> Path:
    """plans/ inside an installed wheel (auditor/_bundled/plans), else the source checkout's."""
    bundled = Path(auditor.__file__).parent / "_bundled" / "plans"
    return bundled if bundled.is_dir() else Path(auditor.__file__).parent.parent / "plans"


def builtin_plan_files() -> dict[str, Path]:
    return {path.stem: path for path in sorted(builtin_plans_dir().glob("*.toml"),
                                               key=lambda p: p.stem)}


def list_plans() -> list[Plan]:
    """Every built-in plan, loaded and checked, sorted by id."""
    return [_load_builtin(plan_id, path) for plan_id, path in builtin_plan_files().items()]


def resolve_plan(id_or_path: str) -> Plan:
    """A plan file path, or the id of a built-in plan (e.g. 'intercom-fin')."""
    if looks_like_path(id_or_path) or Path(id_or_path).is_file():
        if not Path(id_or_path).is_file():
            raise UsageError(f"plan file '{id_or_path}' not found")
        return load_plan(id_or_path)
    files = builtin_plan_files()
    if id_or_path not in files:
        hint = did_you_mean(id_or_path, files)
        raise UsageError(f"unknown plan '{id_or_path}'; built-in plans: {', '.join(files)}",
                         hint or "or give the path to a .toml plan file")
    return _load_builtin(id_or_path, files[id_or_path])


def _load_builtin(plan_id: str, path: Path) -> Plan:
    plan = load_plan(path)
    if plan.id != plan_id:
        raise PlanError(str(path), "id", f"id '{plan.id}' does not match the file name",
                        f"a built-in plan's file is named <id>.toml: set id = \"{plan_id}\"")
    return plan


def load_plan(path: str | Path) -> Plan:
    """Read and check a plan file; PlanError names the file and key."""
    try:
        raw = read_bytes(path)
    except RuleSetError as exc:
        raise PlanError(str(path), None, exc.problem, exc.hint) from None
    return _checked(raw, str(path), Path(path).parent)


def plan_from_text(text: str, source: str = "<text>", folder: Path | None = None) -> Plan:
    """Like load_plan, for a TOML string (tests, generated plans)."""
    return _checked(text.encode("utf-8"), source, folder or Path.cwd())


def _checked(raw: bytes, source: str, folder: Path) -> Plan:
    try:
        data = parse_toml(raw, source)
    except RuleSetError as exc:
        raise PlanError(source, None, exc.problem, exc.hint) from None
    plan = _validate(Plan, data, source, "")
    typed = [_charge(table, number, source) for number, table in enumerate(data["charges"], 1)]
    plan = plan.model_copy(update={"charges": typed})
    _check_charges(plan, source, folder)
    return plan.with_provenance(source, hashlib.sha256(raw).hexdigest())


def _validate(model: Any, data: Any, source: str, prefix: str) -> Any:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        error = as_ruleset_error(model, exc, source)
        key = ".".join(k for k in (prefix, error.key or "") if k) or None
        raise PlanError(source, key, error.problem, error.hint) from None


def _charge(table: Any, number: int, source: str) -> AnyCharge:
    where = f"charges[{number}]"
    if not isinstance(table, dict):
        raise PlanError(source, where, "expected a table ([[charges]])")
    kind = table.get("kind")
    if kind is None:
        raise PlanError(source, where, "missing required key 'kind'",
                        "one of " + ", ".join(CHARGE_KINDS))
    if kind not in CHARGE_KINDS:
        hint = did_you_mean(str(kind), CHARGE_KINDS) or "one of " + ", ".join(CHARGE_KINDS)
        raise PlanError(source, f"{where}.kind", f"unknown kind '{kind}'", hint)
    return _validate(CHARGE_KINDS[kind], table, source, where)  # type: ignore[no-any-return]


def _check_charges(plan: Plan, source: str, folder: Path) -> None:
    """Unique names, at most one charge priced per conversation, rule sets that exist."""
    seen: set[str] = set()
    for number, charge in enumerate(plan.typed_charges(), start=1):
        if charge.name in seen:
            raise PlanError(source, f"charges[{number}].name", f"duplicate name '{charge.name}'",
                            "each charge's name may appear once in the file")
        seen.add(charge.name)
    metered = [n for n, c in enumerate(plan.typed_charges(), start=1) if c.metered]
    if len(metered) > 1:
        raise PlanError(source, f"charges[{metered[1]}]", "a plan has at most one charge that "
                        "counts usage (per_unit, per_conversation, per_token, flat with a "
                        f"meter); charges[{metered[0]}] is one already",
                        "make a second plan file for the other")
    for number, charge in enumerate(plan.typed_charges(), start=1):
        name = getattr(charge, "ruleset", None)
        if name is not None:
            charge_ruleset(name, folder, source, f"charges[{number}].ruleset")


def charge_ruleset(name: str, folder: Path, source: str = "<plan>",
                   key: str = "ruleset") -> RuleSet:
    """The rule set a charge counts: an id, or a path relative to the plan file."""
    target = name
    if looks_like_path(name) and not Path(name).is_absolute() and (folder / name).is_file():
        target = str(folder / name)
    try:
        return resolve_ruleset(target)
    except UsageError as exc:
        raise PlanError(source, key, exc.message, exc.hint) from None


def plan_rulesets(plan: Plan) -> list[RuleSet]:
    """The rule sets a plan's charges count, in charge order."""
    folder = Path(plan.path).parent
    return [charge_ruleset(c.ruleset, folder, plan.path)  # type: ignore[union-attr]
            for c in plan.typed_charges() if getattr(c, "ruleset", None) is not None]
