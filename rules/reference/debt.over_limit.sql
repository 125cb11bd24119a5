-- debt.over_limit 债务余额超限额 (high)
-- debt_balance > debt_limit. A position row is seen when its fiscal year has begun by as-of.
-- Entity: region; period: the fiscal year.
WITH params AS (SELECT CAST($as_of AS DATE) AS as_of)
SELECT 'debt.over_limit' AS rule_id,
       'region' AS entity_type,
       region_code AS entity_id,
       make_date(fiscal_year, 1, 1) AS period_start,
       make_date(fiscal_year, 12, 31) AS period_end,
       fiscal_year,
       'high' AS severity,
       CAST(debt_balance AS DOUBLE) AS measure_value,
       CAST(debt_limit AS DOUBLE) AS threshold,
       CAST(debt_balance - debt_limit AS DECIMAL(18, 2)) AS amount,
       [region_code || '|' || fiscal_year] AS evidence_keys
FROM debt.positions, params
WHERE make_date(fiscal_year, 1, 1) <= as_of
  AND debt_balance > debt_limit
