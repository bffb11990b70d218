"""Record-level checks of Zendesk records, as data: a key holding the wrong JSON type.

json_transform reads a value of the wrong type as text or NULL without a word (an object id
becomes '{"a": 1}', a string of tags becomes no tags), so each record is checked before it is
used. A record that fails goes to quarantine with its ticket id, which makes that ticket
unjudgeable (quarantined_records) instead of judged on a guess. A failing record is left out,
except a ticket whose own id is fine: it stays the conversation, read without the bad key.

The checks run where the records are typed (zendesk_sql), on the checked keys as JSON (`k`):
where the typed record holds them all as JSON (comments, metrics, users, audits) it is the
typed record itself, so a record is parsed once; tickets, whose tags, custom fields and via are
typed as lists and objects, get one more json_transform. Keys of list elements are checked in
the typed list (`ke`: an audit's events).
"""

from __future__ import annotations

import json
from typing import NamedTuple

from auditor.engine import sql_string


class Check(NamedTuple):
    """A key of a record kind and what it must hold; `events[].public` is that key of each
    element of the list `events` (an element that is no object is no event: it is skipped)."""

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

# An audit's events are `events`, or `child_events` in the ticket events export; their keys are
# checked in whichever it has (`ke.events`).
_AUDIT_EVENTS = (Check("events", "list"), Check("child_events", "list"),
                 Check("events[].id", "id"), Check("events[].author_id", "id"),
                 Check("events[].public", "flag"), Check("events[].comment_public", "flag"))
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
    """(SQL true when the record fails, SQL of the offending JSON value, its name) over `k` and
    `ke`."""
    top, _, key = check.key.partition("[].")
    if not key:
        return f"NOT {_ok(check.expected, 'k.' + top)}", f"k.{top}", top
    bad = f"list_filter(ke.{top}, lambda e: NOT {_ok(check.expected, 'e.' + key)})"
    return f"coalesce(len({bad}) > 0, false)", f"{bad}[1].{key}", f"{key} of an element of {top}"


def problem(kind: str) -> str:
    """SQL for a record's first failed check as {'field', 'reason'}; NULL when it passes."""
    whens = []
    for check in CHECKS.get(kind, ()):
        failed, value, name = _failed(check)
        reason = (f"{sql_string(name + ' is ')} || left(CAST({value} AS VARCHAR), 60) || "
                  f"{sql_string(', expected ' + EXPECTED[check.expected][1])}")
        field = check.key.replace("[]", "")  # events[].public -> events.public
        whens.append(f"WHEN {failed} THEN {{'field': {sql_string(field)}, 'reason': {reason}}}")
    return "CASE " + " ".join(whens) + " END" if whens else "NULL"


def checked_id(key: str) -> str:
    """SQL for the id key `key` of `k` as text; NULL when it holds no id (an object, true)."""
    return f"CASE WHEN {_ok('id', 'k.' + key)} THEN zd_id(k.{key} ->> '$') END"


def _top_keys(kind: str) -> list[str]:
    return sorted({c.key.partition("[]")[0] for c in CHECKS.get(kind, ()) if "[]" not in c.key})


def typed_shape(kind: str, shape: dict) -> dict:
    """The record's json_transform shape with its checked scalar keys as JSON, so that one parse
    gives the typed record and the values to check."""
    scalars = {c.key: "JSON" for c in CHECKS.get(kind, ()) if c.expected in ("id", "flag", "count")
               and "[]" not in c.key}
    return shape | scalars


def check_keys(kind: str, shape: dict) -> str:
    """`k`: the record's checked keys as JSON: the typed record `r` when its shape holds them
    all as JSON, else one more json_transform of the record."""
    keys = _top_keys(kind)
    if all(shape.get(key) == "JSON" for key in keys):
        return "r"
    return f"json_transform(item, {sql_string(json.dumps({key: 'JSON' for key in keys}))})"
