"""Write the report files. Same inputs give byte-identical files: no clocks, fixed ordering."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb

from auditor.engine import QUARANTINE_COLUMNS, QUARANTINE_SORT_KEY, sql_string
from auditor.errors import UsageError
from auditor.report.markdown import render_markdown
from auditor.report.model import Report
from auditor.schema import column_names

FINDINGS_COLUMNS = """
    line, unit, conversation_id, strftime(billed_at, '%Y-%m-%dT%H:%M:%SZ') AS billed_at,
    CAST(amount AS DECIMAL(18, 2)) AS amount, status, array_to_string(reasons, ';') AS reasons,
    reproduced, evidence
"""

QUARANTINE_QUERY = (f"SELECT {', '.join(column_names(QUARANTINE_COLUMNS))} FROM quarantine "
                    f"ORDER BY {QUARANTINE_SORT_KEY}")


def write_outputs(con: duckdb.DuckDBPyConnection, report: Report, out_dir: Path,
                  evidence_href: str | None = None) -> None:
    """report.json, report.md, report.html, findings.csv, findings.parquet and quarantine.csv
    in out_dir; report.html links disputed lines to the evidence pack at evidence_href."""
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"cannot create output directory {out_dir}: {exc.strerror}") from exc
    (out_dir / "report.json").write_text(report_json(report), encoding="utf-8")
    findings = f"SELECT {FINDINGS_COLUMNS} FROM findings ORDER BY line, unit"
    copy_table(con, findings, out_dir / "findings.csv")
    copy_table(con, findings, out_dir / "findings.parquet")
    copy_table(con, QUARANTINE_QUERY, out_dir / "quarantine.csv")
    (out_dir / "report.md").write_text(render_markdown(con, report), encoding="utf-8")
    from auditor.report.html import render_html  # matplotlib loads only when a page is written

    (out_dir / "report.html").write_text(render_html(con, report, evidence_href),
                                         encoding="utf-8")


def report_json(report: Report) -> str:
    exclude: dict = {"month_cost": True} if report.month_cost is None else {}
    if not report.provenance.pulls:
        exclude["provenance"] = {"pulls": True}
    return json.dumps(report.model_dump(mode="json", exclude=exclude or None), indent=2,
                      sort_keys=False) + "\n"


def copy_table(con: duckdb.DuckDBPyConnection, query: str, path: Path) -> None:
    """COPY a query to CSV, Parquet or JSONL, chosen by the file suffix."""
    options = {
        ".csv": "FORMAT csv, HEADER true",
        ".parquet": "FORMAT parquet, COMPRESSION zstd",
        ".jsonl": "FORMAT json",
        ".json": "FORMAT json",
    }.get(path.suffix.lower())
    if options is None:
        raise UsageError(f"cannot write {path}: use a .parquet, .csv or .jsonl file name")
    try:
        con.execute(f"COPY ({query}) TO {sql_string(str(path))} ({options})")
    except duckdb.IOException as exc:
        raise UsageError(f"cannot write {path}",
                         "does its folder exist, and may you write there?") from exc
