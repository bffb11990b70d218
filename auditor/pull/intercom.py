"""`auditor pull intercom`: the month's conversations with every part, as the audit reads them.

1. `GET /me` checks the token (401, 403) and the region (404) before anything else.
2. `POST /conversations/search` finds the conversations with `updated_at` on or after the first
   day and `created_at` before the end of the last day, paginating with `starting_after`. Why
   `updated_at`: a conversation created in September but reopened (and billed) in October has an
   October `updated_at`, and `created_at` alone would miss it; `updated_at` alone would miss an
   October conversation touched again since (its `updated_at` moved past the month). Search
   results have no parts, so this only lists ids (each once, in the order found).
3. `GET /conversations/{id}?display_as=plaintext` for each: the whole conversation with its parts.
   Intercom returns at most 500 parts; a conversation whose `conversation_parts.total_count` is
   above the parts returned is written as it is and listed as incomplete in manifest.json (the
   audit marks it `incomplete_export` from the same two fields, docs/intercom-mapping.md).

Contacts, admins and teams are not fetched: the conversation carries what the audit reads (the
contact id for repeat contacts, each part's author type for roles, `ai_agent` for the AI agent).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from auditor.errors import ApiError
from auditor.pull.common import (
    Progress, PullOptions, Window, fetch_each, finish_pull, now_iso, read_secret,
)
from auditor.pull.http import ApiClient, Vendor
from auditor.pull.store import ExportDir, RotatingWriter

REGIONS = {"us": "https://api.intercom.io", "eu": "https://api.eu.intercom.io",
           "au": "https://api.au.intercom.io"}
# The newest Intercom-Version the ingester reads (auditor/sources/intercom.py: 2.11 - 2.16).
DEFAULT_API_VERSION = "2.16"
TOKEN_ENV = "INTERCOM_TOKEN"
SEARCH_PAGE_SIZE = 150  # the most Intercom's search returns per page
MAX_CURSOR_REPEATS = 3
WINDOW_WHY = ("updated_at finds a conversation created before the window but reopened (and "
              "billed) in it; the created_at bound keeps conversations that started after it out")


def scope_for(path: str) -> str:
    if path.startswith(("/me", "/admins", "/teams")):
        return "Read admins"
    if path.startswith("/contacts"):
        return "Read and list users and companies"
    return "Read conversations"


def vendor(token_env: str, region: str) -> Vendor:
    others = ", ".join(f"--region {r}" for r in REGIONS if r != region)
    return Vendor("Intercom", token_env, scope_for,
                  f"a workspace hosted in another region answers 404 here: try {others} "
                  "(or check --base-url)")


def base_url(region: str, override: str | None) -> str:
    return override or REGIONS[region]


def pull(options: PullOptions, *, token_env: str = TOKEN_ENV, region: str = "us",
         api_version: str = DEFAULT_API_VERSION) -> dict[str, Any]:
    """Pull the window into options.out; returns the manifest's body."""
    token = read_secret(token_env, "an Intercom access token")
    started = now_iso()
    fingerprint = {"vendor": "intercom", "window": options.window.label(),
                   "base_url": options.base_url, "api_version": api_version,
                   "max_conversations": options.max_items}
    export = ExportDir(Path(options.out), fingerprint, started)
    resumed = export.resumed
    client = ApiClient(options.base_url, vendor(token_env, region),
                       headers={"Authorization": f"Bearer {token}",
                                "Intercom-Version": api_version},
                       timeout=options.timeout, max_attempts=options.max_attempts,
                       concurrency=options.concurrency)
    try:
        client.get("/me")
        ids = _listing(client, export, options)
        _conversations(client, export, options, ids)
    finally:
        client.close()
    phase = export.phase("conversations")
    incomplete = phase.extra.get("incomplete", [])
    missing = phase.extra.get("missing", [])
    return finish_pull(
        export, client, options, vendor="intercom", api_version=api_version, why=WINDOW_WHY,
        resumed=resumed, max_conversations=options.max_items,
        counts={"found": len(ids), "fetched": len(ids) - len(missing),
                "incomplete": len(incomplete), "missing": len(missing)},
        incomplete=incomplete, missing=missing)


def search_body(window: Window, cursor: str | None) -> dict[str, Any]:
    pagination: dict[str, Any] = {"per_page": SEARCH_PAGE_SIZE}
    if cursor:
        pagination["starting_after"] = cursor
    return {"query": {"operator": "AND", "value": [
        {"field": "updated_at", "operator": ">", "value": window.start - 1},
        {"field": "created_at", "operator": "<", "value": window.end},
    ]}, "pagination": pagination}


def in_window(conversation: dict, window: Window) -> bool:
    try:
        return (int(conversation["updated_at"]) >= window.start
                and int(conversation["created_at"]) < window.end)
    except (KeyError, TypeError, ValueError):
        return False


def _listing(client: ApiClient, export: ExportDir, options: PullOptions) -> list[str]:
    """The ids of the window's conversations, each once (from the checkpoint when listed)."""
    phase = export.phase("listing")
    if phase.done:
        return export.state.listing
    ids = list_ids(client, options.window, options.max_items,
                   Progress("intercom: listing conversations", quiet=options.quiet))
    if not ids:
        raise ApiError(f"Intercom: no conversation was updated between "
                       f"{options.window.label()} (UTC)",
                       hint="an empty month: check --from/--to and that the token belongs to "
                            "the right workspace and region")
    export.state.listing, phase.done, phase.position = ids, True, len(ids)
    export.save()
    return ids


def list_ids(client: ApiClient, window: Window, limit: int | None,
             progress: Progress) -> list[str]:
    ids: list[str] = []
    seen: set[str] = set()
    cursor: str | None = None
    used: set[str] = set()
    repeats = 0
    while True:
        page = client.post("/conversations/search", search_body(window, cursor))
        for conversation in page.get("conversations") or []:
            cid = str(conversation.get("id"))
            if cid not in seen and in_window(conversation, window):
                seen.add(cid)
                ids.append(cid)
                progress.advance()
        nxt = ((page.get("pages") or {}).get("next") or {}).get("starting_after")
        if not nxt or (limit is not None and len(ids) >= limit):
            break
        if nxt == cursor or nxt in used:  # the API gave a cursor already followed: ask again
            repeats += 1
            if repeats > MAX_CURSOR_REPEATS:
                raise ApiError("Intercom API: POST /conversations/search kept returning a "
                               "cursor it had returned before; the listing would loop",
                               hint="run the same command again later")
            continue
        repeats = 0
        if cursor:
            used.add(cursor)
        cursor = nxt
    progress.finish()
    return ids[:limit] if limit is not None else ids


def _conversations(client: ApiClient, export: ExportDir, options: PullOptions,
                   ids: list[str]) -> None:
    def keep(writer: RotatingWriter, cid: str, conversation: dict | None) -> None:
        if conversation is None:  # deleted since it was listed
            writer.note("missing", cid)
            return
        writer.write(conversation)
        if (detail := truncation(conversation)) is not None:
            writer.note("incomplete", {"id": cid, "detail": detail})

    fetch_each(export, options, ids, phase="conversations", stem="conversations",
               label="intercom: conversations", keep=keep,
               fetch=lambda cid: client.get(f"/conversations/{cid}",
                                            {"display_as": "plaintext"}, missing_ok=True))


def truncation(conversation: dict) -> str | None:
    """'3 of 512 parts' when the API returned fewer parts than total_count, else None."""
    parts = conversation.get("conversation_parts")
    if not isinstance(parts, dict):
        return "no conversation_parts"
    listed = parts.get("conversation_parts") or []
    total = parts.get("total_count")
    if isinstance(total, int) and total > len(listed):
        return f"{len(listed)} of {total} parts"
    return None
