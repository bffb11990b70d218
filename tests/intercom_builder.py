"""Build small Intercom REST API conversations from compact specs, for end-to-end tests.

A spec is a list of (minute, who, kind, text) steps: who is customer | fin | agent | operator,
kind is comment | note | close | open | assignment | quick_reply.
"""

from __future__ import annotations

import json
from pathlib import Path

BASE = 1790848800  # 2026-10-01T10:00:00Z
AUTHORS = {
    "customer": {"type": "user", "id": "user-{customer}", "name": "Customer"},
    "fin": {"type": "bot", "id": "fin-1", "name": "Fin", "from_ai_agent": True, "is_ai_answer": True},
    "agent": {"type": "admin", "id": "admin-7", "name": "Dana Agent", "from_ai_agent": False,
              "is_ai_answer": False},
    "operator": {"type": "bot", "id": "op-1", "name": "Operator", "from_ai_agent": False,
                 "is_ai_answer": False},
}


def conversation(cid: str, steps: list[tuple[float, str, str, str]], *, customer: str = "1",
                 state: str | None = "assumed_resolution", day: int = 0, rating: int | None = None,
                 source_type: str = "workflow", delivered_as: str = "customer_initiated") -> dict:
    start = BASE + day * 86400
    first_minute, first_who, _, first_text = steps[0]
    parts = [_part(cid, n, start, step, customer) for n, step in enumerate(steps[1:], 1)]
    record = {
        "type": "conversation", "id": cid, "created_at": start + int(first_minute * 60),
        "updated_at": start + int(steps[-1][0] * 60),
        "source": {"type": "conversation", "id": f"src-{cid}", "delivered_as": delivered_as,
                   "author": _author(first_who, customer), "body": f"<p>{first_text}</p>"},
        "contacts": {"type": "contact.list", "contacts": [{"type": "contact", "id": f"user-{customer}"}]},
        "ai_agent_participated": True,
        "ai_agent": {"source_type": source_type, "resolution_state": state,
                     "last_answer_type": "ai_answer"},
        "conversation_parts": {"type": "conversation_part.list", "conversation_parts": parts,
                               "total_count": len(parts)},
    }
    if rating is not None:
        record["conversation_rating"] = {"rating": rating, "created_at": record["updated_at"] + 60}
    return record


def _author(who: str, customer: str) -> dict:
    author = dict(AUTHORS[who])
    author["id"] = author["id"].format(customer=customer)
    return author


def _part(cid: str, n: int, start: int, step: tuple[float, str, str, str], customer: str) -> dict:
    minute, who, kind, text = step
    part = {"type": "conversation_part", "id": f"{cid}-p{n}", "part_type": kind,
            "body": f"<p>{text}</p>" if text else None, "created_at": start + int(minute * 60),
            "author": _author(who, customer), "assigned_to": None}
    if kind == "assignment":
        part["assigned_to"] = {"type": "team", "id": "team-1"}
    return part


def write_jsonl(path: Path, records: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path
