"""Criterion expressions and evidence templates: checked with sqlglot, compiled to DuckDB SQL.

A rule-set file is untrusted input (a plugin, a colleague's edit, a file from the internet), and
its `when` expressions end up inside a query over the buyer's data. So an expression is parsed,
every node is checked against an allowlist (pure scalar functions and operators over fact
columns and declared params), and the SQL DuckDB runs is regenerated from the checked tree.
Param values become sqlglot literals; they are never pasted into SQL as text.
"""

from __future__ import annotations

import logging
import string
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import NamedTuple

import duckdb
import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, SqlglotError

from auditor.errors import RuleSetError, did_you_mean
from auditor.facts import FACT_COLUMNS, FACT_NAMES
from auditor.rulesets.expression_errors import (
    Problem, clause_keyword, excerpt, lexical_problem, parse_problem,
)
from auditor.rulesets.model import ParamValue
from auditor.rulesets.type_errors import type_problem, words_for

DIALECT = "duckdb"

# name -> a sample call; the sqlglot node type each sample parses to is what gets allowed, so
# aliases that sqlglot folds together (ifnull -> coalesce) are allowed together.
ALLOWED_FUNCTIONS: dict[str, str] = {
    "coalesce": "coalesce(a, b)", "ifnull": "ifnull(a, b)", "nullif": "nullif(a, b)",
    "if": "if(a, b, c)", "least": "least(a, b)", "greatest": "greatest(a, b)",
    "abs": "abs(a)", "round": "round(a, 1)", "floor": "floor(a)", "ceil": "ceil(a)",
    "lower": "lower(a)", "upper": "upper(a)", "length": "length(a)", "trim": "trim(a)",
    "concat": "concat(a, b)", "contains": "contains(a, 'x')",
    "starts_with": "starts_with(a, 'x')", "ends_with": "ends_with(a, 'x')",
    "regexp_matches": "regexp_matches(a, 'x')", "regexp_full_match": "regexp_full_match(a, 'x')",
    "date_diff": "date_diff('hour', a, b)", "date_trunc": "date_trunc('day', a)",
    "date_part": "date_part('hour', a)", "extract": "extract(hour FROM a)",
    "strftime": "strftime(a, '%H')", "year": "year(a)", "month": "month(a)", "day": "day(a)",
    "hour": "hour(a)", "minute": "minute(a)", "dayofweek": "dayofweek(a)",
    "isodow": "isodow(a)", "list_contains": "list_contains(a, b)",
    "list_has_any": "list_has_any(a, b)", "len": "len(a)", "cast": "CAST(a AS VARCHAR)",
    "try_cast": "TRY_CAST(a AS INTEGER)",
}

# Operators and literals; functions are checked separately against ALLOWED_FUNCTIONS.
ALLOWED_NODES: tuple[type[exp.Expression], ...] = (
    exp.Column, exp.Identifier, exp.Literal, exp.Boolean, exp.Null, exp.Paren, exp.Not, exp.Neg,
    exp.And, exp.Or, exp.Xor, exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE, exp.NullSafeEQ,
    exp.NullSafeNEQ, exp.Is, exp.In, exp.Between, exp.Like, exp.ILike, exp.Add, exp.Sub,
    exp.Mul, exp.Div, exp.IntDiv, exp.Mod, exp.DPipe, exp.Case, exp.If, exp.Array, exp.Interval,
)
STATEMENT_NODES: tuple[type[exp.Expression], ...] = (
    exp.Query, exp.DDL, exp.DML, exp.Command, exp.Pragma, exp.Set, exp.Copy, exp.Attach,
    exp.Detach, exp.Use, exp.Describe, exp.Transaction, exp.Commit, exp.Rollback,
)
TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M UTC"
FACT_TYPES: dict[str, str] = {f.name: f.sql_type for f in FACT_COLUMNS}


def _function_kinds() -> tuple[frozenset[type[exp.Expression]], frozenset[str]]:
    """(sqlglot node types, anonymous function names) that the allowlist permits."""
    kinds: set[type[exp.Expression]] = set()
    anonymous: set[str] = set()
    for name, sample in ALLOWED_FUNCTIONS.items():
        node = sqlglot.parse_one(sample, read=DIALECT)
        if isinstance(node, exp.Anonymous):
            anonymous.add(name)
        else:
            kinds.add(type(node))
    return frozenset(kinds), frozenset(anonymous)


FUNCTION_KINDS, ANONYMOUS_FUNCTIONS = _function_kinds()


class Place(NamedTuple):
    """Where a piece of text came from, for error messages."""

    source: str
    key: str

    def error(self, problem: str, hint: str | None = None,
              excerpt: str | None = None) -> RuleSetError:
        return RuleSetError(self.source, self.key, problem, hint, excerpt)

    def problem(self, text: str, found: Problem) -> RuleSetError:
        """A problem found in `text`, with a caret under it when its position is known."""
        return self.error(found.problem, found.hint, excerpt(text, found.offset))


# --- criterion expressions -------------------------------------------------------------------

def parse_condition(text: str, place: Place, names: Iterable[str]) -> exp.Expression:
    """Parse and check one `when` expression; raise RuleSetError naming `place` if refused."""
    tree = _parse_one(text, place)
    if _is_statement(tree) and (found := clause_keyword(text)):
        raise place.problem(text, found)  # "FROM facts" parses as a SELECT nobody wrote
    allowed_names = frozenset(names)
    for node in tree.walk():
        _check_node(node, tree, place, allowed_names)
    return tree


def _parse_one(text: str, place: Place) -> exp.Expression:
    # The parser's own messages name its internals, so the usual mistakes are found first,
    # token by token, and what the parser still refuses is translated (expression_errors).
    if found := lexical_problem(text):
        raise place.problem(text, found)
    try:
        with _quiet_sqlglot():
            trees = [t for t in sqlglot.parse(text, read=DIALECT) if t is not None]
    except ParseError as exc:
        found = clause_keyword(text) or parse_problem(text, exc.errors[0] if exc.errors else {})
        raise place.problem(text, found) from None
    except SqlglotError:
        raise place.error("cannot read the expression", "write one true/false condition, "
                          "e.g. 'has_human_message AND NOT has_handoff'") from None
    if not trees:
        raise place.error("the expression is empty")
    if len(trees) > 1:
        semicolon = text.find(";")
        raise place.error(f"expected exactly one expression, found {len(trees)}",
                          "remove the ';' and combine conditions with AND / OR",
                          excerpt(text, semicolon if semicolon >= 0 else None))
    return trees[0]


@contextmanager
def _quiet_sqlglot() -> Iterator[None]:
    """sqlglot logs a warning for statements it parses as a Command; we report our own error."""
    logger = logging.getLogger("sqlglot")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def _check_node(node: exp.Expression, root: exp.Expression, place: Place,
                names: frozenset[str]) -> None:
    if isinstance(node, exp.Subquery | exp.Exists) or (
            isinstance(node, exp.Query) and node is not root):
        raise place.error("subqueries are not allowed", "a criterion looks at one "
                          "conversation's facts; use the fact columns directly")
    if node is root and _is_statement(node):
        raise place.error(f"statements are not allowed ({_keyword(node)})",
                          "write one true/false expression over facts, e.g. "
                          "'has_human_message AND NOT has_handoff'")
    if isinstance(node, exp.Column):
        _check_column(node, place, names)
    elif _allowed_operator(node):
        return  # operators are checked before functions: sqlglot models AND, IF, ... as Func
    elif isinstance(node, exp.Func):
        _check_function(node, place)
    else:
        raise place.error(_unsupported_problem(node), _unsupported_hint(node))


def _is_statement(node: exp.Expression) -> bool:
    # Everything usable in a WHERE clause is an exp.Condition; statements (SELECT, DROP, COPY,
    # ATTACH, PRAGMA, SET, LOAD, ...) are not, whatever class sqlglot gives them.
    return isinstance(node, STATEMENT_NODES) or not isinstance(
        node, exp.Condition | exp.Alias | exp.Interval | exp.Identifier)


def _keyword(node: exp.Expression) -> str:
    if isinstance(node, exp.Command):  # "LOAD httpfs", "CALL f()": sqlglot keeps the verb
        return str(node.this).upper()
    return node.key.upper()


def _allowed_operator(node: exp.Expression) -> bool:
    if isinstance(node, exp.Var | exp.DataType | exp.DataTypeParam):
        # Units (date_diff('hour', ...), INTERVAL 1 HOUR) and CAST target types.
        return isinstance(node.parent, exp.Func | exp.Interval | exp.DataType)
    return type(node) in ALLOWED_NODES


def _unsupported_problem(node: exp.Expression) -> str:
    """What sqlglot read, said without its rewriting: 'reopened IS' is not 'reopened AS "IS"'."""
    if isinstance(node, exp.Alias):
        return f"'{node.alias}' cannot follow '{node.this.sql(dialect=DIALECT)}'"
    return f"'{node.sql(dialect=DIALECT)}' is not allowed in an expression"


def _unsupported_hint(node: exp.Expression) -> str:
    if isinstance(node, exp.Alias):
        if node.alias.upper() == "IS":
            return "IS needs what follows it: IS NULL, IS NOT NULL, IS TRUE"
        return "expected one expression; is an AND / OR missing between two conditions?"
    if isinstance(node, exp.Placeholder | exp.Parameter):
        return "declare a param under [params] and use its name"
    return "see 'Expressions' in docs/rulesets.md for what an expression may contain"


def _check_column(node: exp.Column, place: Place, names: frozenset[str]) -> None:
    if node.table or node.db or node.catalog:
        raise place.error(f"qualified name '{node.sql(dialect=DIALECT)}' is not allowed",
                          f"use the fact name alone: '{node.name}'")
    if node.name not in names:
        if isinstance(node.this, exp.Identifier) and node.this.quoted:
            raise place.error(f"unknown column \"{node.name}\"", "double quotes name a column; "
                              f"text goes between single quotes: '{node.name}'")
        hint = did_you_mean(node.name, names) or (
            "use a fact column (docs/facts.md) or a param declared under [params]")
        raise place.error(f"unknown column '{node.name}'", hint)


def _check_function(node: exp.Func, place: Place) -> None:
    name = function_name(node)
    if isinstance(node, exp.AggFunc):
        raise place.error(f"aggregate function '{name}' is not allowed",
                          "a criterion looks at one conversation's facts; for 'largest of', "
                          "use greatest(...)")
    if isinstance(node, exp.Window):
        raise place.error("window functions (OVER) are not allowed")
    allowed = (name in ANONYMOUS_FUNCTIONS if isinstance(node, exp.Anonymous)
               else type(node) in FUNCTION_KINDS)
    if not allowed:
        hint = did_you_mean(name, ALLOWED_FUNCTIONS) or (
            "allowed functions: " + ", ".join(sorted(ALLOWED_FUNCTIONS)))
        raise place.error(f"function '{name}' is not allowed", hint)


def function_name(node: exp.Func) -> str:
    return (node.name if isinstance(node, exp.Anonymous) else node.sql_name()).lower()


def literal(value: ParamValue) -> exp.Expression:
    """A param value as a typed sqlglot literal (never as raw SQL text)."""
    if isinstance(value, bool):
        return exp.Boolean(this=value)
    if isinstance(value, int | float):  # finite: model.param_value refuses inf and nan
        return exp.Literal.number(value)
    if isinstance(value, str):
        return exp.Literal.string(value)
    items = exp.Array(expressions=[exp.Literal.string(v) for v in value])
    return exp.cast(items, exp.DataType.build("VARCHAR[]", dialect=DIALECT))


def compile_condition(tree: exp.Expression, params: Mapping[str, ParamValue]) -> str:
    """DuckDB SQL for a checked expression, with params replaced by literals."""
    def substitute(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Column) and node.name in params:
            return literal(params[node.name])
        if isinstance(node, exp.Lower | exp.Upper):
            # ASCII letters only, as in every warehouse engine (auditor/warehouse/dialects.py):
            # Unicode case mappings differ between engines.
            pair = (string.ascii_uppercase, string.ascii_lowercase)
            source, target = pair if isinstance(node, exp.Lower) else pair[::-1]
            return exp.Translate(this=node.this.transform(substitute),
                                 from_=exp.Literal.string(source), to=exp.Literal.string(target))
        return node

    # comments=False: only the checked tree reaches DuckDB, not text that rode along with it.
    return tree.copy().transform(substitute).sql(dialect=DIALECT, comments=False)


# --- evidence templates ----------------------------------------------------------------------

class Placeholder(NamedTuple):
    name: str
    if_null: str


TemplatePart = str | Placeholder


def parse_template(text: str, place: Place, names: Iterable[str]) -> list[TemplatePart]:
    """Split "human replied {first_human_message_at}" into text and checked placeholders.

    `{name}` renders a fact or param; `{name|text}` renders `text` instead of 'unknown' when the
    fact is NULL; `{{` and `}}` are literal braces.
    """
    allowed = frozenset(names)
    try:
        pieces = list(string.Formatter().parse(text))
    except ValueError as exc:
        hint = "placeholders look like {fact_name}; write {{ for a literal brace"
        raise place.error(f"cannot read the template: {exc}", hint) from None
    parts: list[TemplatePart] = []
    for literal_text, field, spec, conversion in pieces:
        if literal_text:
            parts.append(literal_text)
        if field is not None:
            parts.append(_placeholder(field, spec, conversion, place, allowed))
    return parts


def _placeholder(field: str, spec: str | None, conversion: str | None, place: Place,
                 names: frozenset[str]) -> Placeholder:
    if conversion:
        raise place.error(f"'{{{field}!{conversion}}}' is not a supported placeholder",
                          "write {fact_name} or {fact_name|text if unknown}")
    name, _, if_null = field.partition("|")
    if spec:  # the fallback text may contain ':' ("{x|before 10:00}")
        if_null = f"{if_null}:{spec}" if "|" in field else ""
        if "|" not in field:
            raise place.error(f"'{{{field}:{spec}}}' is not a supported placeholder",
                              "formatting is automatic: times render as 2026-10-04 10:12 UTC")
    name = name.strip()
    if name not in names:
        hint = did_you_mean(name, names) or "placeholders must be fact names or declared params"
        raise place.error(f"unknown placeholder '{{{name}}}'", hint)
    return Placeholder(name, if_null or "unknown")


def render_param(value: ParamValue) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, list):
        return ", ".join(value)
    return str(value)


def _fact_text(name: str) -> str:
    kind = FACT_TYPES[name]
    if kind == "TIMESTAMP":
        return f"strftime({name}, {exp.Literal.string(TIMESTAMP_FORMAT).sql(dialect=DIALECT)})"
    if kind == "DOUBLE":  # hours_to_next_contact: 71.98, not 71.98333333333333
        return f"CAST(round({name}, 2) AS VARCHAR)"
    return f"CAST({name} AS VARCHAR)"


def compile_template(parts: list[TemplatePart], params: Mapping[str, ParamValue]) -> str:
    """A DuckDB VARCHAR expression rendering the template for one facts row."""
    sql: list[str] = []
    for part in parts:
        if isinstance(part, str):
            sql.append(exp.Literal.string(part).sql(dialect=DIALECT))
        elif part.name in params:
            sql.append(exp.Literal.string(render_param(params[part.name])).sql(dialect=DIALECT))
        else:
            fallback = exp.Literal.string(part.if_null).sql(dialect=DIALECT)
            sql.append(f"coalesce({_fact_text(part.name)}, {fallback})")
    return "concat(" + ", ".join(sql or ["''"]) + ")"


# --- type checks against an empty facts table ------------------------------------------------

def empty_facts(con: duckdb.DuckDBPyConnection, table: str = "facts") -> None:
    columns = ", ".join(f"{f.name} {f.sql_type}" for f in FACT_COLUMNS)
    con.execute(f"CREATE OR REPLACE TEMP TABLE {table} ({columns})")


def probe_facts(con: duckdb.DuckDBPyConnection, table: str = "facts") -> None:
    """The facts table with one row of NULLs: evaluating an expression on it converts its
    constants ('x' compared with a number) without depending on any value."""
    empty_facts(con, table)
    con.execute(f"INSERT INTO {table} (conversation_id) VALUES (NULL)")


def result_type(con: duckdb.DuckDBPyConnection, sql: str, place: Place) -> str:
    """DuckDB's type for `sql` over the facts table (evaluated on its rows, see probe_facts);
    RuleSetError in the user's terms if DuckDB refuses it."""
    try:
        rows = con.execute(f"DESCRIBE SELECT {sql} AS v FROM facts").fetchall()
        con.execute(f"SELECT {sql} AS v FROM facts").fetchall()
    except duckdb.Error as exc:
        raise place.error(*type_problem(exc, sql)) from None
    return str(rows[0][1])


def check_boolean(con: duckdb.DuckDBPyConnection, sql: str, place: Place) -> None:
    kind = result_type(con, sql, place)
    if kind not in ("BOOLEAN", '"NULL"', "NULL"):
        hint = ("'||' joins text; for 'or' write OR" if "||" in sql else
                "compare it, e.g. 'hours_to_next_contact <= repeat_contact_hours'")
        raise place.error(f"expected a true/false expression, but it gives {words_for(kind)}",
                          hint)


NUMBER_TYPES = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT",
                "UINTEGER", "UBIGINT", "FLOAT", "DOUBLE", "INTEGER_LITERAL")


def check_number(con: duckdb.DuckDBPyConnection, sql: str, place: Place,
                 what: str = "a number of units",
                 hint: str = "e.g. 'conversation_windows' or 'greatest(1, n_ai_messages)'") -> None:
    kind = result_type(con, sql, place)
    if kind not in NUMBER_TYPES and not kind.startswith("DECIMAL"):
        raise place.error(f"expected {what}, but it gives {words_for(kind)}", hint)
