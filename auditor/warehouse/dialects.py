"""The engine-specific pieces of the portable audit SQL, one named macro each, per dialect.

Everything else in auditor/warehouse/ is written once in a portable subset (auditor/warehouse/
lint.py) and rendered by sqlglot. Where engines disagree on meaning (not only on spelling), the
macro pins one definition, and the local DuckDB fast form (auditor/facts_duckdb.py) uses the
same one:

- AUD_EPOCH_US(ts): microseconds since 1970-01-01 of a UTC timestamp.
- AUD_SECONDS(a, b): whole seconds from a to b, as DuckDB's date_diff('second') counts them:
  the difference of floor(epoch seconds), so .9 s -> 1.1 s is 1 (Spark's DATEDIFF would say 0).
- AUD_FLOOR_DIV(a, b): integer division of non-negative integers.
- AUD_MATCH(text, 'list'): phrase matching, ASCII case-insensitive, each phrase between
  non-word characters (or the text's ends); a word character is [0-9A-Za-z_]. Unicode case
  folding differs per engine (the Kelvin sign, the long s), so no engine folds beyond ASCII.
- AUD_LEAST(...), AUD_GREATEST(...): ignoring NULLs (BigQuery's and Snowflake's do not).
- AUD_LOWER(text): ASCII lower case, for the same reason as AUD_MATCH.
- AUD_TEXT(text): byte-order (code point) comparison for min() and ORDER BY tie-breaks
  (PostgreSQL compares with the database's collation otherwise).
- AUD_CONTAINS(haystack, needle): a substring test without LIKE's wildcards.
- AUD_STRIP_TAGS(html): every HTML tag, with the whitespace around it, replaced by one space
  (the first step of the Intercom adapter's HTML -> text; entities are decoded with REPLACE).
Statements, not expressions: the preamble pinning the session to UTC, and table creation.
"""

from __future__ import annotations

import string
from collections.abc import Mapping, Sequence

import sqlglot
from sqlglot import exp

DIALECTS: tuple[str, ...] = ("duckdb", "postgres", "spark", "snowflake", "bigquery")
# Dialects the test suite runs the SQL on; the others are generated and parsed back only.
EXECUTED_DIALECTS: tuple[str, ...] = ("duckdb", "postgres", "spark")
MACROS: tuple[str, ...] = ("AUD_EPOCH_US", "AUD_SECONDS", "AUD_FLOOR_DIV", "AUD_MATCH",
                           "AUD_LEAST", "AUD_GREATEST", "AUD_LOWER", "AUD_TEXT", "AUD_CONTAINS",
                           "AUD_STRIP_TAGS")

WORD_CHARACTERS = string.digits + string.ascii_uppercase + string.ascii_lowercase + "_"
# Characters that mean something in a regular expression of one engine or another: escaped.
REGEX_SPECIAL = set(".^$*+?()[]{}|\\")
# AUD_STRIP_TAGS: a tag and the whitespace around it (the characters RE2's \s means, spelled out:
# PostgreSQL's and Java's \s differ on \v and, by locale, on other spaces).
TAG_PATTERN = r"[\t\n\f\r ]*<[^>]*>[\t\n\f\r ]*"

# Per dialect, macro -> template in that dialect; __a0, __a1 stand for the arguments.
TEMPLATES: dict[str, dict[str, str]] = {
    "duckdb": {
        "AUD_EPOCH_US": "epoch_us(__a0)",
        "AUD_SECONDS": "date_diff('second', __a0, __a1)",
        "AUD_FLOOR_DIV": "__a0 // __a1",
        "AUD_MATCH": "regexp_matches(__a0, __p)",
        "AUD_TEXT": "__a0",
        "AUD_CONTAINS": "strpos(__a0, __a1) > 0",
        "AUD_STRIP_TAGS": "regexp_replace(__a0, __p, ' ', 'g')",
    },
    "postgres": {
        # EXTRACT(EPOCH ...) is an exact numeric since PostgreSQL 14.
        "AUD_EPOCH_US": "CAST(EXTRACT(EPOCH FROM __a0) * 1000000 AS BIGINT)",
        "AUD_SECONDS": "CAST(FLOOR(EXTRACT(EPOCH FROM __a1)) - FLOOR(EXTRACT(EPOCH FROM __a0)) "
                       "AS BIGINT)",
        "AUD_FLOOR_DIV": "__a0 / __a1",
        "AUD_MATCH": "__a0 ~ __p",
        "AUD_TEXT": '__a0 COLLATE "C"',
        "AUD_CONTAINS": "STRPOS(__a0, __a1) > 0",
        "AUD_STRIP_TAGS": "REGEXP_REPLACE(__a0, __p, ' ', 'g')",
    },
    "spark": {
        # Timestamps are TIMESTAMP (not _NTZ) after the source stage; the session is UTC.
        "AUD_EPOCH_US": "UNIX_MICROS(__a0)",
        "AUD_SECONDS": "UNIX_SECONDS(__a1) - UNIX_SECONDS(__a0)",
        "AUD_FLOOR_DIV": "__a0 DIV __a1",
        "AUD_MATCH": "__a0 RLIKE __p",
        "AUD_TEXT": "__a0",  # UTF8_BINARY, the default collation, is byte order
        "AUD_CONTAINS": "LOCATE(__a1, __a0) > 0",
        "AUD_STRIP_TAGS": "REGEXP_REPLACE(__a0, __p, ' ')",
    },
    "snowflake": {
        "AUD_EPOCH_US": "DATE_PART(EPOCH_MICROSECOND, __a0)",
        "AUD_SECONDS": "DATEDIFF(SECOND, __a0, __a1)",  # counts second boundaries, as DuckDB
        "AUD_FLOOR_DIV": "FLOOR(__a0 / __a1)",
        "AUD_MATCH": "REGEXP_INSTR(__a0, __p) > 0",  # REGEXP_LIKE would anchor the pattern
        "AUD_TEXT": "COLLATE(__a0, 'utf8')",
        "AUD_CONTAINS": "POSITION(__a1, __a0) > 0",
        "AUD_STRIP_TAGS": "REGEXP_REPLACE(__a0, __p, ' ')",
    },
    "bigquery": {
        "AUD_EPOCH_US": "UNIX_MICROS(TIMESTAMP(__a0))",
        "AUD_SECONDS": "UNIX_SECONDS(TIMESTAMP(__a1)) - UNIX_SECONDS(TIMESTAMP(__a0))",
        "AUD_FLOOR_DIV": "DIV(__a0, __a1)",
        "AUD_MATCH": "REGEXP_CONTAINS(__a0, __p)",
        "AUD_TEXT": "__a0",  # strings compare as bytes
        "AUD_CONTAINS": "STRPOS(__a0, __a1) > 0",
        "AUD_STRIP_TAGS": "REGEXP_REPLACE(__a0, __p, ' ')",
    },
}
# LEAST/GREATEST skip NULLs here; elsewhere each argument is replaced by a non-NULL one.
NULL_SKIPPING_LEAST = frozenset({"duckdb", "postgres", "spark"})

PREAMBLES: dict[str, tuple[str, ...]] = {
    "duckdb": ("SET TimeZone = 'UTC'",),
    "postgres": ("SET TimeZone = 'UTC'", "SET client_min_messages = warning"),
    # Windows and sessions are walked by a recursive CTE: one level per window or session.
    "spark": ("SET spark.sql.session.timeZone = UTC",
              "SET spark.sql.cteRecursionLevelLimit = 10000",
              "SET spark.sql.cteRecursionRowLimit = -1"),
    "snowflake": ("ALTER SESSION SET TIMEZONE = 'UTC'",),
    "bigquery": ("SET @@time_zone = 'UTC'",),
}


def preamble(dialect: str) -> list[str]:
    """Statements that pin the session before the audit runs."""
    return list(PREAMBLES[dialect])


def create_table(dialect: str, name: str, select_sql: str) -> list[str]:
    """Statements replacing table `name` with the result of `select_sql` (in a script; an
    engine connection may create tables its own way: auditor/engines/)."""
    if dialect == "postgres":
        return [f"DROP TABLE IF EXISTS {name}", f"CREATE TABLE {name} AS\n{select_sql}"]
    if dialect == "spark":
        return [f"DROP TABLE IF EXISTS {name}",
                f"CREATE TABLE {name} USING parquet AS\n{select_sql}"]
    return [f"CREATE OR REPLACE TABLE {name} AS\n{select_sql}"]


def create_view(dialect: str, name: str, select_sql: str) -> list[str]:
    """Statements replacing view `name` (the source mappings are views over the user's tables)."""
    if dialect == "postgres":  # CREATE OR REPLACE VIEW cannot change a view's columns
        return [f"DROP VIEW IF EXISTS {name}", f"CREATE VIEW {name} AS\n{select_sql}"]
    if dialect == "spark":  # a temporary view needs no catalog that can store views
        return [f"CREATE OR REPLACE TEMPORARY VIEW {name} AS\n{select_sql}"]
    return [f"CREATE OR REPLACE VIEW {name} AS\n{select_sql}"]


# --- phrase matching ---------------------------------------------------------------------

def _phrase_atom(character: str) -> str:
    if character in string.ascii_letters:
        return f"[{character.lower()}{character.upper()}]"
    if character in REGEX_SPECIAL:
        return "\\" + character
    return character


def phrase_pattern(phrases: Sequence[str]) -> str | None:
    """The regular expression AUD_MATCH uses for `phrases`; None when there are none.

    Every engine reads it the same way: capturing groups only (POSIX has no (?:), letters as
    [aA] classes instead of a case-insensitive flag, the word characters spelled out (ranges
    can depend on the collation), punctuation escaped with a backslash.
    """
    alternatives = ["".join(_phrase_atom(c) for c in p.strip()) for p in phrases if p.strip()]
    if not alternatives:
        return None
    boundary = "[^" + WORD_CHARACTERS + "]"
    return f"(^|{boundary})({'|'.join(alternatives)})($|{boundary})"


# --- rendering -----------------------------------------------------------------------------

def _template(dialect: str, macro: str) -> exp.Expression:
    return sqlglot.parse_one(TEMPLATES[dialect][macro], read=dialect)


def _fill(template: exp.Expression, args: Sequence[exp.Expression],
          pattern: str | None = None) -> exp.Expression:
    def substitute(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Column) and node.name.startswith("__a") and not node.table:
            return args[int(node.name[3:])].copy()
        if isinstance(node, exp.Column) and node.name == "__p" and pattern is not None:
            return exp.Literal.string(pattern)
        return node

    return template.copy().transform(substitute)


def _least(dialect: str, args: list[exp.Expression], greatest: bool) -> exp.Expression:
    kind = exp.Greatest if greatest else exp.Least
    if dialect in NULL_SKIPPING_LEAST or len(args) == 1:
        return kind(this=args[0].copy(), expressions=[a.copy() for a in args[1:]],
                    ignore_nulls=True)
    # Each argument, or when NULL another: NULL only when all are, never smaller than the least.
    rotated = [exp.Coalesce(this=args[i].copy(),
                            expressions=[a.copy() for j, a in enumerate(args) if j != i])
               for i in range(len(args))]
    return kind(this=rotated[0], expressions=rotated[1:], ignore_nulls=False)


def ascii_lower_sql(column: str) -> str:
    """DuckDB SQL text lower-casing ASCII letters only (AUD_LOWER), for the local ingest.

    On ASCII text (as many bytes as characters) lower() is that fold and about 30 times
    cheaper than DuckDB's translate(), which is left for text with other characters.
    """
    fold = f"translate({column}, '{string.ascii_uppercase}', '{string.ascii_lowercase}')"
    return (f"CASE WHEN strlen({column}) = length({column}) THEN lower({column}) "
            f"ELSE {fold} END")


def _ascii_lower(arg: exp.Expression) -> exp.Expression:
    return exp.Translate(this=arg.copy(), from_=exp.Literal.string(string.ascii_uppercase),
                         to=exp.Literal.string(string.ascii_lowercase))


def expand_macro(dialect: str, name: str, args: list[exp.Expression],
                 phrases: Mapping[str, Sequence[str]]) -> exp.Expression:
    """The dialect's expression for one macro call."""
    if name in ("AUD_LEAST", "AUD_GREATEST"):
        return _least(dialect, args, name == "AUD_GREATEST")
    if name == "AUD_LOWER":
        return _ascii_lower(args[0])
    if name == "AUD_MATCH":
        key = args[1]
        if not isinstance(key, exp.Literal) or key.name not in phrases:
            raise ValueError(f"AUD_MATCH names no phrase list: {key.sql()}")
        pattern = phrase_pattern(phrases[key.name])
        if pattern is None:
            return exp.false()
        return exp.Paren(this=_fill(_template(dialect, name), args[:1], pattern))
    if name == "AUD_STRIP_TAGS":
        return _fill(_template(dialect, name), args, TAG_PATTERN)
    return exp.Paren(this=_fill(_template(dialect, name), args))


def render(tree: exp.Expression, dialect: str,
           phrases: Mapping[str, Sequence[str]] | None = None) -> str:
    """SQL text of a linted portable tree for `dialect`, macros expanded."""
    return expand(tree, dialect, phrases).sql(dialect=dialect, comments=False)


def expand(tree: exp.Expression, dialect: str,
           phrases: Mapping[str, Sequence[str]] | None = None) -> exp.Expression:
    """A copy of `tree` with every macro call replaced by the dialect's expression."""
    def substitute(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Anonymous) and node.name.upper() in MACROS:
            # Arguments first: transform does not descend into a node it replaced.
            args = [a.transform(substitute) for a in node.expressions]
            return expand_macro(dialect, node.name.upper(), args, phrases or {})
        return node

    return tree.transform(substitute)
