-- treasury.execution_lag 预算执行进度偏慢 (medium)
-- At each quarter end q <= as-of: an agency's year-to-date spending / budget on fund_source
-- 'general' is more than 15 percentage points below time progress (days elapsed / days in
-- the year, days elapsed = day of year of q). Budget = general indicators of the fiscal year
-- approved on or before q, and only judged when >= 1,000,000.
-- Compared exactly in decimals: (doy/D - S/B) > 15/100  <=>  100*(doy*B - S*D) > 15*D*B.
-- Entity: agency; period: Jan 1 .. q.
WITH params AS (SELECT CAST($as_of AS DATE) AS as_of),
quarter_ends AS (
  SELECT y.fiscal_year, q.qe
  FROM (SELECT DISTINCT fiscal_year FROM treasury.budget_indicators) y,
       LATERAL (SELECT unnest([make_date(y.fiscal_year, 3, 31), make_date(y.fiscal_year, 6, 30),
                              make_date(y.fiscal_year, 9, 30), make_date(y.fiscal_year, 12, 31)]) AS qe) q,
       params p
  WHERE q.qe <= p.as_of
),
budget AS (
  SELECT q.fiscal_year, q.qe, i.agency_code, sum(i.amount) AS budget,
         list(i.indicator_id ORDER BY i.indicator_id) AS ids
  FROM quarter_ends q
  JOIN treasury.budget_indicators i
    ON i.fiscal_year = q.fiscal_year AND i.fund_source = 'general' AND i.approved_date <= q.qe
  GROUP BY ALL
),
spent_by_quarter AS (
  -- each payment counts from the first quarter end on or after its pay_date
  SELECT agency_code, fiscal_year,
         CASE WHEN pay_date <= make_date(fiscal_year, 3, 31) THEN 1
              WHEN pay_date <= make_date(fiscal_year, 6, 30) THEN 2
              WHEN pay_date <= make_date(fiscal_year, 9, 30) THEN 3
              ELSE 4 END AS q,
         sum(amount) AS spent
  FROM treasury.payments
  WHERE fund_source = 'general' AND pay_date <= make_date(fiscal_year, 12, 31)
  GROUP BY ALL
),
spent AS (
  SELECT q.fiscal_year, q.qe, s.agency_code, sum(s.spent) AS spent
  FROM quarter_ends q
  JOIN spent_by_quarter s ON s.fiscal_year = q.fiscal_year AND s.q <= quarter(q.qe)
  GROUP BY ALL
),
measured AS (
  SELECT b.*, coalesce(s.spent, 0) AS spent,
         dayofyear(b.qe) AS doy, dayofyear(make_date(b.fiscal_year, 12, 31)) AS days_in_year
  FROM budget b
  LEFT JOIN spent s USING (fiscal_year, qe, agency_code)
  WHERE b.budget >= 1000000
)
SELECT 'treasury.execution_lag' AS rule_id,
       'agency' AS entity_type,
       agency_code AS entity_id,
       make_date(fiscal_year, 1, 1) AS period_start,
       qe AS period_end,
       fiscal_year,
       'medium' AS severity,
       (doy / days_in_year - CAST(spent AS DOUBLE) / CAST(budget AS DOUBLE)) * 100 AS measure_value,
       15.0 AS threshold,
       CAST(budget - spent AS DECIMAL(18, 2)) AS amount,
       ids AS evidence_keys
FROM measured
WHERE 100 * (doy * budget - spent * days_in_year) > 15 * days_in_year * budget
