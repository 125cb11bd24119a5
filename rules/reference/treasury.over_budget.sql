-- treasury.over_budget 超预算支出 (high)
-- Spending on a budget line (fiscal_year, agency_code, func_code, econ_code) exceeds its
-- budget. Budget = sum of all indicators on the line (initial and adjustments) approved on or
-- before as-of; spending = sum of the payments on it paid on or before as-of, reversals
-- included. A line with payments and no indicator has budget 0.
-- Entity: budget_line 'fy|agency|func|econ'; period: the fiscal year.
WITH params AS (SELECT CAST($as_of AS DATE) AS as_of),
budget AS (
  SELECT fiscal_year, agency_code, func_code, econ_code, sum(amount) AS budget,
         list(indicator_id ORDER BY indicator_id) AS ids
  FROM treasury.budget_indicators, params
  WHERE approved_date <= as_of
  GROUP BY ALL
),
spent AS (
  SELECT fiscal_year, agency_code, func_code, econ_code, sum(amount) AS spent,
         list(payment_id ORDER BY payment_id) AS ids
  FROM treasury.payments, params
  WHERE pay_date <= as_of
  GROUP BY ALL
)
SELECT 'treasury.over_budget' AS rule_id,
       'budget_line' AS entity_type,
       concat_ws('|', s.fiscal_year, s.agency_code, s.func_code, s.econ_code) AS entity_id,
       make_date(s.fiscal_year, 1, 1) AS period_start,
       make_date(s.fiscal_year, 12, 31) AS period_end,
       s.fiscal_year,
       'high' AS severity,
       CAST(s.spent AS DOUBLE) AS measure_value,
       CAST(coalesce(b.budget, 0) AS DOUBLE) AS threshold,
       CAST(s.spent - coalesce(b.budget, 0) AS DECIMAL(18, 2)) AS amount,
       list_concat(coalesce(b.ids, []), s.ids) AS evidence_keys
FROM spent s
LEFT JOIN budget b USING (fiscal_year, agency_code, func_code, econ_code)
WHERE s.spent > coalesce(b.budget, 0)
