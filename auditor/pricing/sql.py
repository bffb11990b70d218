"""Per-conversation units and cost under every plan, set-based in DuckDB.

price_scope (one row per conversation priced) -> conversation_tokens (measured or estimated)
-> price_lines (one row per plan and conversation: units, exact cost, served by the AI).

Units are taken in the order of the AI's last message (the conversation's first event when the
AI took no part), so tiers, included units and a flat plan's cap fall on the same conversations
in every run.
"""

from __future__ import annotations

import duckdb

from auditor.pricing.bands import Band, per_token_prices, served_cap
from auditor.pricing.plan import AnyCharge, PerToken
from auditor.reconcile import Period

# The facts pricing reads besides the rule sets'.
SCOPE_FACTS = frozenset({"first_event_at", "last_ai_message_at", "has_ai_message"})
ORDER_AT = "coalesce(f.last_ai_message_at, f.first_event_at)"
CHARS_PER_TOKEN = 4
COST_TYPE = "DECIMAL(38, 12)"
TOKEN_METHOD = (
    f"estimated from the message text where the export has no token columns: about "
    f"{CHARS_PER_TOKEN} characters per token; each AI message reads the conversation's "
    f"customer-visible messages before it as input (the history is resent on every turn) "
    f"plus the plan's context_tokens_per_turn, and writes its own text as output; reasoning "
    f"tokens cannot be seen in text and are estimated as 0")


def build_scope(con: duckdb.DuckDBPyConnection, facts: str, contract_verdicts: str,
                period: Period | None) -> None:
    """`price_scope`: conversations the data can judge, in the period, with the contract's
    verdict. Unjudgeable ones (table `unjudgeable`) are left out of every plan."""
    in_period = period.sql_contains(ORDER_AT) if period else "true"
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE price_scope AS
        SELECT f.conversation_id, {ORDER_AT} AS order_at,
               coalesce(f.has_ai_message, false) AS ai_involved,
               coalesce(v.counted, false) AS contract_counted
        FROM {facts} f JOIN {contract_verdicts} v USING (conversation_id)
        WHERE {in_period} AND f.conversation_id NOT IN (SELECT conversation_id FROM unjudgeable)
    """)


def build_tokens(con: duckdb.DuckDBPyConnection) -> None:
    """`conversation_tokens`: tokens per conversation in scope, measured (any token column
    set on its events) or estimated from the text (TOKEN_METHOD)."""
    ai_turn = "actor_role = 'ai_agent' AND event_type = 'message'"
    visible_chars = "CASE WHEN event_type = 'message' THEN length(coalesce(body, '')) ELSE 0 END"
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE conversation_tokens AS
        WITH messages AS (
            SELECT conversation_id, {ai_turn} AS ai_turn, length(coalesce(body, '')) AS chars,
                   tokens_in, tokens_out, tokens_reasoning,
                   coalesce(sum({visible_chars}) OVER (
                       PARTITION BY conversation_id ORDER BY created_at, event_id
                       ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS history_chars
            FROM events SEMI JOIN price_scope USING (conversation_id)
        ), counted AS (
            SELECT conversation_id, count(*) FILTER (ai_turn) AS ai_turns,
                   count(tokens_in) + count(tokens_out) + count(tokens_reasoning) > 0 AS measured,
                   coalesce(sum(tokens_in), 0) AS measured_in,
                   coalesce(sum(tokens_out), 0) AS measured_out,
                   coalesce(sum(tokens_reasoning), 0) AS measured_reasoning,
                   -- whole tokens, rounded up per AI message
                   coalesce(sum((history_chars + {CHARS_PER_TOKEN - 1}) // {CHARS_PER_TOKEN})
                            FILTER (ai_turn), 0) AS estimated_in,
                   coalesce(sum((chars + {CHARS_PER_TOKEN - 1}) // {CHARS_PER_TOKEN})
                            FILTER (ai_turn), 0) AS estimated_out
            FROM messages GROUP BY conversation_id
        )
        SELECT s.conversation_id, coalesce(c.ai_turns, 0) AS ai_turns,
               coalesce(c.measured, false) AS measured,
               coalesce(NOT c.measured AND c.ai_turns > 0, false) AS estimated,
               CAST(CASE WHEN c.measured THEN c.measured_in ELSE coalesce(c.estimated_in, 0) END
                    AS BIGINT) AS tokens_in,
               CAST(CASE WHEN c.measured THEN c.measured_out ELSE coalesce(c.estimated_out, 0) END
                    AS BIGINT) AS tokens_out,
               CAST(CASE WHEN c.measured THEN c.measured_reasoning ELSE 0 END AS BIGINT)
                   AS tokens_reasoning
        FROM price_scope s LEFT JOIN counted c USING (conversation_id)
    """)


def build_lines(con: duckdb.DuckDBPyConnection, parts: list[str]) -> None:
    """`price_lines` from one SELECT per plan (line_sql)."""
    con.execute("CREATE OR REPLACE TEMP TABLE price_lines AS " + " UNION ALL ".join(parts))


def line_sql(number: int, charge: AnyCharge | None, price_bands: list[Band] | None,
             verdicts: str | None) -> str:
    """Plan `number`'s row for every conversation in scope: p, conversation_id, units, cost
    (exact; NULL without a price), served, tokens_in, tokens_out, tokens_reasoning, estimated."""
    if charge is None:  # seats or fees only: nothing per conversation
        return (f"SELECT {number} AS p, conversation_id, CAST(0 AS BIGINT) AS units, "
                f"CAST(0 AS {COST_TYPE}) AS cost, true AS served, {_no_tokens()} FROM price_scope")
    if isinstance(charge, PerToken):
        return _token_sql(number, charge)
    return _banded_sql(number, _meter_sql(charge, verdicts), price_bands)


def _no_tokens() -> str:
    return ("CAST(NULL AS BIGINT) AS tokens_in, CAST(NULL AS BIGINT) AS tokens_out, "
            "CAST(NULL AS BIGINT) AS tokens_reasoning, false AS estimated")


def _meter_sql(charge: AnyCharge, verdicts: str | None) -> str:
    """conversation_id, order_at, units: what the charge counts in each conversation."""
    if verdicts is not None:  # a rule set's billing units (0 when it does not count it)
        return (f"SELECT s.conversation_id, s.order_at, v.units FROM price_scope s "
                f"JOIN {verdicts} v USING (conversation_id)")
    conversation_filter = getattr(charge, "filter", None) or "all"
    counts = "ai_involved" if conversation_filter == "ai_involved" else "true"
    return (f"SELECT conversation_id, order_at, CAST(CASE WHEN {counts} THEN 1 ELSE 0 END "
            f"AS BIGINT) AS units FROM price_scope")


def _banded_sql(number: int, meter: str, price_bands: list[Band] | None) -> str:
    """Each conversation covers units (upto - units, upto] of the month; its cost is what
    those units cost in every band they overlap."""
    cap = served_cap(price_bands)
    served = f"(upto - units) < {cap}" if cap is not None else "true"
    if not price_bands:
        cost = f"CAST(NULL AS {COST_TYPE})"
        bands = "SELECT 0 AS lo, CAST(NULL AS BIGINT) AS hi, CAST(0 AS DECIMAL(18, 6)) AS price"
    else:
        cost = (f"CAST(sum(greatest(0, least(upto, coalesce(hi, upto)) - greatest(upto - units, "
                f"lo)) * price) AS {COST_TYPE})")
        bands = " UNION ALL ".join(
            f"SELECT {b.lo} AS lo, CAST({b.hi if b.hi is not None else 'NULL'} AS BIGINT) AS hi, "
            f"CAST('{b.price}' AS DECIMAL(18, 6)) AS price" for b in price_bands)
    return f"""
        SELECT {number} AS p, conversation_id, any_value(units) AS units, {cost} AS cost,
               any_value({served}) AS served, {_no_tokens()}
        FROM (SELECT conversation_id, units, CAST(sum(units) OVER (
                  ORDER BY order_at, conversation_id ROWS UNBOUNDED PRECEDING) AS BIGINT) AS upto
              FROM ({meter}))
        CROSS JOIN ({bands})
        GROUP BY conversation_id
    """


def _token_sql(number: int, charge: PerToken) -> str:
    tokens_in = (f"tokens_in + CASE WHEN estimated THEN {charge.context_tokens_per_turn} "
                 f"* ai_turns ELSE 0 END")
    prices = per_token_prices(charge)
    if prices is None:
        cost = f"CAST(NULL AS {COST_TYPE})"
    else:
        cost = " + ".join(f"CAST({column} AS DECIMAL(38, 0)) * CAST('{price}' AS DECIMAL(18, 12))"
                          for column, price in zip(("t_in", "tokens_out", "tokens_reasoning"),
                                                   prices, strict=True))
    return f"""
        SELECT {number} AS p, conversation_id, t_in + tokens_out + tokens_reasoning AS units,
               CAST({cost} AS {COST_TYPE}) AS cost, true AS served,
               t_in AS tokens_in, tokens_out, tokens_reasoning, estimated
        FROM (SELECT *, CAST({tokens_in} AS BIGINT) AS t_in FROM conversation_tokens)
    """


def plan_figures(con: duckdb.DuckDBPyConnection) -> dict[int, tuple]:
    """Per plan number: (units, exact cost, counted conversations, served contract
    resolutions, units of contract-resolved conversations, any tokens estimated)."""
    rows = con.execute("""
        SELECT l.p, coalesce(sum(l.units), 0), sum(l.cost), count(*) FILTER (l.units > 0),
               count(*) FILTER (s.contract_counted AND l.served),
               coalesce(sum(l.units) FILTER (s.contract_counted), 0), bool_or(l.estimated)
        FROM price_lines l JOIN price_scope s USING (conversation_id)
        GROUP BY l.p ORDER BY l.p
    """).fetchall()
    return {int(r[0]): tuple(r[1:]) for r in rows}


# Exact per-conversation costs in price.csv: cents when they are whole cents, else every digit
# the cost has (token costs are fractions of a cent), never rounded.
EXACT_MONEY = ("CASE WHEN {x} = round({x}, 2) THEN CAST(CAST({x} AS DECIMAL(38, 2)) AS VARCHAR) "
               "ELSE rtrim(CAST({x} AS VARCHAR), '0') END")


def csv_query(plans: list[tuple[int, str, bool]]) -> str:
    """price.csv: one row per conversation; per plan (number, id, per-token) its units and
    exact cost, and a per-token plan's tokens."""
    columns = []
    for number, plan_id, per_token in plans:
        pick = f"FILTER (l.p = {number})"
        columns.append(f"any_value(l.units) {pick} AS \"{plan_id}.units\"")
        columns.append(EXACT_MONEY.format(x=f"any_value(l.cost) {pick}")
                       + f" AS \"{plan_id}.cost\"")
        if per_token:
            columns += [f"any_value(l.{c}) {pick} AS \"{plan_id}.{c}\""
                        for c in ("tokens_in", "tokens_out", "tokens_reasoning")]
    return (f"SELECT s.conversation_id, s.ai_involved, s.contract_counted AS contract_resolution, "
            f"any_value(t.estimated) AS tokens_estimated, {', '.join(columns)} "
            f"FROM price_scope s JOIN price_lines l USING (conversation_id) "
            f"JOIN conversation_tokens t USING (conversation_id) "
            f"GROUP BY ALL ORDER BY s.conversation_id")
