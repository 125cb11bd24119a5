-- transfer.late_issue 转移支付下达超时 (medium)
-- issued_date - basis > limit. A pass-through (received_date set): basis received_date, limit
-- 30 days. Otherwise basis = congress_approved_date of from_region for the transfer's fiscal
-- year, limit 30 days for 'general' and 60 days for 'special'. Transfers issued on or before
-- as-of; without a basis (no session row) not judged.
-- Entity: transfer; period: basis date .. issued_date (rules/CONVENTIONS.md).
WITH params AS (SELECT CAST($as_of AS DATE) AS as_of),
t AS (
  SELECT g.*,
         coalesce(g.received_date, s.congress_approved_date) AS basis,
         CASE WHEN g.received_date IS NOT NULL OR g.category = 'general' THEN 30 ELSE 60 END AS limit_days,
         CASE WHEN g.received_date IS NULL THEN s.region_code || '|' || s.fiscal_year END AS session_key
  FROM transfers.grants g
  CROSS JOIN params
  LEFT JOIN ref.budget_sessions s ON s.region_code = g.from_region AND s.fiscal_year = g.fiscal_year
  WHERE g.issued_date <= as_of
)
SELECT 'transfer.late_issue' AS rule_id,
       'transfer' AS entity_type,
       transfer_id AS entity_id,
       basis AS period_start,
       issued_date AS period_end,
       fiscal_year,
       'medium' AS severity,
       CAST(date_diff('day', basis, issued_date) AS DOUBLE) AS measure_value,
       CAST(limit_days AS DOUBLE) AS threshold,
       amount,
       list_concat([transfer_id], CASE WHEN session_key IS NULL THEN [] ELSE [session_key] END) AS evidence_keys
FROM t
WHERE basis IS NOT NULL
  AND date_diff('day', basis, issued_date) > limit_days
