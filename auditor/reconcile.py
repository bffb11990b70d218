"""Reconciliation: every billed line against the buyer's own verdicts, in one SQL statement.

Each billed unit (a line, or one unit of a line with several) gets exactly one status:
- `disputed` when a billing-level reason applies or, for a unit the contract could count, when
  the contract rule set does not count the conversation (its reason codes, in rule order).
  Billing-level reasons: `outside_period`, and billing a conversation for more units than the
  contract gives it: `duplicate_billing` when the contract counts one unit per conversation,
  `excess_units` when its unit is something else (24-hour windows, sessions);
- `unverifiable` when the conversation is not in the export (`not_in_export`);
- `confirmed` otherwise.
A conversation's units are taken in invoice order: with 2 units allowed, its first two billed
units can be confirmed and any later one is disputed.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import duckdb
from pydantic import BaseModel

from auditor.engine import sql_string
from auditor.errors import UsageError
from auditor.rulesets import RuleSet

BILLING_REASONS: dict[str, str] = {
    "duplicate_billing": "The same conversation is billed more than once; later lines are disputed.",
    "excess_units": "The conversation is billed more units (windows, sessions) than the contract "
                    "counts for it; the units beyond are disputed.",
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
        if start.year < 1970 or end.year > 2199:
            raise UsageError(f"--period '{text}' is outside the years 1970-2199")
        return cls(start=start, end=end)

    def sql_contains(self, column: str) -> str:
        end = self.end + dt.timedelta(days=1)
        return (f"({column} >= TIMESTAMP '{self.start.isoformat()}' AND "
                f"{column} < TIMESTAMP '{end.isoformat()}')")

    def __str__(self) -> str:
        return f"{self.start.isoformat()}..{self.end.isoformat()}"


def excess_reason(contract: RuleSet) -> str:
    """The code for units billed beyond what the contract gives a conversation."""
    return "excess_units" if contract.units is not None else "duplicate_billing"


def build_findings(con: duckdb.DuckDBPyConnection, period: Period | None,
                   unit_price: Decimal | None, contract: RuleSet) -> None:
    """Create `findings` from `billed`, `contract_verdicts` and `vendor_verdicts`."""
    outside = f"NOT {period.sql_contains('b.billed_at')}" if period else "false"
    price = f"CAST({unit_price} AS DECIMAL(18, 4))" if unit_price is not None else "NULL"
    label = sql_string(str(period)) if period else "''"
    code = excess_reason(contract)
    excess_evidence = ("'already billed on line ' || first_line" if code == "duplicate_billing"
                       else f"'billed ' || {sql_string(contract.billing_unit)} || ' ' || unit_no "
                            "|| ' of this conversation; the contract counts ' || allowed_units")
    con.execute(FINDINGS_SQL.format(outside=outside, price=price, period=label,
                                    excess_code=sql_string(code), excess_evidence=excess_evidence))


FINDINGS_SQL = """
CREATE OR REPLACE TABLE findings AS
WITH b AS (
    SELECT *,
        row_number() OVER (PARTITION BY conversation_id ORDER BY line, unit) AS unit_no,
        min(line) OVER (PARTITION BY conversation_id) AS first_line
    FROM billed
),
judged AS (
    SELECT b.line, b.unit, b.conversation_id, b.billed_at, b.first_line, b.unit_no,
        coalesce(b.amount, {price}) AS amount,
        c.conversation_id IS NOT NULL AS in_export,
        coalesce(c.units, 0) AS allowed_units,
        -- Units beyond the contract's (at least the first, which carries its reasons).
        b.unit_no > greatest(coalesce(c.units, 0), 1) AS is_duplicate,
        coalesce(b.billed_at IS NOT NULL AND {outside}, false) AS is_outside,
        c.counted AS contract_counted, c.reasons AS contract_reasons,
        c.evidence AS contract_evidence,
        b.unit_no <= coalesce(v.units, 0) AS reproduced
    FROM b
    LEFT JOIN contract_verdicts c USING (conversation_id)
    LEFT JOIN vendor_verdicts v USING (conversation_id)
),
reasoned AS (
    SELECT *,
        list_concat(
            CASE WHEN is_duplicate THEN [{excess_code}] ELSE [] END,
            CASE WHEN is_outside THEN ['outside_period'] ELSE [] END,
            CASE WHEN in_export AND NOT is_duplicate THEN contract_reasons ELSE [] END
        ) AS dispute_reasons
    FROM judged
)
SELECT line, unit, conversation_id, billed_at, amount,
    CASE WHEN len(dispute_reasons) > 0 THEN 'disputed'
         WHEN NOT in_export THEN 'unverifiable'
         ELSE 'confirmed' END AS status,
    CASE WHEN len(dispute_reasons) > 0 THEN dispute_reasons
         WHEN NOT in_export THEN ['not_in_export']
         ELSE [] END AS reasons,
    reproduced,
    concat_ws('; ',
        CASE WHEN is_duplicate THEN {excess_evidence} END,
        CASE WHEN is_outside THEN 'billed ' || strftime(billed_at, '%Y-%m-%d %H:%M UTC')
            || ', outside the period ' || {period} END,
        CASE WHEN NOT in_export THEN 'conversation not found in the export' END,
        CASE WHEN in_export AND NOT is_duplicate THEN contract_evidence END
    ) AS evidence
FROM reasoned
"""  # no ORDER BY: every reader of findings orders by line itself


def build_reproduction(con: duckdb.DuckDBPyConnection, period: Period | None) -> dict[str, int]:
    """The vendor rule set's units on the export against the billed units, per conversation.

    matched + billed_not_reproduced = billed units; matched + reproduced_not_billed = count.
    """
    in_period = period.sql_contains("f.last_ai_message_at") if period else "true"
    row = con.execute(f"""
        WITH reproduced AS (
            SELECT v.conversation_id, v.units FROM vendor_verdicts v
            JOIN vendor_facts f USING (conversation_id) WHERE v.counted AND {in_period}
        ),
        billed_units AS (SELECT conversation_id, count(*) AS units FROM billed GROUP BY 1),
        both_sides AS (
            SELECT coalesce(b.units, 0) AS billed, coalesce(r.units, 0) AS reproduced
            FROM billed_units b FULL JOIN reproduced r USING (conversation_id)
        )
        SELECT coalesce(sum(reproduced), 0), coalesce(sum(least(billed, reproduced)), 0),
               coalesce(sum(billed - least(billed, reproduced)), 0),
               coalesce(sum(reproduced - least(billed, reproduced)), 0)
        FROM both_sides
    """).fetchall()[0]
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


def count_only_breakdown(con: duckdb.DuckDBPyConnection, period: Period | None,
                         contract: RuleSet) -> tuple[int, int, list[tuple[str, int]]]:
    """(vendor units, contract units, [(reason, units)]) on the export.

    The contract's units are what the vendor's own definition counts *and* the contract
    accepts; the breakdown explains the rest: conversations the contract rejects (by their
    first reason) and units beyond the contract's for conversations it counts.
    """
    in_period = period.sql_contains("f.last_ai_message_at") if period else "true"
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE vendor_counted AS
        SELECT v.units AS vendor_units, least(v.units, c.units) AS contract_units,
               CASE WHEN c.counted THEN {sql_string(excess_reason(contract))}
                    ELSE c.reasons[1] END AS reason
        FROM vendor_verdicts v JOIN vendor_facts f USING (conversation_id)
        JOIN contract_verdicts c USING (conversation_id)
        WHERE v.counted AND {in_period}
    """)
    vendor, accepted = con.execute("SELECT coalesce(sum(vendor_units), 0), "
                                   "coalesce(sum(contract_units), 0) FROM vendor_counted").fetchall()[0]
    rows = con.execute("""
        SELECT reason, sum(vendor_units - contract_units) FROM vendor_counted
        WHERE vendor_units > contract_units GROUP BY 1 ORDER BY 2 DESC, 1
    """).fetchall()
    return int(vendor), int(accepted), [(str(code), int(n)) for code, n in rows]
