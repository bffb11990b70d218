"""The vendor's bill: a billed list (CSV), the vendor's own labels, or a count-only invoice.

Whatever the source, the result is a `billed` table with one row per billed unit:
`line` (1-based, invoice order), `unit` (1..units of that line; a line bills one unit unless the
list has a `units` column), `conversation_id`, `billed_at` (TIMESTAMP, UTC, may be NULL) and
`amount` (DECIMAL: the line's amount shared by its units, NULL when the line has none).
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from auditor.engine import error_line, error_text, first_row, scalar, sql_string
from auditor.errors import InputError, UsageError, did_you_mean
from auditor.sources import InputProvenance
from auditor.sources.files import expand_inputs

BILLED_DDL = ("CREATE OR REPLACE TABLE billed (line BIGINT, unit BIGINT, conversation_id VARCHAR, "
              "billed_at TIMESTAMP, amount DECIMAL(18, 4))")
UNITS_COLUMNS = ("units", "quantity")  # either header gives a line's number of units
# A line of N units: each unit gets amount / N, cut to 4 decimals; the first unit also gets the
# remainder, so a line's units always add up to its amount exactly.
SPLIT_AMOUNT = """
    CASE WHEN units = 1 OR amount IS NULL THEN amount
         ELSE CAST(trunc(amount / units, 4) AS DECIMAL(18, 4))
              + CASE WHEN unit = 1 THEN amount - units * CAST(trunc(amount / units, 4)
                                                               AS DECIMAL(18, 4)) ELSE 0 END
    END
"""


def load_billed_csv(
    con: duckdb.DuckDBPyConnection, path: str | Path, id_column: str = "conversation_id",
    display: dict[Path, str] | None = None,
) -> InputProvenance:
    """Read a billed list; every line must have an id, a parseable billed_at and amount."""
    if Path(path).is_dir():
        raise UsageError(f"--billed {path} is a folder", "give the one CSV file of the bill")
    file = expand_inputs([path], display)[0]
    reader = f"read_csv({sql_string(str(file.path))}, all_varchar = true, header = true)"
    columns = _columns(con, file.display, reader)
    if id_column.lower() not in columns:
        raise InputError(file.display, f"no '{id_column}' column in the header",
                         hint=_id_hint(id_column, columns))
    _read_lines(con, file.display, f"""
        CREATE OR REPLACE TEMP TABLE billed_raw AS
        SELECT *, auditor_parse_ts(billed_at_raw) AS billed_at,
               try_cast(amount_raw AS DECIMAL(18, 4)) AS amount,
               coalesce(try_cast(units_raw AS BIGINT), 1) AS units
        FROM (SELECT row_number() OVER () AS line,
                     nullif(trim({_col(id_column, columns)}), '') AS conversation_id,
                     nullif(trim({_col('billed_at', columns)}), '') AS billed_at_raw,
                     nullif(trim(replace({_col('amount', columns)}, '$', '')), '') AS amount_raw,
                     nullif(trim({_units_col(columns, file.display)}), '') AS units_raw
              FROM {reader})
    """)
    _reject_bad_lines(con, file.display, id_column)
    con.execute(BILLED_DDL)
    # Without a units column every line is one unit: no need to expand lines into units.
    units = ("unnest(range(1, units + 1))" if any(c in columns for c in UNITS_COLUMNS)
             else "CAST(1 AS BIGINT)")
    con.execute(f"""
        INSERT INTO billed
        SELECT line, unit, conversation_id, billed_at, {SPLIT_AMOUNT}
        FROM (SELECT *, {units} AS unit FROM billed_raw)
        ORDER BY line, unit
    """)
    con.execute("DROP TABLE billed_raw")
    rows = int(scalar(con, "SELECT count(*) FROM billed"))  # type: ignore[arg-type]
    return InputProvenance(path=file.display, sha256=file.sha256, format="billed-csv", rows=rows)


def _columns(con: duckdb.DuckDBPyConnection, display: str, reader: str) -> dict[str, str]:
    try:
        names = [r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {reader}").fetchall()]
    except duckdb.Error as exc:
        raise InputError(display, "cannot be read as CSV: " + str(exc).splitlines()[0]) from exc
    return {str(n).strip().lower(): str(n) for n in names}


def _col(name: str, columns: dict[str, str]) -> str:
    real = columns.get(name.lower())
    return '"' + real.replace('"', '""') + '"' if real else "CAST(NULL AS VARCHAR)"


def _read_lines(con: duckdb.DuckDBPyConnection, display: str, sql: str) -> None:
    """Run the statement that reads the list; a row that breaks the CSV is the user's to fix."""
    try:
        con.execute(sql)
    except duckdb.Error as exc:
        raise InputError(display, f"cannot be read as CSV: {error_text(exc)}",
                         record=error_line(exc)) from exc


def _units_col(columns: dict[str, str], display: str) -> str:
    present = [name for name in UNITS_COLUMNS if name in columns]
    if len(present) > 1:
        raise InputError(display, "has both a 'units' and a 'quantity' column",
                         hint="keep the one that counts the billed units")
    return _col(present[0], columns) if present else "CAST(NULL AS VARCHAR)"


def _id_hint(id_column: str, columns: dict[str, str]) -> str:
    close = did_you_mean(id_column, columns)
    found = "columns found: " + ", ".join(columns.values())
    return f"{close} {found}; pick one with --id-column NAME" if close else \
        f"{found}; pick the conversation id column with --id-column NAME"


# (field, SQL that is true for a bad raw value, what was expected)
LINE_CHECKS = (
    ("billed_at", "billed_at_raw IS NOT NULL AND billed_at IS NULL",
     "a timestamp (ISO 8601 or epoch seconds)"),
    ("amount", "amount_raw IS NOT NULL AND coalesce(amount < 0, true)", "an amount of 0 or more"),
    # Bounded: each unit becomes a row, and no conversation is billed 10,000 windows.
    ("units", "units_raw IS NOT NULL AND NOT (regexp_full_match(units_raw, '[0-9]{1,5}') "
              "AND try_cast(units_raw AS BIGINT) BETWEEN 1 AND 10000)",
     "a whole number of units from 1 to 10,000"),
)


def _reject_bad_lines(con: duckdb.DuckDBPyConnection, display: str, id_column: str) -> None:
    """A billed line that cannot be judged is an input error: every line must get a status."""
    empty = con.execute("SELECT min(line) FROM billed_raw WHERE conversation_id IS NULL").fetchall()[0]
    if empty and empty[0] is not None:
        raise InputError(display, "conversation id is empty", record=f"line {empty[0] + 1}",
                         field=id_column)
    for field, is_bad, expected in LINE_CHECKS:
        bad = first_row(con, f"SELECT line, {field}_raw FROM billed_raw WHERE {is_bad} "
                                  "ORDER BY line LIMIT 1")
        if bad:
            raise InputError(display, f"cannot parse '{bad[1]}' as {expected}",
                             record=f"line {bad[0] + 1}", field=field)


def billed_from_labels(con: duckdb.DuckDBPyConnection, facts_table: str,
                       labels: list[str]) -> None:
    """The vendor's own labels as the bill: one line per labelled conversation."""
    label_list = ", ".join(sql_string(label) for label in labels) or "NULL"
    con.execute(BILLED_DDL)
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
