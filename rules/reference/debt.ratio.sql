-- debt.ratio 债务率超警戒线 (medium; high above 120 %)
-- debt_balance / fiscal_capacity > 100 %. Exact decimal comparison.
-- A position row is seen when its fiscal year has begun by as-of (Jan 1 <= as-of).
-- Entity: region; period: the fiscal year.
WITH params AS (SELECT CAST($as_of AS DATE) AS as_of)
SELECT 'debt.ratio' AS rule_id,
       'region' AS entity_type,
       region_code AS entity_id,
       make_date(fiscal_year, 1, 1) AS period_start,
       make_date(fiscal_year, 12, 31) AS period_end,
       fiscal_year,
       CASE WHEN debt_balance * 100 > fiscal_capacity * 120 THEN 'high' ELSE 'medium' END AS severity,
       100 * CAST(debt_balance AS DOUBLE) / CAST(fiscal_capacity AS DOUBLE) AS measure_value,
       100.0 AS threshold,
       debt_balance - fiscal_capacity AS amount,  -- the balance above the 100% line
       [region_code || '|' || fiscal_year] AS evidence_keys
FROM debt.positions, params
WHERE make_date(fiscal_year, 1, 1) <= as_of
  AND fiscal_capacity > 0
  AND debt_balance > fiscal_capacity
