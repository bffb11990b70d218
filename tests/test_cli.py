"""The CLI as an ops analyst meets it: exit codes, one-line errors, never a traceback."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from tests.conftest import REPO, run_cli, write_csv
from tests.intercom_builder import conversation, write_jsonl

ASK = (0, "customer", "comment", "Where is my refund?")
ANSWER = (1, "fin", "comment", "Refunds take 5 days; yours was sent on Monday.")
TAKEOVER = [ASK, ANSWER, (5, "agent", "comment", "I pushed it through manually."),
            (20, "fin", "comment", "Is there anything else I can help with?")]


@pytest.fixture
def export(tmp_path: Path) -> Path:
    return write_jsonl(tmp_path / "export.jsonl", [
        conversation("good", [ASK, ANSWER]),
        conversation("takeover", TAKEOVER),
        conversation("escalated", [ASK, ANSWER, (2, "customer", "comment", "human please"),
                                   (3, "fin", "assignment", "")], state="escalated"),
        # the export runs to the month's end, past Fin's 24 h wait for the conversations above
        conversation("late", [ASK, ANSWER], customer="9", day=29, state=None),
    ])


def _bill(tmp_path: Path, header: list[str], rows: list[list[str]]) -> str:
    return str(write_csv(tmp_path / "bill.csv", header, rows))


def _error(args: list[str]) -> str:
    result = run_cli(args)
    assert result.exit_code == 2, result.output
    message = result.stderr.strip()
    assert message.startswith("Error: ") and "\n" not in message and "Traceback" not in result.output
    return message


def test_clean_bill_exits_0_and_disputes_exit_1(tmp_path: Path, export: Path) -> None:
    clean = run_cli(["audit", str(export), "--billed", _bill(tmp_path, ["conversation_id"], [["good"]])])
    assert clean.exit_code == 0 and "disputed" in clean.output
    disputed = run_cli(["audit", str(export), "--billed",
                        _bill(tmp_path, ["conversation_id"], [["good"], ["takeover"]])])
    assert disputed.exit_code == 1 and "human_takeover" in disputed.output


def test_id_column_maps_another_header(tmp_path: Path, export: Path) -> None:
    bill = _bill(tmp_path, ["Conv #", "Amount"], [["good", "0.99"]])
    message = _error(["audit", str(export), "--billed", bill])
    assert "bill.csv" in message and "columns found: Conv #, Amount" in message
    assert "--id-column" in message
    assert run_cli(["audit", str(export), "--billed", bill, "--id-column", "Conv #"]).exit_code == 0


def test_billed_from_labels_uses_the_vendor_labels(tmp_path: Path, export: Path) -> None:
    out = tmp_path / "out"
    result = run_cli(["audit", str(export), "--billed-from-labels", "--out", str(out)])
    report = json.loads((out / "report.json").read_text())
    assert report["billed"]["source"] == "labels"
    assert report["billed"]["items"] == 2  # escalated is not a billed label
    assert report["disputed"]["by_reason"] == {"human_takeover": 1}
    assert result.exit_code == 1


def test_count_only_invoice_estimates_overbilling_by_reason(tmp_path: Path, export: Path) -> None:
    out = tmp_path / "out"
    result = run_cli(["audit", str(export), "--billed-count", "5", "--out", str(out)])
    count = json.loads((out / "report.json").read_text())["count_only"]
    assert (count["billed_count"], count["vendor_count"], count["contract_count"]) == (5, 2, 1)
    assert count["overbilled_items"] == 4 and count["overbilled_amount"] == round(4 * 0.99, 2)
    assert count["by_reason"] == {"human_takeover": 1, "not_reproduced": 3}
    assert "over-billing" in result.output


def test_ingest_writes_the_canonical_log(tmp_path: Path, export: Path) -> None:
    out = tmp_path / "events.parquet"
    result = run_cli(["ingest", str(export), "--out", str(out)])
    assert result.exit_code == 0
    roles = duckdb.execute(f"SELECT list(DISTINCT actor_role ORDER BY actor_role) FROM '{out}'").fetchall()[0][0]
    assert roles == ["ai_agent", "customer", "human_agent"]
    assert (tmp_path / "events.conversations.parquet").exists()


@pytest.mark.parametrize("args, expected", [
    ([], "exactly one of --billed FILE, --billed-from-labels or --billed-count N"),
    (["--billed-count", "3", "--billed-from-labels"], "exactly one of"),
    (["--billed-count", "3", "--period", "2026-10-31..2026-10-01"], "ends before it starts"),
    (["--billed-count", "3", "--period", "October"], "is not START..END"),
    (["--billed-count", "3", "--vendor", "intercom-fn"], "did you mean 'intercom-fin'"),
    (["--billed-count", "3", "--contract", "strikt"], "did you mean 'strict'"),
    (["--billed-count", "3", "--period", "2026-10-01..9999-12-31"], "outside the years 1970-2199"),
    (["--billed-count", "3", "--vendor", "gorgias-ai-agent", "--unit-price", "inf"],
     "'inf' is not a price from 0 to 1,000,000"),
])
def test_usage_errors_are_one_line(export: Path, args: list[str], expected: str) -> None:
    assert expected in _error(["audit", str(export), *args])


def test_bad_billed_lines_name_file_line_and_field(tmp_path: Path, export: Path) -> None:
    bill = _bill(tmp_path, ["conversation_id", "billed_at"], [["good", "2026-10-02"], ["good", "next tuesday"]])
    assert _error(["audit", str(export), "--billed", bill]).endswith(
        "bill.csv, line 3, field 'billed_at': cannot parse 'next tuesday' as a timestamp " \
        "(ISO 8601 or epoch seconds)")


@pytest.mark.parametrize("content, expected", [
    # no line is valid JSON (one bad line among good ones is quarantined: test_intercom_robust)
    ('{"type": "conversation", "id": \n{"type": "conv\n', "line 1"),
    ("", "export.jsonl"),
])
def test_broken_exports_are_input_errors(tmp_path: Path, content: str, expected: str) -> None:
    path = tmp_path / "export.jsonl"
    path.write_text(content)
    assert expected in _error(["audit", str(path), "--format", "intercom", "--billed-count", "1"])


@pytest.mark.parametrize("header, row, expected", [
    (["conversation_id", "amount"], ["good", "1.50 dollars"],
     "line 2, field 'amount': cannot parse '1.50 dollars' as an amount such as 0.99"),
    (["conversation_id", "units", "quantity"], ["good", "1", "3"],
     "has 2 columns that could be the units: 'units', 'quantity' (pick one with --units-column"),
])
def test_bill_problems_are_one_line(tmp_path: Path, export: Path, header: list[str],
                                    row: list[str], expected: str) -> None:
    assert expected in _error(["audit", str(export), "--billed", _bill(tmp_path, header, [row])])


def test_a_ragged_row_deep_in_a_bill_names_its_line(tmp_path: Path, export: Path) -> None:
    rows = [["good", "0.99"]] * 30_000 + [["good", "0.99", "extra"]]
    message = _error(["audit", str(export), "--billed",
                      _bill(tmp_path, ["conversation_id", "amount"], rows)])
    assert "bill.csv, line 30002: cannot be read as CSV" in message


def test_a_folder_is_not_a_bill(tmp_path: Path, export: Path) -> None:
    assert "is a folder" in _error(["audit", str(export), "--billed", str(tmp_path)])


def test_labels_of_another_vendor_name_the_rule_set_that_bills_them(
        tmp_path: Path, export: Path) -> None:
    message = _error(["audit", str(export), "--billed-from-labels", "--vendor", "zendesk-ai-agents"])
    assert "no conversation carries a label 'zendesk-ai-agents' bills" in message
    assert "did you mean --vendor intercom-fin" in message


def test_an_expression_failing_on_the_data_names_the_rule_set(tmp_path: Path, export: Path) -> None:
    ruleset = tmp_path / "ratio.toml"
    ruleset.write_text((REPO / "rules" / "strict.toml").read_text().replace(
        'kind = "contract"', 'kind = "contract"\nunits = "n_ai_messages // n_human_messages"'))
    message = _error(["audit", str(export), "--billed-count", "1", "--contract", str(ruleset)])
    assert "ratio.toml: an expression failed on the data: Division by zero" in message


def test_ingest_into_a_missing_folder(tmp_path: Path, export: Path) -> None:
    assert "cannot write" in _error(["ingest", str(export), "--out",
                                     str(tmp_path / "nowhere" / "events.csv")])


def test_missing_export_and_unknown_command() -> None:
    assert "no such file" in _error(["audit", "nowhere.jsonl", "--billed-count", "1"])
    result = run_cli(["audti"])
    assert result.exit_code == 2 and "Did you mean 'audit'" in result.output


def test_a_bug_is_still_one_line_and_exit_2(tmp_path: Path, export: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import auditor.pipeline

    def broken(*_: object) -> None:
        raise RuntimeError("something the developers got wrong\nsecond line")

    monkeypatch.setattr(auditor.pipeline, "build_findings", broken)
    message = _error(["audit", str(export), "--billed-count", "1"])
    assert "internal error (RuntimeError: something the developers got wrong)" in message


def test_too_little_memory_is_one_line_naming_the_limit(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """DuckDB's out-of-memory error is not blamed on the export (it failed while reading it)."""
    monkeypatch.setenv("AUDITOR_MEMORY_LIMIT", "5MB")
    result = run_cli([
        "audit", str(REPO / "sample_data" / "intercom_2026-10.jsonl.gz"), "--billed",
        str(REPO / "sample_data" / "billed_2026-10.csv"), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert result.output.startswith("Error: out of memory: the audit needed more than DuckDB's "
                                    "memory limit (5MB)")
    assert "AUDITOR_MEMORY_LIMIT=4GB" in result.output and "cannot be read" not in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_each_command_is_where_the_cli_imports_it_from() -> None:
    """A command's module is imported when the command is used (auditor.cli.COMMAND_MODULES):
    the map names every command and the module defining it, and an audit loads no HTTP client."""
    import importlib
    import subprocess
    import sys

    from auditor.cli import COMMAND_MODULES, cli

    modules = {m: importlib.import_module(f"auditor.cli.{m}") for m in COMMAND_MODULES.values()}
    assert set(cli.commands) == set(COMMAND_MODULES)
    for name, command in cli.commands.items():
        assert command in vars(modules[COMMAND_MODULES[name]]).values(), name
    loaded = subprocess.run(
        [sys.executable, "-c", "import sys; from auditor.cli import cli; "
         "cli.get_command(None, 'audit'); print(sorted(m for m in sys.modules "
         "if m.startswith(('auditor.cli.', 'httpx'))))"],
        capture_output=True, text=True, check=True).stdout
    assert loaded.strip() == ("['auditor.cli.audit', 'auditor.cli.options', 'auditor.cli.render', "
                              "'auditor.cli.warehouse']")
