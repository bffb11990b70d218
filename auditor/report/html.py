"""report.html: the audit as one self-contained page to open offline, present or attach.

Everything inside the file: the stylesheet, a small script that filters and sorts the findings
table, and the charts as inline SVG (charts.py). The figures are the report's (report.json) and
aggregates of the findings table; the template only lays them out. Bills larger than
TABLE_ROWS lines show their first TABLE_ROWS in the table and say where the full list is.
"""

from __future__ import annotations

from decimal import Decimal

import duckdb

from auditor.reconcile import primary_reason_totals
from auditor.report import charts
from auditor.report.model import Report, share, usd
from auditor.report.templating import render

TABLE_ROWS = 3_000


def render_html(con: duckdb.DuckDBPyConnection, report: Report,
                evidence_href: str | None = None) -> str:
    """The page for an audit whose `findings` table is on `con`."""
    total = int(con.execute("SELECT count(*) FROM findings").fetchall()[0][0])
    days = per_day(con)
    return render(
        "report.html.j2", report=report, breakdown=breakdown_chart(con, report),
        reasons_chart=reasons_chart(report), days=days,
        day_chart=charts.day_chart(
            "days", "Billed and contract-confirmed items per day",
            "For each day of billing, the items billed (dark bars) and the items the contract "
            "definition confirms (light hatched bars).", days) if days else None,
        rows=findings_rows(con, transcripts=evidence_href is not None), total_rows=total,
        table_rows=TABLE_ROWS,
        reasons_in_table=reasons_in_table(con), evidence_href=evidence_href)


def breakdown_segments(con: duckdb.DuckDBPyConnection,
                       report: Report) -> list[tuple[str, str, int, Decimal]]:
    """(kind, label, items, amount): confirmed, disputed by first reason, unverifiable.
    These add up to the bill (a disputed line is counted once, by its first reason)."""
    if report.count_only is not None:  # no lines: the estimate by reason stands in
        first = [(r.code, r.items, r.amount) for r in report.disputed.reasons]
    else:
        first = primary_reason_totals(con)
    segments = [("confirmed", "confirmed", report.confirmed.items, report.confirmed.amount)]
    segments += [("disputed", f"disputed: {code}", n, Decimal(a)) for code, n, a in first]
    if report.unverifiable.items:
        segments.append(("unverifiable", "unverifiable", report.unverifiable.items,
                         report.unverifiable.amount))
    return segments


def breakdown_chart(con: duckdb.DuckDBPyConnection, report: Report) -> dict[str, object]:
    segments = breakdown_segments(con, report)
    billed = report.billed.items
    bars = []
    for n, (kind, label, items, amount) in enumerate(segments):
        style = (charts.STYLES[kind] if kind != "disputed" else
                 charts.DISPUTE_STYLES[(n - 1) % len(charts.DISPUTE_STYLES)])
        bars.append(charts.Bar(label, float(amount),
                               f"{items:,} items, {usd(amount)} ({share(items, billed)})", style))
    svg = charts.hbar_chart(
        "breakdown", "The invoice broken down",
        "Each billed item once: confirmed by the contract definition, disputed (by its first "
        "reason) or unverifiable, in dollars.", bars, "amount billed (USD)")
    return {"svg": svg, "segments": segments, "bars": len(bars)}


def reasons_chart(report: Report) -> dict[str, object] | None:
    reasons = report.disputed.reasons
    if not reasons:
        return None
    bars = [charts.Bar(r.code, r.items, f"{r.items:,} items, {usd(r.amount)}",
                       charts.DISPUTE_STYLES[n % len(charts.DISPUTE_STYLES)])
            for n, r in enumerate(reasons)]
    svg = charts.hbar_chart(
        "reasons", "Disputed items by reason",
        "Disputed items carrying each reason; a line can carry several reasons, so the bars "
        "add up to more than the disputed total.", bars, "disputed items carrying the reason")
    return {"svg": svg, "bars": len(bars)}


def per_day(con: duckdb.DuckDBPyConnection) -> list[tuple[str, int, int]]:
    """(day, billed items, confirmed items) for every day with billed lines."""
    rows = con.execute("""
        SELECT strftime(day, '%Y-%m-%d'), items, confirmed FROM (
            SELECT CAST(billed_at AS DATE) AS day, count(*) AS items,
                count(*) FILTER (WHERE status = 'confirmed') AS confirmed
            FROM findings WHERE billed_at IS NOT NULL GROUP BY 1)
        ORDER BY day
    """).fetchall()
    return [(str(d), int(b), int(c)) for d, b, c in rows]


def findings_rows(con: duckdb.DuckDBPyConnection,
                  transcripts: bool = True) -> list[dict[str, object]]:
    """The table's lines; with `transcripts` (an evidence pack to link to), whether each line's
    conversation has events, so a transcript page. Without, that pass over the events is
    skipped: has_transcript is false."""
    # The events are probed with the shown lines' ids (a small hash table), not the other way.
    with_events = ("SELECT DISTINCT conversation_id FROM events SEMI JOIN shown "
                   "USING (conversation_id)") if transcripts else \
        "SELECT conversation_id FROM shown WHERE false"
    result = con.execute(f"""
        WITH shown AS (  -- the first lines, then formatted (not every line, then the first)
            SELECT line, unit, conversation_id,
                strftime(billed_at, '%Y-%m-%d %H:%M') AS billed_at,
                CAST(amount AS DECIMAL(18, 2)) AS amount, status, reasons, reproduced, evidence,
                regexp_replace(conversation_id, '[^A-Za-z0-9._-]', '_', 'g') AS file_name
            FROM (SELECT * FROM findings ORDER BY line, unit LIMIT {TABLE_ROWS})
        ),
        with_events AS ({with_events})
        SELECT s.*, w.conversation_id IS NOT NULL AS has_transcript
        FROM shown s LEFT JOIN with_events w USING (conversation_id)
        ORDER BY s.line, s.unit
    """)
    names = [d[0] for d in result.description]
    return [dict(zip(names, row)) for row in result.fetchall()]


def reasons_in_table(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Every reason code on the lines the table shows, for the filter."""
    rows = con.execute(f"""
        SELECT DISTINCT unnest(reasons) FROM (SELECT reasons FROM findings
            ORDER BY line, unit LIMIT {TABLE_ROWS}) ORDER BY 1
    """).fetchall()
    return [str(r[0]) for r in rows]
