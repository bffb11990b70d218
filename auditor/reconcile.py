"""Reconciliation: every billed line against the buyer's own verdicts, in one SQL statement.

Each billed unit (a line, or one unit of a line with several) gets exactly one status:
- `disputed` when a billing-level reason applies or, for a unit the contract could count, when
  the contract rule set does not count the conversation (its reason codes, in rule order).
  Billing-level reasons: `outside_period`; billing a conversation for more units than the
  contract gives it (`duplicate_billing` when the contract counts one unit per conversation,
  `excess_units` when its unit is something else: 24-hour windows, sessions); and
  `not_vendor_resolution`, a unit the vendor's own definition does not count either;
- `unverifiable` when the data cannot support a verdict: the conversation is not in the export
  (`not_in_export`), the export has it without its messages (`incomplete_export`), some of its
  records were quarantined (`quarantined_records`), or the only criteria that apply are
  `undecided` ones (their codes);
- `confirmed` otherwise.
A conversation's units are taken in invoice order: with 2 units allowed, its first two billed
units can be confirmed and any later one is disputed. Bill-only reasons (a repeated line, a date
outside the period) still dispute a line whose conversation cannot be judged.

`reproduced` says whether the vendor's own definition counts the unit in the period (the AI's
last message inside it): NULL when that cannot be told (the conversation cannot be judged, or
the vendor's verdict is undecided). The report's reproduction figures are sums of this column.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import duckdb
from pydantic import BaseModel

from auditor.engine import scalar, sql_string
from auditor.errors import UsageError
from auditor.rulesets import RuleSet
from auditor.sources.validate import UNJUDGEABLE_REASONS

BILLING_REASONS: dict[str, str] = {
    "duplicate_billing": "The same conversation is billed more than once; later lines are disputed.",
    "excess_units": "The conversation is billed more units (windows, sessions) than the contract "
                    "counts for it; the units beyond are disputed.",
    "outside_period": "Billed at a time outside the invoice period.",
    "not_vendor_resolution": "Not a billable unit even by the vendor's own published definition.",
    "not_in_export": "The conversation is not in the export, so it cannot be checked.",
    **UNJUDGEABLE_REASONS,
    "not_reproduced": "Count-only invoice: billed beyond what the vendor's own definition counts.",
}
# Billing-level dispute reasons, in the order a line lists them (before the contract's codes).
DISPUTE_ORDER = ("duplicate_billing", "excess_units", "outside_period", "not_vendor_resolution")


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
                   unit_price: Decimal | None, contract: RuleSet, vendor: RuleSet) -> None:
    """Create `findings` from `billed`, `conversation_verdicts` (pipeline.judge) and
    `unjudgeable`."""
    price = f"CAST({unit_price} AS DECIMAL(18, 4))" if unit_price is not None else "NULL"
    label = sql_string(str(period)) if period else "''"
    code = excess_reason(contract)
    excess_evidence = ("'already billed on line ' || first_line" if code == "duplicate_billing"
                       else f"'billed ' || {sql_string(contract.billing_unit)} || ' ' || unit_no "
                            "|| ' of this conversation; the contract counts ' || allowed_units")
    # Without the conversation's verdict, only a repeated line of a one-per-conversation
    # contract is a duplicate for certain.
    unjudged_duplicate = "b.unit_no > 1" if code == "duplicate_billing" else "false"
    vendor_unit = sql_string(vendor.billing_unit)
    con.execute(FINDINGS_SQL.format(
        outside=f"NOT {period.sql_contains('b.billed_at')}" if period else "false",
        vendor_in_period=period.sql_contains("j.last_ai_message_at") if period else "true",
        price=price, period=label, excess_code=sql_string(code),
        excess_evidence=excess_evidence, unjudged_duplicate=unjudged_duplicate,
        vendor_evidence=(f"{sql_string(vendor.id + ' does not count it: ')} || CASE WHEN "
                         f"vendor_counted THEN {sql_string(vendor.billing_unit)} || ' ' || unit_no"
                         f" || ' billed; the vendor''s definition counts ' || vendor_units "
                         f"|| ' ' || {vendor_unit} || 's' ELSE vendor_evidence END")))


FINDINGS_SQL = """
CREATE OR REPLACE TABLE findings AS
WITH
-- A unit's place among its conversation's billed units. Most conversations are billed once,
-- so only the others go through the window (sorting every billed unit cost more).
repeated AS (SELECT conversation_id FROM billed GROUP BY conversation_id HAVING count(*) > 1),
b AS (
    SELECT *, CAST(1 AS BIGINT) AS unit_no, line AS first_line
    FROM billed ANTI JOIN repeated USING (conversation_id)
    UNION ALL
    SELECT *,
        row_number() OVER (PARTITION BY conversation_id ORDER BY line, unit) AS unit_no,
        min(line) OVER (PARTITION BY conversation_id) AS first_line
    FROM billed SEMI JOIN repeated USING (conversation_id)
),
judged AS (
    SELECT b.line, b.unit, b.conversation_id, b.billed_at, b.first_line, b.unit_no,
        coalesce(b.amount, {price}) AS amount,
        j.conversation_id IS NOT NULL AS in_export,
        u.conversation_id IS NOT NULL AS unjudgeable,
        j.conversation_id IS NOT NULL AND u.conversation_id IS NULL AS judgeable,
        u.reasons AS unjudgeable_reasons, u.evidence AS unjudgeable_evidence,
        coalesce(j.contract_units, 0) AS allowed_units,
        -- Units beyond the contract's (at least the first, which carries its reasons).
        CASE WHEN u.conversation_id IS NOT NULL THEN {unjudged_duplicate}
             ELSE b.unit_no > greatest(coalesce(j.contract_units, 0), 1) END AS is_duplicate,
        coalesce(b.billed_at IS NOT NULL AND {outside}, false) AS is_outside,
        j.contract_decided, j.contract_reasons, j.contract_evidence,
        j.vendor_counted, coalesce(j.vendor_units, 0) AS vendor_units,
        b.unit_no <= coalesce(j.vendor_units, 0) AS vendor_counts_unit,
        j.vendor_decided, j.vendor_evidence,
        coalesce({vendor_in_period}, false) AS vendor_in_period
    FROM b
    LEFT JOIN conversation_verdicts j USING (conversation_id)  -- both rule sets' verdicts
    LEFT JOIN unjudgeable u USING (conversation_id)
),
classified AS (
    SELECT *,
        judgeable AND NOT is_duplicate AND NOT vendor_counts_unit AND vendor_decided
            AS not_vendor_resolution,
        judgeable AND NOT is_duplicate AS contract_applies
    FROM judged
),
reasoned AS (
    SELECT *,
        list_concat(
            CASE WHEN is_duplicate THEN [{excess_code}] ELSE [] END,
            CASE WHEN is_outside THEN ['outside_period'] ELSE [] END,
            CASE WHEN not_vendor_resolution THEN ['not_vendor_resolution'] ELSE [] END,
            CASE WHEN contract_applies AND contract_decided THEN contract_reasons ELSE [] END
        ) AS dispute_reasons,
        CASE WHEN NOT in_export AND NOT unjudgeable THEN ['not_in_export']
             WHEN unjudgeable THEN unjudgeable_reasons
             WHEN contract_applies AND NOT contract_decided THEN contract_reasons
             ELSE [] END AS unverifiable_reasons
    FROM classified
)
SELECT line, unit, conversation_id, billed_at, amount,
    CASE WHEN len(dispute_reasons) > 0 THEN 'disputed'
         WHEN len(unverifiable_reasons) > 0 THEN 'unverifiable'
         ELSE 'confirmed' END AS status,
    CASE WHEN len(dispute_reasons) > 0 THEN dispute_reasons
         ELSE unverifiable_reasons END AS reasons,
    CASE WHEN NOT judgeable THEN NULL
         WHEN vendor_counts_unit AND vendor_in_period THEN true
         WHEN NOT vendor_decided THEN NULL
         ELSE false END AS reproduced,
    concat_ws('; ',
        CASE WHEN is_duplicate THEN {excess_evidence} END,
        CASE WHEN is_outside THEN 'billed ' || strftime(billed_at, '%Y-%m-%d %H:%M UTC')
            || ', outside the period ' || {period} END,
        CASE WHEN NOT in_export AND NOT unjudgeable
             THEN 'conversation not found in the export' END,
        CASE WHEN unjudgeable THEN 'cannot be judged: ' || unjudgeable_evidence END,
        CASE WHEN not_vendor_resolution THEN {vendor_evidence} END,
        CASE WHEN contract_applies THEN contract_evidence END
    ) AS evidence
FROM reasoned
"""  # no ORDER BY: every reader of findings orders by line itself


def build_reproduction(con: duckdb.DuckDBPyConnection, period: Period | None,
                       count: int | None = None) -> dict[str, int]:
    """The vendor rule set's units on the export against the billed units.

    Sums of findings' `reproduced` column, so report and findings always agree:
    matched + billed_not_reproduced + billed_undetermined = billed units;
    matched + reproduced_not_billed = count (the vendor's units in the period, over the
    conversations that can be judged). `count` is given when the whole export's verdicts are
    elsewhere (an audit run in a warehouse engine).
    """
    in_period = period.sql_contains("last_ai_message_at") if period else "true"
    count = count if count is not None else int(scalar(con, f"""
        SELECT coalesce(sum(vendor_units), 0) FROM conversation_verdicts
        ANTI JOIN unjudgeable u USING (conversation_id)
        WHERE vendor_counted AND {in_period}
    """) or 0)
    matched, not_reproduced, undetermined = con.execute("""
        SELECT count(*) FILTER (WHERE reproduced), count(*) FILTER (WHERE NOT reproduced),
               count(*) FILTER (WHERE reproduced IS NULL)
        FROM findings
    """).fetchall()[0]
    return {"count": count, "matched": int(matched),
            "billed_not_reproduced": int(not_reproduced),
            "billed_undetermined": int(undetermined),
            "reproduced_not_billed": count - int(matched)}


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
    in_period = period.sql_contains("last_ai_message_at") if period else "true"
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE vendor_counted AS
        SELECT vendor_units, least(vendor_units, contract_units) AS contract_units,
               CASE WHEN contract_counted THEN {sql_string(excess_reason(contract))}
                    ELSE contract_reasons[1] END AS reason
        FROM conversation_verdicts ANTI JOIN unjudgeable u USING (conversation_id)
        WHERE vendor_counted AND {in_period}
    """)
    vendor, accepted = con.execute("SELECT coalesce(sum(vendor_units), 0), "
                                   "coalesce(sum(contract_units), 0) FROM vendor_counted").fetchall()[0]
    rows = con.execute("""
        SELECT reason, sum(vendor_units - contract_units) FROM vendor_counted
        WHERE vendor_units > contract_units GROUP BY 1 ORDER BY 2 DESC, 1
    """).fetchall()
    return int(vendor), int(accepted), [(str(code), int(n)) for code, n in rows]
