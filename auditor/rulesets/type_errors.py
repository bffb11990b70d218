"""DuckDB's type errors about an expression, in the words of the person who wrote it.

DuckDB checks an expression's types when a rule set is loaded ("Binder Error: No function
matches the given name and argument types 'lower(BIGINT)'", "Conversion Error: Could not
convert string 'x' to INT64"). These say the same thing about kinds of values a rule author
knows: text, numbers, whole numbers, true/false, times, lists.
"""

from __future__ import annotations

import re

import duckdb

from auditor.engine import error_text

# DuckDB's internal names for what a user wrote: list_contains binds as array_contains, LIKE
# as ~~.
FUNCTION_NAMES = {"array_contains": "list_contains", "~~": "LIKE", "~~*": "ILIKE",
                  "!~~": "NOT LIKE", "!~~*": "NOT ILIKE", "array_has_any": "list_has_any"}
WHOLE_NUMBERS = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT",
                 "USMALLINT", "UINTEGER", "UBIGINT", "UHUGEINT", "INTEGER_LITERAL", "INT8",
                 "INT16", "INT32", "INT64", "INT128", "UINT8", "UINT16", "UINT32", "UINT64")
TYPE_HINT = ("text goes between single quotes ('escalated'), numbers and true/false do not; "
             "docs/facts.md gives each fact's kind")
FUNCTION_HINTS = {
    "list_contains": "the list comes first: list_contains(['escalated', 'closed'], vendor_state)",
    "list_has_any": "it takes two lists: list_has_any(['a', 'b'], some_list_param)",
}

NO_FUNCTION = re.compile(r"No function matches the given name and argument types "
                         r"'(?P<name>[^(]+)\((?P<args>.*)\)'")
CANNOT_COMPARE = re.compile(r"Cannot compare values of type (?P<a>\S+) and type (?P<b>\S+)")
NOT_CONVERTED = re.compile(r"Could not convert string '(?P<value>.*)' to (?P<kind>\w+)")
BAD_TIME = re.compile(r"(?:timestamp|date|time)[\w ]*(?:out of range|format)\w*: "
                      r"\"(?P<value>.*?)\"")
BAD_PART = re.compile(r"(?:extract specifier|specifier) \"(?P<value>.*?)\" not recognized")
NO_TEMPLATE = re.compile(r"Cannot deduce template type '\w+' in function: '(?P<name>\w+)\(")


def words_for(kind: str) -> str:
    """A DuckDB type as a user says it: BIGINT -> 'a whole number', VARCHAR -> 'text'."""
    kind = kind.strip().strip('"').upper()
    if kind.endswith("[]"):
        return "a list"
    if kind in WHOLE_NUMBERS:
        return "a whole number"
    if kind in ("VARCHAR", "STRING_LITERAL", "TEXT", "STRING"):
        return "text"
    if kind in ("BOOLEAN", "BOOL"):
        return "true/false"
    if kind.startswith(("TIMESTAMP", "DATETIME")):
        return "a time"
    if kind == "DATE":
        return "a date"
    if kind == "INTERVAL":
        return "a length of time (INTERVAL)"
    if kind in ("DOUBLE", "FLOAT", "REAL") or kind.startswith("DECIMAL"):
        return "a number"
    if kind == "NULL":
        return "NULL"
    return kind.lower()


def type_problem(exc: duckdb.Error, sql: str = "") -> tuple[str, str | None]:
    """(problem, hint) for a DuckDB error about one expression (`sql`, as compiled)."""
    text = str(exc)
    if "REGEXP" in sql.upper() and isinstance(exc, duckdb.InvalidInputException):
        return (f"a regular expression cannot be read: {error_text(exc)}",
                "regexp_matches(text, 'pattern') takes RE2 syntax; a literal ( is \\(")
    if found := NO_FUNCTION.search(text):
        return _no_function(found.group("name"), _arguments(found.group("args")))
    if found := CANNOT_COMPARE.search(text):
        return (f"cannot compare {words_for(found.group('a'))} with "
                f"{words_for(found.group('b'))}", TYPE_HINT)
    if found := NOT_CONVERTED.search(text):
        return (f"'{found.group('value')}' is not {words_for(found.group('kind'))}, but it is "
                "compared with or used as one", TYPE_HINT)
    if found := BAD_TIME.search(text):
        return (f"'{found.group('value')}' is not a valid time",
                "write times as '2026-10-01 09:00:00' (UTC)")
    if found := BAD_PART.search(text):
        return (f"'{found.group('value').lower()}' is not a part of a time",
                "use 'hour', 'minute', 'day', 'week', 'month' or 'year'")
    if found := NO_TEMPLATE.search(text):
        name = FUNCTION_NAMES.get(found.group("name"), found.group("name"))
        return (f"{name}(...) gets values whose kinds do not go together",
                "e.g. list_contains(['escalated', 'closed'], vendor_state): a list and a "
                "value of the same kind")
    return f"cannot be evaluated: {_plain(error_text(exc))}", None


def _arguments(listed: str) -> list[str]:
    """'VARCHAR, DECIMAL(18,3)' -> ['VARCHAR', 'DECIMAL(18,3)'] (commas inside parentheses
    belong to the type)."""
    parts, depth, current = [], 0, ""
    for char in listed:
        depth += (char == "(") - (char == ")")
        if char == "," and depth == 0:
            parts.append(current.strip())
            current = ""
        else:
            current += char
    return [*parts, current.strip()] if current.strip() else parts


def _no_function(name: str, arguments: list[str]) -> tuple[str, str | None]:
    if name.lower() == "translate" and len(arguments) == 3:
        # lower() and upper() are compiled to an ASCII-only translate() (expressions.py): the
        # author wrote one of those, and its one argument is the first.
        name, arguments = "lower", arguments[:1]
    shown = FUNCTION_NAMES.get(name, name)
    kinds = [words_for(a) for a in arguments]
    if shown.replace("_", "").isalnum() and shown.upper() != "LIKE" and shown.upper() != "ILIKE":
        hint = FUNCTION_HINTS.get(shown, "see what each function takes under 'Expressions' "
                                         "in docs/rulesets.md")
        return f"{shown}() cannot be given {_and(kinds) or 'nothing'}", hint
    if "a time" in kinds and shown in ("+", "-"):
        return (f"'{shown}' cannot combine {_and(kinds)}",
                "add or subtract time as an INTERVAL, e.g. last_ai_message_at + INTERVAL 24 HOUR")
    if shown == "&&":
        return f"'&&' cannot combine {_and(kinds)}", "did you mean 'AND'?"
    return f"'{shown}' cannot combine {_and(kinds)}", TYPE_HINT


def _and(words: list[str]) -> str:
    return " and ".join([", ".join(words[:-1]), words[-1]] if len(words) > 2 else words)


def _plain(message: str) -> str:
    """DuckDB's first sentence without its advice on casts; type names in words."""
    sentence = message.split(". You might", 1)[0].split("\n", 1)[0]
    return re.sub(r"\b[A-Z][A-Z_0-9]{2,}(?:\[\])?\b",
                  lambda m: words_for(m.group(0)) if words_for(m.group(0)) != m.group(0).lower()
                  else m.group(0), sentence)
