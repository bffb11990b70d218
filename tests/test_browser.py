"""report.html in a real browser: headless Chromium (Debian's `chromium`) driven by Playwright.

Opened from disk as a user would: no network request at all (every request but the page itself
is refused and counted), no console error, the charts drawn with the expected bars, the
headline equal to report.json, and the findings filter showing exactly the lines with a reason.
A screenshot is written to tests/artifacts/report.png (docs/images/report.png in the README is
a copy of it). Without Chromium the tests skip, except in CI (CI=true), where they fail.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from auditor.demo import demo_request
from auditor.pipeline import audit
from auditor.report.evidence import EvidenceOptions
from auditor.report.model import share, usd
from tests.conftest import REPO

ARTIFACTS = REPO / "tests" / "artifacts"
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update",
                  "--disable-sync"]


def chromium_path() -> str:
    """Debian's chromium, or a clear skip (a failure in CI, which must have it)."""
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    problem = None
    if found is None:
        problem = "chromium is not installed (apt-get install chromium)"
    else:
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError:
            problem = "playwright is not installed (pip install '.[test]')"
    if problem:
        if os.environ.get("CI"):
            pytest.fail(f"the browser test must run in CI: {problem}")
        pytest.skip(problem)
    return str(found)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("browser") / "report"
    audit(demo_request(), out, evidence=EvidenceOptions(pack=out / "evidence"))
    return out


@pytest.fixture(scope="module")
def page(demo: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    executable = chromium_path()
    from playwright.sync_api import sync_playwright

    url = (demo / "report.html").as_uri()
    with sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")), executable_path=executable,
            headless=True, args=["--headless", *CHROMIUM_FLAGS], offline=True,
            viewport={"width": 1280, "height": 900})
        requests: list[str] = []
        errors: list[str] = []

        def refuse(route: Any) -> None:
            if route.request.url != url:
                requests.append(route.request.url)
                route.abort()
            else:
                route.continue_()

        context.route("**/*", refuse)
        context.on("request", lambda r: r.url != url and requests.append(r.url))
        tab = context.new_page()
        tab.on("console", lambda m: m.type == "error" and errors.append(m.text))
        tab.on("pageerror", lambda e: errors.append(str(e)))
        tab.goto(url)
        tab.wait_for_load_state("load")
        tab.requests, tab.errors = requests, errors  # type: ignore[attr-defined]
        ARTIFACTS.mkdir(exist_ok=True)
        tab.screenshot(path=str(ARTIFACTS / "report.png"))
        yield tab
        context.close()


def test_no_network_and_no_console_errors(page: Any) -> None:
    assert page.requests == []
    assert page.errors == []


def test_charts_are_drawn_with_their_bars(page: Any, demo: Path) -> None:
    report = json.loads((demo / "report.json").read_text())
    first_reasons = len(report["disputed"]["by_primary_reason"])
    expected = {
        "breakdown": 1 + first_reasons + (1 if report["unverifiable"]["items"] else 0),
        "reasons": len(report["disputed"]["reasons"]),
    }
    for chart, bars in expected.items():
        assert page.locator(f'svg[data-chart="{chart}"]').count() == 1
        assert page.locator(f'svg[data-chart="{chart}"] g[id^="{chart}-bar-"]').count() == bars
    days = {row["billed_at"][:10] for row in _findings(demo)}
    assert page.locator('svg[data-chart="days"] g[id^="days-billed-"]').count() == len(days)
    box = page.locator('svg[data-chart="breakdown"]').bounding_box()
    assert box["width"] > 300 and box["height"] > 100  # laid out, not collapsed


def test_headline_equals_report_json(page: Any, demo: Path) -> None:
    report = json.loads((demo / "report.json").read_text())
    b, d = report["billed"], report["disputed"]
    expected = {
        "billed-items": f"{b['items']:,}", "billed-amount": usd(b["amount"]),
        "disputed-items": f"{d['items']:,}", "disputed-amount": usd(d["amount"]),
        "disputed-share": share(d["items"], b["items"]),
        "confirmed-items": f"{report['confirmed']['items']:,}",
        "unverifiable-items": f"{report['unverifiable']['items']:,}",
        "reproduction-count": f"{report['reproduction']['count']:,}",
        "reproduction-matched": f"{report['reproduction']['matched']:,}",
    }
    shown = {name: page.locator(f'[data-figure="{name}"]').inner_text() for name in expected}
    assert shown == expected


@pytest.mark.parametrize("reason", ["human_takeover", "not_vendor_resolution", "not_in_export"])
def test_filter_by_reason_shows_exactly_its_lines(page: Any, demo: Path, reason: str) -> None:
    wanted = {(r["line"], r["unit"]) for r in _findings(demo) if reason in r["reasons"].split(";")}
    assert wanted
    page.select_option('#findings-controls select[name="reason"]', reason)
    visible = page.locator("#findings-table tbody tr:visible")
    lines = {tuple(v.split(".")) if "." in v else (v, "1")
             for v in visible.evaluate_all("rows => rows.map(r => r.cells[0].textContent)")}
    assert {(int(a), int(b)) for a, b in lines} == {(int(a), int(b)) for a, b in wanted}
    assert page.locator("#findings-count").inner_text().startswith(f"{len(wanted):,} of ")
    page.select_option('#findings-controls select[name="reason"]', "")


def test_sorting_by_amount_and_status_filter(page: Any) -> None:
    page.select_option('#findings-controls select[name="status"]', "unverifiable")
    statuses = page.locator("#findings-table tbody tr:visible td:nth-child(5)").all_inner_texts()
    assert statuses and set(statuses) == {"unverifiable"}
    page.select_option('#findings-controls select[name="status"]', "")
    header = page.locator("#findings-table thead th").nth(0)
    header.locator("button").click()
    header.locator("button").click()  # descending: the last line first
    assert header.get_attribute("aria-sort") == "descending"
    first = page.locator("#findings-table tbody tr").first.locator("td").first.inner_text()
    assert first.split(".")[0] == str(max(int(r["line"]) for r in _findings_rows(page)))


def _findings_rows(page: Any) -> list[dict[str, str]]:
    return [{"line": t.split(".")[0]} for t in page.locator(
        "#findings-table tbody tr td:first-child").all_inner_texts()]


def _findings(demo: Path) -> list[dict[str, str]]:
    with open(demo / "findings.csv", newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))
