"""Which rule sets exist: the built-in ones and any a plugin registers, found the same way.

A package registers rule sets with an entry point in the group `auditor.rulesets` whose object
is a callable returning a list of rule-set file paths. Our own built-ins are registered by
pyproject.toml as `builtin = "auditor.rulesets.registry:builtin_ruleset_files"`, so the plugin
path is exercised on every run. A rule set's id is its file name without `.toml`, which lets
`resolve_ruleset("strict")` read one file instead of all of them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path

import auditor
from auditor.errors import RuleSetError, UsageError, did_you_mean
from auditor.rulesets.loader import load_ruleset
from auditor.rulesets.model import RuleSet

ENTRY_POINT_GROUP = "auditor.rulesets"
BUILTIN_ENTRY_POINT = "auditor.rulesets.registry:builtin_ruleset_files"


def builtin_rules_dir() -> Path:
    """rules/ inside an installed wheel (auditor/_bundled/rules), else the source checkout's."""
    bundled = Path(auditor.__file__).parent / "_bundled" / "rules"
    return bundled if bundled.is_dir() else Path(auditor.__file__).parent.parent / "rules"


def builtin_ruleset_files() -> list[Path]:
    """The entry point behind the built-in rule sets: every rules/*.toml file."""
    return sorted(builtin_rules_dir().glob("*.toml"))


def _entry_points() -> list[EntryPoint]:
    return list(entry_points(group=ENTRY_POINT_GROUP))


def _providers() -> list[tuple[str, Callable[[], Iterable[str | Path]]]]:
    """(entry point name, callable) for every registered provider, built-ins included."""
    providers: list[tuple[str, Callable[[], Iterable[str | Path]]]] = []
    points = _entry_points()
    for point in points:
        try:
            providers.append((point.name, point.load()))
        except Exception as exc:  # a broken plugin must say which one it is
            hint = f"a package registers it in the '{ENTRY_POINT_GROUP}' group"
            raise RuleSetError(f"entry point '{point.name}' ({point.value})", None,
                               f"cannot be loaded: {exc}", hint) from exc
    if not any(point.value == BUILTIN_ENTRY_POINT for point in points):
        # A source checkout that was never `pip install`ed has no entry points at all.
        providers.insert(0, ("builtin", builtin_ruleset_files))
    return providers


def registered_files() -> dict[str, Path]:
    """Rule-set id -> file, over every provider; two providers claiming one id is an error."""
    files: dict[str, Path] = {}
    owners: dict[str, str] = {}
    for provider, function in _providers():
        for raw in function():
            if not isinstance(raw, str | Path):
                raise RuleSetError(f"entry point '{provider}'", None,
                                   f"returned {raw!r}; expected rule-set file paths")
            path = Path(raw)
            ruleset_id = path.stem
            if ruleset_id in files:
                raise RuleSetError(str(path), "id", f"rule set '{ruleset_id}' is registered twice",
                                   f"also by '{owners[ruleset_id]}' ({files[ruleset_id]})")
            files[ruleset_id], owners[ruleset_id] = path, provider
    return files


def list_rulesets() -> list[RuleSet]:
    """Every registered rule set, loaded and checked, sorted by id."""
    return [_load_registered(ruleset_id, path)
            for ruleset_id, path in sorted(registered_files().items())]


def _load_registered(ruleset_id: str, path: Path) -> RuleSet:
    ruleset = load_ruleset(path)
    if ruleset.id != ruleset_id:
        raise RuleSetError(str(path), "id", f"id '{ruleset.id}' does not match the file name",
                           f"a registered rule set's file is named <id>.toml: rename the file "
                           f"or set id = \"{ruleset_id}\"")
    return ruleset


def looks_like_path(id_or_path: str) -> bool:
    return id_or_path.endswith(".toml") or "/" in id_or_path or "\\" in id_or_path


def resolve_ruleset(id_or_path: str) -> RuleSet:
    """A rule-set file path, or the id of a registered rule set (e.g. 'strict')."""
    if looks_like_path(id_or_path) or Path(id_or_path).is_file():
        if not Path(id_or_path).is_file():
            raise UsageError(f"rule-set file '{id_or_path}' not found")
        return load_ruleset(id_or_path)
    files = registered_files()
    if id_or_path not in files:
        known = ", ".join(sorted(files)) or "none"
        hint = did_you_mean(id_or_path, files)
        raise UsageError(f"unknown rule set '{id_or_path}'; known rule sets: {known}",
                         hint or "or give the path to a .toml rule-set file")
    return _load_registered(id_or_path, files[id_or_path])
