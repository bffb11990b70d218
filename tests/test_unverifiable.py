"""When the data cannot support a verdict, a billed line is unverifiable with a reason: never
confirmed or disputed on partial data. Canonical CSV inputs built here, audited end to end."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from tests.conftest import REPO, run_cli, write_csv, write_events

C, AI, H = "customer", "ai_agent", "human_agent"
GOOD = [
    ["ok", "2026-10-01T10:00:00Z", C, "u1", "message", "Where is my parcel?"],
    ["ok", "2026-10-01T10:01:00Z", AI, "fin", "message", "It arrives tomorrow."],
]
# A human reply whose date did not parse: the conversation must not be confirmed on the rest.
BROKEN = [
    ["broken", "2026-10-02T10:00:00Z", C, "u2", "message", "My invoice is wrong"],
    ["broken", "2026-10-02T10:01:00Z", AI, "fin", "message", "Invoices are under Billing."],
    ["broken", "02/10/2026 10:12", H, "agent-1", "message", "I corrected it for you."],
]


def _audit(tmp: Path, rows: list[list[object]], bill: list[str], *extra: str) -> tuple[Path, object]:
    events = write_events(tmp / "events.csv", rows)
    billed = write_csv(tmp / "billed.csv", ["conversation_id"], [[c] for c in bill])
    out = tmp / "out"
    result = run_cli(["audit", str(events), "--format", "canonical", "--billed", str(billed),
                      "--out", str(out), *extra])
    return out, result


def _findings(out: Path) -> dict[str, dict[str, str]]:
    with open(out / "findings.csv", newline="", encoding="utf-8") as handle:
        return {r["conversation_id"]: r for r in csv.DictReader(handle)}


def test_a_conversation_with_a_quarantined_record_is_not_judged_on_the_rest(tmp_path: Path) -> None:
    out, result = _audit(tmp_path, GOOD + BROKEN, ["ok", "broken"])
    assert result.exit_code == 0, result.output  # nothing disputed: nothing could be
    rows = _findings(out)
    assert (rows["ok"]["status"], rows["ok"]["reasons"]) == ("confirmed", "")
    broken = rows["broken"]
    assert (broken["status"], broken["reasons"]) == ("unverifiable", "quarantined_records")
    assert "no human reply" not in broken["evidence"]
    assert "events.csv, line 6, field created_at: cannot parse '02/10/2026 10:12'" \
        in broken["evidence"]
    assert broken["evidence"].startswith("cannot be judged: 1 record quarantined (")
    assert broken["reproduced"] == ""
    with open(out / "quarantine.csv", newline="", encoding="utf-8") as handle:
        quarantined = list(csv.DictReader(handle))
    assert [(q["source_record"], q["conversation_id"], q["field"]) for q in quarantined] == \
        [("line 6", "broken", "created_at")]
    report = json.loads((out / "report.json").read_text())
    assert report["unverifiable"]["by_reason"] == {"quarantined_records": 1}
    assert report["ingest"]["not_judged"] == {"quarantined_records": 1}
    assert any("quarantined_records" in note for note in report["notes"])


def test_a_billed_conversation_whose_only_records_were_quarantined_is_not_missing(
        tmp_path: Path) -> None:
    rows = GOOD + [["gone", "yesterday", C, "u3", "message", "hello?"]]
    out, _ = _audit(tmp_path, rows, ["gone"])
    assert (_findings(out)["gone"]["status"], _findings(out)["gone"]["reasons"]) == \
        ("unverifiable", "quarantined_records")


def test_on_bad_record_fail_stops_at_the_first_bad_record(tmp_path: Path) -> None:
    _, result = _audit(tmp_path, GOOD + BROKEN, ["ok"], "--on-bad-record", "fail")
    assert result.exit_code == 2
    assert "events.csv, line 6, field 'created_at': cannot parse '02/10/2026 10:12'" in result.output
    assert "1 bad record(s) in all" in result.output
    assert "Traceback" not in result.output


def test_warehouse_nulls_are_missing_values_and_never_match_customers(tmp_path: Path) -> None:
    """Three anonymous customers written NULL, null and \\N must not become repeat contacts."""
    rows = []
    for n, null in enumerate(["NULL", "null", "\\N"]):
        day = f"2026-10-0{n + 1}"
        rows += [[f"anon-{n}", f"{day}T10:00:00Z", C, null, "message", "Do you ship to Oslo?"],
                 [f"anon-{n}", f"{day}T10:01:00Z", AI, "fin", "message", "Yes, in 3 days."]]
    conversations = write_csv(tmp_path / "conversations.csv", ["conversation_id", "customer_id"],
                              [[f"anon-{n}", null] for n, null in enumerate(["NULL", "", "\\N"])])
    out, result = _audit(tmp_path, rows, ["anon-0", "anon-1", "anon-2"], str(conversations))
    assert result.exit_code == 0, result.output
    assert {r["status"] for r in _findings(out).values()} == {"confirmed"}


def test_null_string_names_another_spelling_of_missing(tmp_path: Path) -> None:
    rows = [["a", "2026-10-01T10:00:00Z", C, "(none)", "message", "Hi"],
            ["a", "2026-10-01T10:01:00Z", AI, "fin", "message", "Hello"],
            ["b", "2026-10-01T12:00:00Z", C, "(none)", "message", "Hi again"],
            ["b", "2026-10-01T12:01:00Z", AI, "fin", "message", "Hello again"]]
    out, _ = _audit(tmp_path, rows, ["a"])
    assert _findings(out)["a"]["reasons"] == "repeat_contact"  # "(none)" is a customer here
    out, _ = _audit(tmp_path, rows, ["a"], "--null-string", "(none)")
    assert _findings(out)["a"]["status"] == "confirmed"


def test_files_skipped_in_an_input_folder_are_listed(tmp_path: Path) -> None:
    folder = tmp_path / "export"
    folder.mkdir()
    write_events(folder / "events.csv", GOOD)
    (folder / "README.txt").write_text("how this export was made")
    billed = write_csv(tmp_path / "billed.csv", ["conversation_id"], [["ok"]])
    out = tmp_path / "out"
    run_cli(["audit", str(folder), "--format", "canonical", "--billed", str(billed),
             "--out", str(out)])
    report = json.loads((out / "report.json").read_text())
    assert [(f["path"].rsplit("/", 1)[-1], f["reason"].split(" (")[0])
            for f in report["ingest"]["skipped_files"]] == [("README.txt", "not a data file")]
    assert "README.txt (not read: not a data file" in (out / "report.md").read_text()


PENDING_VENDOR = '''
id = "waits"
version = "1.0.0"
title = "Test vendor that waits 24 hours"
kind = "vendor"
vendor = "Test"
unit_price = 1.0
description = "Counts AI conversations once 24 hours have passed."

[[criteria]]
code = "no_ai_answer"
summary = "No AI message."
when = "NOT has_ai_message"
evidence = "no AI message"

[[criteria]]
code = "pending"
undecided = true
summary = "Fewer than 24 hours observed."
when = "hours_observed_after_last_ai < 24"
evidence = "only {hours_observed_after_last_ai} hours observed"
'''


def test_an_undecided_vendor_verdict_is_no_ground_for_a_dispute(tmp_path: Path) -> None:
    vendor = tmp_path / "waits.toml"
    vendor.write_text(PENDING_VENDOR, encoding="utf-8")
    rows = GOOD + [["late", "2026-10-03T10:00:00Z", C, "u9", "message", "Hi"],
                   ["late", "2026-10-03T10:01:00Z", AI, "fin", "message", "Hello"],
                   ["human", "2026-10-01T09:00:00Z", C, "u8", "message", "Hi"],
                   ["human", "2026-10-01T09:05:00Z", H, "agent-1", "message", "Hello"]]
    out, result = _audit(tmp_path, rows, ["ok", "late", "human"], "--vendor", str(vendor))
    rows_ = _findings(out)
    assert (rows_["late"]["status"], rows_["late"]["reproduced"]) == ("confirmed", "")
    assert rows_["ok"]["reproduced"] == "true"
    assert rows_["human"]["reasons"] == "not_vendor_resolution;no_ai_answer;human_takeover"
    assert "waits does not count it: no AI message" in rows_["human"]["evidence"]
    reproduction = json.loads((out / "report.json").read_text())["reproduction"]
    assert (reproduction["matched"], reproduction["billed_not_reproduced"],
            reproduction["billed_undetermined"]) == (1, 1, 1)
    assert "each line once by its first reason" in result.output


LIST_PAGE = REPO / "tests" / "fixtures" / "intercom" / "api-2.16-list.json"


def test_a_count_only_invoice_on_a_list_export_is_unverifiable_not_over_billed() -> None:
    result = run_cli(["audit", str(LIST_PAGE), "--billed-count", "1", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["count_only"]["overbilled_items"] == 0
    assert report["count_only"]["unverifiable_items"] == 1
    assert (report["disputed"]["items"], report["unverifiable"]["items"]) == (0, 1)
    assert report["warnings"] and "list or search export" in report["warnings"][0]


def test_compare_says_how_many_conversations_it_left_out() -> None:
    result = run_cli(["compare", str(LIST_PAGE), "--rulesets", "intercom-fin,strict"])
    assert result.exit_code == 0, result.output
    assert "left out: the export cannot support a verdict on them" in result.output
