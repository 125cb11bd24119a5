-- debt.idle_proceeds 专项债资金闲置 (medium)
-- An allocation of a special bond with < 50 % of its amount spent 180 days after the bond's
-- issue_date: spending on (bond_code, project_code) paid on or before issue_date + 180 days.
-- Judged only once issue_date + 180 <= as-of (and the allocation is dated on or before as-of).
-- Entity: allocation; period: issue_date .. issue_date + 180; fiscal year: year of issue.
WITH params AS (SELECT CAST($as_of AS DATE) AS as_of),
judged AS (
  SELECT a.*, b.issue_date, b.issue_date + 180 AS day180
  FROM debt.allocations a
  JOIN debt.bonds b USING (bond_code)
  CROSS JOIN params
  WHERE b.bond_type = 'special'
    AND a.allocation_date <= as_of
    AND b.issue_date + 180 <= as_of
),
spent AS (
  SELECT j.allocation_id, coalesce(sum(s.amount), 0) AS spent,
         list(s.spend_id ORDER BY s.spend_id) FILTER (WHERE s.spend_id IS NOT NULL) AS ids
  FROM judged j
  LEFT JOIN debt.spending s
    ON s.bond_code = j.bond_code AND s.project_code = j.project_code AND s.pay_date <= j.day180
  GROUP BY j.allocation_id
)
SELECT 'debt.idle_proceeds' AS rule_id,
       'allocation' AS entity_type,
       j.allocation_id AS entity_id,
       j.issue_date AS period_start,
       j.day180 AS period_end,
       year(j.issue_date) AS fiscal_year,
       'medium' AS severity,
       100 * CAST(s.spent AS DOUBLE) / CAST(j.amount AS DOUBLE) AS measure_value,
       50.0 AS threshold,
       CAST(j.amount - s.spent AS DECIMAL(18, 2)) AS amount,
       list_concat([j.allocation_id], coalesce(s.ids, [])) AS evidence_keys
FROM judged j
JOIN spent s USING (allocation_id)
WHERE s.spent * 2 < j.amount
