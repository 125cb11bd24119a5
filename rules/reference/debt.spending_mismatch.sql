-- debt.spending_mismatch 专项债用途不符 (high)
-- Special-bond spending (paid on or before as-of) on a project the bond has no allocation for
-- (allocations dated on or before as-of), or project spending above its allocation; judged
-- per (bond_code, project_code).
-- Entity: bond 'bond_code|project_code' (rules/CONVENTIONS.md); period: first .. last pay_date
-- of that bond's spending on the project; fiscal year: year of the first pay_date.
WITH params AS (SELECT CAST($as_of AS DATE) AS as_of),
spent AS (
  SELECT bond_code, project_code, sum(amount) AS spent, min(pay_date) AS first_date, max(pay_date) AS last_date,
         list(spend_id ORDER BY spend_id) AS ids
  FROM debt.spending, params
  WHERE pay_date <= as_of
  GROUP BY ALL
),
allocated AS (
  SELECT bond_code, project_code, sum(amount) AS allocated, list(allocation_id ORDER BY allocation_id) AS ids
  FROM debt.allocations, params
  WHERE allocation_date <= as_of
  GROUP BY ALL
)
SELECT 'debt.spending_mismatch' AS rule_id,
       'bond' AS entity_type,
       s.bond_code || '|' || s.project_code AS entity_id,
       s.first_date AS period_start,
       s.last_date AS period_end,
       year(s.first_date) AS fiscal_year,
       'high' AS severity,
       CAST(s.spent AS DOUBLE) AS measure_value,
       CAST(coalesce(a.allocated, 0) AS DOUBLE) AS threshold,
       CAST(s.spent - coalesce(a.allocated, 0) AS DECIMAL(18, 2)) AS amount,
       list_concat(coalesce(a.ids, []), s.ids) AS evidence_keys
FROM spent s
JOIN debt.bonds b ON b.bond_code = s.bond_code AND b.bond_type = 'special'
LEFT JOIN allocated a ON a.bond_code = s.bond_code AND a.project_code = s.project_code
WHERE a.allocated IS NULL OR s.spent > a.allocated
