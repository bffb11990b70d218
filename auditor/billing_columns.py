"""Which column of a billed list is which: the conversation id, billed_at, amount and units.

Vendors and spreadsheets spell headers their own way (`Conversation ID`, `Billed At`, `price`,
`resolved_at`). A header is recognised for a role when it matches one of the role's spellings,
ignoring case, spaces, underscores and punctuation; `--id-column`, `--billed-at-column`,
`--amount-column` and `--units-column` name it outright. Two headers that could fill one role
are an error (the option picks one); a header no role uses is listed in the report's notes.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from pydantic import BaseModel

from auditor.errors import InputError, did_you_mean


class Role(NamedTuple):
    name: str  # the key in BillColumns.used and in report.json's billed.columns
    option: str  # the CLI option that names its header
    what: str  # how a message calls it
    spellings: tuple[str, ...]  # headers recognised without the option, as a person writes them


ROLES: tuple[Role, ...] = (
    Role("conversation_id", "--id-column", "conversation id",
         ("conversation_id", "conversation", "conversation_uuid", "ticket_id", "ticket")),
    Role("billed_at", "--billed-at-column", "billing time",
         ("billed_at", "billed", "billed_on", "billed_date", "date_billed", "billing_date",
          "billing_time", "resolved_at", "resolved_on", "resolution_date", "resolution_time",
          "charged_at", "date", "datetime", "timestamp")),
    Role("amount", "--amount-column", "amount",
         ("amount", "price", "cost", "charge", "fee", "billed_amount", "amount_billed",
          "line_amount", "line_total", "total")),
    Role("units", "--units-column", "units",
         ("units", "quantity", "qty", "unit_count", "billed_units", "billable_units",
          "number_of_units")),
)
ROLE_BY_NAME: dict[str, Role] = {role.name: role for role in ROLES}
CURRENCY_SUFFIX = re.compile(r"(?<=.)(usd|eur|gbp|chf|cad|aud)$")  # "Amount (USD)" is an amount


class BillColumns(BaseModel):
    """The header used for each role found (role -> header as written), and the rest."""

    used: dict[str, str]
    unused: list[str]

    def header(self, role: str) -> str | None:
        return self.used.get(role)


def normalise(header: str) -> str:
    """'Billed At', 'billed_at' and ' BILLED-AT ' are one spelling: 'billedat'."""
    letters = "".join(ch for ch in header.lower() if ch.isalnum())
    return CURRENCY_SUFFIX.sub("", letters)


def resolve_columns(headers: list[str], named: dict[str, str | None],
                    display: str) -> BillColumns:
    """Map headers to roles: the named ones first, then recognised spellings of the others."""
    used: dict[str, str] = {}
    for role in ROLES:
        if named.get(role.name):
            used[role.name] = _named_header(str(named[role.name]), headers, role, display)
    for role in ROLES:
        if role.name not in used:
            found = _recognised(headers, role, taken=set(used.values()))
            if len(found) > 1:
                raise InputError(display, f"has {len(found)} columns that could be the "
                                 f"{role.what}: " + ", ".join(f"'{h}'" for h in found),
                                 hint=f"pick one with {role.option} NAME")
            if found:
                used[role.name] = found[0]
    if "conversation_id" not in used:
        raise InputError(display, "no conversation id column in the header (looked for "
                         "conversation_id, Conversation ID, ticket_id, ...)",
                         hint=_columns_hint(headers, "conversation id", "--id-column"))
    order = [role.name for role in ROLES if role.name in used]
    return BillColumns(used={name: used[name] for name in order},
                       unused=[h for h in headers if h not in used.values()])


def _recognised(headers: list[str], role: Role, taken: set[str]) -> list[str]:
    spellings = {normalise(s) for s in role.spellings}
    return [h for h in headers if h not in taken and normalise(h) in spellings]


def _named_header(name: str, headers: list[str], role: Role, display: str) -> str:
    """The header a --...-column option names: exactly, else ignoring case and spacing."""
    for same in (lambda h: h == name, lambda h: h.strip().lower() == name.strip().lower(),
                 lambda h: normalise(h) == normalise(name)):
        found = [h for h in headers if same(h)]
        if len(found) == 1:
            return found[0]
    raise InputError(display, f"no '{name}' column in the header ({role.option})",
                     hint=_columns_hint(headers, role.what, role.option, name))


def _columns_hint(headers: list[str], what: str, option: str, name: str | None = None) -> str:
    close = did_you_mean(name, headers) if name else None
    found = "columns found: " + ", ".join(headers)
    return f"{close} {found}" if close else f"{found}; pick the {what} column with {option} NAME"


def column_notes(columns: BillColumns) -> list[str]:
    """What the report says about the columns: headers read under another name, and unused ones."""
    notes = []
    renamed = [f"'{header}' as {role}" for role, header in columns.used.items() if header != role]
    if renamed:
        notes.append("Billed list columns read: " + ", ".join(renamed) + ".")
    if columns.unused:
        free = [ROLE_BY_NAME[r].option for r in ROLE_BY_NAME if r not in columns.used]
        hint = (f"; if one of them is the {_roles(free)}, name it with {' or '.join(free)}"
                if free else "")
        notes.append("Billed list columns not used: "
                     + ", ".join(f"'{h}'" for h in columns.unused) + hint + ".")
    return notes


def _roles(options: list[str]) -> str:
    whats = [role.what for role in ROLES if role.option in options]
    return ", ".join(whats[:-1]) + " or " + whats[-1] if len(whats) > 1 else whats[0]
