"""Write price.json, price.md and price.csv. Same inputs give byte-identical files."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb

from auditor.errors import UsageError
from auditor.pricing.plan import Plan, PerToken
from auditor.pricing.render import render_markdown
from auditor.pricing.report import PriceReport
from auditor.pricing.sql import csv_query
from auditor.report.write import copy_table

FILES = ("price.md", "price.json", "price.csv")


def write_outputs(con: duckdb.DuckDBPyConnection, report: PriceReport, plans: list[Plan],
                  out_dir: Path) -> None:
    """price.csv's plan columns follow the order the plans were given in (plan numbers)."""
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"cannot create output directory {out_dir}: {exc.strerror}") from exc
    (out_dir / "price.json").write_text(
        json.dumps(report.model_dump(mode="json"), indent=2) + "\n", encoding="utf-8")
    (out_dir / "price.md").write_text(render_markdown(report), encoding="utf-8")
    columns = [(n, p.id, isinstance(p.metered_charge(), PerToken)) for n, p in enumerate(plans)]
    copy_table(con, csv_query(columns), out_dir / "price.csv")
