"""Reconciliation: every billed line against the buyer's own verdicts, in one SQL statement.

Each line gets exactly one status:
- `disputed` when a billing-level reason applies (`duplicate_billing`, `outside_period`) or,
  for the first line of a conversation found in the export, when the contract rule set does not
  count the conversation (its reason codes, in rule order);
- `unverifiable` when the conversation is not in the export (`not_in_export`);
- `confirmed` otherwise.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import duckdb
from pydantic import BaseModel

from auditor.engine import sql_string
from auditor.errors import UsageError

BILLING_REASONS: dict[str, str] = {
    "duplicate_billing": "The same conversation is billed more than once; later lines are disputed.",
    "outside_period": "Billed at a time outside the invoice period.",
    "not_in_export": "The conversation is not in the export, so it cannot be checked.",
    "not_reproduced": "Count-only invoice: billed beyond what the vendor's own definition counts.",
}


class Period(BaseModel):
    """Invoice period, dates inclusive, UTC."""

    start: dt.date
    end: dt.date

    @classmethod
    def parse(cls, text: str) -> Period:
        """Parse 'START..END' such as '2026-10-01..2026-10-31'."""
        parts = text.split("..")
        try:
            start, end = (dt.date.fromisoformat(p.strip()) for p in parts)
        except ValueError:
            raise UsageError(f"--period '{text}' is not START..END",
                             "for example 2026-10-01..2026-10-31") from None
        if end < start:
            raise UsageError(f"--period '{text}' ends before it starts")
        return cls(start=start, end=end)

    def sql_contains(self, column: str) -> str:
        end = self.end + dt.timedelta(days=1)
        return (f"({column} >= TIMESTAMP '{self.start.isoformat()}' AND "
                f"{column} < TIMESTAMP '{end.isoformat()}')")

    def __str__(self) -> str:
        return f"{self.start.isoformat()}..{self.end.isoformat()}"


def build_findings(con: duckdb.DuckDBPyConnection, period: Period | None,
                   unit_price: Decimal | None) -> None:
    """Create `findings` from `billed`, `contract_verdicts` and `vendor_verdicts`."""
    outside = f"NOT {period.sql_contains('b.billed_at')}" if period else "false"
    price = f"CAST({unit_price} AS DECIMAL(18, 4))" if unit_price is not None else "NULL"
    label = sql_string(str(period)) if period else "''"
    con.execute(FINDINGS_SQL.format(outside=outside, price=price, period=label))


FINDINGS_SQL = """
CREATE OR REPLACE TABLE findings AS
WITH b AS (
    SELECT *,
        row_number() OVER (PARTITION BY conversation_id ORDER BY line) AS copy_no,
        min(line) OVER (PARTITION BY conversation_id) AS first_line
    FROM billed
),
judged AS (
    SELECT b.line, b.conversation_id, b.billed_at, b.first_line,
        coalesce(b.amount, {price}) AS amount,
        c.conversation_id IS NOT NULL AS in_export,
        b.copy_no > 1 AS is_duplicate,
        coalesce(b.billed_at IS NOT NULL AND {outside}, false) AS is_outside,
        c.counted AS contract_counted, c.reasons AS contract_reasons,
        c.evidence AS contract_evidence,
        coalesce(v.counted, false) AS reproduced
    FROM b
    LEFT JOIN contract_verdicts c USING (conversation_id)
    LEFT JOIN vendor_verdicts v USING (conversation_id)
),
reasoned AS (
    SELECT *,
        list_concat(
            CASE WHEN is_duplicate THEN ['duplicate_billing'] ELSE [] END,
            CASE WHEN is_outside THEN ['outside_period'] ELSE [] END,
            CASE WHEN in_export AND NOT is_duplicate THEN contract_reasons ELSE [] END
        ) AS dispute_reasons
    FROM judged
)
SELECT line, conversation_id, billed_at, amount,
    CASE WHEN len(dispute_reasons) > 0 THEN 'disputed'
         WHEN NOT in_export THEN 'unverifiable'
         ELSE 'confirmed' END AS status,
    CASE WHEN len(dispute_reasons) > 0 THEN dispute_reasons
         WHEN NOT in_export THEN ['not_in_export']
         ELSE [] END AS reasons,
    reproduced,
    concat_ws('; ',
        CASE WHEN is_duplicate THEN 'already billed on line ' || first_line END,
        CASE WHEN is_outside THEN 'billed ' || strftime(billed_at, '%Y-%m-%d %H:%M UTC')
            || ', outside the period ' || {period} END,
        CASE WHEN NOT in_export THEN 'conversation not found in the export' END,
        CASE WHEN in_export AND NOT is_duplicate THEN contract_evidence END
    ) AS evidence
FROM reasoned
"""  # no ORDER BY: every reader of findings orders by line itself


def build_reproduction(con: duckdb.DuckDBPyConnection, period: Period | None) -> dict[str, int]:
    """The vendor rule set's count on the export against the billed conversations."""
    in_period = period.sql_contains("f.last_ai_message_at") if period else "true"
    row = con.execute(f"""
        WITH reproduced AS (
            SELECT v.conversation_id FROM vendor_verdicts v JOIN vendor_facts f USING (conversation_id)
            WHERE v.counted AND {in_period}
        ),
        billed_ids AS (SELECT DISTINCT conversation_id FROM billed)
        SELECT (SELECT count(*) FROM reproduced),
               (SELECT count(*) FROM billed_ids JOIN reproduced USING (conversation_id)),
               (SELECT count(*) FROM billed_ids ANTI JOIN reproduced USING (conversation_id)),
               (SELECT count(*) FROM reproduced ANTI JOIN billed_ids USING (conversation_id))
    """).fetchall()[0]
    assert row is not None
    keys = ("count", "matched", "billed_not_reproduced", "reproduced_not_billed")
    return dict(zip(keys, (int(v) for v in row)))


def status_totals(con: duckdb.DuckDBPyConnection) -> dict[str, tuple[int, Decimal]]:
    """Items and amount per status (every status present, zero when empty)."""
    rows = con.execute("""
        SELECT status, count(*), coalesce(sum(amount), 0) FROM findings GROUP BY status
    """).fetchall()
    totals = {s: (0, Decimal(0)) for s in ("confirmed", "disputed", "unverifiable")}
    totals.update({s: (int(n), Decimal(a)) for s, n, a in rows})
    return totals


def reason_totals(con: duckdb.DuckDBPyConnection, status: str) -> list[tuple[str, int, Decimal]]:
    """(code, lines carrying it, their amount) for one status, most lines first."""
    rows = con.execute("""
        SELECT reason, count(*), coalesce(sum(amount), 0)
        FROM (SELECT unnest(reasons) AS reason, amount FROM findings WHERE status = ?)
        GROUP BY reason ORDER BY 2 DESC, 1
    """, [status]).fetchall()
    return [(str(code), int(n), Decimal(a)) for code, n, a in rows]


def primary_reason_totals(con: duckdb.DuckDBPyConnection) -> list[tuple[str, int, Decimal]]:
    """Disputed lines by their first reason: these add up to the disputed total."""
    rows = con.execute("""
        SELECT reasons[1], count(*), coalesce(sum(amount), 0) FROM findings
        WHERE status = 'disputed' GROUP BY 1 ORDER BY 2 DESC, 1
    """).fetchall()
    return [(str(code), int(n), Decimal(a)) for code, n, a in rows]


def count_only_breakdown(con: duckdb.DuckDBPyConnection,
                         period: Period | None) -> tuple[int, int, list[tuple[str, int]]]:
    """(vendor count, contract count, [(first contract reason, conversations)]) on the export.

    The contract count is what the vendor's own definition counts *and* the contract accepts;
    the breakdown explains the vendor-counted conversations the contract rejects.
    """
    in_period = period.sql_contains("f.last_ai_message_at") if period else "true"
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE vendor_counted AS
        SELECT c.counted AS contract_counted, c.reasons
        FROM vendor_verdicts v JOIN vendor_facts f USING (conversation_id)
        JOIN contract_verdicts c USING (conversation_id)
        WHERE v.counted AND {in_period}
    """)
    vendor, contract = con.execute(
        "SELECT count(*), count(*) FILTER (contract_counted) FROM vendor_counted").fetchall()[0]  # type: ignore[misc]
    rows = con.execute("""
        SELECT reasons[1], count(*) FROM vendor_counted WHERE NOT contract_counted
        GROUP BY 1 ORDER BY 2 DESC, 1
    """).fetchall()
    return int(vendor), int(contract), [(str(code), int(n)) for code, n in rows]
