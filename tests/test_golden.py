"""The sample month, audited as `auditor demo` does it: golden report files, and the verdict on
every billed line checked against the generator's ground truth.

After a deliberate change: AUDITOR_UPDATE_GOLDEN=1 pytest tests/test_golden.py, then review
the diff of tests/golden/.
"""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path

import pytest

from auditor.demo import demo_request
from auditor.pipeline import audit
from tests.conftest import REPO

GOLDEN = REPO / "tests" / "golden"
SCENARIOS = REPO / "sample_data" / "scenarios_2026-10.csv"

# scenario -> (status, reasons that must be among the line's reasons) for first billed lines
EXPECTED = {
    "ai_assumed": ("confirmed", set()),
    "ai_confirmed": ("confirmed", set()),
    "note_only": ("confirmed", set()),
    "human_takeover_fin_close": ("disputed", {"human_takeover", "handoff_requested"}),
    "repeat_contact_first": ("disputed", {"repeat_contact"}),
    "negative_rating": ("disputed", {"negative_feedback"}),
    "reopened_billed": ("disputed", {"reopened"}),
    "preview_billed": ("disputed", {"preview"}),
    "outbound_fin_billed": ("disputed", {"no_customer_message"}),
    "prior_period": ("disputed", {"outside_period"}),
}


@pytest.fixture(scope="module")
def demo_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("demo")
    audit(demo_request(), out)
    return out


@pytest.mark.parametrize("name", ["report.json", "report.md"])
def test_golden_report(demo_out: Path, name: str) -> None:
    golden = GOLDEN / f"sample_month.{name}"
    actual = (demo_out / name).read_text()
    if os.environ.get("AUDITOR_UPDATE_GOLDEN"):
        golden.write_text(actual)
    assert actual == golden.read_text()


def test_every_billed_line_matches_the_ground_truth(demo_out: Path) -> None:
    with open(SCENARIOS, newline="") as handle:
        scenario = {r["conversation_id"]: r["scenario"] for r in csv.DictReader(handle)}
    with open(demo_out / "findings.csv", newline="") as handle:
        findings = list(csv.DictReader(handle))
    seen: set[str] = set()
    for row in findings:
        cid, reasons = row["conversation_id"], set(filter(None, row["reasons"].split(";")))
        if cid in seen:
            assert (row["status"], reasons) == ("disputed", {"duplicate_billing"}), row
        elif cid not in scenario:
            assert (row["status"], reasons) == ("unverifiable", {"not_in_export"}), row
        else:
            status, required = EXPECTED[scenario[cid]]
            assert row["status"] == status and required <= reasons, (scenario[cid], row)
        seen.add(cid)
    assert len(findings) == 1821


def test_report_figures_are_sums_of_the_findings(demo_out: Path) -> None:
    """report.json's statuses, reasons and reproduction, recomputed from findings.parquet."""
    import duckdb

    report = json.loads((demo_out / "report.json").read_text())
    findings = f"read_parquet('{demo_out / 'findings.parquet'}')"
    rows = duckdb.sql(f"SELECT status, count(*), sum(amount) FROM {findings} GROUP BY 1").fetchall()
    for status, items, amount in rows:
        assert (report[status]["items"], report[status]["amount"]) == (items, float(amount))
    (matched, not_reproduced, undetermined), = duckdb.sql(
        f"SELECT count(*) FILTER (reproduced), count(*) FILTER (NOT reproduced), "
        f"count(*) FILTER (reproduced IS NULL) FROM {findings}").fetchall()
    r = report["reproduction"]
    assert (r["matched"], r["billed_not_reproduced"], r["billed_undetermined"]) == \
        (matched, not_reproduced, undetermined)
    assert r["matched"] + r["reproduced_not_billed"] == r["count"]
    primary = dict(duckdb.sql(f"SELECT split_part(reasons, ';', 1), count(*) FROM {findings} "
                              "WHERE status = 'disputed' GROUP BY 1").fetchall())
    assert report["disputed"]["by_primary_reason"] == primary
