-- treasury.year_end_rush 年底突击花钱 (medium)
-- An agency's December payments exceed 25 % of its payments for the fiscal year, with a year
-- total >= 1,000,000. Payments of all fund sources, reversals included, paid on or before
-- as-of. December = pay_date in December of the fiscal year. Compared exactly: 4*dec > total.
-- Entity: agency; period: the fiscal year.
WITH params AS (SELECT CAST($as_of AS DATE) AS as_of),
y AS (
  SELECT agency_code, fiscal_year,
         sum(amount) AS total,
         coalesce(sum(amount) FILTER (WHERE month(pay_date) = 12 AND year(pay_date) = fiscal_year), 0) AS dec,
         list(payment_id ORDER BY payment_id) FILTER (WHERE month(pay_date) = 12 AND year(pay_date) = fiscal_year) AS dec_ids
  FROM treasury.payments, params
  WHERE pay_date <= as_of
  GROUP BY ALL
)
SELECT 'treasury.year_end_rush' AS rule_id,
       'agency' AS entity_type,
       agency_code AS entity_id,
       make_date(fiscal_year, 1, 1) AS period_start,
       make_date(fiscal_year, 12, 31) AS period_end,
       fiscal_year,
       'medium' AS severity,
       100 * CAST(dec AS DOUBLE) / CAST(total AS DOUBLE) AS measure_value,
       25.0 AS threshold,
       CAST(dec AS DECIMAL(18, 2)) AS amount,
       coalesce(dec_ids, []) AS evidence_keys
FROM y
WHERE total >= 1000000 AND 4 * dec > total
