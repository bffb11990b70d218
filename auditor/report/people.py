"""The names and emails an export itself knows, so transcripts can be redacted by them.

The canonical event log carries no names, so they are read from the input files, by field name
and for any source alike (no vendor branches): in JSON, every flat object with a `name` next to
an `email`, or with a person's `type`/`role` (user, lead, contact, admin, agent, end-user: how
Intercom authors and Zendesk users are written); in CSV, files with `name` and `email` columns
(Fivetran's user table). Bots and AI agents (type bot) are left out, as are generic words
("Customer", "Agent", "AI") that name no one.

One set-based scan per input file, done only when an evidence pack is written.
"""

from __future__ import annotations

import re

import duckdb

from auditor.engine import sql_string
from auditor.sources.files import InputFile

PERSON_TYPES = ("user", "lead", "contact", "admin", "agent", "end-user", "end_user", "teammate",
                "person", "customer", "requester")
# Words in a display name that are a role, not a person ("Dana Agent", "Zendesk AI agent").
NOT_NAMES = frozenset({
    "ai", "agent", "bot", "system", "support", "team", "test", "customer", "user", "admin",
    "operator", "assistant", "automation", "workflow", "fin", "zendesk", "intercom", "null",
    "none", "unknown", "the", "and", "of", "de", "van", "von", "der", "la", "le", "da", "di",
    "lead", "visitor", "guest", "help", "desk", "service", "sales", "billing", "account",
})
NAME_WORD = re.compile(r"[^\W\d_][\w'’.-]*", re.UNICODE)

FLAT_OBJECT = r"\{[^{}]*\}"
NAME_THEN_EMAIL = r'"name"\s*:\s*"([^"]+)"\s*,\s*"email"\s*:\s*"([^"]+)"'


def known_people(con: duckdb.DuckDBPyConnection, files: list[InputFile]) -> None:
    """Create `known_people(name, email, bot)` from the input files; `bot` marks names the
    export gives a bot (type bot), which name no person."""
    con.execute("CREATE OR REPLACE TEMP TABLE known_people (name VARCHAR, email VARCHAR, "
                "bot BOOLEAN)")
    for file in files:
        if file.data_suffix in (".json", ".jsonl", ".ndjson"):
            _from_json(con, file)
        elif file.data_suffix in (".csv", ".tsv"):
            _from_csv(con, file)


def _from_json(con: duckdb.DuckDBPyConnection, file: InputFile) -> None:
    types = ", ".join(sql_string(t) for t in PERSON_TYPES)
    source = (f"(SELECT CAST(json AS VARCHAR) AS text FROM read_json_objects("
              f"{sql_string(str(file.path))}, format = 'auto', ignore_errors = true))")
    try:
        con.execute(f"""
            INSERT INTO known_people
            WITH objects AS (
                SELECT unnest(regexp_extract_all(text, {sql_string(FLAT_OBJECT)})) AS o
                FROM {source} WHERE contains(text, '"name"')
            )
            SELECT o ->> '$.name', o ->> '$.email', lower(o ->> '$.type') = 'bot' FROM objects
            WHERE json_valid(o) AND o ->> '$.name' IS NOT NULL
              AND (o ->> '$.email' IS NOT NULL OR lower(o ->> '$.type') IN ({types}, 'bot')
                   OR lower(o ->> '$.role') IN ({types}))
            UNION ALL
            SELECT unnest(regexp_extract_all(text, {sql_string(NAME_THEN_EMAIL)}, 1)),
                   unnest(regexp_extract_all(text, {sql_string(NAME_THEN_EMAIL)}, 2)), false
            FROM {source} WHERE contains(text, '"email"')
        """)
    except duckdb.Error:
        return  # a file the adapters read another way: its names are not needed to redact


def _from_csv(con: duckdb.DuckDBPyConnection, file: InputFile) -> None:
    try:
        columns = {c.lower(): c for c, *_ in con.execute(
            f"DESCRIBE SELECT * FROM read_csv({sql_string(str(file.path))}, all_varchar = true, "
            "sample_size = 1000)").fetchall()}
    except duckdb.Error:
        return
    if "name" not in columns:
        return
    email = f'"{columns["email"]}"' if "email" in columns else "NULL"
    con.execute(f"""INSERT INTO known_people SELECT "{columns['name']}", {email}, false
                    FROM read_csv({sql_string(str(file.path))}, all_varchar = true)
                    WHERE "{columns['name']}" IS NOT NULL""")


def name_words(con: duckdb.DuckDBPyConnection, texts: str, column: str) -> list[str]:
    """Known names (whole, and each name word) that occur in `texts.column`, set-based: the
    words of the texts joined to the words of the names."""
    rows = con.execute("SELECT name FROM known_people WHERE name IS NOT NULL GROUP BY name "
                       "HAVING NOT bool_or(coalesce(bot, false))").fetchall()
    words = {w for (name,) in rows for w in _words(name)}
    wholes = {" ".join(name.split()) for (name,) in rows if len(_words(name)) > 1}
    if not words:
        return []
    con.execute("CREATE OR REPLACE TEMP TABLE name_words AS SELECT unnest(?) AS word", [sorted(words)])
    present = {w for (w,) in con.execute(f"""
        SELECT DISTINCT word FROM (
            SELECT unnest(regexp_extract_all({column}, '[\\p{{L}}][\\p{{L}}''’.-]*')) AS word
            FROM {texts} WHERE {column} IS NOT NULL)
        SEMI JOIN name_words USING (word)""").fetchall()}
    return sorted(present | {w for w in wholes if set(_words(w)) & present})


def _words(name: str) -> list[str]:
    """The words of a display name that can identify a person: capitalised, not a role."""
    return [w.strip(".-'’") for w in NAME_WORD.findall(name)
            if w[:1].isupper() and len(w.strip(".-'’")) >= 2
            and w.strip(".-'’").lower() not in NOT_NAMES]
