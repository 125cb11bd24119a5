-- debt.interest_burden 利息负担率 (medium)
-- interest_paid / general_expenditure > 10 %. Exact decimal comparison.
-- A position row is seen when its fiscal year has begun by as-of.
-- Entity: region; period: the fiscal year.
WITH params AS (SELECT CAST($as_of AS DATE) AS as_of)
SELECT 'debt.interest_burden' AS rule_id,
       'region' AS entity_type,
       region_code AS entity_id,
       make_date(fiscal_year, 1, 1) AS period_start,
       make_date(fiscal_year, 12, 31) AS period_end,
       fiscal_year,
       'medium' AS severity,
       100 * CAST(interest_paid AS DOUBLE) / CAST(general_expenditure AS DOUBLE) AS measure_value,
       10.0 AS threshold,
       interest_paid - general_expenditure * 0.10 AS amount,  -- the interest above the 10% line
       [region_code || '|' || fiscal_year] AS evidence_keys
FROM debt.positions, params
WHERE make_date(fiscal_year, 1, 1) <= as_of
  AND general_expenditure > 0
  AND interest_paid * 10 > general_expenditure
