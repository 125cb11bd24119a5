-- debt.service_overdue 到期未偿 (high)
-- due_date has passed (due_date < as-of) and paid_amount < principal_due + interest_due.
-- A payment counts only when its paid_date is on or before as-of (a later payment is unseen).
-- Entity: debt_service (service_id); period: due_date; fiscal year: year of due_date.
WITH params AS (SELECT CAST($as_of AS DATE) AS as_of),
seen AS (
  SELECT s.*, CASE WHEN s.paid_date <= as_of THEN coalesce(s.paid_amount, 0) ELSE 0 END AS paid
  FROM debt.service s, params
  WHERE s.due_date < as_of
)
SELECT 'debt.service_overdue' AS rule_id,
       'debt_service' AS entity_type,
       service_id AS entity_id,
       due_date AS period_start,
       due_date AS period_end,
       year(due_date) AS fiscal_year,
       'high' AS severity,
       CAST(paid AS DOUBLE) AS measure_value,
       CAST(principal_due + interest_due AS DOUBLE) AS threshold,
       CAST(principal_due + interest_due - paid AS DECIMAL(18, 2)) AS amount,
       [service_id] AS evidence_keys
FROM seen
WHERE paid < principal_due + interest_due
