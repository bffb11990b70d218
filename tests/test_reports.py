"""report.html for every kind of bill, `auditor trend` month over month, and the demo's files."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from auditor.report import html as report_html
from tests.conftest import REPO, run_cli, write_csv
from tests.intercom_builder import conversation, write_jsonl

ASK = (0, "customer", "comment", "Where is my refund?")
ANSWER = (1, "fin", "comment", "Refunds take 5 days; yours was sent on Monday.")
TAKEOVER = [ASK, ANSWER, (5, "agent", "comment", "I pushed it through manually."),
            (20, "fin", "comment", "Is there anything else I can help with?")]
GOLDEN = REPO / "tests" / "golden" / "sample_month.report.json"


@pytest.fixture
def export(tmp_path: Path) -> Path:
    return write_jsonl(tmp_path / "export.jsonl", [
        conversation(f"c{n}", TAKEOVER if n % 2 else [ASK, ANSWER], customer=str(n), day=n)
        for n in range(8)])


def _page(tmp_path: Path, export: Path, *bill: str) -> str:
    result = run_cli(["audit", str(export), *bill, "--out", str(tmp_path / "out")])
    assert result.exit_code in (0, 1), result.output
    return (tmp_path / "out" / "report.html").read_text()


def test_a_list_bill_page_is_self_contained(tmp_path: Path, export: Path) -> None:
    bill = write_csv(tmp_path / "bill.csv", ["conversation_id", "billed_at"],
                     [[f"c{n}", f"2026-10-{n + 2:02d}T12:00:00Z"] for n in range(8)])
    page = _page(tmp_path, export, "--billed", str(bill))
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page)  # nothing to fetch
    assert "@import" not in page and "url(http" not in page
    assert page.count('<svg role="img"') == 3 and "Reasons overlap" in page
    assert len(re.findall(r'<tr data-status="', page)) == 8


def test_count_only_and_label_bills_get_a_page_without_per_day_view(
        tmp_path: Path, export: Path) -> None:
    page = _page(tmp_path, export, "--billed-count", "8", "--unit-price", "0.99")
    assert "Count-only invoice" in page and "no billing times" in page
    labels = _page(tmp_path / "labels", export, "--billed-from-labels")
    assert 'data-chart="breakdown"' in labels


def test_large_bills_show_the_first_lines_and_point_to_the_csv(
        tmp_path: Path, export: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(report_html, "TABLE_ROWS", 5)
    bill = write_csv(tmp_path / "bill.csv", ["conversation_id"], [[f"c{n}"] for n in range(8)])
    page = _page(tmp_path, export, "--billed", str(bill))
    assert len(re.findall(r'<tr data-status="', page)) == 5
    assert "This bill has 8 lines; the table shows the first 5" in page
    assert "findings.csv" in page


# --- auditor trend ----------------------------------------------------------------------------

def _month(folder: Path, period: str, disputed: int, not_reproduced: int = 100) -> Path:
    """A report.json like the sample month's, with another period and dispute count."""
    report = json.loads(GOLDEN.read_text())
    report["period"] = period
    report["disputed"]["items"] = disputed
    report["confirmed"]["items"] = report["billed"]["items"] - disputed
    report["reproduction"]["billed_not_reproduced"] = not_reproduced
    folder.mkdir(parents=True)
    (folder / "report.json").write_text(json.dumps(report))
    return folder


@pytest.fixture
def months(tmp_path: Path) -> list[Path]:
    return [_month(tmp_path / "oct", "2026-10-01..2026-10-31", 582),
            _month(tmp_path / "nov", "2026-11-01..2026-11-30", 600),
            _month(tmp_path / "dec", "2026-12-01..2026-12-31", 820)]


def test_trend_flags_the_month_whose_dispute_rate_jumps(tmp_path: Path,
                                                        months: list[Path]) -> None:
    result = run_cli(["trend", *map(str, reversed(months)), "--out", str(tmp_path / "t")])
    assert result.exit_code == 1, result.output
    flagged = [line for line in result.output.splitlines() if "FLAG" in line]
    assert len(flagged) == 1 and flagged[0].startswith("2026-12")
    assert "33.0% -> 45.0% (+12.1 points)" in flagged[0]  # 600 and 820 of 1,821
    data = json.loads((tmp_path / "t" / "trend.json").read_text())
    assert [m["period"][:7] for m in data["months"]] == ["2026-10", "2026-11", "2026-12"]
    assert data["flagged"] and [bool(m["flags"]) for m in data["months"]] == [False, False, True]
    assert "| `human_takeover` |" in (tmp_path / "t" / "trend.md").read_text()
    page = (tmp_path / "t" / "trend.html").read_text()
    assert page.count('<svg role="img"') == 2 and 'role="alert"' in page


def test_trend_exits_0_when_nothing_moves_past_the_threshold(months: list[Path]) -> None:
    assert run_cli(["trend", *map(str, months), "--alert-points", "15"]).exit_code == 0
    assert run_cli(["trend", str(months[0]), str(months[1])]).exit_code == 0


def test_trend_flags_a_reproduction_gap_move(tmp_path: Path) -> None:
    a = _month(tmp_path / "a", "2026-10-01..2026-10-31", 582, not_reproduced=50)
    b = _month(tmp_path / "b", "2026-11-01..2026-11-30", 582, not_reproduced=300)
    result = run_cli(["trend", str(a), str(b)])
    assert result.exit_code == 1 and "reproduction gap 2.8% -> 16.5%" in result.output


@pytest.mark.parametrize("problem", ["one", "missing", "same_period", "not_a_report"])
def test_trend_input_problems_are_one_line_errors(tmp_path: Path, months: list[Path],
                                                  problem: str) -> None:
    args = {"one": [months[0]], "missing": [months[0], tmp_path / "nowhere"],
            "same_period": [months[0], shutil.copytree(months[0], tmp_path / "copy")],
            "not_a_report": [months[0], tmp_path / "bad"]}[problem]
    if problem == "not_a_report":
        (tmp_path / "bad").mkdir()
        (tmp_path / "bad" / "report.json").write_text('{"period": 3}')
    result = run_cli(["trend", *map(str, args)])
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: ") and result.stderr.count("\n") == 1


# --- auditor demo -----------------------------------------------------------------------------

def test_demo_writes_the_page_the_pack_and_with_trend_three_months(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    result = run_cli(["demo", "--out", str(out), "--trend"])
    assert result.exit_code == 0, result.output
    assert (out / "report.html").is_file() and (out / "evidence.zip").is_file()
    assert (out / "evidence" / "dispute-letter.md").is_file()
    assert len(list((out / "evidence" / "conversations").glob("*.html"))) > 500
    trend = json.loads((out / "trend" / "trend.json").read_text())
    assert [bool(m["flags"]) for m in trend["months"]] == [False, False, True]
    assert "dispute rate" in trend["months"][2]["flags"][0]
