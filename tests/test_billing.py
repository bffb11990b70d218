"""The billed list as people really save it: spreadsheets, other headers, totals, credits, dates.

A small canonical export of four conversations the AI resolved (15-digit ids, like Intercom's),
and bills written here in the shapes vendors and spreadsheets produce, audited through the CLI.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from click.testing import Result

from tests.conftest import REPO, run_cli, write_csv, write_events

C, AI, H = "customer", "ai_agent", "human_agent"
IDS = ["215470000000011", "215470000000012", "215470000000013", "215470000000014"]
EVENTS = [row for n, cid in enumerate(IDS) for row in (
    [cid, f"2026-10-0{n + 2}T10:00:00Z", C, f"u{n}", "message", "Where is my refund?"],
    [cid, f"2026-10-0{n + 2}T10:01:00Z", AI, "fin", "message", "It was sent on Monday."],
)] + [
    # late enough that the 24-hour wait has passed for the conversations above
    ["215470000000099", "2026-10-20T10:00:00Z", C, "u9", "message", "Cancel my order"],
    ["215470000000099", "2026-10-20T10:05:00Z", H, "a1", "message", "Done."],
]
PERIOD = "2026-10-01..2026-10-31"
SAMPLE_EXPORT = REPO / "sample_data" / "intercom_2026-10.jsonl.gz"
SAMPLE_BILL = REPO / "sample_data" / "billed_2026-10.csv"


@pytest.fixture(scope="module")
def export(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_events(tmp_path_factory.mktemp("billing") / "events.csv", EVENTS)


def _audit(tmp_path: Path, export: Path, header: list[str], rows: list[list[str]],
           *options: str) -> tuple[Result, Path]:
    bill = write_csv(tmp_path / "bill.csv", header, rows)
    out = tmp_path / "out"
    result = run_cli(["audit", str(export), "--format", "canonical", "--billed", str(bill),
                      "--period", PERIOD, "--out", str(out), *options])
    assert result.exit_code in (0, 1), result.output
    return result, out


def _report(out: Path) -> dict:
    return json.loads((out / "report.json").read_text())


def _findings(out: Path) -> list[dict[str, str]]:
    with open(out / "findings.csv", newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _error(tmp_path: Path, export: Path, header: list[str], rows: list[list[str]],
           *options: str) -> str:
    bill = write_csv(tmp_path / "bill.csv", header, rows)
    result = run_cli(["audit", str(export), "--format", "canonical", "--billed", str(bill),
                      "--period", PERIOD, *options])
    assert result.exit_code == 2, result.output
    message = result.stderr.strip()
    assert message.startswith("Error: ") and "\n" not in message
    return message


# --- ids a spreadsheet rewrote ------------------------------------------------------------

@pytest.mark.parametrize("ids, expected", [
    (["2.1547E+14", "2.1547E+14", "2.1547E+14"],
     "column 'conversation_id' holds 3 values like 2.1547E+14 (first on line 2): the file was "
     "saved by a spreadsheet that rounded the ids (export the ids as text"),
    (["2,1547E+14"] * 3, "holds 3 values like 2,1547E+14 (first on line 2): the file was saved "
                         "by a spreadsheet that rounded the ids"),
    ([i + ".0" for i in IDS[:3]],
     "column 'conversation_id' holds 3 values like 215470000000011.0 (first on line 2): the "
     "file was saved by a spreadsheet that turned the ids into numbers (export the ids as text"),
])
def test_ids_a_spreadsheet_rewrote_are_refused(tmp_path: Path, export: Path, ids: list[str],
                                               expected: str) -> None:
    assert expected in _error(tmp_path, export, ["conversation_id"], [[i] for i in ids])


def test_ids_shaped_like_numbers_are_fine_when_the_export_has_them(tmp_path: Path) -> None:
    events = write_events(tmp_path / "events.csv", [
        [cid, f"2026-10-0{n + 2}T10:0{m}:00Z", role, f"u{n}", "message", "hi"]
        for n, cid in enumerate(["7.0", "8.0"]) for m, role in enumerate([C, AI])
    ] + [["9.0", "2026-10-20T10:00:00Z", C, "u9", "message", "late"]])
    result, out = _audit(tmp_path, events, ["conversation_id"], [["7.0"], ["8.0"]])
    assert _report(out)["confirmed"]["items"] == 2, result.output


def test_the_sample_bill_saved_by_excel_is_refused_not_audited(tmp_path: Path) -> None:
    with open(SAMPLE_BILL, newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))[1:]
    bill = write_csv(tmp_path / "excel.csv", ["conversation_id", "billed_at", "amount"],
                     [[f"{float(r[0]):.4E}", r[1], r[2]] for r in rows])
    result = run_cli(["audit", str(SAMPLE_EXPORT), "--billed", str(bill), "--period", PERIOD])
    assert result.exit_code == 2 and "duplicate_billing" not in result.output
    assert "holds 1,821 values like 2.1547E+14" in result.stderr


# --- total rows ---------------------------------------------------------------------------

@pytest.mark.parametrize("label", ["Total", "TOTAL:", "Grand total", "Subtotal", "Sum", ""])
def test_a_total_row_at_the_end_is_left_out_with_a_note(tmp_path: Path, export: Path,
                                                        label: str) -> None:
    rows = [[IDS[0], "2026-10-02T11:00:00Z", "0.99"], [IDS[1], "2026-10-03T11:00:00Z", "0.99"],
            [label, "", "1.98"]]
    result, out = _audit(tmp_path, export, ["conversation_id", "billed_at", "amount"], rows)
    report = _report(out)
    assert (report["billed"]["items"], report["billed"]["amount"]) == (2, 1.98)
    shown = f"'{label}'" if label else "an empty id"
    assert (f"Left out the last row of the billed list, a total row, not a billed line (line 4: "
            f"{shown} 1.98, which matches the sum of the lines).") in report["notes"]
    assert "Left out the last row" in result.output


def test_totals_that_do_not_add_up_say_so(tmp_path: Path, export: Path) -> None:
    rows = [[IDS[0], "0.99"], [IDS[1], "0.99"], ["Subtotal", "1.98"], ["Total", "$2.50"]]
    _, out = _audit(tmp_path, export, ["conversation_id", "amount"], rows)
    [note] = [n for n in _report(out)["notes"] if n.startswith("Left out")]
    assert note == ("Left out the last 2 rows of the billed list, total rows, not billed lines "
                    "(line 4: 'Subtotal' 1.98, which matches the sum of the lines; line 5: "
                    "'Total' $2.50, while the lines add up to $1.98).")


def test_blank_rows_a_spreadsheet_saved_after_the_total_are_counted(tmp_path: Path,
                                                                    export: Path) -> None:
    rows = [[IDS[0], "0.99"], [IDS[1], "0.99"], ["Total", "1.98"]] + [["", ""]] * 500
    _, out = _audit(tmp_path, export, ["conversation_id", "amount"], rows)
    report = _report(out)
    assert report["billed"]["items"] == 2
    assert ("Left out the last 501 rows of the billed list, total rows, not billed lines (line 4: "
            "'Total' 1.98, which matches the sum of the lines; 500 blank rows).") in report["notes"]


@pytest.mark.parametrize("label, expected", [
    ("Subtotal", "bill.csv, line 3, field 'conversation_id': 'Subtotal' looks like a total row "
                 "in the middle of the bill"),
    ("", "bill.csv, line 3, field 'conversation_id': conversation id is empty"),
])
def test_an_empty_or_total_id_between_lines_is_an_error(tmp_path: Path, export: Path, label: str,
                                                         expected: str) -> None:
    rows = [[IDS[0], "0.99"], [label, "0.99"], [IDS[1], "0.99"]]
    assert expected in _error(tmp_path, export, ["conversation_id", "amount"], rows)


# --- columns ------------------------------------------------------------------------------

def test_headers_are_recognised_and_the_period_check_is_kept(tmp_path: Path, export: Path) -> None:
    rows = [[IDS[0], "2026-10-02T11:00:00Z", "0.99", "acme"],
            [IDS[1], "2026-11-03T11:00:00Z", "0.99", "acme"]]  # outside the period
    result, out = _audit(tmp_path, export, ["Conversation ID", "Billed At", "price", "Customer"],
                         rows)
    report = _report(out)
    assert report["billed"]["columns"] == {
        "conversation_id": "Conversation ID", "billed_at": "Billed At", "amount": "price"}
    assert [f["reasons"] for f in _findings(out)] == ["", "outside_period"]
    assert ("Billed list columns not used: 'Customer'; if one of them is the units, name it with "
            "--units-column.") in report["notes"]
    markdown = (out / "report.md").read_text()
    assert ("Billed list columns: conversation_id from `Conversation ID`, billed_at from "
            "`Billed At`, amount from `price`.") in markdown
    assert "Note: Billed list columns read: 'Conversation ID' as conversation_id" in result.output


@pytest.mark.parametrize("header, role", [
    ("resolved_at", "billed_at"), ("billed at", "billed_at"), ("BILLED_AT", "billed_at"),
    ("Date", "billed_at"), ("Amount (USD)", "amount"), ("Price", "amount"), ("Qty", "units"),
    ("Quantity", "units"),
])
def test_common_spellings_are_recognised(tmp_path: Path, export: Path, header: str,
                                         role: str) -> None:
    value = {"billed_at": "2026-10-02T11:00:00Z", "amount": "0.99", "units": "1"}[role]
    _, out = _audit(tmp_path, export, ["conversation id", header], [[IDS[0], value]])
    assert _report(out)["billed"]["columns"] == {"conversation_id": "conversation id",
                                                 role: header}


def test_options_name_headers_nobody_would_guess(tmp_path: Path, export: Path) -> None:
    header = ["Conv #", "When", "Money", "N"]
    _, out = _audit(tmp_path, export, header, [[IDS[0], "2026-10-02T11:00:00Z", "4.00", "2"]],
                    "--id-column", "Conv #", "--billed-at-column", "when",
                    "--amount-column", "Money", "--units-column", "N")
    report = _report(out)
    assert report["billed"]["columns"] == {"conversation_id": "Conv #", "billed_at": "When",
                                           "amount": "Money", "units": "N"}
    assert (report["billed"]["items"], report["billed"]["amount"]) == (2, 4.0)


@pytest.mark.parametrize("header, expected", [
    (["conversation_id", "billed_at", "resolved_at"],
     "bill.csv: has 2 columns that could be the billing time: 'billed_at', 'resolved_at' "
     "(pick one with --billed-at-column NAME)"),
    (["conversation_id", "Amount", "Price"],
     "bill.csv: has 2 columns that could be the amount: 'Amount', 'Price' "
     "(pick one with --amount-column NAME)"),
])
def test_two_columns_for_one_role_name_the_option(tmp_path: Path, export: Path,
                                                  header: list[str], expected: str) -> None:
    values = {"billed_at": "2026-10-02T11:00:00Z", "resolved_at": "2026-10-02T11:00:00Z"}
    row = [IDS[0]] + [values.get(h, "0.99") for h in header[1:]]
    assert _error(tmp_path, export, header, [row]).endswith(expected)


def test_naming_one_of_two_candidates_uses_it_and_lists_the_other(tmp_path: Path,
                                                                  export: Path) -> None:
    _, out = _audit(tmp_path, export, ["conversation_id", "Amount", "Price"],
                    [[IDS[0], "0.99", "1.50"]], "--amount-column", "price")
    report = _report(out)
    assert report["billed"]["amount"] == 1.5
    assert any("Billed list columns not used: 'Amount'" in n for n in report["notes"])


def test_an_option_naming_a_missing_header_suggests_one(tmp_path: Path, export: Path) -> None:
    message = _error(tmp_path, export, ["conversation_id", "Price"], [[IDS[0], "0.99"]],
                     "--amount-column", "Prise")
    assert "bill.csv: no 'Prise' column in the header (--amount-column) (did you mean 'Price'?" \
        in message


# --- amounts and credits ------------------------------------------------------------------

@pytest.mark.parametrize("amounts, billed", [
    (["0,99", "0,99"], 1.98), (["$0.99", "$1.01"], 2.0), (["0.99 USD", "1 usd"], 1.99),
    (["€0,99", "0,99 EUR"], 1.98), (["£0.99", "GBP 0.01"], 1.0), (["US$ 0.99", "0.99"], 1.98),
    (["1,234.50", "0.50"], 1235.0), (["1.234,50", "0,50"], 1235.0), (["1 234,50", "0,5"], 1235.0),
    (["1,234", "0.99"], 1234.99), (["0.1", "0.2"], 0.3),
])
def test_amounts_as_people_write_them(tmp_path: Path, export: Path, amounts: list[str],
                                      billed: float) -> None:
    rows = [[IDS[0], amounts[0]], [IDS[1], amounts[1]]]
    _, out = _audit(tmp_path, export, ["conversation_id", "amount"], rows)
    assert _report(out)["billed"]["amount"] == billed


@pytest.mark.parametrize("amounts, expected", [
    (["0,99", "1.50"], "column 'amount' mixes decimal points (line 3: '1.50') and decimal commas "
                       "(line 2: '0,99')"),
    (["1,234", "2,500"], "bill.csv, line 2: column 'amount' holds amounts like '1,234' that can "
                         "be read with a decimal point or a decimal comma"),
    (["$0.99", "€0.99"], "column 'amount' mixes currencies: USD (line 2: '$0.99') and EUR (line 3: "
                         "'€0.99') (audit one currency at a time)"),
    (["0.99", "ninety"], "bill.csv, line 3, field 'amount': cannot parse 'ninety' as an amount"),
])
def test_amounts_that_cannot_be_read_one_way_are_errors(tmp_path: Path, export: Path,
                                                        amounts: list[str], expected: str) -> None:
    rows = [[IDS[0], amounts[0]], [IDS[1], amounts[1]]]
    assert expected in _error(tmp_path, export, ["conversation_id", "amount"], rows)


def test_exact_decimals_survive(tmp_path: Path, export: Path) -> None:
    rows = [[IDS[n], "0,1"] for n in range(3)]
    _, out = _audit(tmp_path, export, ["conversation_id", "amount"], rows)
    assert [f["amount"] for f in _findings(out)] == ["0.10", "0.10", "0.10"]
    assert _report(out)["confirmed"]["amount"] == 0.3


def test_negative_lines_are_credits_reported_apart(tmp_path: Path, export: Path) -> None:
    rows = [[IDS[0], "0.99"], [IDS[1], "0.99"], [IDS[1], "-0.99"], [IDS[2], "(0.50)"],
            [IDS[3], "0.99-"]]
    result, out = _audit(tmp_path, export, ["conversation_id", "amount"], rows)
    report = _report(out)
    assert report["credits"] == {"items": 3, "amount": -2.48}
    assert (report["billed"]["items"], report["billed"]["amount"]) == (2, 1.98)
    assert report["disputed"]["items"] == 0 and result.exit_code == 0
    assert [f["line"] for f in _findings(out)] == ["1", "2"]
    assert "credits (not in billed)                3         -$2.48" in result.output
    assert ("The bill also carries **3 credit lines (-$2.48)**, not counted above: the bill nets "
            "to -$0.50.") in (out / "report.md").read_text()


def test_a_bill_without_negative_lines_reports_none(tmp_path: Path, export: Path) -> None:
    result, out = _audit(tmp_path, export, ["conversation_id"], [[IDS[0]]])
    assert _report(out)["credits"] == {"items": 0, "amount": 0.0}
    assert "credits (not in billed)" not in result.output
    assert "credit" not in (out / "report.md").read_text()


# --- dates --------------------------------------------------------------------------------

@pytest.mark.parametrize("dates, options, expected", [
    (["2026-10-02T11:00:00Z", "1791025200"], [], ["2026-10-02T11:00:00Z", "2026-10-03T11:00:00Z"]),
    (["02/10/2026 11:00", "29/10/2026 11:00"], [], ["2026-10-02T11:00:00Z", "2026-10-29T11:00:00Z"]),
    (["10/2/2026 11:00 AM", "10/29/2026 1:05 PM"], [],
     ["2026-10-02T11:00:00Z", "2026-10-29T13:05:00Z"]),
    (["02.10.26", "29.10.26"], [], ["2026-10-02T00:00:00Z", "2026-10-29T00:00:00Z"]),
    (["02/10/2026", "03/10/2026"], ["--date-format", "%d/%m/%Y"],
     ["2026-10-02T00:00:00Z", "2026-10-03T00:00:00Z"]),
    (["20261002", "20261003"], ["--date-format", "%Y%m%d"],
     ["2026-10-02T00:00:00Z", "2026-10-03T00:00:00Z"]),
    (["2 Oct 2026", "Oct 3, 2026"], [], ["2026-10-02T00:00:00Z", "2026-10-03T00:00:00Z"]),
])
def test_dates_as_people_write_them(tmp_path: Path, export: Path, dates: list[str],
                                    options: list[str], expected: list[str]) -> None:
    rows = [[IDS[0], dates[0]], [IDS[1], dates[1]]]
    _, out = _audit(tmp_path, export, ["conversation_id", "billed_at"], rows, *options)
    assert [f["billed_at"] for f in _findings(out)] == expected


def test_the_date_reading_is_in_the_report(tmp_path: Path, export: Path) -> None:
    rows = [[IDS[0], "02/10/2026 11:00"], [IDS[1], "29/10/2026 11:00"]]
    _, out = _audit(tmp_path, export, ["conversation_id", "billed_at"], rows)
    report = _report(out)
    assert report["billed"]["date_format"] == "%d/%m/%Y %H:%M"
    assert ("Billed list dates read day-first (%d/%m/%Y %H:%M: '29/10/2026 11:00' is "
            "2026-10-29 11:00), in UTC.") in report["notes"]


@pytest.mark.parametrize("dates, options, expected", [
    (["02/10/2026 11:00", "03/10/2026 11:00"], [],
     "bill.csv: column 'billed_at' holds dates like '02/10/2026 11:00' that read day-first or "
     "month-first, and no value tells which (say which: --date-format '%d/%m/%Y %H:%M' for day "
     "first, --date-format '%m/%d/%Y %H:%M' for month first)"),
    (["29/10/2026", "10/29/2026"], [],
     "bill.csv: column 'billed_at' mixes day-first dates (line 2: '29/10/2026') and month-first "
     "dates (line 3: '10/29/2026')"),
    (["02/10/2026", "2026-10-03"], ["--date-format", "%Q"],
     "--date-format '%Q' is not a date format"),
    (["02/10/2026", "31/02/2026"], [],
     "bill.csv, line 3, field 'billed_at': cannot parse '31/02/2026' as a timestamp (%d/%m/%Y, "
     "ISO 8601 or epoch seconds)"),
    (["02.10.26", "03.10.2026"], ["--date-format", "%d.%m.%Y"],
     "bill.csv, line 2, field 'billed_at': cannot parse '02.10.26' as a timestamp (--date-format "
     "'%d.%m.%Y', ISO 8601 or epoch seconds)"),
])
def test_dates_that_cannot_be_read_one_way_are_errors(tmp_path: Path, export: Path,
                                                      dates: list[str], options: list[str],
                                                      expected: str) -> None:
    rows = [[IDS[0], dates[0]], [IDS[1], dates[1]]]
    assert expected in _error(tmp_path, export, ["conversation_id", "billed_at"], rows, *options)


# --- ids that are not the export's ------------------------------------------------------

def _warnings(result: Result, out: Path) -> list[str]:
    report = _report(out)
    markdown = (out / "report.md").read_text()
    for warning in report["warnings"]:  # before the totals, and first on the terminal
        assert markdown.index(warning) < markdown.index("## Totals")
        assert result.output.startswith(f"Warning: {report['warnings'][0]}")
    return report["warnings"]


def test_another_id_column_is_named(tmp_path: Path, export: Path) -> None:
    rows = [[f"L-{n:04d}", cid] for n, cid in enumerate(IDS)]
    result, out = _audit(tmp_path, export, ["line_id", "conv"], rows, "--id-column", "line_id")
    assert _warnings(result, out) == [
        "4 of the bill's 4 conversation ids (100%) are not in the export, so your data cannot "
        "check their lines: column 'conv' holds ids that are in the export, so it is probably "
        "the conversation id column; audit again with --id-column \"conv\"."]


def test_ids_of_another_kind_point_at_the_id_column(tmp_path: Path, export: Path) -> None:
    rows = [[f"INV-{n:04d}"] for n in range(4)]
    result, out = _audit(tmp_path, export, ["conversation_id"], rows)
    [warning] = _warnings(result, out)
    assert ("the bill's ids are 8 characters like 'INV-0000', the export's 15 digits like "
            "'215470000000011', so column 'conversation_id' probably holds another id") in warning
    assert _report(out)["unverifiable"]["items"] == 4


def test_ids_alike_but_absent_point_at_the_export_or_month(tmp_path: Path, export: Path) -> None:
    rows = [[f"2154700000005{n:02d}", f"2026-08-{n + 10}T10:00:00Z"] for n in range(4)]
    result, out = _audit(tmp_path, export, ["conversation_id", "billed_at"], rows)
    [warning] = _warnings(result, out)
    assert "the ids look alike (the bill's 15 digits like '215470000000500'" in warning
    assert ("check it is the same workspace and covers the billed month (the bill's lines are "
            "dated 2026-08-10..2026-08-13, the export's events 2026-10-02..2026-10-20; they do "
            "not overlap).") in warning


def test_no_warning_when_most_ids_are_in_the_export(tmp_path: Path, export: Path) -> None:
    rows = [[IDS[0]], [IDS[1]], ["215470000000500"]]
    result, out = _audit(tmp_path, export, ["conversation_id"], rows)
    assert _report(out)["warnings"] == [] and "Warning" not in result.output


# --- prices -------------------------------------------------------------------------------

def test_unit_price_overrides_the_rule_sets_price_with_a_note(tmp_path: Path,
                                                               export: Path) -> None:
    _, out = _audit(tmp_path, export, ["conversation_id"], [[IDS[0]], [IDS[1]]],
                    "--unit-price", "1.10")
    report = _report(out)
    assert (report["billed"]["amount"], report["billed"]["unit_price"]) == (2.2, 1.1)
    assert ("--unit-price 1.10 was used instead of the unit price 0.99 of rule set intercom-fin "
            "for billed items without an amount.") in report["notes"]
    _, out = _audit(tmp_path, export, ["conversation_id"], [[IDS[0]], [IDS[1]]])
    assert _report(out)["billed"]["amount"] == 1.98


@pytest.mark.parametrize("example, day_first, expected", [
    ("29/09/2026 04:23", True, "%d/%m/%Y %H:%M"),
    ("9/29/2026 4:23:07 PM", False, "%m/%d/%Y %I:%M:%S %p"),
    ("29.09.26", True, "%d.%m.%y"),
    ("29-09-2026T04:23", True, "%d-%m-%YT%H:%M"),
])
def test_the_format_named_for_a_date_follows_its_shape(example: str, day_first: bool,
                                                       expected: str) -> None:
    from auditor.billing_values import format_like

    assert format_like(example, day_first) == expected
