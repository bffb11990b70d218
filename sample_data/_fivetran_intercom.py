"""The October Intercom month as Fivetran's Intercom connector tables (CSV, gzip).

Reads intercom_2026-10.jsonl.gz (the REST API objects) and writes what Fivetran would land for
them: conversation_history (with the flattened ai_agent_* and channel_initial columns of the
connector's newer schema), conversation_part_history, conversation_contact_history,
contact_history, admin and team, one current row per id (`_fivetran_active` true). Columns
follow fivetran/dbt_intercom's seeds (docs/fivetran-intercom-mapping.md). What the tables
cannot carry is left out, as Fivetran leaves it: the parts' from_ai_agent / is_ai_answer flags,
quick reply options, the rating's contact. Same input, same bytes (gzip mtime 0).
"""

from __future__ import annotations

import csv
import gzip
import io
import json
from collections.abc import Iterable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

SYNCED = "2026-11-01 06:00:00.000"
CONVERSATION_COLUMNS = (
    "id", "updated_at", "_fivetran_synced", "created_at", "state", "source_id", "source_type",
    "source_delivered_as", "source_author_type", "source_author_id", "source_subject",
    "source_body", "conversation_rating_value", "conversation_rating_remark",
    "conversation_rating_created_at", "channel_initial", "ai_agent_participated",
    "ai_agent_source_type", "ai_agent_resolution_state", "ai_agent_last_answer_type",
    "ai_agent_rating", "ai_agent_rating_remark", "ai_agent_created_at", "ai_agent_updated_at",
    "_fivetran_start", "_fivetran_end", "_fivetran_active")
PART_COLUMNS = (
    "id", "updated_at", "_fivetran_synced", "assigned_to_id", "assigned_to_type", "author_id",
    "author_type", "conversation_id", "conversation_updated_at", "created_at", "notified_at",
    "part_type", "body", "_fivetran_start", "_fivetran_end", "_fivetran_active")
CONTACT_LINK_COLUMNS = ("contact_id", "conversation_id", "conversation_updated_at",
                        "_fivetran_synced", "_fivetran_start", "_fivetran_end", "_fivetran_active")
CONTACT_COLUMNS = ("id", "updated_at", "_fivetran_active", "_fivetran_synced", "created_at",
                   "role", "name", "email")
ADMIN_COLUMNS = ("id", "_fivetran_deleted", "_fivetran_synced", "job_title", "email", "name")
TEAM_COLUMNS = ("id", "name", "_fivetran_deleted", "_fivetran_synced")
TEAMS = (("4728101", "Support"), ("4728102", "Billing"))
END_OF_TIME = "9999-12-31 23:59:59"


def ts(value: Any) -> str:
    """Unix seconds -> Fivetran's UTC timestamp text; empty for none."""
    if value is None or value == "":
        return ""
    return datetime.fromtimestamp(int(value), timezone.utc).strftime("%Y-%m-%d %H:%M:%S")


def text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _conversation_row(c: dict) -> list[str]:
    source, ai = c.get("source") or {}, c.get("ai_agent") or {}
    rating = c.get("conversation_rating") or {}
    author = source.get("author") or {}
    updated = ts(c["updated_at"])
    return [text(v) for v in (
        c["id"], updated, SYNCED, ts(c["created_at"]), c.get("state"), source.get("id"),
        source.get("type"), source.get("delivered_as"), author.get("type"), author.get("id"),
        source.get("subject"), source.get("body"), rating.get("rating"), rating.get("remark"),
        ts(rating.get("created_at")), (c.get("channel") or {}).get("initial"),
        c.get("ai_agent_participated"), ai.get("source_type"), ai.get("resolution_state"),
        ai.get("last_answer_type"), ai.get("rating"), ai.get("rating_remark"),
        ts(ai.get("created_at")), ts(ai.get("updated_at")), updated, END_OF_TIME, True)]


def _part_rows(c: dict) -> Iterable[list[str]]:
    for p in (c.get("conversation_parts") or {}).get("conversation_parts") or []:
        author, assigned = p.get("author") or {}, p.get("assigned_to") or {}
        updated = ts(p.get("updated_at") or p["created_at"])
        yield [text(v) for v in (
            p["id"], updated, SYNCED, assigned.get("id"), assigned.get("type"), author.get("id"),
            author.get("type"), c["id"], ts(c["updated_at"]), ts(p["created_at"]),
            ts(p.get("notified_at")), p.get("part_type"), p.get("body"), updated, END_OF_TIME,
            True)]


def _write(path: Path, header: tuple[str, ...], rows: Iterable[list[str]]) -> int:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    count = 0
    for row in rows:
        writer.writerow(row)
        count += 1
    data = buffer.getvalue().encode("utf-8")
    if path.suffix == ".gz":
        with open(path, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0,
                                                    filename="") as out:
            out.write(data)
    else:
        path.write_bytes(data)
    return count


def write_tables(export: Path, out: Path) -> str:
    """Write the tables for the conversations in `export` (JSONL, gzip) into `out`."""
    with gzip.open(export, "rt", encoding="utf-8") as f:
        conversations = [json.loads(line) for line in f if line.strip()]
    out.mkdir(parents=True, exist_ok=True)
    contacts: dict[str, list[str]] = {}
    admins: dict[str, list[str]] = {}
    links = []
    for c in conversations:
        for contact in (c.get("contacts") or {}).get("contacts") or []:
            links.append([contact["id"], c["id"], ts(c["updated_at"]), SYNCED,
                          ts(c["updated_at"]), END_OF_TIME, "true"])
        for author in [(c.get("source") or {}).get("author") or {}] + [
                p.get("author") or {} for p in
                (c.get("conversation_parts") or {}).get("conversation_parts") or []]:
            if author.get("type") in ("user", "lead") and author["id"] not in contacts:
                contacts[author["id"]] = [text(v) for v in (
                    author["id"], ts(c["created_at"]), True, SYNCED, ts(c["created_at"]),
                    author["type"], author.get("name"), author.get("email"))]
            elif author.get("type") in ("admin", "bot") and author["id"] not in admins:
                admins[author["id"]] = [text(v) for v in (
                    author["id"], False, SYNCED, "", author.get("email"), author.get("name"))]
    counts = {
        "conversation_history.csv.gz": _write(out / "conversation_history.csv.gz",
                                              CONVERSATION_COLUMNS,
                                              (_conversation_row(c) for c in conversations)),
        "conversation_part_history.csv.gz": _write(
            out / "conversation_part_history.csv.gz", PART_COLUMNS,
            (row for c in conversations for row in _part_rows(c))),
        "conversation_contact_history.csv.gz": _write(
            out / "conversation_contact_history.csv.gz", CONTACT_LINK_COLUMNS, links),
        "contact_history.csv.gz": _write(out / "contact_history.csv.gz", CONTACT_COLUMNS,
                                         (contacts[k] for k in sorted(contacts))),
        "admin.csv": _write(out / "admin.csv", ADMIN_COLUMNS, (admins[k] for k in sorted(admins))),
        "team.csv": _write(out / "team.csv", TEAM_COLUMNS,
                           ([i, n, "false", SYNCED] for i, n in TEAMS)),
    }
    return ", ".join(f"{name} {n:,} rows" for name, n in counts.items())
