"""Rule-set files: loading, error messages, the registry and plugins, and evaluation."""

from __future__ import annotations

import hashlib
import sys
import types
from importlib.metadata import EntryPoint
from pathlib import Path

import duckdb
import pytest

import auditor
from auditor.errors import RuleSetError, UsageError
from auditor.facts import FACT_COLUMNS, FactParams
from auditor.rulesets import (
    list_rulesets,
    load_ruleset,
    registry,
    resolve_ruleset,
    ruleset_from_text,
    with_params,
)
from auditor.rulesets.expressions import Place
from auditor.verdicts import evaluate, fact_params

REPO = Path(__file__).resolve().parents[1]
STRICT_CODES = ["no_ai_answer", "human_takeover", "handoff_requested", "unanswered_followup",
                "reopened", "repeat_contact", "negative_feedback", "no_customer_message",
                "preview"]
INTERCOM_CODES = ["no_ai_answer", "further_help_requested", "escalated", "negative_feedback",
                  "preview", "pending", "customer_returned"]

MINIMAL = """
id = "mini"
version = "1.0.0"
title = "Minimal"
kind = "contract"
vendor = "any"
description = "Counts conversations without a human reply."

[params.negative_rating_max]
default = 2
description = "Ratings at or below this are negative."

[[criteria]]
code = "human_takeover"
summary = "A human replied."
when = "has_human_message"
evidence = "human replied {first_human_message_at}"

[[criteria]]
code = "negative_feedback"
summary = "Low rating."
when = "min_rating <= negative_rating_max"
evidence = "lowest rating {min_rating}"
"""


def write(tmp_path: Path, text: str, name: str = "mini.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def error_for(tmp_path: Path, text: str) -> RuleSetError:
    with pytest.raises(RuleSetError) as caught:
        load_ruleset(write(tmp_path, text))
    return caught.value


# --- built-in rule sets ----------------------------------------------------------------------

def test_builtin_rulesets_are_registered_and_load() -> None:
    rulesets = {r.id: r for r in list_rulesets()}
    assert {"intercom-fin", "strict"} <= rulesets.keys()
    for ruleset in rulesets.values():
        assert ruleset.sha256 == hashlib.sha256(Path(ruleset.path).read_bytes()).hexdigest()
        assert ruleset.sources and ruleset.description.count("\n") >= 3
        assert len(ruleset.examples) >= 6
        assert all(p.description for p in ruleset.params.values())


def test_strict_has_exactly_the_contract_codes_in_order() -> None:
    strict = resolve_ruleset("strict")
    assert strict.codes() == STRICT_CODES
    assert strict.kind == "contract" and strict.unit_price is None
    assert strict.params["repeat_contact_hours"].default == 72
    assert strict.params["negative_rating_max"].default == 2


def test_intercom_fin_reproduces_the_vendor() -> None:
    fin = resolve_ruleset("intercom-fin")
    assert fin.codes() == INTERCOM_CODES
    assert (fin.kind, fin.unit_price, fin.currency) == ("vendor", 0.99, "USD")
    assert fin.billed_labels == ["assumed_resolution", "confirmed_resolution"]
    assert any("8205718" in s.url for s in fin.sources)


def test_resolve_by_path_and_by_id_give_the_same_rule_set() -> None:
    by_path = resolve_ruleset(str(REPO / "rules" / "strict.toml"))
    assert by_path.model_dump() == resolve_ruleset("strict").model_dump()


# --- loader errors: file, key, what was expected ---------------------------------------------

def test_invalid_toml_names_the_file_and_line(tmp_path: Path) -> None:
    error = error_for(tmp_path, 'id = "x"\ntitle = "unterminated\n')
    assert "mini.toml" in str(error) and "not valid TOML" in str(error) and "line 2" in str(error)


def test_wrong_type_says_what_was_expected(tmp_path: Path) -> None:
    error = error_for(tmp_path, MINIMAL.replace('title = "Minimal"', "title = 3"))
    assert error.key == "title"
    assert "expected a string" in error.problem and "got the number 3" in error.problem


def test_missing_key_names_the_table(tmp_path: Path) -> None:
    error = error_for(tmp_path, MINIMAL.replace('code = "negative_feedback"\n', ""))
    assert error.key == "criteria[2]" and error.problem == "missing required key 'code'"
    assert str(error).startswith(f"{tmp_path / 'mini.toml'}, key 'criteria[2]': missing")


def test_duplicate_code(tmp_path: Path) -> None:
    error = error_for(tmp_path, MINIMAL.replace('"negative_feedback"', '"human_takeover"'))
    assert error.key == "criteria[2].code" and error.problem == "duplicate code 'human_takeover'"


def test_unknown_key_suggests_the_right_one(tmp_path: Path) -> None:
    error = error_for(tmp_path, MINIMAL.replace('summary = "Low rating."', 'sumary = "Low."'))
    assert error.key == "criteria[2].sumary" and "unknown key 'sumary'" in str(error)
    assert "did you mean 'summary'?" in str(error)


def test_unknown_top_level_key_lists_allowed_keys(tmp_path: Path) -> None:
    error = error_for(tmp_path, 'colour = "red"\n' + MINIMAL)
    assert error.key == "colour" and "allowed keys:" in str(error) and "criteria" in str(error)


@pytest.mark.parametrize(("change", "key", "expected"), [
    (('kind = "contract"', 'kind = "buyer"'), "kind", "expected 'vendor' or 'contract'"),
    (('id = "mini"', 'id = "Mini_Rules"'), "id", "kebab-case"),
    (('version = "1.0.0"', 'version = "1.0"'), "version", "semantic version"),
    (('code = "human_takeover"', 'code = "Human Takeover"'), "criteria[1].code", "snake_case"),
    (('summary = "A human replied."', 'summary = """two\nlines"""'), "criteria[1].summary",
     "one line"),
    (("default = 2", "default = {a = 1}"), "params.negative_rating_max.default",
     "expected a number, a string, true/false or a list of strings"),
    (('vendor = "any"', 'vendor = "any"\nbilled_labels = ["billed"]'), "billed_labels",
     "unknown label 'billed'"),
    (('vendor = "any"', 'vendor = "any"\nunit_price = "0.99"'), "unit_price",
     "expected a number"),
    (('vendor = "any"', 'vendor = "any"\nsources = [{title = "x", url = "intercom.com"}]'),
     "sources[1].url", "https://"),
])
def test_value_errors_name_key_and_expectation(tmp_path: Path, change: tuple[str, str],
                                               key: str, expected: str) -> None:
    error = error_for(tmp_path, MINIMAL.replace(*change))
    assert error.key == key and expected in error.problem


def test_criteria_are_required(tmp_path: Path) -> None:
    error = error_for(tmp_path, MINIMAL.split("[[criteria]]")[0])
    assert error.problem == "missing required key 'criteria'"


def test_param_may_not_shadow_a_fact(tmp_path: Path) -> None:
    text = MINIMAL + '\n[params.reopened]\ndefault = true\ndescription = "x"\n'
    error = error_for(tmp_path, text)
    assert error.key == "params.reopened" and "name of a fact column" in error.problem


def test_fact_parameter_types_are_checked(tmp_path: Path) -> None:
    text = MINIMAL + '\n[params.confirmation_max_chars]\ndefault = "eighty"\ndescription = "x"\n'
    error = error_for(tmp_path, text)
    assert error.key == "params.confirmation_max_chars.default"
    assert "expected a whole number" in error.problem


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(RuleSetError, match="file not found"):
        load_ruleset(tmp_path / "nope.toml")


EXAMPLE = """
[[examples]]
name = "human"
events = [
  {at = "10:00", role = "customer", body = "hi"},
  {at = "10:01", role = "human_agent", body = "hello"},
]
expect = {counted = false, reasons = ["human_takeover"]}
"""


@pytest.mark.parametrize(("change", "key", "expected"), [
    (('reasons = ["human_takeover"]', 'reasons = ["human_takover"]'), "examples[1].expect.reasons",
     "did you mean 'human_takeover'?"),
    (('name = "human"', 'name = "human"\nparams = {repeat_hours = 3}'), "examples[1].params",
     "unknown param 'repeat_hours'"),
    (('name = "human"', 'name = "human"\nparams = {negative_rating_max = "3"}'),
     "examples[1].params.negative_rating_max", "like the default 2"),
    (('at = "10:01"', 'at = "noon"'), "examples[1].events[2].at", "cannot read 'noon' as a time"),
    (('role = "human_agent"', 'role = "agent"'), "examples[1].events[2].role",
     "expected one of customer, ai_agent"),
    (("counted = false", "counted = true"), "examples[1].expect", "has no reasons"),
    (('name = "human"', 'name = "human"\ntarget = "c9"'), "examples[1].target",
     "no conversation 'c9'"),
])
def test_example_errors(tmp_path: Path, change: tuple[str, str], key: str, expected: str) -> None:
    error = error_for(tmp_path, MINIMAL + EXAMPLE.replace(*change))
    assert error.key == key and expected in str(error)


def test_example_times() -> None:
    from auditor.rulesets.model import parse_example_time

    assert str(parse_example_time("10:05")) == "2026-10-01 10:05:00"
    assert str(parse_example_time("day 4 10:12")) == "2026-10-04 10:12:00"
    assert str(parse_example_time("2026-10-01T12:00:00+02:00")) == "2026-10-01 10:00:00"


# --- params and fact params ------------------------------------------------------------------

def test_fact_params_come_from_same_named_params() -> None:
    fin = resolve_ruleset("intercom-fin")
    assert fact_params(fin) == FactParams(confirmation_max_chars=80)
    changed = with_params(fin, {"confirmation_max_chars": 10}, Place("test", "params"))
    assert fact_params(changed).confirmation_max_chars == 10
    assert fact_params(ruleset_from_text(MINIMAL)) == FactParams()


def test_with_params_keeps_types_and_provenance() -> None:
    strict = resolve_ruleset("strict")
    changed = with_params(strict, {"repeat_contact_hours": 24.5}, Place("cli", "--param"))
    assert changed.params["repeat_contact_hours"].default == 24.5
    assert changed.sha256 == strict.sha256
    assert strict.params["repeat_contact_hours"].default == 72
    with pytest.raises(RuleSetError, match="like the default 72"):
        with_params(strict, {"repeat_contact_hours": True}, Place("cli", "--param"))


# --- registry and plugins --------------------------------------------------------------------

def test_unknown_id_suggests_and_lists() -> None:
    with pytest.raises(UsageError) as caught:
        resolve_ruleset("strct")
    assert "did you mean 'strict'?" in str(caught.value)
    known = ", ".join(sorted(path.stem for path in (REPO / "rules").glob("*.toml")))
    assert f"known rule sets: {known}" in str(caught.value)


def test_missing_path_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="not found"):
        resolve_ruleset(str(tmp_path / "missing.toml"))


def install_plugin(monkeypatch: pytest.MonkeyPatch, files: list[Path],
                   with_builtin: bool = False) -> None:
    module = types.ModuleType("fake_auditor_plugin")
    module.ruleset_files = lambda: files  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "fake_auditor_plugin", module)
    points = [EntryPoint("acme", "fake_auditor_plugin:ruleset_files", registry.ENTRY_POINT_GROUP)]
    if with_builtin:
        points.insert(0, EntryPoint("builtin", registry.BUILTIN_ENTRY_POINT,
                                    registry.ENTRY_POINT_GROUP))
    monkeypatch.setattr(registry, "_entry_points", lambda: points)


@pytest.mark.parametrize("with_builtin", [False, True])
def test_plugin_rule_sets_are_listed_and_resolvable(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch,
                                                    with_builtin: bool) -> None:
    install_plugin(monkeypatch, [write(tmp_path, MINIMAL)], with_builtin)
    builtin = [path.stem for path in (REPO / "rules").glob("*.toml")]  # always registered
    assert [r.id for r in list_rulesets()] == sorted([*builtin, "mini"])
    assert resolve_ruleset("mini").title == "Minimal"


def test_two_providers_for_one_id_is_an_error(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    clash = write(tmp_path, MINIMAL.replace('id = "mini"', 'id = "strict"'), "strict.toml")
    install_plugin(monkeypatch, [clash])
    with pytest.raises(RuleSetError, match="'strict' is registered twice"):
        list_rulesets()


def test_registered_file_name_must_match_id(tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    install_plugin(monkeypatch, [write(tmp_path, MINIMAL, "other.toml")])
    with pytest.raises(RuleSetError, match="does not match the file name"):
        resolve_ruleset("other")


def test_broken_plugin_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    broken = EntryPoint("broken", "no_such_module_xyz:files", registry.ENTRY_POINT_GROUP)
    monkeypatch.setattr(registry, "_entry_points", lambda: [broken])
    with pytest.raises(RuleSetError, match="entry point 'broken'"):
        list_rulesets()


def test_bundled_rules_dir_wins_in_an_installed_wheel(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    bundled = tmp_path / "auditor" / "_bundled" / "rules"
    bundled.mkdir(parents=True)
    monkeypatch.setattr(auditor, "__file__", str(tmp_path / "auditor" / "__init__.py"))
    assert registry.builtin_rules_dir() == bundled
    monkeypatch.undo()
    assert registry.builtin_rules_dir() == REPO / "rules"


# --- evaluation ------------------------------------------------------------------------------

def facts_table(con: duckdb.DuckDBPyConnection, rows: list[dict[str, object]]) -> None:
    columns = ", ".join(f"{f.name} {f.sql_type}" for f in FACT_COLUMNS)
    con.execute(f"CREATE TABLE facts ({columns})")
    for row in rows:
        names = ", ".join(row)
        con.execute(f"INSERT INTO facts ({names}) VALUES ({', '.join('?' * len(row))})",
                    list(row.values()))


def test_evaluate_one_row_per_conversation_null_safe() -> None:
    con = duckdb.connect()
    facts_table(con, [
        {"conversation_id": "a", "has_human_message": False, "min_rating": None},
        {"conversation_id": "b", "has_human_message": True, "min_rating": 1,
         "first_human_message_at": "2026-10-04 10:12:00"},
        {"conversation_id": "c", "has_human_message": None, "min_rating": 5},
    ])
    evaluate(con, ruleset_from_text(MINIMAL), "facts", "verdicts")
    rows = con.execute("SELECT * FROM verdicts ORDER BY conversation_id").fetchall()
    assert rows == [
        ("a", True, 1, True, [], "none of the criteria apply", False),
        ("b", False, 0, True, ["human_takeover", "negative_feedback"],
         "human replied 2026-10-04 10:12 UTC; lowest rating 1", False),
        ("c", True, 1, True, [], "none of the criteria apply", False),
    ]
    described = con.execute("SELECT column_name, column_type FROM (DESCRIBE verdicts)")
    types_ = dict(described.fetchall())
    assert types_ == {"conversation_id": "VARCHAR", "counted": "BOOLEAN", "units": "BIGINT",
                      "decided": "BOOLEAN", "reasons": "VARCHAR[]", "evidence": "VARCHAR",
                      "short_observed": "BOOLEAN"}


def test_a_verdict_turned_away_only_by_undecided_criteria_is_not_decided() -> None:
    con = duckdb.connect()
    facts_table(con, [
        {"conversation_id": "a", "has_human_message": False, "min_rating": 1},  # undecided only
        {"conversation_id": "b", "has_human_message": True, "min_rating": 1},  # and a decisive one
        {"conversation_id": "c", "has_human_message": False, "min_rating": 5},  # counted
    ])
    pending = MINIMAL.replace('code = "negative_feedback"', 'code = "pending"\nundecided = true')
    evaluate(con, ruleset_from_text(pending), "facts", "verdicts")
    rows = con.execute("SELECT conversation_id, counted, decided, reasons FROM verdicts "
                       "ORDER BY 1").fetchall()
    assert rows == [("a", False, False, ["pending"]),
                    ("b", False, True, ["human_takeover", "pending"]),
                    ("c", True, True, [])]


def test_evaluate_refuses_odd_table_names() -> None:
    with pytest.raises(ValueError, match="not a plain table name"):
        evaluate(duckdb.connect(), ruleset_from_text(MINIMAL), "facts; DROP TABLE x", "out")


def test_units_expression_gives_units_of_counted_conversations_only() -> None:
    con = duckdb.connect()
    facts_table(con, [
        {"conversation_id": "a", "has_human_message": False, "conversation_windows": 3},
        {"conversation_id": "b", "has_human_message": True, "conversation_windows": 2},
        {"conversation_id": "c", "has_human_message": False, "conversation_windows": 0},
    ])
    windows = ruleset_from_text(MINIMAL.replace('kind = "contract"',
                                                'kind = "contract"\nunits = "conversation_windows"'))
    evaluate(con, windows, "facts", "verdicts")
    rows = con.execute("SELECT conversation_id, counted, units FROM verdicts ORDER BY 1").fetchall()
    # c: counted but no window: still one unit (a rule set says "adds nothing" with a criterion)
    assert rows == [("a", True, 3), ("b", False, 0), ("c", True, 1)]


def test_units_must_be_a_number() -> None:
    text = MINIMAL.replace('kind = "contract"', 'kind = "contract"\nunits = "channel"')
    with pytest.raises(RuleSetError, match=r"units.*expected a number of units, but it gives text"):
        ruleset_from_text(text)


# --- observation window ----------------------------------------------------------------------

OBSERVED = MINIMAL.replace('description = "Counts conversations without a human reply."', """\
description = "Counts conversations without a human reply."
confirmed_evidence = "no human reply within {window} hours"

[observation]
window_hours = "window"
observed_hours = "hours_observed_after_last_ai"
evidence = "no human reply in the {hours_observed_after_last_ai} hours observed, of {window}"

[params.window]
default = 72
description = "Hours a confirmed conversation must be observed."
""")


def test_a_counted_conversation_observed_for_less_than_the_window_says_so() -> None:
    con = duckdb.connect()
    facts_table(con, [
        {"conversation_id": "a", "has_human_message": False, "hours_observed_after_last_ai": 14.6},
        {"conversation_id": "b", "has_human_message": False, "hours_observed_after_last_ai": 72},
        {"conversation_id": "c", "has_human_message": True, "hours_observed_after_last_ai": 1},
        {"conversation_id": "d", "has_human_message": False, "hours_observed_after_last_ai": None},
    ])
    evaluate(con, ruleset_from_text(OBSERVED), "facts", "verdicts")
    rows = con.execute("SELECT conversation_id, counted, short_observed, evidence FROM verdicts "
                       "ORDER BY 1").fetchall()
    assert rows == [
        ("a", True, True, "no human reply in the 14.6 hours observed, of 72"),
        ("b", True, False, "no human reply within 72 hours"),
        ("c", False, False, "human replied unknown"),  # disputed: its grounds stand
        ("d", True, False, "no human reply within 72 hours"),  # NULL: not known to be short
    ]


def test_the_observation_window_follows_param_overrides() -> None:
    from auditor.rulesets.compiled import compile_ruleset, observation_window_hours

    ruleset = ruleset_from_text(OBSERVED)
    assert observation_window_hours(compile_ruleset(ruleset)) == 72.0
    shorter = with_params(ruleset, {"window": 24}, Place("test", "params"))
    assert observation_window_hours(compile_ruleset(shorter)) == 24.0


@pytest.mark.parametrize(("change", "key", "expected"), [
    (('window_hours = "window"', 'window_hours = "window + n_events"'),
     "observation.window_hours", "reads the fact 'n_events'"),
    (('window_hours = "window"', 'window_hours = "window - 72"'),
     "observation.window_hours", "expected a positive number of hours, got 0.0"),
    (('window_hours = "window"', 'window_hours = "\'72\'"'),
     "observation.window_hours", "expected a number of hours, but it gives text"),
    (('observed_hours = "hours_observed_after_last_ai"', 'observed_hours = "last_ai_message_at"'),
     "observation.observed_hours", "expected a number of hours, but it gives a time"),
    (('of {window}"', 'of {windw}"'), "observation.evidence", "unknown placeholder '{windw}'"),
    (('observed_hours = "hours_observed_after_last_ai"\n', ''), "observation",
     "missing required key 'observed_hours'"),
])
def test_observation_errors_name_the_key(tmp_path: Path, change: tuple[str, str], key: str,
                                         expected: str) -> None:
    error = error_for(tmp_path, OBSERVED.replace(*change))
    assert error.key == key and expected in error.problem
