"""Personal data out of message text before it leaves the buyer: typed placeholders.

Two stages, both run only over the disputed conversations' transcripts (never the whole export):

1. set-based, in DuckDB (`redact_table`): emails, URLs carrying tokens, IP addresses, street
   addresses and account numbers named as such are regular expressions (RE2); the names the
   export itself knows (its contacts' and agents' `name` fields, see people.py) are replaced
   from a pattern built of the few name words that occur in those transcripts.
2. per message, in Python, in bounded batches: what needs a library to tell it from other
   numbers: IBANs (python-stdnum's checksum), payment card numbers (Luhn-checked) and phone
   numbers (Google's libphonenumber rules via `phonenumbers`, across formats and countries).

Order numbers, dates, times and amounts are left alone: a digit run is a card only when its
Luhn check holds, a phone only when libphonenumber calls it valid for some region (or possible,
right after a word such as "call" or "phone").
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import duckdb
import phonenumbers
import pyarrow as pa
from stdnum import iban, luhn

PLACEHOLDERS = ("[email]", "[url]", "[ip]", "[address]", "[account]", "[name]", "[iban]",
                "[card]", "[phone]", "[customer]")

# --- stage 1: DuckDB regular expressions (RE2 syntax), applied in this order ----------------
_LETTER = r"\p{L}\p{N}_"
SQL_PATTERNS: tuple[tuple[str, str, str], ...] = (
    # mailto: and plain addresses, any case; then the obfuscated "ava [at] example [dot] com".
    # Letters of any script: josé@correo.es, 山田@例え.jp.
    ("email", r"(?i)(mailto:)?[\p{L}\p{N}._%+'-]+@[\p{L}\p{N}-]+(\.[\p{L}\p{N}-]+)*"
              r"\.\p{L}{2,}", "[email]"),
    ("email", r"(?i)[\p{L}\p{N}._%+-]+\s*(\[at\]|\(at\)|\{at\}| at )\s*[\p{L}\p{N}-]+"
              r"(\s*(\[dot\]|\(dot\)|\{dot\}| dot )\s*[\p{L}\p{N}-]+)+", "[email]"),
    # A URL with a query string or fragment, or with a long token-like path segment.
    ("url", r"(?i)\b(https?://|www\.)[^\s<>\"]*[?#][^\s<>\"]*", "[url]"),
    ("url", r"(?i)\b(https?://|www\.)[^\s<>\"]*/[a-z0-9_-]*[0-9][a-z0-9_-]*[a-z][a-z0-9_-]*"
            r"[^\s<>\"]*", "[url]"),
    # IPv6 (five or more groups, or compressed with ::) before IPv4; times like 10:05:30 have
    # three groups and stay.
    ("ip", r"(?i)\b([0-9a-f]{1,4}:){4,7}[0-9a-f]{1,4}\b", "[ip]"),
    ("ip", r"(?i)\b([0-9a-f]{1,4}:){1,6}:([0-9a-f]{1,4}(:[0-9a-f]{1,4}){0,5})?(\b|$)", "[ip]"),
    ("ip", r"\b((25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\.){3}"
           r"(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\b", "[ip]"),
    # Street addresses: "221B Baker Street", "1600 Pennsylvania Ave NW", "Hauptstraße 5",
    # "12 rue de la Paix"; UK postcodes.
    ("address", r"\b[0-9]{1,5}[A-Za-z]?,?\s+([A-Z][\p{L}'.-]*\s+){1,4}(Street|St|Avenue|Ave|"
                r"Road|Rd|Boulevard|Blvd|Lane|Ln|Drive|Dr|Court|Ct|Way|Place|Pl|Terrace|"
                r"Crescent|Close|Square|Sq|Parkway|Pkwy|Highway|Hwy|Gardens|Row|Walk|Hill)"
                r"\b\.?(\s+(N|S|E|W|NE|NW|SE|SW)\b)?(,?\s+(Apt|Apartment|Suite|Unit|Flat|#)"
                r"\.?\s*[0-9A-Za-z-]+)?", "[address]"),
    ("address", r"\b[A-ZÄÖÜ][\p{L}-]*(straße|strasse|str\.|weg|gasse|allee|platz|damm|ring)"
                r"\s+[0-9]{1,4}\s?[a-z]?\b", "[address]"),
    ("address", r"(?i)\b[0-9]{1,4}(bis|ter)?,?\s+(rue|avenue|av\.|boulevard|bd|chemin|allée|"
                r"impasse|quai|place|calle|via|viale|piazza)\s+[\p{L}'-]+(\s+[\p{L}'-]+){0,3}",
                "[address]"),
    ("address", r"\b[A-Z]{1,2}[0-9][A-Z0-9]?\s?[0-9][ABD-HJLNP-UW-Z]{2}\b", "[address]"),
    # Account and routing numbers that say so ("account no. 12345678", "sort code 12-34-56").
    ("account", r"(?i)\b(account|acct|a/c|konto|compte|routing|sort code|aba|bsb)(\s*(number|"
                r"no\.?|nr\.?|#|num))?\s*[:#]?\s*[0-9][0-9 -]{3,22}[0-9]", "[account]"),
)


def sql_redaction(column: str) -> str:
    """A DuckDB expression: `column` with every SQL_PATTERNS match replaced."""
    expression = column
    for _, pattern, placeholder in SQL_PATTERNS:
        expression = (f"regexp_replace({expression}, {_literal(pattern)}, "
                      f"{_literal(placeholder)}, 'g')")
    return expression


def name_pattern(names: Iterable[str]) -> str | None:
    """An RE2 pattern matching any of `names` as whole words (longest first), or None."""
    words = sorted({n.strip() for n in names if len(n.strip()) >= 2}, key=lambda n: (-len(n), n))
    if not words:
        return None
    alternatives = "|".join(re.escape(w).replace("\\ ", "\\s+") for w in words)
    return f"(^|[^{_LETTER}])({alternatives})([^{_LETTER}]|$)"


def redact_names(con: duckdb.DuckDBPyConnection, table: str, column: str,
                 pattern: str | None) -> None:
    """Replace known names in `table.column`. Twice: a match consumes the character after it,
    so a name right behind another ("Ava,Adams") is caught by the second pass."""
    if pattern is None:
        return
    for _ in range(2):
        con.execute(f"UPDATE {table} SET {column} = regexp_replace({column}, "
                    f"{_literal(pattern)}, '\\1[name]\\3', 'g') "
                    f"WHERE regexp_matches({column}, {_literal(pattern)})")


# --- stage 2: Python, per message -----------------------------------------------------------
# Country, check digits, then groups of four (printed with spaces, or run together).
IBAN_CANDIDATE = re.compile(r"\b[A-Za-z]{2}[0-9]{2}(?:[ -]?[A-Za-z0-9]{4}){2,7}"
                            r"(?:[ -]?[A-Za-z0-9]{1,3})?\b")
# Digits with single spaces, dots, dashes (also en dashes and no-break spaces) between them.
CARD_CANDIDATE = re.compile(r"(?<![\d-])\d(?:[ .\u00a0\u2009\u2013\u2011-]?\d){12,18}(?!\d)")
PHONE_CONTEXT = re.compile(r"(?i)(phone|call|tel|mobile|cell|whatsapp|sms|text me|reach me|"
                           r"ring|fax|number|contact|landline|dial)\W{0,3}(\w+\W{1,3}){0,2}$")
# Regions whose national formats are tried; international (+CC) numbers match in any.
PHONE_REGIONS = ("US", "GB", "DE", "FR", "IN", "AU", "CA", "ES", "IT", "NL", "BR", "MX", "IE",
                 "SE", "PL", "JP", "ZA", "NG", "SG", "NZ", "CH", "AT", "BE", "PT", "DK", "NO")
DATE_LIKE = re.compile(r"^\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}$")


def redact_text(text: str) -> str:
    """IBANs, card numbers and phone numbers in one message."""
    text = IBAN_CANDIDATE.sub(
        lambda m: "[iban]" if iban.is_valid(m.group().upper()) else m.group(), text)
    text = CARD_CANDIDATE.sub(_card, text)
    return _phones(text)


def _card(match: re.Match[str]) -> str:
    digits = re.sub(r"\D", "", match.group())
    return "[card]" if 13 <= len(digits) <= 19 and luhn.is_valid(digits) else match.group()


# Typographic dashes and spaces read as plain ones (one character for one: same positions).
PLAIN_PUNCTUATION = str.maketrans("\u2010\u2011\u2012\u2013\u2014\u2212\u00a0\u2007\u2009\u202f",
                                  "------" + "    ")


def _phones(text: str) -> str:
    if sum(c.isdigit() for c in text) < 6:
        return text
    probe = text.translate(PLAIN_PUNCTUATION)
    spans: set[tuple[int, int]] = set()
    for region in PHONE_REGIONS:
        for found in phonenumbers.PhoneNumberMatcher(probe, region,
                                                     leniency=phonenumbers.Leniency.POSSIBLE):
            if _is_phone(probe, found, region):
                spans.add((found.start, found.end))
    for start, end in sorted(_merge(spans), reverse=True):
        text = text[:start] + "[phone]" + text[end:]
    return text


def _is_phone(text: str, found: phonenumbers.PhoneNumberMatch, region: str) -> bool:
    raw = found.raw_string
    before = text[max(found.start - 1, 0):found.start]
    if DATE_LIKE.match(raw.strip()) or before.isalnum() or before in ("#", "$", "-", "/"):
        return False  # a date, an amount, or part of a reference such as INV-2026-0042
    context = bool(PHONE_CONTEXT.search(text[max(found.start - 40, 0):found.start]))
    international = raw.lstrip("(").startswith("+")
    grouped = bool(re.search(r"[\s().-]", raw)) or raw.startswith(("0", "+"))
    if phonenumbers.is_valid_number(found.number):
        # A bare run of digits is an order or reference number unless something says phone.
        return international or grouped or context
    return context and len(re.sub(r"\D", "", raw)) >= 7


def _merge(spans: set[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


BATCH_ROWS = 2_000  # messages per Python batch: bounded memory whatever the pack's size


def redact_table(con: duckdb.DuckDBPyConnection, table: str, key: str, column: str,
                 names: Iterable[str] = ()) -> None:
    """Redact `table.column` in place: SQL patterns and names set-based, then the library
    checks per message in batches of BATCH_ROWS (rows ordered by the integer `key`)."""
    con.execute(f"UPDATE {table} SET {column} = {sql_redaction(column)} "
                f"WHERE {column} IS NOT NULL")
    redact_names(con, table, column, name_pattern(names))
    last = -1
    while True:
        rows = con.execute(f"SELECT {key}, {column} FROM {table} WHERE {key} > ? AND "
                           f"{column} IS NOT NULL ORDER BY {key} LIMIT {BATCH_ROWS}",
                           [last]).fetchall()
        if not rows:
            return
        redacted = [(row, redact_text(text)) for row, text in rows]
        changed = pa.table({"k": [r for (r, new), (_, old) in zip(redacted, rows) if new != old],
                            "v": [new for (_, new), (_, old) in zip(redacted, rows) if new != old]})
        if changed.num_rows:
            con.register("redacted_batch", changed)
            con.execute(f"UPDATE {table} SET {column} = r.v FROM redacted_batch r "
                        f"WHERE {table}.{key} = r.k")
            con.unregister("redacted_batch")
        last = rows[-1][0]


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"
