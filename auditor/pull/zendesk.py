"""`auditor pull zendesk`: the month's tickets with their comments, users and metrics.

1. `GET /api/v2/users/me.json` checks the credentials (401, 403) and the subdomain (404).
2. The cursor-based incremental ticket export (`/api/v2/incremental/tickets/cursor.json`,
   `start_time` = the first day, `include=metric_sets`, deleted tickets excluded) until
   `end_of_stream`. It returns every ticket changed since the start, so tickets created after the
   window's end are dropped here: a ticket is the window's when it was updated on or after the
   first day and created before the end of the last (a ticket opened in September and reopened
   in October is found). Tickets go to `tickets-*.jsonl.gz` (one `{"tickets": [...]}` page per
   line) and their metric sets to `ticket_metrics-*.jsonl.gz` (`{"ticket_metrics": [...]}`).
3. Each ticket's comments (`/api/v2/tickets/{id}/comments.json`, cursor pagination), one comment
   per line with its `ticket_id`, to `ticket_comments-*.jsonl.gz`.
4. The users they name (requesters, submitters, assignees, comment authors) with
   `/api/v2/users/show_many.json`, to `users-*.jsonl.gz`: the audit finds the AI agent's user
   among them by name or channel (or --ai-agent-id).
"""

from __future__ import annotations

import base64
from datetime import datetime
from pathlib import Path
from typing import Any

from auditor.errors import ApiError, UsageError
from auditor.pull.common import (
    Progress, PullOptions, Window, fetch_each, finish_pull, now_iso, ordered_map,
    read_secret,
)
from auditor.pull.http import ApiClient, Vendor, remember_secret
from auditor.pull.store import ExportDir, RotatingWriter

EMAIL_ENV, API_TOKEN_ENV, OAUTH_ENV = "ZENDESK_EMAIL", "ZENDESK_API_TOKEN", "ZENDESK_OAUTH_TOKEN"
EXPORT_PATH = "/api/v2/incremental/tickets/cursor.json"
COMMENTS_PAGE_SIZE = 100
USERS_BATCH = 100  # show_many takes at most 100 ids
MAX_CURSOR_REPEATS = 3
WINDOW_WHY = ("updated_at finds a ticket created before the window but reopened in it; the "
              "created_at bound keeps tickets opened after it out")


def scope_for(path: str) -> str:
    if path.startswith("/api/v2/incremental"):
        return "read (the incremental export needs an admin's credentials)"
    if path.startswith("/api/v2/users"):
        return "users:read"
    return "tickets:read"


def base_url(subdomain: str | None, override: str | None) -> str:
    if override:
        return override
    if not subdomain:
        raise UsageError("give --subdomain (ACME for acme.zendesk.com) or --base-url")
    if "." in subdomain or "/" in subdomain:
        raise UsageError(f"--subdomain {subdomain!r} should be only the account's name",
                         hint="for https://acme.zendesk.com write --subdomain acme")
    return f"https://{subdomain}.zendesk.com"


def credentials() -> tuple[dict[str, str], str]:
    """The Authorization header and the names of the variables it came from."""
    import os

    if os.environ.get(OAUTH_ENV, "").strip():
        return {"Authorization": f"Bearer {read_secret(OAUTH_ENV, 'an OAuth token')}"}, OAUTH_ENV
    if not os.environ.get(API_TOKEN_ENV, "").strip():
        raise UsageError(f"no Zendesk credentials: set {EMAIL_ENV} and {API_TOKEN_ENV} "
                         f"(an API token) or {OAUTH_ENV}",
                         hint="they are read from the environment only")
    email = read_secret(EMAIL_ENV, "the email of the admin the API token belongs to")
    token = read_secret(API_TOKEN_ENV, "a Zendesk API token")
    basic = base64.b64encode(f"{email}/token:{token}".encode()).decode()
    remember_secret(basic)
    return {"Authorization": f"Basic {basic}"}, f"{EMAIL_ENV}/{API_TOKEN_ENV}"


def pull(options: PullOptions, *, subdomain: str | None = None) -> dict[str, Any]:
    """Pull the window into options.out; returns the manifest's body."""
    headers, names = credentials()
    fingerprint = {"vendor": "zendesk", "window": options.window.label(),
                   "base_url": options.base_url, "max_tickets": options.max_items}
    export = ExportDir(Path(options.out), fingerprint, now_iso())
    resumed = export.resumed
    client = ApiClient(options.base_url, Vendor(
        "Zendesk", names, scope_for,
        f"no Zendesk account answers at {options.base_url}: check --subdomain"),
        headers=headers, timeout=options.timeout, max_attempts=options.max_attempts,
        concurrency=options.concurrency)
    try:
        me = client.get("/api/v2/users/me.json") or {}
        if not (me.get("user") or {}).get("id"):  # Zendesk answers bad credentials as anonymous
            raise ApiError(f"Zendesk API: the credentials in {names} were not accepted "
                           "(signed in as an anonymous user)",
                           hint=f"set {names} to a current token; its value is never shown")
        ids = _tickets(client, export, options)
        _comments(client, export, options, ids)
        _users(client, export, options)
    finally:
        client.close()
    counts = {"found": len(ids), "fetched": len(ids),
              "comments": sum(f.records for f in export.phase("comments").files),
              "users": export.phase("users").position, "incomplete": 0}
    return finish_pull(
        export, client, options, vendor="zendesk", api_version="v2", why=WINDOW_WHY,
        resumed=resumed, max_tickets=options.max_items, counts=counts, incomplete=[])


def _time(value: object) -> float | None:
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def in_window(ticket: dict, window: Window) -> bool:
    created, updated = _time(ticket.get("created_at")), _time(ticket.get("updated_at"))
    return (created is not None and updated is not None
            and updated >= window.start and created < window.end)


def _tickets(client: ApiClient, export: ExportDir, options: PullOptions) -> list[str]:
    """The incremental export, tickets and metric sets written as they come. An interrupted
    listing starts again (its cursor may have expired)."""
    if export.phase("tickets").done:
        return export.state.listing
    export.reset_phase("tickets")
    tickets = export.writer("tickets", "tickets", max_bytes=options.max_bytes,
                            checkpoint_every=1 << 30)
    metrics = export.writer("tickets", "ticket_metrics", max_bytes=options.max_bytes,
                            checkpoint_every=1 << 30)
    progress = Progress("zendesk: listing tickets", quiet=options.quiet)
    ids: list[str] = []
    seen: set[str] = set()
    for page in export_pages(client, options.window):
        kept = [t for t in page.get("tickets") or []
                if in_window(t, options.window) and str(t.get("id")) not in seen]
        if options.max_items is not None:
            kept = kept[:max(0, options.max_items - len(ids))]
        new = {str(t["id"]) for t in kept}
        seen |= new
        ids += [str(t["id"]) for t in kept]
        if kept:
            tickets.write({"tickets": kept})
            tickets.commit(len(kept))  # rotated by size only: the listing is redone if cut
            sets = [m for m in page.get("metric_sets") or [] if str(m.get("ticket_id")) in new]
            if sets:
                metrics.write({"ticket_metrics": sets})
                metrics.commit(len(sets))
        progress.advance(len(kept))
        if options.max_items is not None and len(ids) >= options.max_items:
            break
    progress.finish()
    if not ids:
        raise ApiError(f"Zendesk: no ticket was updated between {options.window.label()} (UTC)",
                       hint="an empty month: check --from/--to and --subdomain")
    tickets.close()
    metrics.close()
    phase = export.phase("tickets")
    export.state.listing, phase.done = ids, True
    export.save()
    return ids


def export_pages(client: ApiClient, window: Window) -> Any:
    """The incremental export's pages until end_of_stream; a cursor the API returns again is
    asked for again (bounded), never followed in a loop."""
    params: dict[str, Any] = {"start_time": window.start, "include": "metric_sets",
                              "exclude_deleted": "true"}
    used: set[str] = set()
    repeats = 0
    while True:
        page = client.get(EXPORT_PATH, params) or {}
        yield page
        cursor = page.get("after_cursor")
        if page.get("end_of_stream") or not cursor:
            return
        if cursor in used:
            repeats += 1
            if repeats > MAX_CURSOR_REPEATS:
                raise ApiError(f"Zendesk API: GET {EXPORT_PATH} kept returning a cursor it had "
                               "returned before; the export would loop",
                               hint="run the same command again later")
            continue
        repeats = 0
        used.add(cursor)
        params = {"cursor": cursor, "include": "metric_sets", "exclude_deleted": "true"}


def ticket_comments(client: ApiClient, ticket_id: str) -> list[dict]:
    """Every comment of a ticket, each with its ticket_id (the API's comments have none)."""
    comments: list[dict] = []
    params: dict[str, Any] = {"page[size]": COMMENTS_PAGE_SIZE}
    seen: set[str] = set()
    while True:
        page = client.get(f"/api/v2/tickets/{ticket_id}/comments.json", params,
                          missing_ok=True)
        if page is None:  # deleted since it was listed
            return comments
        for comment in page.get("comments") or []:
            if str(comment.get("id")) not in seen:
                seen.add(str(comment.get("id")))
                comments.append({**comment, "ticket_id": int(ticket_id)})
        meta = page.get("meta") or {}
        cursor = meta.get("after_cursor")
        if not meta.get("has_more") or not cursor or cursor == params.get("page[after]"):
            return comments
        params = {"page[size]": COMMENTS_PAGE_SIZE, "page[after]": cursor}


def _comments(client: ApiClient, export: ExportDir, options: PullOptions,
              ids: list[str]) -> None:
    def keep(writer: RotatingWriter, _tid: str, comments: list[dict]) -> None:
        for comment in comments:
            writer.write(comment)

    fetch_each(export, options, ids, phase="comments", stem="ticket_comments",
               label="zendesk: tickets' comments", keep=keep,
               fetch=lambda tid: ticket_comments(client, tid))


def _users(client: ApiClient, export: ExportDir, options: PullOptions) -> None:
    phase = export.phase("users")
    if phase.done:
        return
    export.reset_phase("users")
    wanted: set[int] = set()
    for page in export.read_records("tickets"):
        for ticket in page.get("tickets") or []:
            wanted |= {ticket.get(k) for k in ("requester_id", "submitter_id", "assignee_id")}
    wanted |= {c.get("author_id") for c in export.read_records("comments")}
    ids = sorted(i for i in wanted if isinstance(i, int) and i > 0)
    batches = [ids[i:i + USERS_BATCH] for i in range(0, len(ids), USERS_BATCH)]
    writer = export.writer("users", "users", max_bytes=options.max_bytes,
                           checkpoint_every=1 << 30)
    for page in ordered_map(lambda batch: client.get(
            "/api/v2/users/show_many.json", {"ids": ",".join(map(str, batch))}) or {},
            batches, options.concurrency):
        users = page.get("users") or []
        if users:
            writer.write({"users": users})
        writer.commit(len(users))
    writer.close()
    export.phase("users").done = True
    export.save()
