"""Amounts and dates of a billed list as people write them, read in SQL.

Amounts: `0.99`, `0,99`, `$0.99`, `0.99 USD`, `€0,99`, `1,234.50`, `1.234,50`, `(0.99)` or
`-0.99` (a credit). A column's decimal mark is decided once, from the values that can only be
read one way (`0,99`: comma; `1,234.50`: point); then `1,234` is read with it. Exact decimals
(DECIMAL(18, 4)) throughout.

Dates: ISO 8601 and epoch seconds as everywhere else (`auditor_parse_ts`); dates such as
`29/09/2026 04:23` day-first or month-first when some value decides it (a first field above 12
is a day), or when `--date-format` names the format. Times without a zone are UTC.
"""

from __future__ import annotations

import re
from typing import NamedTuple

import duckdb

from auditor.engine import error_text, first_row, sql_string
from auditor.errors import InputError, UsageError

CURRENCY_MARK = r"US\$|\$|€|£|\b(?:USD|EUR|GBP|CHF|CAD|AUD)\b"
CURRENCY_CODE = "CASE m WHEN '$' THEN 'USD' WHEN 'US$' THEN 'USD' WHEN '€' THEN 'EUR' " \
                "WHEN '£' THEN 'GBP' ELSE nullif(m, '') END"
# A number read with a decimal point / a decimal comma; the grouped forms need whole groups of 3
# (thousands separated by the other mark, a space or an apostrophe, quoted '' for SQL).
POINT_NUMBER = r"[0-9]+(\.[0-9]+)?|\.[0-9]+|[1-9][0-9]{0,2}([,'' ][0-9]{3})+(\.[0-9]+)?"
COMMA_NUMBER = r"[0-9]+(,[0-9]+)?|,[0-9]+|[1-9][0-9]{0,2}([.'' ][0-9]{3})+(,[0-9]+)?"
POINT_VALUE = (f"CASE WHEN regexp_full_match(num, '{POINT_NUMBER}') THEN try_cast("
               f"regexp_replace(num, '[,'' ]', '', 'g') AS DECIMAL(18, 4)) END")
COMMA_VALUE = (f"CASE WHEN regexp_full_match(num, '{COMMA_NUMBER}') THEN try_cast(replace("
               f"regexp_replace(num, '[.'' ]', '', 'g'), ',', '.') AS DECIMAL(18, 4)) END")

# An amount with nothing to read but digits and up to two decimals (0.99, 12): no currency, no
# sign, and a point the only possible decimal mark (a comma-decimal list writes 1.234 for
# 1234: three digits). Most billed lists hold only these, so they skip the patterns below.
PLAIN_AMOUNT = r"[0-9]+(\.[0-9]{1,2})?"
PLAIN_POINT_VALUE = "try_cast(raw AS DECIMAL(18, 4))"  # = POINT_VALUE of a plain amount
PLAIN_COMMA_VALUE = "CASE WHEN NOT contains(raw, '.') THEN try_cast(raw AS DECIMAL(18, 4)) END"

# `bill_amounts`: each amount's currency and sign, and its value read with a decimal point (p)
# and with a decimal comma (c); NULL where that reading does not fit.
AMOUNT_PARTS_SQL = f"""
CREATE OR REPLACE TEMP TABLE bill_amounts AS
WITH amounts AS (
    SELECT line, amount_raw AS raw, regexp_full_match(amount_raw, '{PLAIN_AMOUNT}') AS plain
    FROM billed_raw WHERE amount_raw IS NOT NULL
),
marked AS (
    SELECT line, raw,
        regexp_extract(upper(raw), '({CURRENCY_MARK})', 1) AS m,
        trim(regexp_replace(regexp_replace(upper(raw), '{CURRENCY_MARK}', '', 'g'),
                            '[\\x{{00A0}}\\x{{202F}}]', ' ', 'g')) AS signed
    FROM amounts WHERE NOT plain
),
unwrapped AS (  -- accounting style: (0.99) is a credit
    SELECT *, regexp_full_match(signed, '\\(.*\\)') AS paren,
        trim(coalesce(nullif(regexp_extract(signed, '^\\((.*)\\)$', 1), ''), signed)) AS body
    FROM marked
),
parts AS (
    SELECT line, raw, {CURRENCY_CODE} AS currency,
        paren OR regexp_full_match(body, '[-−].*|.*[-−]') AS negative,
        trim(regexp_replace(body, '^[-−+]|[-−]$', '', 'g')) AS num
    FROM unwrapped
)
SELECT line, raw, currency, negative, {POINT_VALUE} AS p, {COMMA_VALUE} AS c FROM parts
UNION ALL
SELECT line, raw, NULL, false, {PLAIN_POINT_VALUE}, {PLAIN_COMMA_VALUE} FROM amounts WHERE plain
"""


def read_amounts(con: duckdb.DuckDBPyConnection, display: str, header: str) -> str | None:
    """Fill `bill_amounts.amount` (NULL where it does not parse); return the bill's currency
    code when its amounts carry one (USD, EUR, ...)."""
    con.execute(AMOUNT_PARTS_SQL)
    value = "p" if _decimal_mark(con, display, header) == "." else "c"
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE bill_amounts AS
        SELECT line, raw, currency,
               CAST(CASE WHEN negative THEN -{value} ELSE {value} END AS DECIMAL(18, 4)) AS amount
        FROM bill_amounts
    """)
    return _currency(con, display, header)


def _decimal_mark(con: duckdb.DuckDBPyConnection, display: str, header: str) -> str:
    """'.' or ',': what the values that can be read only one way say."""
    # Only a point reads it, only a comma does, or both differently (1,234: 1234 or 1.234).
    kinds = ("p IS NOT NULL AND c IS NULL", "c IS NOT NULL AND p IS NULL", "p <> c")
    row = con.execute("SELECT " + ", ".join(
        f"count(*) FILTER ({where}), min(line) FILTER ({where}), "
        f"arg_min(raw, line) FILTER ({where})" for where in kinds)
        + " FROM bill_amounts"
    ).fetchall()[0]
    point, comma, either = row[0:3], row[3:6], row[6:9]
    if point[0] and comma[0]:
        raise InputError(display, f"column '{header}' mixes decimal points (line "
                         f"{point[1] + 1}: '{point[2]}') and decimal commas (line "
                         f"{comma[1] + 1}: '{comma[2]}')",
                         hint="write every amount with the same decimal mark")
    if point[0] or comma[0]:
        return "." if point[0] else ","
    if either[0]:
        raise InputError(display, f"column '{header}' holds amounts like '{either[2]}' "
                         "that can be read with a decimal point or a decimal comma",
                         record=f"line {either[1] + 1}",
                         hint="write the amounts without thousands separators, e.g. 1234.00")
    return "."


def _currency(con: duckdb.DuckDBPyConnection, display: str, header: str) -> str | None:
    found = con.execute("SELECT currency, min(line), arg_min(raw, line) FROM bill_amounts "
                        "WHERE currency IS NOT NULL GROUP BY 1 ORDER BY 2").fetchall()
    if len(found) > 1:
        raise InputError(display, f"column '{header}' mixes currencies: " + " and ".join(
            f"{code} (line {line + 1}: '{raw}')" for code, line, raw in found[:2]),
            hint="audit one currency at a time")
    return str(found[0][0]) if found else None


class DateReading(NamedTuple):
    sql: str  # billed_at_raw -> TIMESTAMP (UTC), NULL when it does not parse
    format: str | None  # the strptime format used besides ISO 8601 / epoch seconds
    expected: str  # what a value must look like, for an error message
    note: str | None  # how dates were read, for the report; None for ISO 8601


ISO = "ISO 8601 or epoch seconds"
TIMES = ("", " %H:%M", " %H:%M:%S", " %I:%M %p", " %I:%M:%S %p")
# Dates only one reading fits, accepted without asking: 2026.10.03, 29 Sep 2026, Sep 29, 2026.
UNAMBIGUOUS_DATES = ("%Y.%m.%d", "%Y/%m/%d", "%d %b %Y", "%d-%b-%Y", "%d-%b-%y", "%b %d, %Y",
                     "%d %B %Y", "%B %d, %Y")
# dd/mm/yyyy, mm/dd/yyyy and their . and - forms: the first two fields and the separator.
SHORT_DATE = r"^([0-9]{1,2})([/.-])([0-9]{1,2})[/.-]([0-9]{4}|[0-9]{2})([^0-9]|$)"


def billed_at_reading(con: duckdb.DuckDBPyConnection, date_format: str | None, display: str,
                      header: str | None) -> DateReading:
    """How billed_at is read: ISO 8601 / epoch seconds, and the format a value decides or
    --date-format names. An ambiguous column (every value like 03/10/2026) is an error."""
    if date_format:
        _check_format(con, date_format)
        return DateReading(_parse_sql([date_format], named_first=True), date_format,
                           f"--date-format '{date_format}', {ISO}",
                           f"Billed list dates read with --date-format '{date_format}', in UTC.")
    short = _short_dates(con)
    if short is None or header is None:
        return DateReading(_parse_sql(_with_times(UNAMBIGUOUS_DATES)), None, ISO, None)
    day_first, example = _field_order(short, display, header)
    named = format_like(example, day_first)
    date = format_like(example, day_first, with_time=False)
    sql = _parse_sql([named] + _with_times((date,) + UNAMBIGUOUS_DATES))
    read = first_row(con, f"SELECT strftime({sql}, '%Y-%m-%d %H:%M') FROM "
                          f"(SELECT {sql_string(example)} AS billed_at_raw)")
    order = "day-first" if day_first else "month-first"
    return DateReading(sql, named, f"{named}, {ISO}",
                       f"Billed list dates read {order} ({named}: '{example}' is "
                       f"{read[0] if read else '?'}), in UTC.")


def _with_times(dates: tuple[str, ...]) -> list[str]:
    return [date + time for date in dates for time in TIMES]


def _parse_sql(formats: list[str], named_first: bool = False) -> str:
    """ISO 8601 / epoch seconds, then the formats in order; a format the user named comes
    first (20261003 is also a number of epoch seconds)."""
    listed = "[" + ", ".join(sql_string(f) for f in formats) + "]"
    strptime = (f"make_timestamp(epoch_us(CAST(try_strptime(billed_at_raw, {listed}) "
                "AS TIMESTAMPTZ)))")
    iso = "auditor_parse_ts(billed_at_raw)"
    return f"coalesce({strptime}, {iso})" if named_first else f"coalesce({iso}, {strptime})"


def _check_format(con: duckdb.DuckDBPyConnection, date_format: str) -> None:
    if "%" not in date_format:
        raise UsageError(f"--date-format '{date_format}' has no % codes",
                         "e.g. '%d/%m/%Y %H:%M' for 29/09/2026 04:23")
    try:
        con.execute("SELECT try_strptime('2026-01-01', ?)", [date_format]).fetchall()
    except duckdb.Error as exc:
        raise UsageError(f"--date-format '{date_format}' is not a date format: "
                         f"{error_text(exc)}", "use strptime codes, e.g. '%d/%m/%Y %H:%M'") from exc


def _short_dates(con: duckdb.DuckDBPyConnection) -> tuple | None:
    """For values ISO 8601 does not read but dd/mm/yyyy could: (example, and per field order
    the first line and value that only it fits), or None when there are none."""
    row = first_row(con, f"""
        WITH fields AS (
            SELECT line, billed_at_raw AS raw,
                try_cast(regexp_extract(billed_at_raw, '{SHORT_DATE}', 1) AS INTEGER) AS a,
                try_cast(regexp_extract(billed_at_raw, '{SHORT_DATE}', 3) AS INTEGER) AS b
            FROM billed_raw
            WHERE billed_at_raw IS NOT NULL AND auditor_parse_ts(billed_at_raw) IS NULL
                AND regexp_matches(billed_at_raw, '{SHORT_DATE}')
        )
        SELECT arg_min(raw, line),
            min(line) FILTER (a > 12 AND b <= 12), arg_min(raw, line) FILTER (a > 12 AND b <= 12),
            min(line) FILTER (b > 12 AND a <= 12), arg_min(raw, line) FILTER (b > 12 AND a <= 12)
        FROM fields
    """)
    return row if row and row[0] is not None else None


def _field_order(short: tuple, display: str, header: str) -> tuple[bool, str]:
    """(day first?, an example value) from the values that only one order fits."""
    example, day_line, day_value, month_line, month_value = short
    if day_line is not None and month_line is not None:
        raise InputError(display, f"column '{header}' mixes day-first dates (line "
                         f"{day_line + 1}: '{day_value}') and month-first dates (line "
                         f"{month_line + 1}: '{month_value}')",
                         hint="fix the file, or name the format with --date-format")
    if day_line is None and month_line is None:
        raise InputError(display, f"column '{header}' holds dates like '{example}' that read "
                         "day-first or month-first, and no value tells which",
                         hint=f"say which: --date-format '{format_like(example, True)}' for "
                              f"day first, --date-format '{format_like(example, False)}' for "
                              "month first")
    return day_line is not None, str(day_value if day_line is not None else month_value)


def format_like(example: str, day_first: bool, with_time: bool = True) -> str:
    """The strptime format of a dd/mm/yyyy-like value, e.g. '%d/%m/%Y %H:%M'."""
    found = re.match(SHORT_DATE, example.strip())
    separator, year = (found.group(2), found.group(4)) if found else ("/", "2026")
    fields = ("%d", "%m") if day_first else ("%m", "%d")
    date = separator.join((*fields, "%Y" if len(year) == 4 else "%y"))
    rest = example.strip()[found.end(4):] if found else ""
    clock = re.match(r"( +|T)[0-9]{1,2}:[0-9]{2}(:[0-9]{2})?( *[AaPp][Mm])?", rest)
    if not clock or not with_time:
        return date
    time = ("%I" if clock.group(3) else "%H") + ":%M" + (":%S" if clock.group(2) else "")
    return f"{date}{clock.group(1)}{time}" + (" %p" if clock.group(3) else "")
