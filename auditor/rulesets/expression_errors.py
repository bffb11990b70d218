"""Why an expression cannot be read or evaluated, in the terms of the person who wrote it.

The parser (sqlglot) and DuckDB describe problems in their own terms ("Required keyword: 'this'
missing for <class ...LT>", "Binder Error: No function matches ... 'lower(BIGINT)'"). A rule
author needs the operator they mistyped, the quote they did not close, where it is, and what to
write instead. So the text is first read token by token for the mistakes people make (operator
typos, unbalanced parentheses, stray quotes, query keywords), then parse errors and DuckDB's
type errors are translated; nothing of either tool's wording reaches the user untranslated.
"""

from __future__ import annotations

import re
from typing import Any, NamedTuple

from sqlglot import exp
from sqlglot.dialects.duckdb import DuckDB
from sqlglot.errors import SqlglotError
from sqlglot.tokens import Token, TokenType

OPERATOR_TOKENS = frozenset({TokenType.EQ, TokenType.NEQ, TokenType.LT, TokenType.LTE,
                             TokenType.GT, TokenType.GTE, TokenType.NULLSAFE_EQ,
                             TokenType.FARROW, TokenType.DAMP})
NEVER_ALONE = frozenset({TokenType.FARROW, TokenType.DAMP})  # '=>' and '&&' mean other things
CLAUSE_TOKENS = frozenset({TokenType.WHERE, TokenType.FROM, TokenType.GROUP_BY,
                           TokenType.ORDER_BY, TokenType.HAVING, TokenType.LIMIT,
                           TokenType.OFFSET, TokenType.QUALIFY, TokenType.JOIN, TokenType.UNION,
                           TokenType.WINDOW, TokenType.INTO})
STATEMENT_STARTS = frozenset({TokenType.SELECT, TokenType.WITH, TokenType.INSERT,
                              TokenType.UPDATE, TokenType.DELETE, TokenType.CREATE,
                              TokenType.DROP, TokenType.COMMAND, TokenType.PRAGMA,
                              TokenType.SET, TokenType.USE, TokenType.DESCRIBE})
BRACKETS = {TokenType.L_PAREN: "(", TokenType.L_BRACKET: "["}
CLOSERS = {TokenType.R_PAREN: ("(", ")"), TokenType.R_BRACKET: ("[", "]")}
LOOK_ALIKES = {"≤": "<=", "≥": ">=", "≠": "<>", "‘": "'", "’": "'", "“": "'", "”": "'",
               "`": None}
EXAMPLE = "e.g. 'has_human_message AND NOT has_handoff'"

# sqlglot node class -> the operator (and its token types) it stands for.
OPERATORS: dict[str, tuple[str, frozenset[TokenType]]] = {
    "And": ("AND", frozenset({TokenType.AND})), "Or": ("OR", frozenset({TokenType.OR})),
    "Xor": ("XOR", frozenset({TokenType.XOR})), "Not": ("NOT", frozenset({TokenType.NOT})),
    "EQ": ("=", frozenset({TokenType.EQ})), "NEQ": ("<>", frozenset({TokenType.NEQ})),
    "LT": ("<", frozenset({TokenType.LT})), "LTE": ("<=", frozenset({TokenType.LTE})),
    "GT": (">", frozenset({TokenType.GT})), "GTE": (">=", frozenset({TokenType.GTE})),
    "Like": ("LIKE", frozenset({TokenType.LIKE})),
    "ILike": ("ILIKE", frozenset({TokenType.ILIKE})),
    "In": ("IN", frozenset({TokenType.IN})), "Is": ("IS", frozenset({TokenType.IS})),
    "Between": ("BETWEEN", frozenset({TokenType.BETWEEN})),
    "Add": ("+", frozenset({TokenType.PLUS})), "Sub": ("-", frozenset({TokenType.DASH})),
    "Mul": ("*", frozenset({TokenType.STAR})), "Div": ("/", frozenset({TokenType.SLASH})),
    "IntDiv": ("//", frozenset({TokenType.DIV})),
    "Mod": ("%", frozenset({TokenType.MOD, TokenType.PERCENT})),
    "DPipe": ("||", frozenset({TokenType.DPIPE})),
}
REQUIRED = re.compile(r"Required keyword: '(\w+)' missing for <class '[\w.]*?(\w+)'>")


class Problem(NamedTuple):
    """What is wrong, what to do, and where (a 0-based offset in the text) when known."""

    problem: str
    hint: str | None = None
    offset: int | None = None


def excerpt(text: str, offset: int | None) -> str | None:
    """The line of `text` holding `offset`, with a caret under it (indented 4)."""
    if offset is None or not 0 <= offset <= len(text):
        return None
    start = text.rfind("\n", 0, offset) + 1
    end = text.find("\n", offset)
    line = text[start:end if end >= 0 else len(text)]
    before = line[:offset - start].expandtabs(4)
    return f"    {line.expandtabs(4)}\n    {' ' * len(before)}^"


# --- read token by token ---------------------------------------------------------------------

def tokens_of(text: str) -> list[Token] | None:
    """sqlglot's tokens for `text`, or None when it cannot split it (an unclosed quote)."""
    try:
        return list(DuckDB().tokenizer_class().tokenize(text))
    except SqlglotError:
        return None


def lexical_problem(text: str) -> Problem | None:
    """The mistakes seen without parsing: quotes, look-alike characters, operator typos,
    brackets."""
    tokens = tokens_of(text)
    if tokens is None:
        return unclosed_quote(text) or Problem("cannot read the expression",
                                               "check its quotes and comments")
    return _look_alike(tokens) or _operator_typo(text, tokens) or _unbalanced(tokens)


def unclosed_quote(text: str) -> Problem | None:
    """The first quote that is never closed ('' inside quotes is a quote), skipping comments."""
    i = 0
    while i < len(text):
        if text.startswith("--", i):
            i = len(text) if text.find("\n", i) < 0 else text.find("\n", i)
        elif text.startswith("/*", i):
            close = text.find("*/", i + 2)
            if close < 0:
                return Problem("a comment opened with '/*' is never closed", "end it with '*/'", i)
            i = close + 2
        elif text[i] in "'\"":
            close = _closing_quote(text, i)
            if close < 0:
                return _quote_problem(text[i], i)
            i = close + 1
        else:
            i += 1
    return None


def _closing_quote(text: str, start: int) -> int:
    quote, i = text[start], start + 1
    while i < len(text):
        if text[i] == quote:
            if text.startswith(quote * 2, i):
                i += 2
                continue
            return i
        i += 1
    return -1


def _quote_problem(quote: str, offset: int) -> Problem:
    if quote == "'":
        return Problem("this quote (') is never closed",
                       "text goes between two single quotes, e.g. vendor_state = 'escalated'",
                       offset)
    return Problem('this double quote (") is never closed',
                   "fact names need no quotes; text goes between single quotes, e.g. 'escalated'",
                   offset)


def _look_alike(tokens: list[Token]) -> Problem | None:
    for token in tokens:
        if token.token_type not in (TokenType.VAR, TokenType.UNKNOWN):
            continue
        for position, char in enumerate(token.text):
            if char not in LOOK_ALIKES:
                continue
            offset = token.start + position
            instead = LOOK_ALIKES[char]
            if instead is None:
                return Problem(f"unexpected '{char}'", "fact names need no quotes; text goes "
                               "between single quotes, e.g. 'escalated'", offset)
            if instead == "'":
                return Problem(f"'{char}' is a typographic quote",
                               "write text between straight single quotes: 'escalated'", offset)
            return Problem(f"unknown operator '{char}'", f"did you mean '{instead}'?", offset)
    return None


def _operator_typo(text: str, tokens: list[Token]) -> Problem | None:
    """Two comparison signs in a row ('=<', '<>=', '!==', '< ='), '=>' or '&&'."""
    run: list[Token] = []
    for token in [*tokens, None]:
        if token is not None and _operator_like(token) and (
                not run or not text[run[-1].end + 1:token.start].strip()):
            run.append(token)
            continue
        if len(run) > 1 or (run and run[0].token_type in NEVER_ALONE):
            typed = text[run[0].start:run[-1].end + 1]
            return Problem(f"unknown operator '{typed}'",
                           f"did you mean '{_intended(typed.replace(' ', ''))}'?", run[0].start)
        run = [token] if token is not None and _operator_like(token) else []
    return None


def _operator_like(token: Token) -> bool:
    return token.token_type in OPERATOR_TOKENS or (
        token.token_type == TokenType.NOT and token.text == "!")


def _intended(typed: str) -> str:
    """The operator a typo most likely meant: '=<' -> '<=', '!==' -> '!=', '&&' -> 'AND'."""
    if typed == "&&":
        return "AND"
    if "!" in typed:
        return "!="
    if "<" in typed and ">" in typed:
        return "<>"
    for sign in "<>":
        if sign in typed:
            return sign + "=" if "=" in typed else sign
    return "="


def _unbalanced(tokens: list[Token]) -> Problem | None:
    opened: list[Token] = []
    for token in tokens:
        if token.token_type in BRACKETS:
            opened.append(token)
        elif token.token_type in CLOSERS:
            wanted, closer = CLOSERS[token.token_type]
            if not opened:
                return Problem(f"this '{closer}' closes nothing",
                               f"remove it, or add the '{wanted}' it closes", token.start)
            if opened[-1].text != wanted:
                other = BRACKETS[opened[-1].token_type]
                return Problem(f"this '{closer}' closes a '{other}'",
                               f"close '{other}' with '{_close(other)}'", token.start)
            opened.pop()
    if opened:
        char = opened[-1].text
        return Problem(f"this '{char}' is never closed",
                       f"add a '{_close(char)}' where its part ends", opened[-1].start)
    return None


def _close(opener: str) -> str:
    return ")" if opener == "(" else "]"


def clause_keyword(text: str) -> Problem | None:
    """WHERE, FROM, ORDER BY ... outside parentheses (extract(hour FROM x) is fine), unless
    the text is a whole statement, which the parser's check names as one. Only asked once
    the text did not parse as an expression: a param may be called `window`."""
    tokens = tokens_of(text) or []
    if tokens and tokens[0].token_type in STATEMENT_STARTS:
        return None
    depth = 0
    for n, token in enumerate(tokens):
        depth += token.token_type in BRACKETS
        depth -= token.token_type in CLOSERS
        distinct_from = n > 0 and tokens[n - 1].token_type == TokenType.DISTINCT
        if depth == 0 and token.token_type in CLAUSE_TOKENS and not distinct_from:
            rest = text[token.end + 1:].strip()
            hint = (f"write only the condition: '{rest}'"
                    if token is tokens[0] and token.token_type == TokenType.WHERE and rest
                    else f"write only the true/false condition, {EXAMPLE}")
            return Problem(f"'{token.text.upper()}' does not belong in a criterion: a criterion "
                           "is the condition alone, not a query", hint, token.start)
    return None


# --- parse errors ----------------------------------------------------------------------------

def parse_problem(text: str, error: dict[str, Any]) -> Problem:
    """A sqlglot parse error (one of ParseError.errors) in the user's terms."""
    tokens = tokens_of(text) or []
    offset = _error_offset(text, error)
    description = str(error.get("description") or "")
    highlight = str(error.get("highlight") or "").strip()
    if missing := REQUIRED.search(description):
        return _missing(missing.group(1), missing.group(2), tokens, offset)
    if description.startswith("Expected END"):
        return Problem("CASE is missing its END",
                       "CASE WHEN condition THEN value ELSE value END", offset)
    if highlight == "!":
        return Problem("unknown operator '!'", "did you mean '!='? NOT negates a condition", offset)
    if highlight:
        shown = f'"{highlight}"' if "'" in highlight else f"'{highlight}'"
        return Problem(f"unexpected {shown}", "is an operator (=, <, AND, ...) or a comma "
                       "missing before it, or is it left over?", offset)
    return Problem("the expression is incomplete", f"write one true/false condition, {EXAMPLE}",
                   offset)


def _error_offset(text: str, error: dict[str, Any]) -> int | None:
    """Where the highlighted token starts: sqlglot gives the line and the column of its end."""
    line, column = error.get("line"), error.get("col")
    if not isinstance(line, int) or not isinstance(column, int):
        return None
    lines = text.split("\n")
    if not 1 <= line <= len(lines):
        return None
    start = sum(len(x) + 1 for x in lines[:line - 1])
    width = len(str(error.get("highlight") or "")) or 1
    return start + max(column - width, 0)


def _missing(key: str, node: str, tokens: list[Token], offset: int | None) -> Problem:
    """'Required keyword: <key> missing for <class ...<node>>', said as what is missing."""
    if node == "Between":
        return Problem("BETWEEN needs a low and a high value",
                       "e.g. 'min_rating BETWEEN 1 AND 2'", offset)
    if node in OPERATORS:
        symbol, kinds = OPERATORS[node]
        at = _last_token(tokens, kinds, offset)
        shown = at.text.upper() if at is not None else symbol
        where = at.start if at is not None else offset
        what = "a condition" if node in ("And", "Or", "Xor", "Not") else "a value"
        side = "before" if key == "this" and node != "Not" else "after"
        return Problem(f"'{shown}' needs {what} {side} it", None, where)
    kind = getattr(exp, node, None)
    if isinstance(kind, type) and issubclass(kind, exp.Func):
        name = _function_at(tokens, offset)
        return Problem(f"{name}(...) is missing an argument" if name else
                       "a function call is missing an argument",
                       "see 'Expressions' in docs/rulesets.md", offset)
    return Problem("the expression is incomplete here", None, offset)


def _last_token(tokens: list[Token], kinds: frozenset[TokenType],
                offset: int | None) -> Token | None:
    before = [t for t in tokens if t.token_type in kinds and (offset is None or t.start <= offset)]
    return before[-1] if before else None


def _function_at(tokens: list[Token], offset: int | None) -> str | None:
    """The name before the innermost '(' still open at `offset`."""
    opened: list[int] = []
    for n, token in enumerate(tokens):
        if offset is not None and token.start >= offset:
            break
        if token.token_type == TokenType.L_PAREN:
            opened.append(n)
        elif token.token_type == TokenType.R_PAREN and opened:
            opened.pop()
    if opened and opened[-1] > 0:
        return tokens[opened[-1] - 1].text.lower()
    return None
