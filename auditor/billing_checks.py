"""Checks of a billed list's rows and ids, before its lines are reconciled.

- Total rows at the end of the file (`Total,,1802.79`) are left out with a note; one in the
  middle is an error.
- Ids a spreadsheet rewrote (`2.1547E+14`, `215470000043591.0`) are an error: the bill would
  otherwise become false duplicates or unverifiable lines.
- When most billed ids are not in the export, a warning says so and names the likely cause
  (another id column, another export or month).
All in SQL over `billed_raw` (line, conversation_id, billed_at_raw, amount_raw, units_raw).
"""

from __future__ import annotations

from decimal import Decimal
from typing import NamedTuple

import duckdb

from auditor.billing_columns import BillColumns
from auditor.engine import first_row, scalar
from auditor.errors import InputError
from auditor.report.model import usd

# An id cell that labels a summary row: Total, TOTAL:, Grand total, Sub-total, Sum, Tax, VAT.
SUMMARY_ID = r"((grand|sub)[ _-]*)?(total|sum)s?\b[^0-9]*|(sales )?tax|vat|gst"
IS_SUMMARY = (f"(regexp_full_match(lower(conversation_id), '{SUMMARY_ID}') "
              "OR (conversation_id IS NULL AND billed_at_raw IS NULL))")
# Ids a spreadsheet wrote as numbers: rounded to scientific notation, or given a decimal part
# (with a decimal comma where the spreadsheet's locale has one: 2,1547E+14).
SPREADSHEET_IDS = (
    (r"[0-9]([.,][0-9]+)?[eE][-+]?[0-9]+", "rounded the ids"),
    (r"[0-9]+[.,]0+", "turned the ids into numbers"),
)
BLANK = "(conversation_id IS NULL AND amount_raw IS NULL AND units_raw IS NULL)"
TOTALS_DESCRIBED = 3  # total rows a note describes one by one
MOSTLY = 0.5  # more than this share of billed ids missing from the export gets a warning


def mark_total_rows(con: duckdb.DuckDBPyConnection) -> None:
    """`billed_raw.is_summary`: the row looks like a summary row; `is_total`: a summary row
    after the last billed line of the file."""
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE billed_raw AS
        WITH marked AS (SELECT *, {IS_SUMMARY} AS is_summary FROM billed_raw)
        SELECT *, is_summary AND line > (SELECT coalesce(max(line), 0) FROM marked
                                         WHERE NOT is_summary) AS is_total
        FROM marked ORDER BY line
    """)


def total_row_notes(con: duckdb.DuckDBPyConnection) -> list[str]:
    """One note naming the rows left out, and whether the bill's total matches its lines.
    Blank rows (a spreadsheet's formatted but empty rows) are only counted."""
    left_out, blank = con.execute(
        f"SELECT count(*), count(*) FILTER ({BLANK}) FROM billed_raw WHERE is_total").fetchall()[0]
    if not left_out:
        return []
    rows = con.execute(f"""
        SELECT r.line, r.conversation_id, r.amount_raw, a.amount FROM billed_raw r
        LEFT JOIN bill_amounts a USING (line) WHERE r.is_total AND NOT {BLANK}
        ORDER BY r.line LIMIT {TOTALS_DESCRIBED}""").fetchall()
    lines_sum = scalar(con, "SELECT sum(a.amount) FROM bill_amounts a JOIN billed_raw r "
                            "USING (line) WHERE NOT r.is_total")
    described = [_total_row(line, label, raw, amount, lines_sum)  # type: ignore[arg-type]
                 for line, label, raw, amount in rows]
    if left_out - blank > len(rows):
        described.append(f"{left_out - blank - len(rows):,} more")
    if blank:
        described.append(f"{blank:,} blank row{'s' * (blank != 1)}")
    if left_out == 1:
        return [f"Left out the last row of the billed list, a total row, not a billed line "
                f"({described[0]})."]
    return [f"Left out the last {left_out:,} rows of the billed list, total rows, not billed "
            f"lines ({'; '.join(described)})."]


def _total_row(line: int, label: str | None, raw: str | None, amount: Decimal | None,
               lines_sum: Decimal | None) -> str:
    what = f"line {line + 1}: " + (f"'{label}'" if label else "an empty id")
    if raw is None:
        return what + " and no amount"
    if amount is None or lines_sum is None:
        return f"{what} {raw}"
    return f"{what} {raw}, " + ("which matches the sum of the lines" if amount == lines_sum
                                else f"while the lines add up to {usd(lines_sum)}")


def reject_inner_total_rows(con: duckdb.DuckDBPyConnection, display: str, header: str,
                            export_ids: str) -> None:
    """A 'Subtotal' row between billed lines would be billed as a conversation."""
    # Usually there is none: then the export's ids (a hash table of every conversation) are
    # not needed.
    if not scalar(con, "SELECT count(*) FROM billed_raw WHERE NOT is_total AND is_summary"):
        return
    found = first_row(con, f"""
        SELECT line, conversation_id FROM billed_raw
        WHERE NOT is_total AND is_summary
            AND conversation_id NOT IN (SELECT conversation_id FROM {export_ids})
        ORDER BY line LIMIT 1
    """)
    if found:
        raise InputError(display, f"'{found[1]}' looks like a total row in the middle of the "
                         "bill", record=f"line {found[0] + 1}", field=header,
                         hint="remove it; only total rows at the end of the file are left out")


def reject_spreadsheet_ids(con: duckdb.DuckDBPyConnection, display: str, header: str,
                           export_ids: str) -> None:
    """Ids like 2.1547E+14 or 215470000043591.0, unless the export's own ids look like that."""
    for pattern, damage in SPREADSHEET_IDS:
        count, example, line = first_row(con, f"""
            SELECT count(*), arg_min(conversation_id, line), min(line) FROM billed_raw
            WHERE NOT is_total AND regexp_full_match(conversation_id, '{pattern}')""") or (0, 0, 0)
        if count and not scalar(con, f"SELECT count(*) FROM (SELECT 1 FROM {export_ids} WHERE "
                                     f"regexp_full_match(conversation_id, '{pattern}') LIMIT 1)"):
            raise InputError(display, f"column '{header}' holds {count:,} values like {example} "
                             f"(first on line {line + 1}): the file was saved by a spreadsheet "
                             f"that {damage}",
                             hint="export the ids as text: download the vendor's CSV again, "
                                  "or import it with that column as Text before saving")


def id_warnings(con: duckdb.DuckDBPyConnection, export_ids: str, reader: str,
                columns: BillColumns) -> list[str]:
    """A warning when most billed ids are not in the export, with the likely cause."""
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE bill_ids AS  -- unordered: only counted and summarised
        SELECT b.conversation_id AS id, e.conversation_id IS NOT NULL AS found
        FROM (SELECT DISTINCT conversation_id FROM billed) b
        LEFT JOIN {export_ids} e USING (conversation_id)
    """)
    total, missing = first_row(con, "SELECT count(*), count(*) FILTER (NOT found) "
                                    "FROM bill_ids") or (0, 0)
    if not total or missing <= MOSTLY * total:
        return []
    header = columns.used["conversation_id"]
    head = (f"{missing:,} of the bill's {total:,} conversation ids ({100 * missing / total:.0f}%) "
            f"are not in the export, so your data cannot check their lines")
    other = _column_with_export_ids(con, export_ids, reader, columns, total - missing)
    if other:
        return [f"{head}: column '{other}' holds ids that are in the export, so it is probably "
                f"the conversation id column; audit again with --id-column \"{other}\"."]
    bill_shape = _shape(con, "SELECT id FROM bill_ids WHERE NOT found")
    export_shape = _shape(con, f"SELECT conversation_id AS id FROM {export_ids}")
    if not bill_shape.like(export_shape):
        return [f"{head}: the bill's ids are {bill_shape}, the export's {export_shape}, so column '{header}' probably holds another id (a ticket, "
                "invoice line or customer id) or the export is from another system; name the "
                "conversation id column with --id-column."]
    return [f"{head}: the ids look alike (the bill's {bill_shape}, the export's "
            f"{export_shape}), so the export is probably not the one the vendor billed from; check it is the same workspace and covers the billed "
            f"month{_date_ranges(con)}."]


def _column_with_export_ids(con: duckdb.DuckDBPyConnection, export_ids: str, reader: str,
                            columns: BillColumns, found: int) -> str | None:
    """The unused column whose values are in the export more often than the id column's."""
    if not columns.unused:
        return None
    counts = first_row(con, "SELECT " + ", ".join(
        f"count(DISTINCT v{n}) FILTER (v{n} IN (SELECT conversation_id FROM {export_ids}))"
        for n in range(len(columns.unused))) + " FROM (SELECT " + ", ".join(
        f"nullif(trim(CAST({_quoted(h)} AS VARCHAR)), '') AS v{n}"
        for n, h in enumerate(columns.unused)) + f" FROM {reader})") or ()
    best = max(range(len(counts)), key=lambda n: (counts[n], -n))
    return columns.unused[best] if counts[best] > found else None


def _quoted(header: str) -> str:
    return '"' + header.replace('"', '""') + '"'


class IdShape(NamedTuple):
    digits: bool  # mostly all-digit ids
    length: int  # median length
    example: str

    def __str__(self) -> str:
        return f"{self.length} {'digits' if self.digits else 'characters'} like '{self.example}'"

    def like(self, other: IdShape) -> bool:
        """Same kind, and lengths within a quarter of each other (or 2 characters)."""
        return self.digits == other.digits and \
            abs(self.length - other.length) <= max(2, other.length // 4)


def _shape(con: duckdb.DuckDBPyConnection, ids: str) -> IdShape:
    digits, length, example = first_row(con, f"""
        SELECT avg(CAST(regexp_full_match(id, '[0-9]+') AS INTEGER)) >= 0.5,
            CAST(median(length(id)) AS INTEGER), min(id) FROM ({ids})""") or (False, 0, "")
    return IdShape(bool(digits), int(length or 0), str(example or ""))


def _date_ranges(con: duckdb.DuckDBPyConnection) -> str:
    bill = first_row(con, "SELECT CAST(min(billed_at) AS DATE), CAST(max(billed_at) AS DATE) "
                          "FROM billed")
    export = first_row(con, "SELECT CAST(min(created_at) AS DATE), CAST(max(created_at) AS DATE) "
                            "FROM events")
    if not bill or bill[0] is None or not export or export[0] is None:
        return ""
    apart = "; they do not overlap" if bill[1] < export[0] or export[1] < bill[0] else ""
    return (f" (the bill's lines are dated {bill[0]}..{bill[1]}, the export's events "
            f"{export[0]}..{export[1]}{apart})")
