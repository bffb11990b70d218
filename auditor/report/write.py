"""Write the report files. Same inputs give byte-identical files: no clocks, fixed ordering."""

from __future__ import annotations

import importlib
import json
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import duckdb

from auditor.engine import QUARANTINE_COLUMNS, QUARANTINE_SORT_KEY, sql_string, thread_cursor
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
    # The tables are written by DuckDB on a cursor of its own while this thread renders the
    # pages (Python: charts and templates); DuckDB releases the GIL, so the two overlap.
    with ThreadPoolExecutor(max_workers=1) as writer:
        tables = writer.submit(_copy_tables, thread_cursor(con), out_dir)
        (out_dir / "report.md").write_text(render_markdown(con, report), encoding="utf-8")
        from auditor.report.html import render_html  # matplotlib loads only for a page

        (out_dir / "report.html").write_text(render_html(con, report, evidence_href),
                                             encoding="utf-8")
        tables.result()


def _copy_tables(cursor: duckdb.DuckDBPyConnection, out_dir: Path) -> None:
    try:
        parquet = out_dir / "findings.parquet"
        copy_table(cursor, f"SELECT {FINDINGS_COLUMNS} FROM findings ORDER BY line, unit",
                   parquet)
        # The CSV is the Parquet file's rows, read back in file order (the connection
        # preserves insertion order): sorted and formatted once, not twice.
        copy_table(cursor, f"SELECT * FROM read_parquet({sql_string(str(parquet))})",
                   out_dir / "findings.csv")
        copy_table(cursor, QUARANTINE_QUERY, out_dir / "quarantine.csv")
    finally:
        cursor.close()


def preload_page_renderer() -> None:
    """Import the charting library (about a second) in the background while DuckDB reads the
    export, so report.html does not wait for it. An import error is left for the real import
    in write_outputs to report."""
    def load() -> None:
        try:
            importlib.import_module("auditor.report.charts")
        except Exception:  # noqa: BLE001 (write_outputs imports it again and says why)
            pass

    threading.Thread(target=load, name="preload-charts", daemon=True).start()


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
