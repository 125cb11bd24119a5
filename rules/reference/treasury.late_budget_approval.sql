-- treasury.late_budget_approval 预算批复超时 (medium)
-- An agency's first initial indicator of a fiscal year (kind 'initial', approved on or before
-- as-of) was approved more than 20 days after congress_approved_date of the agency's region
-- (ref.agencies.region_code) for that year. Agency-years with no initial indicator yet are
-- not judged. Entity: agency; period: the fiscal year; amount: the agency's initial indicators
-- of the year.
WITH params AS (SELECT CAST($as_of AS DATE) AS as_of),
initial AS (
  SELECT i.* FROM treasury.budget_indicators i, params
  WHERE i.kind = 'initial' AND i.approved_date <= as_of
),
first AS (
  SELECT agency_code, fiscal_year, min(approved_date) AS first_date, sum(amount) AS initial_total
  FROM initial GROUP BY ALL
)
SELECT 'treasury.late_budget_approval' AS rule_id,
       'agency' AS entity_type,
       f.agency_code AS entity_id,
       make_date(f.fiscal_year, 1, 1) AS period_start,
       make_date(f.fiscal_year, 12, 31) AS period_end,
       f.fiscal_year,
       'medium' AS severity,
       CAST(date_diff('day', s.congress_approved_date, f.first_date) AS DOUBLE) AS measure_value,
       20.0 AS threshold,
       CAST(f.initial_total AS DECIMAL(18, 2)) AS amount,
       list_concat(
         (SELECT list(i.indicator_id ORDER BY i.indicator_id) FROM initial i
           WHERE i.agency_code = f.agency_code AND i.fiscal_year = f.fiscal_year AND i.approved_date = f.first_date),
         [s.region_code || '|' || s.fiscal_year]) AS evidence_keys
FROM first f
JOIN ref.agencies a ON a.agency_code = f.agency_code
JOIN ref.budget_sessions s ON s.region_code = a.region_code AND s.fiscal_year = f.fiscal_year
CROSS JOIN params
WHERE s.congress_approved_date <= as_of
  AND date_diff('day', s.congress_approved_date, f.first_date) > 20
