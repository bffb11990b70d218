-- The hand-written baseline: per-line statuses for the strict contract, straight from the files.
-- One query, no auditor code: what a data engineer would write by hand for this audit.
-- Placeholders: {events}, {conversations}, {billed}, {out}.
COPY (
WITH e AS (SELECT * FROM read_parquet({events})),
c AS (SELECT * FROM read_parquet({conversations})),
per AS (
    SELECT conversation_id,
        max(created_at) FILTER (event_type = 'message' AND actor_role = 'ai_agent') AS last_ai,
        min(created_at) AS started_at,
        count(*) FILTER (event_type = 'message' AND actor_role = 'ai_agent') AS n_ai,
        count(*) FILTER (event_type = 'message' AND actor_role = 'human_agent') AS n_human,
        count(*) FILTER (event_type = 'message' AND actor_role = 'customer') AS n_customer,
        count(*) FILTER (event_type = 'handoff') AS n_handoff,
        count(*) FILTER (event_type = 'reopen') AS n_reopen,
        min(created_at) FILTER (event_type = 'close') AS first_close,
        max(created_at) FILTER (event_type = 'message' AND actor_role = 'customer') AS last_customer,
        max(created_at) FILTER (event_type = 'message' AND actor_role = 'human_agent') AS last_human,
        -- the last customer message that is not only a thank-you (short, no '?', not asking
        -- for a person, a confirmation phrase)
        max(created_at) FILTER (event_type = 'message' AND actor_role = 'customer' AND NOT (
            length(trim(coalesce(body, ''))) <= 80 AND NOT contains(coalesce(body, ''), '?')
            AND NOT regexp_matches(lower(coalesce(body, '')), '\b(?:human|real person|a person|speak to someone|talk to someone|representative|live agent|real agent|talk to an agent|speak to an agent|speak with an agent|customer service|get more help|talk to support|someone from your team)\b')
            AND regexp_matches(lower(coalesce(body, '')), '\b(?:that helped|thanks|thank you|thx|ty|ok thanks|perfect|great|awesome|solved|that works|it worked|works now|all good|got it|yes|sure|cheers|resolved)\b'))) AS last_followup,
        bool_or(event_type = 'message' AND actor_role = 'customer' AND regexp_matches(lower(coalesce(body, '')),
            '\b(?:human|real person|a person|speak to someone|talk to someone|representative|live agent|real agent|talk to an agent|speak to an agent|speak with an agent|customer service|get more help|talk to support|someone from your team)\b')) AS asked_human,
        min(rating) AS min_rating,
        arg_min(actor_id, created_at) FILTER (event_type = 'message' AND actor_role = 'customer') AS first_customer
    FROM e GROUP BY conversation_id
),
f AS (
    SELECT per.*, coalesce(c.customer_id, per.first_customer) AS customer_id, c.vendor_state,
           coalesce(c.is_preview, false) AS is_preview
    FROM per LEFT JOIN c USING (conversation_id)
),
nxt AS (
    SELECT f.conversation_id, s.started_at AS next_at
    FROM f ASOF LEFT JOIN (SELECT customer_id, started_at FROM f) s
        ON f.customer_id = s.customer_id AND s.started_at > f.last_ai
),
verdict AS (
    SELECT f.conversation_id,
        list_concat(
            CASE WHEN n_ai = 0 THEN ['no_ai_answer'] ELSE [] END,
            CASE WHEN n_human > 0 THEN ['human_takeover'] ELSE [] END,
            CASE WHEN n_handoff > 0 OR vendor_state IN ('escalated', 'procedure_handoff') OR asked_human
                 THEN ['handoff_requested'] ELSE [] END,
            CASE WHEN last_followup > last_ai AND coalesce(last_followup > last_human, true)
                 THEN ['unanswered_followup'] ELSE [] END,
            CASE WHEN n_reopen > 0 OR last_customer > first_close THEN ['reopened'] ELSE [] END,
            CASE WHEN date_diff('second', last_ai, next_at) <= 72 * 3600 THEN ['repeat_contact'] ELSE [] END,
            CASE WHEN min_rating <= 2 OR vendor_state = 'negative_feedback' THEN ['negative_feedback'] ELSE [] END,
            CASE WHEN n_customer = 0 THEN ['no_customer_message'] ELSE [] END,
            CASE WHEN is_preview THEN ['preview'] ELSE [] END) AS reasons
    FROM f JOIN nxt USING (conversation_id)
),
b AS (
    SELECT row_number() OVER () AS line, conversation_id, CAST(billed_at AS TIMESTAMP) AS billed_at
    FROM read_csv({billed}, header = true)
),
judged AS (
    SELECT b.line, b.conversation_id, v.conversation_id IS NOT NULL AS found,
        row_number() OVER (PARTITION BY b.conversation_id ORDER BY b.line) > 1 AS dup,
        NOT (b.billed_at >= TIMESTAMP '2026-10-01' AND b.billed_at < TIMESTAMP '2026-11-01') AS outside,
        v.reasons
    FROM b LEFT JOIN verdict v USING (conversation_id)
)
SELECT line, conversation_id,
    CASE WHEN dup OR outside OR (found AND len(reasons) > 0) THEN 'disputed'
         WHEN NOT found THEN 'unverifiable' ELSE 'confirmed' END AS status
FROM judged ORDER BY line
) TO {out} (FORMAT parquet)
