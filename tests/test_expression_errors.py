"""Broken expressions get messages in their author's terms: the key, where, what to write.

A corpus of the mistakes people make writing a `when` expression goes through the real loader
(parse, allowlist, DuckDB's type check); no message may carry the parser's or DuckDB's own
wording.
"""

from __future__ import annotations

import json
import re

import pytest

from auditor.errors import RuleSetError
from auditor.rulesets import ruleset_from_text
from tests.conftest import run_cli

RULESET = """
id = "mine"
version = "1.0.0"
title = "Mine"
kind = "contract"
vendor = "any"
description = "A contract with one criterion under test."

[params.negative_rating_max]
default = 2
description = "Ratings at or below this are negative."

[[criteria]]
code = "human_takeover"
summary = "A human replied."
when = "has_human_message"
evidence = "human replied {first_human_message_at}"

[[criteria]]
code = "under_test"
summary = "The expression under test."
when = WHEN
evidence = "it applies"
"""
KEY = "key 'criteria[2].when'"
INTERNALS = re.compile(r"sqlglot|<class|Binder Error|Parser Error|Conversion Error|"
                       r"Invalid Input Error|Required keyword|Invalid expression|"
                       r"Unexpected token|Error tokenizing|expressions\.|BIGINT|VARCHAR|"
                       r"INTEGER_LITERAL|STRING_LITERAL|array_contains|~~", re.I)

# Operator typos: (expression, the operator the message must suggest).
OPERATOR_TYPOS = [
    ("n_ai_messages =< 2", "<="),
    ("n_ai_messages => 2", ">="),
    ("n_ai_messages <>= 2", "<>"),
    ("n_ai_messages !== 2", "!="),
    ("n_ai_messages =! 2", "!="),
    ("n_ai_messages === 2", "="),
    ("n_ai_messages < = 2", "<="),
    ("n_ai_messages =<2", "<="),
    ("n_ai_messages =>= 2", ">="),
    ("n_ai_messages >< 2", "<>"),
    ("n_ai_messages ≤ 2", "<="),
    ("n_ai_messages ≠ 2", "<>"),
    ("has_handoff && reopened", "AND"),
    ("n_ai_messages ! 2", "!="),
]

# Everything else: (expression, words the message must contain).
BROKEN = [
    # unbalanced parentheses and brackets
    ("(n_ai_messages > 2", "'(' is never closed"),
    ("n_ai_messages > 2)", "')' closes nothing"),
    ("coalesce(reopened, false", "'(' is never closed"),
    ("has_handoff AND (reopened OR", "'(' is never closed"),
    ("list_contains(['a', 'b'), vendor_state)", "')' closes a '['"),
    ("n_ai_messages IN (1, 2", "'(' is never closed"),
    # stray quotes
    ("vendor_state = 'escalated", "quote (') is never closed"),
    ("vendor_state = escalated'", "quote (') is never closed"),
    ("vendor_state = 'it''s", "quote (') is never closed"),
    ('vendor_state = "escalated', 'double quote (") is never closed'),
    ('vendor_state = "escalated"', "text goes between single quotes: 'escalated'"),
    ("vendor_state = ‘escalated’", "typographic quote"),
    ("`reopened`", "unexpected '`'"),
    ("reopened''", "unexpected"),
    # SQL keywords misused, statements, ';'
    ("WHERE reopened", "write only the condition: 'reopened'"),
    ("reopened WHERE has_handoff", "'WHERE' does not belong in a criterion"),
    ("SELECT reopened", "statements are not allowed (SELECT)"),
    ("SELECT * FROM facts WHERE reopened", "statements are not allowed (SELECT)"),
    ("FROM facts", "'FROM' does not belong in a criterion"),
    ("reopened FROM facts", "'FROM' does not belong in a criterion"),
    ("reopened GROUP BY channel", "'GROUP BY' does not belong"),
    ("n_ai_messages > 2 ORDER BY 1", "'ORDER BY' does not belong"),
    ("n_ai_messages > 2 LIMIT 1", "'LIMIT' does not belong"),
    ("reopened; has_handoff", "expected exactly one expression"),
    ("reopened; DROP TABLE facts", "expected exactly one expression"),
    ("DROP TABLE facts", "statements are not allowed (DROP)"),
    # incomplete expressions
    ("reopened AND", "'AND' needs a condition after it"),
    ("AND reopened", "'AND' needs a condition before it"),
    ("reopened AND AND has_handoff", "'AND' needs a condition after it"),
    ("n_ai_messages >", "'>' needs a value after it"),
    ("NOT", "'NOT' needs a condition after it"),
    ("vendor_state LIKE", "'LIKE' needs a value after it"),
    ("n_ai_messages BETWEEN 1", "BETWEEN needs a low and a high value"),
    ("CASE WHEN reopened THEN true", "CASE is missing its END"),
    ("n_ai_messages 2", "unexpected '2'"),
    ("reopened IS", "IS needs what follows it"),
    ("date_diff('hour', last_ai_message_at)", "date_diff(...) is missing an argument"),
    ("", "the expression is empty"),
    # unknown functions and columns
    ("frobnicate(reopened)", "function 'frobnicate' is not allowed"),
    ("colesce(reopened, false)", "did you mean 'coalesce'?"),
    ("read_csv('x') IS NULL", "function 'read_csv' is not allowed"),
    ("reopend", "unknown column 'reopend' (did you mean 'reopened'?)"),
    ("facts.reopened", "qualified name"),
    # wrong types, found by DuckDB's check
    ("lower(n_events) = 'x'", "lower() cannot be given a whole number"),
    ("vendor_state > 3", "cannot compare text with a whole number"),
    ("first_event_at > 3", "cannot compare a time with a whole number"),
    ("n_ai_messages = 'two'", "'two' is not a whole number"),
    ("n_ai_messages IN ('one', 'two')", "'one' is not a whole number"),
    ("first_event_at > '2026-13-01'", "'2026-13-01' is not a valid time"),
    ("date_diff('hourz', last_ai_message_at, first_event_at) > 1", "'hourz' is not a part of a"),
    ("reopened + 1 > 0", "'+' cannot combine true/false and a whole number"),
    ("first_event_at + 1 > last_ai_message_at", "INTERVAL"),
    ("list_contains(vendor_state, 'x')", "the list comes first"),
    ("vendor_state LIKE 3", "'LIKE' cannot combine text and a whole number"),
    ("regexp_matches(channel, '(')", "a regular expression cannot be read"),
    ("n_ai_messages", "expected a true/false expression, but it gives a whole number"),
    ("reopened || has_handoff", "for 'or' write OR"),
    ("coalesce(reopened, 1)", "but it gives a whole number"),
]


def error_for(when: str) -> RuleSetError:
    with pytest.raises(RuleSetError) as caught:
        ruleset_from_text(RULESET.replace("WHEN", json.dumps(when)), "mine.toml")
    return caught.value


def assert_in_user_terms(message: str) -> None:
    assert message.startswith(f"mine.toml, {KEY}: "), message
    assert not INTERNALS.search(message), message


@pytest.mark.parametrize(("when", "operator"), OPERATOR_TYPOS)
def test_operator_typos_suggest_the_operator_under_a_caret(when: str, operator: str) -> None:
    message = str(error_for(when))
    assert_in_user_terms(message)
    assert f"did you mean '{operator}'?" in message
    first, line, caret = message.split("\n")
    assert line == f"    {when}"
    assert caret.strip() == "^" and line[len(caret) - 1] in "=<>!≤≠&"


@pytest.mark.parametrize(("when", "expected"), BROKEN)
def test_broken_expressions_name_the_key_and_say_what_to_write(when: str, expected: str) -> None:
    message = str(error_for(when))
    assert_in_user_terms(message)
    assert expected in message


@pytest.mark.parametrize(("when", "under"), [
    ("(n_ai_messages > 2", "("),
    ("vendor_state = escalated'", "'"),
    ("reopened WHERE has_handoff", "W"),
    ("reopened AND", "A"),
    ("AND reopened", "A"),
    ("has_handoff AND (reopened OR", "("),
])
def test_the_caret_is_under_the_problem(when: str, under: str) -> None:
    _, line, caret = str(error_for(when)).split("\n")
    assert line[len(caret) - 1] == under


def test_a_multi_line_expression_shows_the_line_with_the_problem() -> None:
    message = str(error_for("has_handoff\n  AND n_ai_messages =< 2"))
    assert message.split("\n")[1:] == ["      AND n_ai_messages =< 2",
                                       "                        ^"]


def test_double_equals_is_read_as_equals() -> None:
    ruleset = ruleset_from_text(RULESET.replace("WHEN", '"n_ai_messages == 2"'), "mine.toml")
    assert ruleset.criteria[1].when == "n_ai_messages == 2"


def test_the_cli_prints_the_message_and_the_caret_and_exits_2(tmp_path) -> None:
    path = tmp_path / "mine.toml"
    path.write_text(RULESET.replace("WHEN", '"n_ai_messages =< 2"'), encoding="utf-8")
    result = run_cli(["rules", "check", str(path)])
    assert result.exit_code == 2
    assert "unknown operator '=<' (did you mean '<='?)\n    n_ai_messages =< 2\n" in result.output
