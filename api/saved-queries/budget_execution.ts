/** Saved query `budget_execution` (api/saved-queries/index.ts), in the engine's SQL: what differs comes from engine/sql-dialect.ts. */
import type { EngineSql } from '../../engine/sql-dialect.ts';

export default (d: EngineSql): string => `-- 预算执行进度（按单位，对照时间进度）/ Budget execution by agency against time progress.
-- Budget = indicators (initial + adjustments) approved on or before as_of; spending = payments
-- (reversals included) paid on or before as_of; time progress = days elapsed / days in the year.
WITH p AS (
  SELECT $fiscal_year::INTEGER AS fy, $as_of::DATE AS as_of, $region::VARCHAR AS region,
         $fund_source::VARCHAR AS fund_source
), tp AS (
  SELECT *, least(1.0, greatest(0.0,
           CAST(as_of - make_date(fy, 1, 1) + 1 AS ${d.double}) / (make_date(fy, 12, 31) - make_date(fy, 1, 1) + 1))) AS time_progress
  FROM p
), budget AS (
  SELECT i.agency_code, sum(i.amount) AS budget
  FROM treasury.budget_indicators i, tp
  WHERE i.fiscal_year = tp.fy AND i.approved_date <= tp.as_of
    AND (tp.region IS NULL OR i.region_code = tp.region)
    AND (tp.fund_source IS NULL OR i.fund_source = tp.fund_source)
  GROUP BY 1
), spent AS (
  SELECT x.agency_code, sum(x.amount) AS spent, count(*) AS payments
  FROM treasury.payments x, tp
  WHERE x.fiscal_year = tp.fy AND x.pay_date <= tp.as_of
    AND (tp.region IS NULL OR x.region_code = tp.region)
    AND (tp.fund_source IS NULL OR x.fund_source = tp.fund_source)
  GROUP BY 1
), lines AS (
  SELECT coalesce(b.agency_code, s.agency_code) AS agency_code,
         coalesce(b.budget, 0)::DECIMAL(18,2) AS budget,
         coalesce(s.spent, 0)::DECIMAL(18,2) AS spent,
         coalesce(s.payments, 0) AS payments
  FROM budget b FULL OUTER JOIN spent s ON s.agency_code = b.agency_code
)
SELECT l.agency_code, a.agency_name, a.dept_code, l.budget, l.spent, l.payments,
       (l.budget - l.spent)::DECIMAL(18,2) AS remaining,
       CASE WHEN l.budget > 0 THEN ${d.roundDouble(`100 * CAST(l.spent AS ${d.double}) / CAST(l.budget AS ${d.double})`, 2)} END AS execution_pct,
       ${d.roundDouble('100 * tp.time_progress', 2)} AS time_progress_pct,
       CASE WHEN l.budget > 0 THEN ${d.roundDouble(`100 * CAST(l.spent AS ${d.double}) / CAST(l.budget AS ${d.double}) - 100 * tp.time_progress`, 2)} END AS gap_pp
FROM lines l CROSS JOIN tp
LEFT JOIN ref.agencies a ON a.agency_code = l.agency_code
ORDER BY gap_pp NULLS LAST, l.agency_code
`;
