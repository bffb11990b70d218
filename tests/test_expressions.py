"""Criterion expressions and evidence templates: what is allowed, what is refused, compiling."""

from __future__ import annotations

import duckdb
import pytest
import sqlglot

from auditor.errors import RuleSetError
from auditor.facts import FACT_NAMES
from auditor.rulesets.expressions import (
    ALLOWED_FUNCTIONS,
    Place,
    check_boolean,
    compile_condition,
    compile_template,
    empty_facts,
    parse_condition,
    parse_template,
)

PLACE = Place("rules/x.toml", "criteria[3].when")
PARAMS = {"repeat_contact_hours": 72, "states": ["escalated", "procedure_handoff"],
          "label": "it's'; DROP TABLE facts; --", "strict_mode": True, "factor": 1.5}
NAMES = FACT_NAMES | PARAMS.keys()

# One realistic use of every allowlisted function, so the whole allowlist is exercised.
FUNCTION_USES = {
    "coalesce": "coalesce(min_rating, 5) <= 2",
    "ifnull": "ifnull(reopened, false)",
    "nullif": "nullif(n_events, 0) > 1",
    "if": "if(has_handoff, 1, 0) = 1",
    "least": "least(min_rating, last_rating) <= 2",
    "greatest": "greatest(n_human_messages, n_notes) > 0",
    "abs": "abs(hours_to_next_contact) < repeat_contact_hours",
    "round": "round(hours_to_next_contact, 1) <= 72",
    "floor": "floor(hours_to_next_contact) < 72",
    "ceil": "ceil(hours_to_next_contact) <= 72",
    "lower": "lower(channel) = 'email'",
    "upper": "upper(channel) = 'EMAIL'",
    "length": "length(vendor_label) > 3",
    "len": "len(states) = 2",
    "trim": "trim(channel) = 'chat'",
    "concat": "concat(channel, '-x') = 'chat-x'",
    "contains": "contains(vendor_label, 'resolution')",
    "starts_with": "starts_with(vendor_label, 'assumed')",
    "ends_with": "ends_with(vendor_label, 'resolution')",
    "regexp_matches": "regexp_matches(vendor_label, '^(assumed|confirmed)')",
    "regexp_full_match": "regexp_full_match(channel, 'chat|email')",
    "date_diff": "date_diff('hour', last_ai_message_at, reopened_at) < 24",
    "date_trunc": "date_trunc('day', reopened_at) > date_trunc('day', last_ai_message_at)",
    "date_part": "date_part('hour', first_event_at) >= 18",
    "extract": "extract(hour FROM first_event_at) < 9",
    "strftime": "strftime(first_event_at, '%Y-%m') = '2026-10'",
    "year": "year(first_event_at) = 2026",
    "month": "month(first_event_at) = 10",
    "day": "day(first_event_at) = 1",
    "hour": "hour(first_event_at) < 9",
    "minute": "minute(first_event_at) = 0",
    "dayofweek": "dayofweek(first_event_at) IN (0, 6)",
    "isodow": "isodow(first_event_at) >= 6",
    "list_contains": "list_contains(states, vendor_state)",
    "list_has_any": "list_has_any(states, ['escalated'])",
    "cast": "CAST(n_events AS DOUBLE) > 1.5",
    "try_cast": "TRY_CAST(vendor_label AS INTEGER) IS NULL",
}

ALLOWED = [
    *FUNCTION_USES.values(),
    "has_human_message AND NOT has_handoff",
    "hours_to_next_contact <= repeat_contact_hours",
    "vendor_state IN ('escalated', 'procedure_handoff') OR customer_asked_for_human",
    "vendor_state NOT IN ('escalated')",
    "min_rating BETWEEN 1 AND 2",
    "reopened_at > last_ai_message_at + INTERVAL 24 HOUR",
    "first_human_message_at IS NOT NULL",
    "vendor_state IS DISTINCT FROM 'escalated'",
    "channel LIKE 'e%' OR channel ILIKE 'CHAT'",
    "CASE WHEN has_handoff THEN true ELSE reopened END",
    "n_events * factor > 3 AND n_events % 2 = 0 AND n_events // 2 >= 1",
    "channel || '-' = 'chat-'",
    "vendor_label = label",
    "strict_mode AND has_human_message",
]


def compiles(text: str) -> str:
    return compile_condition(parse_condition(text, PLACE, NAMES), PARAMS)


def refused(text: str) -> RuleSetError:
    with pytest.raises(RuleSetError) as caught:
        parse_condition(text, PLACE, NAMES)
    return caught.value


def test_every_allowlisted_function_has_a_test_use() -> None:
    assert set(FUNCTION_USES) == set(ALLOWED_FUNCTIONS)


@pytest.mark.parametrize("text", ALLOWED)
def test_allowed_expressions_compile_to_boolean_duckdb_sql(text: str) -> None:
    con = duckdb.connect()
    empty_facts(con)
    check_boolean(con, compiles(text), PLACE)
    con.execute("INSERT INTO facts (conversation_id, n_events, channel, first_event_at) "
                "VALUES ('c1', 4, 'chat', TIMESTAMP '2026-10-01 08:00')")
    assert con.execute(f"SELECT {compiles(text)} FROM facts").fetchone() is not None


@pytest.mark.parametrize(("text", "problem"), [
    ("read_csv('x')", "function 'read_csv' is not allowed"),
    ("read_parquet('x.parquet') IS NULL", "function 'read_parquet' is not allowed"),
    ("read_json('x') IS NULL", "function 'read_json' is not allowed"),
    ("glob('*') IS NULL", "function 'glob' is not allowed"),
    ("getenv('HOME') = 'x'", "function 'getenv' is not allowed"),
    ("query('SELECT 1') IS NULL", "function 'query' is not allowed"),
    ("now() > first_event_at", "function 'now' is not allowed"),
    ("list_filter(states, x -> x = 'a') = []", "function"),
    ("SELECT 1", "statements are not allowed (SELECT)"),
    ("reopened IN (SELECT true)", "subqueries are not allowed"),
    ("EXISTS (SELECT 1)", "subqueries are not allowed"),
    ("COPY facts TO 'out.csv'", "statements are not allowed"),
    ("ATTACH 'other.db'", "statements are not allowed"),
    ("PRAGMA version", "statements are not allowed"),
    ("SET threads = 1", "statements are not allowed"),
    ("INSERT INTO facts VALUES (1)", "statements are not allowed"),
    ("reopened; has_handoff", "expected exactly one expression, found 2"),
    ("max(min_rating) <= 2", "aggregate function 'max' is not allowed"),
    ("count(*) > 1", "aggregate function 'count' is not allowed"),
    ("row_number() OVER () = 1", "not allowed"),
    ("facts.reopened", "qualified name 'facts.reopened' is not allowed"),
    ("reopened = ?", "'?' is not allowed"),
    ("reopened has_handoff", "'has_handoff' cannot follow 'reopened'"),
    ("length(channel", "this '(' is never closed"),
    ("vendor_state = 'escalated", "this quote (') is never closed"),
    ("LOAD httpfs", "statements are not allowed (LOAD)"),
    ("DROP TABLE facts", "statements are not allowed (DROP)"),
    ("", "the expression is empty"),
])
def test_refused_expressions_name_the_key(text: str, problem: str) -> None:
    error = refused(text)
    assert problem in str(error)
    assert str(error).startswith("rules/x.toml, key 'criteria[3].when': ")


def test_unknown_column_gets_did_you_mean() -> None:
    error = refused("reopend AND has_handoff")
    assert str(error) == ("rules/x.toml, key 'criteria[3].when': unknown column 'reopend' "
                          "(did you mean 'reopened'?)")


def test_unknown_function_gets_did_you_mean() -> None:
    assert "did you mean 'coalesce'?" in str(refused("colesce(reopened, false)"))


def test_statement_error_shows_an_example_expression() -> None:
    assert "has_human_message AND NOT has_handoff" in str(refused("DROP TABLE facts"))


def test_params_become_literals_never_raw_text() -> None:
    sql = compiles("vendor_label = label")
    assert sql == "vendor_label = 'it''s''; DROP TABLE facts; --'"
    assert compiles("list_contains(states, vendor_state)") == (
        "ARRAY_CONTAINS(CAST(['escalated', 'procedure_handoff'] AS TEXT[]), vendor_state)")
    assert compiles("hours_to_next_contact <= repeat_contact_hours") == (
        "hours_to_next_contact <= 72")
    assert compiles("strict_mode") == "TRUE"


def test_comments_never_reach_duckdb() -> None:
    assert compiles("reopened -- */ ; DROP TABLE facts; /*") == "reopened"
    assert compiles("reopened /* why */ AND has_handoff") == "reopened AND has_handoff"


def test_compiling_leaves_the_checked_tree_alone() -> None:
    tree = parse_condition("hours_to_next_contact <= repeat_contact_hours", PLACE, NAMES)
    compile_condition(tree, PARAMS)
    assert tree.sql() == "hours_to_next_contact <= repeat_contact_hours"


def test_non_boolean_expression_is_refused_by_type() -> None:
    con = duckdb.connect()
    empty_facts(con)
    with pytest.raises(RuleSetError, match="true/false expression, but it gives text"):
        check_boolean(con, compiles("vendor_state"), PLACE)
    with pytest.raises(RuleSetError, match=r"lower\(\) cannot be given a whole number"):
        check_boolean(con, compiles("lower(n_events) = 1"), PLACE)


def test_allowlist_samples_parse_to_known_nodes() -> None:
    for name, sample in ALLOWED_FUNCTIONS.items():
        assert sqlglot.parse_one(sample, read="duckdb") is not None, name


# --- evidence templates ----------------------------------------------------------------------

TPL = Place("rules/x.toml", "criteria[2].evidence")


def render(template: str, **facts: object) -> str:
    con = duckdb.connect()
    empty_facts(con)
    con.execute("INSERT INTO facts (conversation_id) VALUES ('c1')")
    for name, value in facts.items():
        con.execute(f"UPDATE facts SET {name} = ?", [value])
    sql = compile_template(parse_template(template, TPL, NAMES), PARAMS)
    return str(con.execute(f"SELECT {sql} FROM facts").fetchone()[0])  # type: ignore[index]


def test_template_renders_timestamps_numbers_and_params() -> None:
    text = render("human agent replied {first_human_message_at}; AI's last message "
                  "{last_ai_message_at}; {hours_to_next_contact} h of {repeat_contact_hours}; "
                  "{n_events} events; states {states}",
                  first_human_message_at="2026-10-04 10:12:00",
                  last_ai_message_at="2026-10-04 10:31:59", hours_to_next_contact=71.983333,
                  n_events=5)
    assert text == ("human agent replied 2026-10-04 10:12 UTC; AI's last message 2026-10-04 "
                    "10:31 UTC; 71.98 h of 72; 5 events; states escalated, procedure_handoff")


def test_template_null_is_unknown_or_the_given_text() -> None:
    assert render("handoff {first_handoff_at}") == "handoff unknown"
    assert render("handoff {first_handoff_at|none}") == "handoff none"
    assert render("closed {first_close_at|before 10:00}") == "closed before 10:00"
    assert render("{{literal}} {reopened}", reopened=True) == "{literal} true"


@pytest.mark.parametrize(("template", "problem"), [
    ("replied {first_human_mesage_at}", "did you mean 'first_human_message_at'?"),
    ("replied {first_human_message_at:%H}", "not a supported placeholder"),
    ("replied {first_human_message_at!r}", "not a supported placeholder"),
    ("replied {first_human_message_at", "cannot read the template"),
    ("replied {}", "unknown placeholder '{}'"),
])
def test_bad_templates_are_refused(template: str, problem: str) -> None:
    with pytest.raises(RuleSetError) as caught:
        parse_template(template, TPL, NAMES)
    assert problem in str(caught.value) and "criteria[2].evidence" in str(caught.value)
