-- treasury.benford 首位数字偏离本福特定律 (low)
-- Per agency and fiscal year with >= 1,000 positive payments of at least 10 yuan (paid on or
-- before as-of): MAD = mean over d = 1..9 of |observed share of first digit d - log10(1 + 1/d)|;
-- flag when MAD > 0.015 (Nigrini: 0.006 / 0.012 / 0.015 close / acceptable / marginal).
-- Entity: agency; period: the fiscal year. Evidence: the agency code (the payments are thousands).
WITH params AS (SELECT CAST($as_of AS DATE) AS as_of),
base AS (
  SELECT agency_code, fiscal_year,
         CAST(left(CAST(CAST(floor(amount) AS BIGINT) AS VARCHAR), 1) AS INTEGER) AS d
  FROM treasury.payments, params
  WHERE pay_date <= as_of AND amount >= 10
),
digit_counts AS (
  SELECT agency_code, fiscal_year, d, count(*) AS c FROM base GROUP BY ALL
),
totals AS (
  SELECT agency_code, fiscal_year, sum(c) AS n FROM digit_counts GROUP BY ALL HAVING sum(c) >= 1000
),
deviation AS (
  SELECT t.agency_code, t.fiscal_year, t.n, k.d, coalesce(dc.c, 0) AS c
  FROM totals t
  CROSS JOIN (SELECT unnest(range(1, 10)) AS d) k
  LEFT JOIN digit_counts dc ON dc.agency_code = t.agency_code AND dc.fiscal_year = t.fiscal_year AND dc.d = k.d
),
mad AS (
  SELECT agency_code, fiscal_year, n, avg(abs(c / n - log10(1 + 1 / d))) AS mad
  FROM deviation GROUP BY ALL
)
SELECT 'treasury.benford' AS rule_id,
       'agency' AS entity_type,
       agency_code AS entity_id,
       make_date(fiscal_year, 1, 1) AS period_start,
       make_date(fiscal_year, 12, 31) AS period_end,
       fiscal_year,
       'low' AS severity,
       mad AS measure_value,
       0.015 AS threshold,
       CAST(NULL AS DECIMAL(18, 2)) AS amount,
       [agency_code] AS evidence_keys
FROM mad
WHERE mad > 0.015
