"""Evidence says only what was observed: confirmed lines near the export's end, and --as-of."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import run_cli, write_csv
from tests.intercom_builder import conversation, write_jsonl

ASK = (0, "customer", "comment", "Where is my refund?")
ANSWER = (1, "fin", "comment", "Refunds take 5 days; yours was sent on Monday.")
SHORT = "no repeat contact in the 14.6 hours observed, of 72"
WHOLE = "no repeat contact within 72 hours"


@pytest.fixture
def export(tmp_path: Path) -> Path:
    return write_jsonl(tmp_path / "export.jsonl", [
        conversation("early", [ASK, ANSWER]),
        # Fin answers 2026-10-30 10:01; the export's last event is 14.6 hours later (00:37).
        conversation("late", [ASK, ANSWER], customer="9", day=29, state=None),
        conversation("last", [(876, "customer", "comment", "Hi"), (877, "fin", "comment", "Hello!")],
                     customer="8", day=29),
    ])


@pytest.fixture
def bill(tmp_path: Path) -> str:
    return str(write_csv(tmp_path / "bill.csv", ["conversation_id"], [["early"], ["late"]]))


def _audit(export: Path, bill: str, out: Path, *extra: str) -> tuple[dict, dict[str, str], str]:
    result = run_cli(["audit", str(export), "--billed", bill, "--out", str(out), *extra])
    assert result.exit_code == 0, result.output
    report = json.loads((out / "report.json").read_text())
    findings = {line.split(",", 3)[2]: line for line in
                (out / "findings.csv").read_text().splitlines()[1:]}
    return report, findings, result.output


def test_a_line_observed_for_less_than_the_window_says_so_and_is_counted(
        tmp_path: Path, export: Path, bill: str) -> None:
    report, findings, output = _audit(export, bill, tmp_path / "out")
    assert SHORT in findings["late"] and WHOLE in findings["early"]
    assert report["confirmed"]["items"] == 2
    assert report["observation"] == {
        "ends_at": "2026-10-31T00:37:00Z", "source": "export", "window_hours": 72.0,
        "confirmed_short_observed": {"items": 1, "amount": 0.99}}
    sentence = "1 confirmed line ($0.99) was observed for less than the 72 hours the contract asks"
    assert sentence in output
    markdown = (tmp_path / "out" / "report.md").read_text()
    assert f"> Note: {sentence}" in markdown
    assert "observed until 2026-10-31T00:37:00Z (the export's last event)" in markdown


def test_as_of_sets_the_end_of_observation_and_is_recorded(
        tmp_path: Path, export: Path, bill: str) -> None:
    # 2026-11-03T12:02+02:00 is 10:02 UTC: 96 hours after Fin's last answer in "late".
    report, findings, output = _audit(export, bill, tmp_path / "out",
                                      "--as-of", "2026-11-03T12:02:00+02:00")
    assert WHOLE in findings["late"]
    assert report["observation"]["confirmed_short_observed"] == {"items": 0, "amount": 0.0}
    assert (report["observation"]["ends_at"], report["observation"]["source"]) == \
        ("2026-11-03T10:02:00Z", "as_of")
    assert report["reproduction"]["matched"] == 2  # Intercom's 24-hour wait is over for "late"
    assert "--as-of: observation ends 2026-11-03T10:02:00Z" in output
    assert "(--as-of)" in (tmp_path / "out" / "report.md").read_text()


def test_without_as_of_the_vendor_still_waits(tmp_path: Path, export: Path, bill: str) -> None:
    report, _, _ = _audit(export, bill, tmp_path / "out")
    assert report["reproduction"]["matched"] == 1  # "late" is pending for intercom-fin


@pytest.mark.parametrize("as_of, expected", [
    ("2026-10-31T00:36:59Z", "--as-of 2026-10-31 00:36:59 UTC is before the export's last event "
                             "(2026-10-31 00:37:00 UTC) (give 2026-10-31 00:37:00 UTC or later, "
                             "or leave --as-of out)"),
    ("yesterday", "--as-of 'yesterday' is not a time (for example 2026-11-01T00:00:00Z"),
    ("9999-01-01", "--as-of '9999-01-01' is outside the years 1970-2199"),
])
@pytest.mark.parametrize("command", [["audit", "--billed-count", "1"], ["compare"]])
def test_a_bad_as_of_is_a_one_line_usage_error(export: Path, command: list[str], as_of: str,
                                                expected: str) -> None:
    result = run_cli([command[0], str(export), *command[1:], "--as-of", as_of])
    message = result.stderr.strip()
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert message.startswith("Error: ") and "\n" not in message and expected in message


def _compare(export: Path, out: Path, *extra: str) -> dict:
    result = run_cli(["compare", str(export), "--rulesets", "intercom-fin,strict", "--out",
                      str(out), *extra])
    assert result.exit_code == 0, result.output
    return json.loads((out / "compare.json").read_text())


def test_compare_uses_and_records_the_end_of_observation(tmp_path: Path, export: Path) -> None:
    as_of = _compare(export, tmp_path / "as_of", "--as-of", "2026-11-03")
    export_end = _compare(export, tmp_path / "export_end")
    assert as_of["observation"] == {"ends_at": "2026-11-03T00:00:00Z", "source": "as_of"}
    assert export_end["observation"] == {"ends_at": "2026-10-31T00:37:00Z", "source": "export"}
    # Intercom's 24-hour wait: "late" and "last" are pending at the export's end, not by Nov 3.
    assert [r["conversations"] for r in as_of["rulesets"]] == [3, 3]
    assert [r["conversations"] for r in export_end["rulesets"]] == [1, 3]
    markdown = (tmp_path / "as_of" / "compare.md").read_text()
    assert "observed until 2026-11-03T00:00:00Z (--as-of)" in markdown
