"""`auditor pull zendesk` against a fake Zendesk on loopback: faults, an interrupted and resumed
pull, credentials errors; the audit of the pull equals the audit of the data served."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests import pull_months as pm
from tests.conftest import run_cli
from tests.pull_fakes import Fault, running

WINDOW = ["--from", "2026-10-01", "--to", "2026-10-31"]


@pytest.fixture(autouse=True)
def _env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AUDITOR_PULL_TIME_SCALE", "0.001")
    monkeypatch.setenv("ZENDESK_EMAIL", pm.ZENDESK_EMAIL)
    monkeypatch.setenv("ZENDESK_API_TOKEN", pm.ZENDESK_TOKEN)
    monkeypatch.delenv("ZENDESK_OAUTH_TOKEN", raising=False)


@pytest.fixture(scope="module")
def month(tmp_path_factory: pytest.TempPathFactory) -> dict:
    data = pm.zendesk_month()
    folder = tmp_path_factory.mktemp("zendesk_source")
    source = pm.write_zendesk_source(folder / "export", data)
    data["findings"] = pm.audit(source, pm.ZENDESK_DIR / "billed.csv", folder / "audit")
    return data


@pytest.fixture
def server(month: dict) -> Iterator:
    with running(pm.fake_zendesk(month, slow_seconds=1.0)) as api:
        yield api


def pull(url: str, out: Path, *extra: str) -> object:
    return run_cli(["pull", "zendesk", *WINDOW, "--out", str(out), "--base-url", url, *extra])


def assert_exactly_the_window(out: Path, month: dict) -> None:
    tickets = [t["id"] for page in pm.pulled_records(out, "tickets") for t in page["tickets"]]
    assert sorted(tickets) == sorted(t["id"] for t in month["expected"])
    comments = [c["id"] for c in pm.pulled_records(out, "ticket_comments")]
    assert sorted(comments) == sorted(c["id"] for c in month["comments"])  # each once


def test_faults_with_oauth_then_the_audit_equals_the_source_audit(
        month: dict, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ZENDESK_OAUTH_TOKEN", pm.ZENDESK_OAUTH)
    api = pm.fake_zendesk(month, auth=f"Bearer {pm.ZENDESK_OAUTH}", slow_seconds=1.0, faults=[
        Fault("429", "/incremental/"), Fault("reset", "/incremental/", nth=2),
        Fault("repeat-cursor", "/incremental/", nth=5), Fault("500", "/comments.json", nth=3),
        Fault("slow", "/comments.json", nth=5), Fault("429-reset", "/show_many")], page_size=10)
    out = tmp_path / "pulled"
    with running(api):
        result = pull(api.url, out, "--timeout", "0.3", "--file-size-mb", "0.001")
    assert result.exit_code == 0, result.output
    assert len(list(out.glob("tickets-*.jsonl.gz"))) > 1  # rotated by size
    assert [f.kind for f in api.faults if not f.fired] == []
    assert_exactly_the_window(out, month)
    exports = [p for m, p in api.log if "/incremental/" in p]
    assert "include=metric_sets" in exports[0] and "start_time=1790812800" in exports[0]
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["counts"]["found"] == len(month["expected"])
    assert manifest["requests"]["rate_limited"] == 2
    findings = pm.audit(out, pm.ZENDESK_DIR / "billed.csv", tmp_path / "audit")
    assert findings == month["findings"]
    pm.assert_no_secret(tmp_path, texts=(result.output,))


def test_an_interrupted_pull_resumes_after_its_last_sealed_file(server, month: dict,
                                                                tmp_path: Path) -> None:
    from tests.pull_fakes import _epoch

    listed = sorted(month["expected"], key=lambda t: (_epoch(t["updated_at"]), t["id"]))
    victim = str(listed[20]["id"])  # the 21st ticket of the export
    server.broken = {f"/api/v2/tickets/{victim}/comments.json"}
    out = tmp_path / "pulled"
    first = pull(server.url, out, "--retries", "1", "--checkpoint-every", "5", "--quiet")
    assert first.exit_code == 2 and f"/api/v2/tickets/{victim}/comments.json" in first.output
    assert "resumes where it stopped" in first.output
    assert len(list(out.glob("ticket_comments-*.jsonl.gz"))) == 4  # 20 tickets sealed
    server.broken = set()
    second = pull(server.url, out, "--checkpoint-every", "5", "--quiet")
    assert second.exit_code == 0, second.output
    assert_exactly_the_window(out, month)
    assert json.loads((out / "manifest.json").read_text())["resumed"] is True
    pm.assert_no_secret(tmp_path, texts=(first.output, second.output))


@pytest.mark.parametrize("case, expected", [
    ("401", "credentials in ZENDESK_EMAIL/ZENDESK_API_TOKEN are not valid"),
    ("403", "lacks the scope 'read (the incremental export needs an admin's credentials)'"),
    ("404", "check --subdomain"),
    ("none", "no Zendesk credentials"),
])
def test_errors_a_user_can_act_on(server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                  case: str, expected: str) -> None:
    url = server.url
    if case == "401":
        monkeypatch.setenv("ZENDESK_API_TOKEN", "wrong-token-value")
    if case == "403":
        server.forbidden = {"/api/v2/incremental/tickets/cursor.json"}
    if case == "404":
        url += "/not-zendesk"
    if case == "none":
        monkeypatch.delenv("ZENDESK_API_TOKEN")
    result = pull(url, tmp_path / "o", "--quiet")
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ") and expected in lines[0]
    assert "wrong-token-value" not in result.output
    pm.assert_no_secret(tmp_path, texts=(result.output,))


def test_a_subdomain_is_only_the_account_name_and_a_url_carries_no_credentials() -> None:
    result = run_cli(["pull", "zendesk", "--subdomain", "acme.zendesk.com", *WINDOW,
                      "--out", "x"])
    assert result.exit_code == 2 and "--subdomain acme" in result.output
    result = run_cli(["pull", "zendesk", "--base-url", "https://me:pw@proxy.example", *WINDOW,
                      "--out", "x"])
    assert result.exit_code == 2 and "must not carry credentials" in result.output


def test_few_requests_left_slow_every_thread_down() -> None:
    from auditor.pull.http import ApiClient, Vendor

    client = ApiClient("http://127.0.0.1:9", Vendor("X", "X_TOKEN", str, ""), headers={})
    before = client.gate.not_before
    client._pace(httpx.Response(200, headers={"X-Rate-Limit": "700",
                                              "X-Rate-Limit-Remaining": "900"}))
    assert client.gate.not_before == before  # plenty left: no wait
    client._pace(httpx.Response(200, headers={"X-RateLimit-Limit": "100",
                                              "X-RateLimit-Remaining": "2",
                                              "ratelimit-reset": "10"}))
    assert client.gate.not_before > before  # the next request waits
    client.close()
