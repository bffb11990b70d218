"""The months the fake APIs serve (from sample_data/), the data they were built from as an export
the audit reads directly, and the checks every pull test makes."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from pathlib import Path

from tests.conftest import REPO, run_cli
from tests.pull_fakes import FakeIntercom, FakeZendesk, _epoch, openapi_conversation

START, END = 1790812800, 1793491200  # 2026-10-01T00:00:00Z, 2026-11-01T00:00:00Z
INTERCOM_TOKEN = "tok_live_INTERCOM_9f8e7d6c5b4a"
ZENDESK_EMAIL, ZENDESK_TOKEN = "ops@acme.example", "zdtok_SECRET_1a2b3c4d5e6f"
ZENDESK_OAUTH = "zdoauth_SECRET_0f9e8d7c"
SECRETS = (INTERCOM_TOKEN, ZENDESK_TOKEN, ZENDESK_OAUTH)
INTERCOM_BILLED = REPO / "sample_data" / "billed_2026-10.csv"
ZENDESK_DIR = REPO / "sample_data" / "zendesk_2026-10"


def _jsonl(path: Path) -> Iterator[dict]:
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        for line in handle:
            yield json.loads(line)


def intercom_month(n: int = 120) -> tuple[list[dict], list[dict]]:
    """(served, expected): the first n conversations of the October sample, the OpenAPI example
    (2024) and a November conversation; expected is the served ones in October's window."""
    month = []
    for record in _jsonl(REPO / "sample_data" / "intercom_2026-10.jsonl.gz"):
        month.append(record)
        if len(month) == n:
            break
    november = {**month[-1], "id": "999000000000001", "created_at": END + 86400,
                "updated_at": END + 2 * 86400}
    served = [*month, openapi_conversation(), november]
    expected = [c for c in served if c["updated_at"] >= START and c["created_at"] < END]
    return served, expected


def fake_intercom(served: list[dict], **kwargs: object) -> FakeIntercom:
    return FakeIntercom(auth=f"Bearer {INTERCOM_TOKEN}", conversations=served, **kwargs)


def write_intercom_source(folder: Path, expected: list[dict]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    with gzip.open(folder / "conversations.jsonl.gz", "wt", encoding="utf-8") as handle:
        for conversation in expected:
            handle.write(json.dumps(conversation) + "\n")
    return folder


def zendesk_month(n: int = 40) -> dict:
    """The first n tickets of the October Zendesk sample with their comments, users and
    metrics, plus a ticket created in November; `expected` the ticket ids in October's window."""
    api = ZENDESK_DIR / "api"
    tickets = [t for page in _jsonl(api / "tickets.json.gz") for t in page["tickets"]][:n]
    november = {**tickets[-1], "id": 99999, "created_at": "2026-11-03T10:00:00Z",
                "updated_at": "2026-11-04T10:00:00Z"}
    ids = {t["id"] for t in tickets}
    comments = [c for c in _jsonl(api / "ticket_comments.jsonl.gz") if c["ticket_id"] in ids]
    metrics = [m for page in _jsonl(api / "ticket_metrics.json.gz")
               for m in page["ticket_metrics"] if m["ticket_id"] in ids]
    users = json.loads((api / "users.json").read_text())["users"]
    served = [*tickets, november]
    expected = [t for t in served
                if _epoch(t["updated_at"]) >= START and _epoch(t["created_at"]) < END]
    return {"tickets": served, "expected": expected, "comments": comments,
            "metrics": metrics, "users": users}


def fake_zendesk(month: dict, auth: str | None = None, **kwargs: object) -> FakeZendesk:
    import base64

    basic = base64.b64encode(f"{ZENDESK_EMAIL}/token:{ZENDESK_TOKEN}".encode()).decode()
    by_ticket: dict[str, list[dict]] = {}
    for comment in month["comments"]:
        api_comment = {k: v for k, v in comment.items() if k != "ticket_id"}
        by_ticket.setdefault(str(comment["ticket_id"]), []).append(api_comment)
    by_ticket["99999"] = by_ticket.get(str(month["tickets"][-2]["id"]), [])
    return FakeZendesk(auth=auth or f"Basic {basic}", tickets=month["tickets"],
                       comments=by_ticket, users=month["users"], metrics=month["metrics"],
                       **kwargs)


def write_zendesk_source(folder: Path, month: dict) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    ids = {t["id"] for t in month["expected"]}
    (folder / "tickets.json").write_text(json.dumps({"tickets": month["expected"]}))
    (folder / "users.json").write_text(json.dumps({"users": month["users"]}))
    (folder / "ticket_metrics.json").write_text(json.dumps(
        {"ticket_metrics": [m for m in month["metrics"] if m["ticket_id"] in ids]}))
    with (folder / "ticket_comments.jsonl").open("w") as handle:
        for comment in month["comments"]:
            if comment["ticket_id"] in ids:
                handle.write(json.dumps(comment) + "\n")
    return folder


def audit(export: Path, billed: Path, out: Path) -> str:
    """`auditor audit EXPORT --billed BILLED --out OUT` -> findings.csv's text."""
    result = run_cli(["audit", str(export), "--billed", str(billed), "--out", str(out)])
    assert result.exit_code in (0, 1), result.output
    return (out / "findings.csv").read_text()


def pulled_records(export: Path, stem: str) -> list[dict]:
    return [r for path in sorted(export.glob(f"{stem}-*.jsonl.gz")) for r in _jsonl(path)]


def assert_no_secret(*folders: Path, texts: tuple[str, ...] = ()) -> None:
    """No secret in any file (gzip files read decompressed too) or captured output."""
    for folder in folders:
        for path in folder.rglob("*"):
            if not path.is_file():
                continue
            data = path.read_bytes()
            if path.suffix == ".gz":
                data += gzip.decompress(data)
            for secret in SECRETS:
                assert secret.encode() not in data, f"{secret[:6]}... found in {path}"
    for text in texts:
        for secret in SECRETS:
            assert secret not in text
