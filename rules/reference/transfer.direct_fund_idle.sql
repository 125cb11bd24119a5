-- transfer.direct_fund_idle 直达资金支付缓慢 (medium)
-- A direct-fund transfer with < 50 % of its amount disbursed 90 days after issued_date
-- (disbursements paid on or before issued_date + 90). Judged only once issued_date + 90 <= as-of.
-- Entity: transfer; period: issued_date .. issued_date + 90.
WITH params AS (SELECT CAST($as_of AS DATE) AS as_of),
judged AS (
  SELECT g.*, g.issued_date + 90 AS day90
  FROM transfers.grants g, params
  WHERE g.direct_fund AND g.issued_date + 90 <= as_of
),
paid AS (
  SELECT j.transfer_id, coalesce(sum(d.amount), 0) AS paid,
         list(d.disbursement_id ORDER BY d.disbursement_id) FILTER (WHERE d.disbursement_id IS NOT NULL) AS ids
  FROM judged j
  LEFT JOIN transfers.disbursements d ON d.transfer_id = j.transfer_id AND d.pay_date <= j.day90
  GROUP BY j.transfer_id
)
SELECT 'transfer.direct_fund_idle' AS rule_id,
       'transfer' AS entity_type,
       j.transfer_id AS entity_id,
       j.issued_date AS period_start,
       j.day90 AS period_end,
       j.fiscal_year,
       'medium' AS severity,
       100 * CAST(p.paid AS DOUBLE) / CAST(j.amount AS DOUBLE) AS measure_value,
       50.0 AS threshold,
       CAST(j.amount - p.paid AS DECIMAL(18, 2)) AS amount,
       list_concat([j.transfer_id], coalesce(p.ids, [])) AS evidence_keys
FROM judged j
JOIN paid p USING (transfer_id)
WHERE p.paid * 2 < j.amount
