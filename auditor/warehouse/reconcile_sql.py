"""Reconciliation and the summary in the portable subset: the same statuses, reasons and
`reproduced` as auditor/reconcile.py (the fast DuckDB form), with reasons as ';'-joined codes.

Evidence is not written here: the local run renders it for billed conversations from the facts
it reads back, so findings.csv is the same whatever the engine. `summary` holds the figures of
report.json (figure, items, amount), one row each.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import NamedTuple

from auditor.reconcile import Period, excess_reason
from auditor.rulesets import RuleSet
from auditor.sources.validate import UNJUDGEABLE_REASONS
from auditor.warehouse import lint
from auditor.warehouse.facts_sql import Statement

FINDINGS = """
WITH b AS (
    SELECT line, unit, conversation_id, billed_at, amount,
        ROW_NUMBER() OVER (PARTITION BY conversation_id ORDER BY line, unit) AS unit_no
    FROM {p}billed
    WHERE COALESCE(amount >= 0, TRUE)
),
judged AS (
    SELECT b.line, b.unit, b.conversation_id, b.billed_at, b.unit_no,
        COALESCE(b.amount, {price}) AS amount,
        c.conversation_id IS NOT NULL AS in_export,
        u.conversation_id IS NOT NULL AS unjudgeable,
        c.conversation_id IS NOT NULL AND u.conversation_id IS NULL AS judgeable,
        u.reasons AS unjudgeable_reasons,
        CASE WHEN u.conversation_id IS NOT NULL THEN {unjudged_duplicate}
             ELSE b.unit_no > AUD_GREATEST(COALESCE(c.units, 0), 1) END AS is_duplicate,
        COALESCE(b.billed_at IS NOT NULL AND {outside}, FALSE) AS is_outside,
        c.decided AS contract_decided, c.reasons AS contract_reasons,
        b.unit_no <= COALESCE(v.units, 0) AS vendor_counts_unit,
        v.decided AS vendor_decided,
        COALESCE({vendor_in_period}, FALSE) AS vendor_in_period
    FROM b
    LEFT JOIN {p}contract_verdicts AS c ON c.conversation_id = b.conversation_id
    LEFT JOIN {p}vendor_verdicts AS v ON v.conversation_id = b.conversation_id
    LEFT JOIN {vendor_facts} AS f ON f.conversation_id = b.conversation_id
    LEFT JOIN {p}unjudgeable AS u ON u.conversation_id = b.conversation_id
),
classified AS (
    SELECT judged.*,
        judgeable AND NOT is_duplicate AND NOT vendor_counts_unit AND vendor_decided
            AS not_vendor_resolution,
        judgeable AND NOT is_duplicate AS contract_applies
    FROM judged
),
reasoned AS (
    SELECT classified.*,
        SUBSTRING(CASE WHEN is_duplicate THEN ';{excess_code}' ELSE '' END
            || CASE WHEN is_outside THEN ';outside_period' ELSE '' END
            || CASE WHEN not_vendor_resolution THEN ';not_vendor_resolution' ELSE '' END
            || CASE WHEN contract_applies AND contract_decided AND contract_reasons <> ''
                    THEN ';' || contract_reasons ELSE '' END, 2) AS dispute_reasons,
        CASE WHEN NOT in_export AND NOT unjudgeable THEN 'not_in_export'
             WHEN unjudgeable THEN unjudgeable_reasons
             WHEN contract_applies AND NOT contract_decided THEN contract_reasons
             ELSE '' END AS unverifiable_reasons
    FROM classified
)
SELECT line, unit, conversation_id, billed_at, CAST(amount AS DECIMAL(18, 4)) AS amount,
    CASE WHEN dispute_reasons <> '' THEN 'disputed'
         WHEN unverifiable_reasons <> '' THEN 'unverifiable'
         ELSE 'confirmed' END AS status,
    CASE WHEN dispute_reasons <> '' THEN dispute_reasons ELSE unverifiable_reasons END AS reasons,
    CASE WHEN NOT judgeable THEN NULL
         WHEN vendor_counts_unit AND vendor_in_period THEN TRUE
         WHEN NOT vendor_decided THEN NULL
         ELSE FALSE END AS reproduced
FROM reasoned
"""

# Conversations the vendor's definition counts in the period, over those that can be judged,
# with the contract's view of them (count-only invoices are explained by these).
VENDOR_COUNTED = """
SELECT v.units AS vendor_units, AUD_LEAST(v.units, c.units) AS contract_units,
    c.counted AS contract_counted, c.reasons AS contract_reasons
FROM {p}vendor_verdicts AS v
JOIN {vendor_facts} AS f ON f.conversation_id = v.conversation_id
JOIN {p}contract_verdicts AS c ON c.conversation_id = v.conversation_id
LEFT JOIN {p}unjudgeable AS u ON u.conversation_id = v.conversation_id
WHERE v.counted AND u.conversation_id IS NULL AND {in_period}
"""

ZERO = "CAST(0 AS DECIMAL(18, 4))"


class Figure(NamedTuple):
    name: str
    source: str  # findings, counted, credits or short (the one-row aggregates of summary_wide)
    items: str  # aggregate over the source
    amount: str = ZERO
    nonzero: bool = False  # a row only when items > 0 (reasons)


def _amount_sum(condition: str) -> str:
    return f"COALESCE(SUM(CASE WHEN {condition} THEN amount END), {ZERO})"


def _count(condition: str) -> str:
    return f"COUNT(CASE WHEN {condition} THEN 1 END)"


def _has_code(column: str, code: str) -> str:
    return f"AUD_CONTAINS(';' || {column} || ';', ';{code};')"


def _first_code(column: str, code: str) -> str:
    return f"AUD_CONTAINS('#' || {column} || ';', '#{code};')"


def findings_statements(prefix: str, vendor_facts: str, period: Period | None,
                        unit_price: Decimal | None, contract: RuleSet,
                        vendor: RuleSet) -> list[Statement]:
    """`findings` and `summary` from billed, the verdicts, the vendor's facts and unjudgeable."""
    code = excess_reason(contract)
    values = dict(
        p=prefix, vendor_facts=vendor_facts, excess_code=code,
        price=f"CAST({unit_price} AS DECIMAL(18, 4))" if unit_price is not None
        else "CAST(NULL AS DECIMAL(18, 4))",
        unjudged_duplicate="b.unit_no > 1" if code == "duplicate_billing" else "FALSE",
        outside=f"NOT {_in_period(period, 'b.billed_at')}" if period else "FALSE",
        vendor_in_period=_in_period(period, "f.last_ai_message_at") if period else "TRUE",
        in_period=_in_period(period, "f.last_ai_message_at") if period else "TRUE")
    findings = Statement(f"{prefix}findings", lint.parse(FINDINGS.format(**values)))
    counted = Statement(f"{prefix}vendor_counted", lint.parse(VENDOR_COUNTED.format(**values)))
    figures = _figures(contract, code)
    return [findings, counted,
            Statement(f"{prefix}summary_wide", lint.parse(_summary_wide(prefix, figures))),
            Statement(f"{prefix}summary", lint.parse(_summary(prefix, figures)))]


def _in_period(period: Period, column: str) -> str:
    end = period.end + dt.timedelta(days=1)
    return (f"({column} >= CAST('{period.start.isoformat()} 00:00:00' AS TIMESTAMP) AND "
            f"{column} < CAST('{end.isoformat()} 00:00:00' AS TIMESTAMP))")


def _figures(contract: RuleSet, excess_code: str) -> list[Figure]:
    dispute_codes = list(dict.fromkeys([excess_code, "outside_period", "not_vendor_resolution",
                                        *contract.codes()]))
    unverifiable_codes = list(dict.fromkeys(["not_in_export", *UNJUDGEABLE_REASONS, *(
        c.code for c in contract.criteria if c.undecided)]))
    figures = [Figure("billed", "findings", "COUNT(*)", f"COALESCE(SUM(amount), {ZERO})")]
    figures += [Figure(status, "findings", _count(f"status = '{status}'"),
                       _amount_sum(f"status = '{status}'"))
                for status in ("confirmed", "disputed", "unverifiable")]
    for status, codes in (("disputed", dispute_codes), ("unverifiable", unverifiable_codes)):
        for reason in codes:
            has = f"status = '{status}' AND {_has_code('reasons', reason)}"
            figures.append(Figure(f"{status}.by_reason.{reason}", "findings", _count(has),
                                  _amount_sum(has), nonzero=True))
    for reason in dispute_codes:
        first = f"status = 'disputed' AND {_first_code('reasons', reason)}"
        figures.append(Figure(f"disputed.by_primary_reason.{reason}", "findings", _count(first),
                              _amount_sum(first), nonzero=True))
    figures += [
        Figure("reproduction.matched", "findings", _count("reproduced")),
        Figure("reproduction.billed_not_reproduced", "findings", _count("NOT reproduced")),
        Figure("reproduction.billed_undetermined", "findings", _count("reproduced IS NULL")),
        Figure("reproduction.count", "counted", "COALESCE(SUM(vendor_units), 0)"),
        Figure("count_only.contract_count", "counted", "COALESCE(SUM(contract_units), 0)"),
        Figure("credits", "credits", "COUNT(*)", f"COALESCE(SUM(amount), {ZERO})"),
        Figure("observation.confirmed_short_observed", "short", "COUNT(*)",
               f"COALESCE(SUM(amount), {ZERO})"),
    ]
    # Units the vendor counts beyond what the contract accepts, by the contract's first reason.
    for reason in dict.fromkeys([excess_code, *contract.codes()]):
        which = ("contract_counted" if reason == excess_code else
                 f"NOT contract_counted AND {_first_code('contract_reasons', reason)}")
        figures.append(Figure(f"count_only.by_reason.{reason}", "counted",
                              f"COALESCE(SUM(CASE WHEN {which} THEN vendor_units - "
                              "contract_units END), 0)", nonzero=True))
    return figures


def _summary_wide(prefix: str, figures: list[Figure]) -> str:
    """One row: every figure's items (i<n>) and amount (a<n>), one aggregate per source."""
    sources = {
        "findings": f"{prefix}findings",
        "counted": f"{prefix}vendor_counted",
        "credits": f"(SELECT amount FROM {prefix}billed WHERE amount < 0) AS c",
        "short": f"(SELECT x.amount FROM {prefix}findings AS x JOIN {prefix}contract_verdicts "
                 "AS v ON v.conversation_id = x.conversation_id WHERE x.status = 'confirmed' "
                 "AND v.short_observed) AS s",
    }
    parts = []
    for source, relation in sources.items():
        columns = [f"CAST({f.items} AS BIGINT) AS i{n}, CAST({f.amount} AS DECIMAL(18, 4)) AS a{n}"
                   for n, f in enumerate(figures) if f.source == source]
        parts.append(f"(SELECT {', '.join(columns)} FROM {relation}) AS {source}_figures")
    return "SELECT * FROM " + " CROSS JOIN ".join(parts)


def _summary(prefix: str, figures: list[Figure]) -> str:
    rows = [f"SELECT '{f.name}' AS figure, i{n} AS items, a{n} AS amount FROM "
            f"{prefix}summary_wide" + (f" WHERE i{n} > 0" if f.nonzero else "")
            for n, f in enumerate(figures)]
    return "\nUNION ALL\n".join(rows)
