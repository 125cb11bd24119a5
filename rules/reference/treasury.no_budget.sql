-- treasury.no_budget 无预算支出 (high)
-- A payment (paid on or before as-of) with no indicator_id, or whose indicator_id matches no
-- indicator (not found among the indicators approved on or before as-of, in any fiscal year,
-- or found but belonging to another agency: rules/CONVENTIONS.md), or on a budget line whose
-- budget (sum of its indicators approved on or before as-of) is 0.
-- Entity: payment; period: pay_date. Measure: the line's budget (NULL when it has none).
WITH params AS (SELECT CAST($as_of AS DATE) AS as_of),
ind AS (
  SELECT i.* FROM treasury.budget_indicators i, params WHERE i.approved_date <= as_of
),
line AS (
  SELECT fiscal_year, agency_code, func_code, econ_code, sum(amount) AS budget
  FROM ind GROUP BY ALL
)
SELECT 'treasury.no_budget' AS rule_id,
       'payment' AS entity_type,
       p.payment_id AS entity_id,
       p.pay_date AS period_start,
       p.pay_date AS period_end,
       p.fiscal_year,
       'high' AS severity,
       CAST(l.budget AS DOUBLE) AS measure_value,
       CAST(NULL AS DOUBLE) AS threshold,
       p.amount,
       [p.payment_id] AS evidence_keys
FROM treasury.payments p
CROSS JOIN params
LEFT JOIN ind i ON i.indicator_id = nullif(trim(p.indicator_id), '')
LEFT JOIN line l
  ON l.fiscal_year = p.fiscal_year AND l.agency_code = p.agency_code
 AND l.func_code = p.func_code AND l.econ_code = p.econ_code
WHERE p.pay_date <= as_of
  AND (nullif(trim(p.indicator_id), '') IS NULL
       OR i.indicator_id IS NULL
       OR i.agency_code <> p.agency_code
       OR coalesce(l.budget, 0) = 0)
