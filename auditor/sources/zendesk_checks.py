"""Record-level checks of Zendesk records, as data: a key holding the wrong JSON type.

json_transform reads a value of the wrong type as text or NULL without a word (an object id
becomes '{"a": 1}', a string of tags becomes no tags), so each record is checked before it is
used. A record that fails goes to quarantine with its ticket id, which makes that ticket
unjudgeable (quarantined_records) instead of judged on a guess. A failing record is left out,
except a ticket whose own id is fine: it stays the conversation, read without the bad key.

The checks run where the records are typed (zendesk_sql._typed): one more json_transform of the
record, to its checked keys as JSON.
"""

from __future__ import annotations

import json
from typing import NamedTuple

from auditor.engine import sql_string


class Check(NamedTuple):
    """A key of a record kind and what it must hold. `events[]` is each element of the list
    `events`, `events[].public` that key of each element."""

    key: str
    expected: str  # a key of EXPECTED


# expected -> (SQL true when the JSON value {v} is acceptable, the words for the reason)
EXPECTED: dict[str, tuple[str, str]] = {
    "id": ("json_type({v}) IN ('UBIGINT', 'BIGINT', 'VARCHAR', 'NULL')",
           "a number or text (an id)"),
    "list": ("json_type({v}) IN ('ARRAY', 'NULL')", "a list"),
    "object": ("json_type({v}) IN ('OBJECT', 'NULL')", "an object"),
    "flag": ("json_type({v}) IN ('BOOLEAN', 'NULL') OR (json_type({v}) = 'VARCHAR' "
             "AND zd_bool({v} ->> '$') IS NOT NULL)", "true or false"),
    "count": ("json_type({v}) IN ('UBIGINT', 'NULL') OR (json_type({v}) = 'VARCHAR' "
              "AND try_cast(trim({v} ->> '$') AS UBIGINT) IS NOT NULL)", "a whole number"),
}

_AUDIT_EVENTS = tuple(
    check for events in ("events", "child_events") for check in (
        Check(events, "list"), Check(f"{events}[]", "object"), Check(f"{events}[].id", "id"),
        Check(f"{events}[].author_id", "id"), Check(f"{events}[].public", "flag"),
        Check(f"{events}[].comment_public", "flag")))
CHECKS: dict[str, tuple[Check, ...]] = {
    "ticket": (Check("id", "id"), Check("requester_id", "id"), Check("submitter_id", "id"),
               Check("tags", "list"), Check("custom_fields", "list"), Check("via", "object")),
    "comment": (Check("id", "id"), Check("ticket_id", "id"), Check("audit_id", "id"),
                Check("author_id", "id"), Check("public", "flag")),
    "audit": (Check("id", "id"), Check("ticket_id", "id"), Check("author_id", "id"),
              Check("updater_id", "id"), *_AUDIT_EVENTS),
    "metric": (Check("ticket_id", "id"), Check("reopens", "count")),
    "user": (Check("id", "id"),),
}


def _ok(expected: str, value: str) -> str:
    return f"coalesce({EXPECTED[expected][0].format(v=value)}, true)"


def _failed(check: Check) -> tuple[str, str, str]:
    """(SQL true when the record fails, SQL of the offending JSON value, its name) over `k`."""
    top, _, element_key = check.key.partition("[]")
    if top == check.key:
        return f"NOT {_ok(check.expected, 'k.' + top)}", f"k.{top}", top
    key = element_key.removeprefix(".")
    element = f"(e -> {sql_string('$.' + key)})" if key else "e"
    elements = f"CASE WHEN json_type(k.{top}) = 'ARRAY' THEN json_extract(k.{top}, '$[*]') END"
    bad = f"list_filter({elements}, lambda e: NOT {_ok(check.expected, element)})"
    value = f"{bad}[1]" if not key else f"({bad}[1] -> {sql_string('$.' + key)})"
    name = f"{key} of an element of {top}" if key else f"an element of {top}"
    return f"coalesce(len({bad}) > 0, false)", value, name


def problem(kind: str) -> str:
    """SQL for a record's first failed check as {'field', 'reason'}; NULL when it passes."""
    whens = []
    for check in CHECKS.get(kind, ()):
        failed, value, name = _failed(check)
        reason = (f"{sql_string(name + ' is ')} || left(CAST({value} AS VARCHAR), 60) || "
                  f"{sql_string(', expected ' + EXPECTED[check.expected][1])}")
        field = check.key.replace("[]", "")
        whens.append(f"WHEN {failed} THEN {{'field': {sql_string(field)}, 'reason': {reason}}}")
    return "CASE " + " ".join(whens) + " END" if whens else "NULL"


def checked_id(key: str) -> str:
    """SQL for the id key `key` of `k` as text; NULL when it holds no id (an object, true)."""
    return f"CASE WHEN {_ok('id', 'k.' + key)} THEN zd_id(k.{key} ->> '$') END"


def check_keys(kind: str) -> str:
    """`k`: the record's checked keys, each as JSON (NULL when missing)."""
    keys = sorted({c.key.partition("[]")[0] for c in CHECKS.get(kind, ())})
    shape = json.dumps({key: "JSON" for key in keys})
    return f"json_transform(item, {sql_string(shape)})" if keys else "NULL"
