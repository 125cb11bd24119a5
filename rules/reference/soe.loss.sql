-- soe.loss 国企亏损 (low)
-- net_profit (year to date) < 0 at a December period (seen once Dec 31 is on or before as-of).
-- Entity: enterprise; period: Dec 1 .. Dec 31 of that year; amount: -net_profit.
WITH params AS (SELECT CAST($as_of AS DATE) AS as_of)
SELECT 'soe.loss' AS rule_id,
       'enterprise' AS entity_type,
       enterprise_code AS entity_id,
       make_date(CAST(left(period, 4) AS INTEGER), 12, 1) AS period_start,
       make_date(CAST(left(period, 4) AS INTEGER), 12, 31) AS period_end,
       CAST(left(period, 4) AS INTEGER) AS fiscal_year,
       'low' AS severity,
       CAST(net_profit AS DOUBLE) AS measure_value,
       0.0 AS threshold,
       -net_profit AS amount,
       [enterprise_code || '|' || period] AS evidence_keys
FROM assets.soe_financials, params
WHERE right(period, 2) = '12'
  AND make_date(CAST(left(period, 4) AS INTEGER), 12, 31) <= as_of
  AND net_profit < 0
