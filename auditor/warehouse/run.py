"""`auditor audit --engine`: the audit executed where the data lives, the report written here.

The engine runs every stage of auditor/warehouse/script.py. What comes back: the summary, the
findings, the facts of billed conversations (for evidence), the unjudgeable rows and the
quarantine of billed conversations, and counts. Locally, DuckDB then renders the evidence with
the rule sets' templates and reconciles the billed lines again from those facts (the fast form);
the engine's statuses must equal these, line for line, or the run stops. So findings.csv is the
same byte for byte whatever the engine, and every run checks the two forms agree.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import NamedTuple

import duckdb
import pyarrow as pa

from auditor import billing, engine as local_engine
from auditor.engines import Engine
from auditor.errors import AuditorError, InputError, UsageError
from auditor.pipeline import (
    AuditRequest, Stage as Timer, end_of_observation, judge, request_rulesets, unit_price,
)
from auditor.reconcile import build_findings
from auditor.report.build import ExportFigures, build_report
from auditor.report.model import Report
from auditor.report.write import write_outputs
from auditor.sources import IngestSummary, InputProvenance
from auditor.warehouse import dialects
from auditor.warehouse.script import AuditPlan, Stage, facts_tables, plan_stages
from auditor.warehouse.sources import SourceTables


class EngineError(AuditorError):
    """The engine refused a statement: names the stage and table."""


class WarehouseInput(NamedTuple):
    """Where the data is in the engine (`auditor audit --engine ... --events TABLE`)."""

    events: str
    conversations: str | None = None
    source: str = "canonical"
    prefix: str = "audit_"


def run_stage(target: Engine, stage: Stage) -> None:
    """Execute a stage's statements; an engine's refusal names the stage and the table."""
    for statement in stage.statements:
        sql = dialects.render(statement.select, target.dialect, statement.phrases)
        try:
            if stage.views:
                for text in dialects.create_view(target.dialect, statement.table, sql):
                    target.execute(text)
            else:
                target.create_table(statement.table, sql)
        except Exception as exc:  # each driver has its own error classes
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            raise EngineError(f"the engine refused stage {stage.name} "
                              f"({statement.table}): {first}") from exc


def audit_on_engine(target: Engine, request: AuditRequest, where: WarehouseInput,
                    out_dir: Path | None = None, progress=None) -> Report:  # noqa: ANN001
    """Run the audit in `target`; write the report files into out_dir when given."""
    timer = Timer(progress)
    if request.billed_from_labels:
        raise UsageError("--billed-from-labels is not available with --engine yet",
                         "pass --billed FILE or --billed-count N")
    vendor, contract = request_rulesets(request, [where.source])
    tables = SourceTables(where.events, where.conversations, target.columns(where.events),
                          target.columns(where.conversations) if where.conversations else None)
    p = where.prefix
    plan = AuditPlan(vendor, contract, tables, f"{p}billed", p, where.source, request.period,
                     unit_price(vendor, request), request.as_of)
    stages = {s.name: s for s in plan_stages(plan)}
    for text in dialects.preamble(target.dialect):
        target.execute(text)
    run_stage(target, stages["source"])
    run_stage(target, stages["validation"])
    timer("events validated in the engine")
    if request.sources.on_bad_record == "fail":
        _fail_on_bad_record(target, p)
    ends_at = _observation_end(target, p, request.as_of)
    if ends_at != request.as_of:  # facts measure observation to a fixed time, as locally
        plan = plan._replace(as_of=ends_at)
        stages = {s.name: s for s in plan_stages(plan)}
    con = local_engine.connect()
    try:
        ingest = _ingest(target, where, p)
        run_stage(target, stages["facts"])
        timer("facts computed in the engine")
        vendor_facts, contract_facts = facts_tables(plan)
        ingest = ingest.model_copy(update={"conversations": int(_scalar(  # type: ignore[arg-type]
            target, f"SELECT COUNT(*) AS n FROM {vendor_facts}"))})
        bill = _load_bill(con, target, request, p, vendor_facts)
        run_stage(target, stages["verdicts"])
        run_stage(target, stages["findings"])
        timer("verdicts and findings computed in the engine")
        export = _read_back(con, target, p, vendor_facts, contract_facts)
        judge(con, vendor, contract)
        price = unit_price(vendor, request)
        build_findings(con, request.period, price, contract, vendor)
        _check_same_findings(con)
        report = build_report(con, request, vendor, contract, ingest, bill, price,
                              observed_until=ends_at, export=export)
        report = report.model_copy(update={"notes": [*report.notes, _engine_note(target)]})
        if out_dir is not None:
            write_outputs(con, report, out_dir)
        timer("report written" if out_dir else "report built")
        return report
    finally:
        con.close()


def _engine_note(target: Engine) -> str:
    return (f"Audited in {target.dialect} (auditor audit --engine): events were validated there "
            "as local ingest validates them, except that created_at must be a timestamp column "
            "(text is not parsed there), records are named by event id, and of repeated event "
            "ids the first by time and content is kept; see docs/warehouse.md.")


def _scalar(target: Engine, sql: str) -> object:
    table = target.fetch_arrow(sql)
    return table.column(0)[0].as_py() if table.num_rows else None


def _fail_on_bad_record(target: Engine, p: str) -> None:
    """--on-bad-record fail: the first record that went to quarantine ends the run."""
    rows = target.fetch_arrow(f"SELECT source_file, source_record, field, reason FROM "
                              f"{p}quarantine WHERE NOT redundant").to_pylist()
    if rows:
        first = min(rows, key=lambda r: (r["source_record"], r["field"] or ""))
        raise InputError(first["source_file"], first["reason"], record=first["source_record"],
                         field=first["field"], hint=f"{len(rows):,} bad record(s) in all; without "
                         "--on-bad-record fail they go to quarantine.csv and their conversations "
                         "are unverifiable")


def _observation_end(target: Engine, p: str, as_of: datetime | None) -> datetime | None:
    last = _scalar(target, f"SELECT MAX(created_at) AS last FROM {p}events")
    return end_of_observation(last.replace(tzinfo=None) if isinstance(last, datetime) else None,
                              as_of)


def _ingest(target: Engine, where: WarehouseInput, p: str) -> IngestSummary:
    counts = target.fetch_arrow(
        f"SELECT (SELECT COUNT(*) FROM {p}src_events) AS event_rows, "
        f"(SELECT COUNT(*) FROM {p}src_conversations) AS conversation_rows, "
        f"(SELECT COUNT(*) FROM {p}events) AS events, "
        f"(SELECT COUNT(*) FROM {p}quarantine) AS quarantined, "
        f"(SELECT COUNT(*) FROM {p}unjudgeable) AS unjudgeable, "
        f"(SELECT COUNT(*) FROM {p}conversation_attrs) AS attrs").to_pylist()[0]
    if not counts["events"] and not counts["attrs"]:
        raise InputError(where.events, "no conversations in the tables (every row was "
                         "quarantined or none is a conversation)")
    inputs = [InputProvenance(path=where.events, sha256="", format=where.source,
                              rows=int(counts["event_rows"]))]
    if where.conversations:
        inputs.append(InputProvenance(path=where.conversations, sha256="", format=where.source,
                                      rows=int(counts["conversation_rows"])))
    return IngestSummary(
        records_read=int(counts["event_rows"]) + int(counts["conversation_rows"]),
        events=int(counts["events"]), conversations=None, quarantined=int(counts["quarantined"]),
        inputs=inputs,
        unjudgeable={"quarantined_records": int(counts["unjudgeable"])}
        if counts["unjudgeable"] else {})


def _load_bill(con: duckdb.DuckDBPyConnection, target: Engine, request: AuditRequest, p: str,
               vendor_facts: str) -> billing.BillRead | None:
    """The billed list is read here (as locally) and its units loaded into the engine; the
    list's checks see the export's ids among those the list names."""
    bill = None
    if request.billed_csv is not None:
        _export_ids_named_by(con, target, request.billed_csv, p, vendor_facts)
        options = billing.BillOptions(
            id_column=request.id_column, billed_at_column=request.billed_at_column,
            amount_column=request.amount_column, units_column=request.units_column,
            date_format=request.date_format)
        bill = billing.load_billed_csv(con, request.billed_csv, options, request.display_names,
                                       export_ids="engine_export_ids")
    else:
        billing.empty_billed(con)
    units = con.sql("SELECT line, unit, conversation_id, billed_at, amount FROM billed UNION ALL "
                    "SELECT line, 1, conversation_id, billed_at, amount FROM billed_credits "
                    "ORDER BY line, unit").to_arrow_table()
    target.load_arrow(f"{p}billed", units)
    return bill


def _export_ids_named_by(con: duckdb.DuckDBPyConnection, target: Engine, path: str, p: str,
                         vendor_facts: str) -> None:
    """`engine_export_ids`: the export's conversation ids that appear anywhere in the billed
    list, and a stand-in `events` with the export's first and last event times (the checks
    name the date ranges) and no conversation ids: no transcript is held locally."""
    values = con.sql(f"""
        SELECT DISTINCT trim(CAST(v AS VARCHAR)) AS conversation_id
        FROM (UNPIVOT (SELECT * FROM read_csv({local_engine.sql_string(str(path))},
                                                all_varchar = true, header = true))
              ON COLUMNS(*) INTO NAME k VALUE v)
        WHERE v IS NOT NULL""").to_arrow_table()
    target.load_arrow(f"{p}bill_values", values)
    found = target.fetch_arrow(f"SELECT f.conversation_id FROM {vendor_facts} AS f JOIN "
                               f"{p}bill_values AS b ON b.conversation_id = f.conversation_id")
    con.register("found_ids", found)
    con.execute("CREATE TABLE engine_export_ids AS SELECT CAST(conversation_id AS VARCHAR) "
                "AS conversation_id FROM found_ids")
    con.unregister("found_ids")
    span = target.fetch_arrow(f"SELECT MIN(created_at) AS first_at, MAX(created_at) AS last_at "
                              f"FROM {p}events").to_pylist()[0]
    con.execute("CREATE TABLE events (conversation_id VARCHAR, created_at TIMESTAMP)")
    con.executemany("INSERT INTO events VALUES (NULL, ?)", [[span["first_at"]], [span["last_at"]]])


def _read_back(con: duckdb.DuckDBPyConnection, target: Engine, p: str, vendor_facts: str,
               contract_facts: str) -> ExportFigures:
    """The engine's findings and summary, and the billed conversations' facts, unjudgeable
    rows and quarantine, as local tables."""
    billed = f"(SELECT DISTINCT conversation_id FROM {p}billed)"
    reads = {
        "engine_findings": f"SELECT line, unit, status, reasons, reproduced FROM {p}findings",
        "engine_summary": f"SELECT figure, items, amount FROM {p}summary",
        "vendor_facts": f"SELECT * FROM {vendor_facts} WHERE conversation_id IN {billed}",
        "engine_unjudgeable": f"SELECT * FROM {p}unjudgeable WHERE conversation_id IN {billed}",
        "engine_quarantine": f"SELECT source_file, source_record, conversation_id, field, reason,"
                             f" redundant FROM {p}quarantine",
    }
    if contract_facts != vendor_facts:
        reads["contract_facts"] = (f"SELECT * FROM {contract_facts} WHERE conversation_id IN "
                                   f"{billed}")
    for name, sql in reads.items():
        _local_table(con, name, target.fetch_arrow(sql))
    if contract_facts == vendor_facts:
        con.execute("CREATE VIEW contract_facts AS SELECT * FROM vendor_facts")
    con.execute("INSERT INTO quarantine SELECT * FROM engine_quarantine")
    con.execute("""
        CREATE OR REPLACE TABLE unjudgeable AS
        SELECT conversation_id, string_split(reasons, ';') AS reasons,
            CASE WHEN n_quarantined = 1 THEN '1 record quarantined (' || first_problem || ')'
                 ELSE n_quarantined || ' records quarantined, the first (' || first_problem
                      || ')' END AS evidence
        FROM engine_unjudgeable""")
    figures = dict(((f, int(n)) for f, n, _ in con.execute(
        "SELECT * FROM engine_summary").fetchall()))
    by_reason = sorted(((f.split(".")[-1], n) for f, n in figures.items()
                        if f.startswith("count_only.by_reason.")), key=lambda r: (-r[1], r[0]))
    count = figures.get("reproduction.count", 0)
    return ExportFigures(count, (count, figures.get("count_only.contract_count", 0), by_reason))


def _local_table(con: duckdb.DuckDBPyConnection, name: str, table: pa.Table) -> None:
    con.register("_engine_rows", table)
    try:
        con.execute(f"CREATE OR REPLACE TABLE {name} AS SELECT * FROM _engine_rows")
    finally:
        con.unregister("_engine_rows")


def _check_same_findings(con: duckdb.DuckDBPyConnection) -> None:
    """The engine's statuses, reasons and reproduced equal the local reconciliation's."""
    row = con.execute("""
        SELECT l.line, l.status, e.status, array_to_string(l.reasons, ';'), e.reasons
        FROM findings l FULL JOIN engine_findings e USING (line, unit)
        WHERE l.status IS DISTINCT FROM e.status
           OR array_to_string(l.reasons, ';') IS DISTINCT FROM e.reasons
           OR l.reproduced IS DISTINCT FROM e.reproduced
        ORDER BY 1 LIMIT 1""").fetchall()
    if row:
        line, local, remote, local_reasons, remote_reasons = row[0]
        raise EngineError(f"the engine and the local check disagree on billed line {line}: "
                          f"{remote} ({remote_reasons}) in the engine, {local} ({local_reasons}) "
                          "here; please report it with the engine and its version")
