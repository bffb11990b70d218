"""`auditor pull intercom` against a fake Intercom on loopback: every fault, a kill and a
resume, the errors a user can act on. Each pull is then audited and compared with the audit of
the data the fake server was built from, and every file written is scanned for the token."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import pull_months as pm
from tests.conftest import REPO, run_cli
from tests.pull_fakes import Fault, running

WINDOW = ["--from", "2026-10-01", "--to", "2026-10-31"]


@pytest.fixture(autouse=True)
def _env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AUDITOR_PULL_TIME_SCALE", "0.001")
    monkeypatch.setenv("INTERCOM_TOKEN", pm.INTERCOM_TOKEN)


@pytest.fixture(scope="module")
def month(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The served month, the expected conversations and the findings of auditing them."""
    served, expected = pm.intercom_month()
    folder = tmp_path_factory.mktemp("intercom_source")
    source = pm.write_intercom_source(folder / "export", expected)
    findings = pm.audit(source, pm.INTERCOM_BILLED, folder / "audit")
    return {"served": served, "expected": expected, "findings": findings}


@pytest.fixture
def server(month: dict) -> Iterator:
    with running(pm.fake_intercom(month["served"], slow_seconds=1.0)) as api:
        yield api


def pull(url: str, out: Path, *extra: str) -> object:
    return run_cli(["pull", "intercom", *WINDOW, "--out", str(out), "--base-url", url, *extra])


def assert_exactly_the_window(out: Path, expected: list[dict]) -> None:
    ids = [str(c["id"]) for c in pm.pulled_records(out, "conversations")]
    assert sorted(ids) == sorted(str(c["id"]) for c in expected)  # each once, nothing outside
    assert len(ids) == len(set(ids))


def test_every_fault_then_the_audit_equals_the_source_audit(server, month: dict,
                                                            tmp_path: Path) -> None:
    server.faults = [Fault("429", "/conversations/search", "POST"),
                     Fault("reset", "/conversations/search", "POST", nth=2),
                     Fault("repeat-cursor", "/conversations/search", "POST", nth=4),
                     Fault("429-reset", "/conversations/", nth=2),
                     Fault("500", "/conversations/", nth=4),
                     Fault("slow", "/conversations/", nth=6)]
    out = tmp_path / "pulled"
    result = pull(server.url, out, "--timeout", "0.3")
    assert result.exit_code == 0, result.output
    assert all(f.fired for f in server.faults)
    assert_exactly_the_window(out, month["expected"])
    gets = [p for m, p in server.log if m == "GET" and p.startswith("/conversations/")]
    assert gets and all("display_as=plaintext" in p for p in gets)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["counts"] == {"found": len(month["expected"]),
                                  "fetched": len(month["expected"]), "incomplete": 0,
                                  "missing": 0}
    assert manifest["requests"]["rate_limited"] == 2 and manifest["requests"]["retried"] >= 3
    window = manifest["window"]
    assert window["from"] == "2026-10-01" and "updated_at" in window["field"]
    assert manifest["api_version"] == "2.16" and server.versions == {"2.16"}
    assert {f["name"] for f in manifest["files"]} == {p.name for p in out.glob("*.jsonl.gz")}
    findings = pm.audit(out, pm.INTERCOM_BILLED, tmp_path / "audit")
    assert findings == month["findings"]
    report = json.loads((tmp_path / "audit" / "report.json").read_text())
    assert report["provenance"]["pulls"][0]["counts"]["fetched"] == len(month["expected"])
    assert "auditor pull intercom" in (tmp_path / "audit" / "report.md").read_text()
    assert "auditor pull intercom" in (tmp_path / "audit" / "report.html").read_text()
    pm.assert_no_secret(tmp_path, texts=(result.output,))


def test_truncated_parts_are_listed_incomplete_and_left_unjudged(server, month: dict,
                                                                 tmp_path: Path) -> None:
    billed = {line.split(",")[0] for line in pm.INTERCOM_BILLED.read_text().splitlines()[1:]}
    victim = next(c for c in month["expected"] if str(c["id"]) in billed
                  and c["conversation_parts"]["total_count"] > 2)
    server.truncate = {str(victim["id"])}
    out = tmp_path / "pulled"
    result = pull(server.url, out, "--file-size-mb", "0.01", "--quiet")
    assert result.exit_code == 0, result.output
    assert "1 incomplete" in result.output
    assert len(list(out.glob("conversations-*.jsonl.gz"))) > 1  # rotated by size
    assert_exactly_the_window(out, month["expected"])
    manifest = json.loads((out / "manifest.json").read_text())
    total = victim["conversation_parts"]["total_count"]
    assert manifest["incomplete"] == [{"id": str(victim["id"]), "detail": f"2 of {total} parts"}]
    findings = pm.audit(out, pm.INTERCOM_BILLED, tmp_path / "audit").splitlines()
    expected = month["findings"].splitlines()
    changed = [(a, b) for a, b in zip(expected, findings) if a != b]
    assert len(findings) == len(expected) and changed
    assert all(str(victim["id"]) in b and "unverifiable,incomplete_export" in b
               for _, b in changed)


def test_a_killed_pull_resumes_where_it_stopped(server, month: dict, tmp_path: Path) -> None:
    server.delay = 0.02
    out = tmp_path / "pulled"
    command = [sys.executable, "-m", "auditor", "pull", "intercom", *WINDOW, "--out", str(out),
               "--base-url", server.url, "--checkpoint-every", "10", "--concurrency", "2"]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    logs = []
    with (tmp_path / "first.log").open("w") as log:
        first = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while not list(out.glob("conversations-00002.jsonl.gz")) and first.poll() is None:
            assert time.monotonic() < deadline, "the pull never sealed a file"
            time.sleep(0.02)
        first.send_signal(signal.SIGKILL)
        first.wait()
    assert not (out / "manifest.json").exists()  # killed midway
    server.delay = 0.0
    second = run_cli(command[3:])  # the same arguments, in-process
    assert second.exit_code == 0, second.output
    logs += [second.output, (tmp_path / "first.log").read_text()]
    assert_exactly_the_window(out, month["expected"])
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["resumed"] is True
    assert not list(out.glob(".*"))  # no checkpoint or partial file left
    assert pm.audit(out, pm.INTERCOM_BILLED, tmp_path / "audit") == month["findings"]
    pm.assert_no_secret(tmp_path, texts=tuple(logs))


def test_max_conversations_and_a_rerun_of_a_finished_pull(server, tmp_path: Path) -> None:
    out = tmp_path / "pulled"
    result = pull(server.url, out, "--max-conversations", "5", "--api-version", "2.14")
    assert result.exit_code == 0 and server.versions == {"2.14"}
    assert len(pm.pulled_records(out, "conversations")) == 5
    again = pull(server.url, out, "--max-conversations", "5")
    assert again.exit_code == 2 and "already holds a finished pull" in again.output
    twin = tmp_path / "twin"  # same answers, same bytes (whatever the threads' timing)
    assert pull(server.url, twin, "--max-conversations", "5", "--api-version", "2.14",
                "--concurrency", "1").exit_code == 0
    name = "conversations-00001.jsonl.gz"
    assert (twin / name).read_bytes() == (out / name).read_bytes()


@pytest.mark.parametrize("case, args, env, expected", [
    ("401", [], {"INTERCOM_TOKEN": "wrong-token-value"}, "credentials in INTERCOM_TOKEN"),
    ("403", [], {}, "lacks the scope 'Read conversations'"),
    ("404", ["/elsewhere"], {}, "--region eu"),
    ("500", ["--retries", "2"], {}, "failed 2 times"),
    ("window", ["--from", "2026-10-31", "--to", "2026-10-01"], {}, "invalid window"),
    ("empty", ["--from", "2025-01-01", "--to", "2025-01-31"], {}, "no conversation was updated"),
    ("unset", ["--token-env", "NO_SUCH_TOKEN_VAR"], {}, "NO_SUCH_TOKEN_VAR is not set"),
])
def test_errors_a_user_can_act_on(server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                  case: str, args: list[str], env: dict, expected: str) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    if case == "403":
        server.forbidden = {"/conversations/search"}
    if case == "500":
        server.broken = {"/conversations/search"}
    url = server.url + (args.pop(0) if args and args[0].startswith("/") else "")
    result = run_cli(["pull", "intercom", *WINDOW, "--out", str(tmp_path / "o"), "--base-url",
                      url, "--quiet", *args])
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ") and expected in lines[0]
    assert "Traceback" not in result.output
    assert "wrong-token-value" not in result.output
    pm.assert_no_secret(tmp_path, texts=(result.output,))
