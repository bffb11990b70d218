"""The vendor's bill: a billed list (CSV), the vendor's own labels, or a count-only invoice.

Whatever the source, the result is a `billed` table with one row per billed unit:
`line` (1-based, invoice order), `unit` (1..units of that line; a line bills one unit unless the
list has a `units` column), `conversation_id`, `billed_at` (TIMESTAMP, UTC, may be NULL) and
`amount` (DECIMAL: the line's amount shared by its units, NULL when the line has none).
Negative lines of a billed list (credits) go to `billed_credits` instead, one row per line.

A billed list is read as people save it: billing_columns.py finds the columns, billing_values.py
reads amounts and dates, billing_checks.py leaves out total rows and catches ids a spreadsheet
rewrote or that are not the export's.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
from pydantic import BaseModel

from auditor.billing_checks import (
    id_warnings, mark_total_rows, reject_inner_total_rows, reject_spreadsheet_ids, total_row_notes,
)
from auditor.billing_columns import BillColumns, column_notes, resolve_columns
from auditor.billing_values import DateReading, billed_at_reading, read_amounts
from auditor.engine import error_line, error_text, first_row, scalar, sql_string
from auditor.errors import InputError, UsageError
from auditor.sources import InputProvenance
from auditor.sources.files import expand_inputs

BILLED_DDL = ("CREATE OR REPLACE TABLE billed (line BIGINT, unit BIGINT, conversation_id VARCHAR, "
              "billed_at TIMESTAMP, amount DECIMAL(18, 4))")
# Negative lines of a billed list: the vendor's credits, reported apart, never billed units.
CREDITS_DDL = ("CREATE OR REPLACE TABLE billed_credits (line BIGINT, conversation_id VARCHAR, "
               "billed_at TIMESTAMP, amount DECIMAL(18, 4))")
# A line of N units: each unit gets amount / N, cut to 4 decimals; the first unit also gets the
# remainder, so a line's units always add up to its amount exactly.
SPLIT_AMOUNT = """
    CASE WHEN units = 1 OR amount IS NULL THEN amount
         ELSE CAST(trunc(amount / units, 4) AS DECIMAL(18, 4))
              + CASE WHEN unit = 1 THEN amount - units * CAST(trunc(amount / units, 4)
                                                               AS DECIMAL(18, 4)) ELSE 0 END
    END
"""
WORK_TABLES = ("billed_raw", "bill_amounts", "billed_lines", "bill_ids")


class BillOptions(BaseModel):
    """How to read a billed list: the headers the user named, and the date format."""

    id_column: str | None = None
    billed_at_column: str | None = None
    amount_column: str | None = None
    units_column: str | None = None
    date_format: str | None = None

    def named(self) -> dict[str, str | None]:
        return {"conversation_id": self.id_column, "billed_at": self.billed_at_column,
                "amount": self.amount_column, "units": self.units_column}


class BillRead(BaseModel):
    """What reading the billed list found, for the report."""

    provenance: InputProvenance
    columns: dict[str, str]  # role (conversation_id, billed_at, amount, units) -> header
    date_format: str | None  # the strptime format read besides ISO 8601 / epoch seconds
    currency: str | None  # the currency the amounts are marked with, if any
    notes: list[str]
    warnings: list[str]


def load_billed_csv(
    con: duckdb.DuckDBPyConnection, path: str | Path, options: BillOptions | None = None,
    display: dict[Path, str] | None = None, export_ids: str = "vendor_facts",
) -> BillRead:
    """Read a billed list into `billed` and `billed_credits`. Every line must have an id and a
    parseable billed_at, amount and units; export_ids (one row per conversation_id of the
    export) tells spreadsheet-mangled and foreign ids apart."""
    options = options or BillOptions()
    if Path(path).is_dir():
        raise UsageError(f"--billed {path} is a folder", "give the one CSV file of the bill")
    file = expand_inputs([path], display)[0]
    reader = f"read_csv({sql_string(str(file.path))}, all_varchar = true, header = true)"
    columns = resolve_columns(_headers(con, file.display, reader), options.named(), file.display)
    _read_lines(con, file.display, f"""
        CREATE OR REPLACE TEMP TABLE billed_raw AS
        SELECT row_number() OVER () AS line,
               nullif(trim({_col(columns, 'conversation_id')}), '') AS conversation_id,
               nullif(trim({_col(columns, 'billed_at')}), '') AS billed_at_raw,
               nullif(trim({_col(columns, 'amount')}), '') AS amount_raw,
               nullif(trim({_col(columns, 'units')}), '') AS units_raw
        FROM {reader}
    """)
    mark_total_rows(con)
    id_header = columns.used["conversation_id"]
    reject_spreadsheet_ids(con, file.display, id_header, export_ids)
    reject_inner_total_rows(con, file.display, id_header, export_ids)
    currency, dates = _read_lines_values(con, file.display, columns, options.date_format)
    _write_billed(con, has_units="units" in columns.used)
    notes = (column_notes(columns) + total_row_notes(con) + ([dates.note] if dates.note else [])
             + _currency_notes(currency))
    warnings = id_warnings(con, export_ids, reader, columns)
    for table in WORK_TABLES:
        con.execute(f"DROP TABLE IF EXISTS {table}")
    rows = int(scalar(con, "SELECT count(*) FROM billed"))  # type: ignore[arg-type]
    return BillRead(
        provenance=InputProvenance(path=file.display, sha256=file.sha256, format="billed-csv",
                                   rows=rows),
        columns=columns.used, date_format=dates.format, currency=currency, notes=notes,
        warnings=warnings)


def _read_lines_values(con: duckdb.DuckDBPyConnection, display: str, columns: BillColumns,
                       date_format: str | None) -> tuple[str | None, DateReading]:
    """`billed_lines`: the billed lines (no total rows) with amount, billed_at and units read;
    a value that does not parse is an error naming its line."""
    currency = read_amounts(con, display, columns.header("amount") or "amount")
    dates = billed_at_reading(con, date_format, display, columns.header("billed_at"))
    # %Y reads '26' as the year 26: a year outside 1970-2199 is a date that did not parse.
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE billed_lines AS
        SELECT * EXCLUDE (read_at), CASE WHEN year(read_at) BETWEEN 1970 AND 2199
                                         THEN read_at END AS billed_at
        FROM (SELECT r.line, r.conversation_id, r.billed_at_raw, {dates.sql} AS read_at,
                     r.amount_raw, a.amount, r.units_raw,
                     coalesce(try_cast(r.units_raw AS BIGINT), 1) AS units
              FROM billed_raw r LEFT JOIN bill_amounts a USING (line)
              WHERE NOT r.is_total)
        ORDER BY line
    """)
    _reject_bad_lines(con, display, columns, dates.expected)
    return currency, dates


def _headers(con: duckdb.DuckDBPyConnection, display: str, reader: str) -> list[str]:
    try:
        names = [r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {reader}").fetchall()]
    except duckdb.Error as exc:
        raise InputError(display, "cannot be read as CSV: " + str(exc).splitlines()[0]) from exc
    return [str(n) for n in names]


def _col(columns: BillColumns, role: str) -> str:
    real = columns.header(role)
    return '"' + real.replace('"', '""') + '"' if real else "CAST(NULL AS VARCHAR)"


def _read_lines(con: duckdb.DuckDBPyConnection, display: str, sql: str) -> None:
    """Run the statement that reads the list; a row that breaks the CSV is the user's to fix."""
    try:
        con.execute(sql)
    except duckdb.Error as exc:
        raise InputError(display, f"cannot be read as CSV: {error_text(exc)}",
                         record=error_line(exc)) from exc


# (role, SQL that is true for a bad raw value, what was expected)
LINE_CHECKS = (
    ("billed_at", "billed_at_raw IS NOT NULL AND billed_at IS NULL", "a timestamp ({dates})"),
    ("amount", "amount_raw IS NOT NULL AND amount IS NULL",
     "an amount such as 0.99, $0.99, 0,99 EUR or -0.99 (a credit)"),
    # Bounded: each unit becomes a row, and no conversation is billed 10,000 windows.
    ("units", "units_raw IS NOT NULL AND NOT (regexp_full_match(units_raw, '[0-9]{1,5}') "
              "AND try_cast(units_raw AS BIGINT) BETWEEN 1 AND 10000)",
     "a whole number of units from 1 to 10,000"),
)


def _reject_bad_lines(con: duckdb.DuckDBPyConnection, display: str, columns: BillColumns,
                      dates: str) -> None:
    """A billed line that cannot be judged is an input error: every line must get a status."""
    empty = first_row(con, "SELECT line FROM billed_lines WHERE conversation_id IS NULL "
                           "ORDER BY line LIMIT 1")
    if empty:
        raise InputError(display, "conversation id is empty", record=f"line {empty[0] + 1}",
                         field=columns.used["conversation_id"])
    for role, is_bad, expected in LINE_CHECKS:
        bad = first_row(con, f"SELECT line, {role}_raw FROM billed_lines WHERE {is_bad} "
                             "ORDER BY line LIMIT 1")
        if bad:
            raise InputError(display, f"cannot parse '{bad[1]}' as {expected.format(dates=dates)}",
                             record=f"line {bad[0] + 1}", field=columns.header(role))


def _write_billed(con: duckdb.DuckDBPyConnection, has_units: bool) -> None:
    """`billed`: a row per billed unit; `billed_credits`: a row per negative line."""
    con.execute(BILLED_DDL)
    con.execute(CREDITS_DDL)
    # Without a units column every line is one unit: no need to expand lines into units.
    units = "unnest(range(1, units + 1))" if has_units else "CAST(1 AS BIGINT)"
    con.execute(f"""
        INSERT INTO billed
        SELECT line, unit, conversation_id, billed_at, {SPLIT_AMOUNT}
        FROM (SELECT *, {units} AS unit FROM billed_lines WHERE coalesce(amount >= 0, true))
        ORDER BY line, unit
    """)
    con.execute("INSERT INTO billed_credits SELECT line, conversation_id, billed_at, amount "
                "FROM billed_lines WHERE amount < 0 ORDER BY line")


def _currency_notes(currency: str | None) -> list[str]:
    if currency in (None, "USD"):
        return []
    return [f"The billed list's amounts are in {currency}: read this report's money figures in "
            f"{currency}, though they are written with a $ sign."]


def billed_from_labels(con: duckdb.DuckDBPyConnection, facts_table: str,
                       labels: list[str]) -> None:
    """The vendor's own labels as the bill: one line per labelled conversation."""
    label_list = ", ".join(sql_string(label) for label in labels) or "NULL"
    con.execute(BILLED_DDL)
    con.execute(CREDITS_DDL)
    con.execute(f"""
        INSERT INTO billed
        SELECT row_number() OVER (ORDER BY last_ai_message_at NULLS LAST, conversation_id), 1,
               conversation_id, last_ai_message_at, NULL
        FROM {facts_table} WHERE vendor_state IN ({label_list})
        ORDER BY 1
    """)


def empty_billed(con: duckdb.DuckDBPyConnection) -> None:
    """A count-only invoice has no lines."""
    con.execute(BILLED_DDL)
    con.execute(CREDITS_DDL)
