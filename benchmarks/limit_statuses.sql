-- Copied on 2026-12-02 from this project's shared reference material
-- (../shared/benchmarks/limit_statuses.sql, outside the repository), unchanged below this note,
-- so that bench_audit.py runs from a fresh clone.
-- The performance limit for the audit: the leanest hand-written DuckDB query we know that computes,
-- from canonical events (Parquet) and a billed list (CSV with conversation_id, billed_at, amount),
-- each billed line's status and reasons under the `strict` contract (without vendor labels and
-- preview flags, which this data does not have), plus an intercom-fin-style `reproduced` flag.
-- Placeholders for Python's str.format (literal braces are doubled): {events}, {billed}, {out}.
COPY (
WITH e AS (SELECT * FROM read_parquet({events})),
f AS (
  SELECT conversation_id,
    count(*) FILTER (WHERE actor_role = 'ai_agent' AND event_type = 'message') AS n_ai,
    count(*) FILTER (WHERE actor_role = 'human_agent' AND event_type = 'message') AS n_human,
    count(*) FILTER (WHERE actor_role = 'customer' AND event_type = 'message') AS n_cust,
    count(*) FILTER (WHERE event_type = 'handoff') AS n_handoff,
    count(*) FILTER (WHERE event_type = 'reopen') AS n_reopen,
    bool_or(actor_role = 'customer' AND event_type = 'message' AND regexp_matches(lower(coalesce(body, '')),
      '\b(?:human|real person|a person|speak to someone|talk to someone|representative|live agent|real agent|talk to an agent|speak to an agent|speak with an agent|customer service|get more help|talk to support|someone from your team)\b')) AS asked_human,
    min(rating) AS min_rating,
    max(created_at) FILTER (WHERE actor_role = 'ai_agent' AND event_type = 'message') AS last_ai,
    min(created_at) FILTER (WHERE event_type = 'close') AS first_close,
    max(created_at) FILTER (WHERE actor_role = 'customer' AND event_type = 'message') AS last_cust,
    min(created_at) FILTER (WHERE actor_role = 'customer' AND event_type = 'message') AS first_cust,
    any_value(actor_id) FILTER (WHERE actor_role = 'customer') AS customer_id
  FROM e GROUP BY conversation_id
),
g AS (
  SELECT f.*,
    EXISTS (SELECT 1 FROM f f2 WHERE f2.customer_id = f.customer_id AND f2.conversation_id <> f.conversation_id
            AND f2.first_cust > f.last_ai AND f2.first_cust <= f.last_ai + INTERVAL 72 HOUR) AS repeat_contact,
    (first_close IS NOT NULL AND last_cust > first_close) AS cust_after_close
  FROM f
),
v AS (
  SELECT conversation_id,
    concat_ws(';',
      CASE WHEN n_ai = 0 THEN 'no_ai_answer' END,
      CASE WHEN n_human > 0 THEN 'human_takeover' END,
      CASE WHEN n_handoff > 0 OR asked_human THEN 'handoff_requested' END,
      CASE WHEN n_reopen > 0 OR cust_after_close THEN 'reopened' END,
      CASE WHEN repeat_contact THEN 'repeat_contact' END,
      CASE WHEN min_rating <= 2 THEN 'negative_feedback' END,
      CASE WHEN n_cust = 0 THEN 'no_customer_message' END) AS reasons,
    (n_ai > 0 AND (last_cust IS NULL OR last_cust <= last_ai) AND n_reopen = 0) AS reproduced
  FROM g
),
b AS (
  SELECT row_number() OVER () AS line, *
  FROM read_csv({billed}, header = true,
                columns = {{'conversation_id': 'VARCHAR', 'billed_at': 'TIMESTAMPTZ', 'amount': 'DOUBLE'}})
),
b2 AS (SELECT *, row_number() OVER (PARTITION BY conversation_id ORDER BY line) AS occurrence FROM b)
SELECT b2.line, b2.conversation_id, b2.billed_at, b2.amount,
  CASE WHEN v.conversation_id IS NULL THEN 'unverifiable'
       WHEN b2.occurrence > 1 OR v.reasons <> '' THEN 'disputed' ELSE 'confirmed' END AS status,
  CASE WHEN v.conversation_id IS NULL THEN 'not_in_export'
       WHEN b2.occurrence > 1 THEN 'duplicate_billing' ELSE v.reasons END AS reasons,
  coalesce(v.reproduced, false) AS reproduced
FROM b2 LEFT JOIN v USING (conversation_id)
ORDER BY b2.line
) TO {out} (FORMAT parquet)
