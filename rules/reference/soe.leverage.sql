-- soe.leverage 国企资产负债率过高 (medium)
-- total_liabilities / total_assets > 70 % in the enterprise's latest period. A period
-- 'YYYY-MM' is seen once its last day is on or before as-of. Exact decimal comparison.
-- Entity: enterprise; period: the first .. last day of that month.
WITH params AS (SELECT CAST($as_of AS DATE) AS as_of),
seen AS (
  SELECT f.*, CAST(f.period || '-01' AS DATE) AS month_start
  FROM assets.soe_financials f, params
  WHERE last_day(CAST(f.period || '-01' AS DATE)) <= as_of
),
latest AS (
  SELECT * FROM seen
  QUALIFY row_number() OVER (PARTITION BY enterprise_code ORDER BY month_start DESC) = 1
)
SELECT 'soe.leverage' AS rule_id,
       'enterprise' AS entity_type,
       enterprise_code AS entity_id,
       month_start AS period_start,
       last_day(month_start) AS period_end,
       year(month_start) AS fiscal_year,
       'medium' AS severity,
       100 * CAST(total_liabilities AS DOUBLE) / CAST(total_assets AS DOUBLE) AS measure_value,
       70.0 AS threshold,
       total_liabilities - total_assets * 0.70 AS amount,  -- the liabilities above the 70% line
       [enterprise_code || '|' || period] AS evidence_keys
FROM latest
WHERE total_assets > 0 AND total_liabilities * 10 > total_assets * 7
