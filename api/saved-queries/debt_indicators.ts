/** Saved query `debt_indicators` (api/saved-queries/index.ts), in the engine's SQL: what differs comes from engine/sql-dialect.ts. */
import type { EngineSql } from '../../engine/sql-dialect.ts';

export default (d: EngineSql): string => {
  const pct = (num: string, den: string) => d.roundDouble(`100 * CAST(${num} AS ${d.double}) / CAST(${den} AS ${d.double})`, 2);
  return `-- 政府债务指标（按地区）/ Debt indicators by region: 债务率, 限额使用率, 利息负担率.
-- Thresholds as in DOMAIN.md: debt ratio 100% (120% high), interest burden 10%, balance ≤ limit.
WITH p AS (SELECT $fiscal_year::INTEGER AS fy, $region::VARCHAR AS region)
SELECT d.region_code, r.region_name, d.fiscal_year,
       d.debt_limit, d.debt_balance, d.fiscal_capacity, d.interest_paid, d.general_expenditure, d.new_debt,
       CASE WHEN d.fiscal_capacity > 0 THEN ${pct('d.debt_balance', 'd.fiscal_capacity')} END AS debt_ratio_pct,
       CASE WHEN d.debt_limit > 0 THEN ${pct('d.debt_balance', 'd.debt_limit')} END AS limit_usage_pct,
       CASE WHEN d.general_expenditure > 0 THEN ${pct('d.interest_paid', 'd.general_expenditure')} END AS interest_burden_pct,
       (d.debt_balance > d.debt_limit) AS over_limit
FROM debt.positions d CROSS JOIN p
LEFT JOIN ref.regions r ON r.region_code = d.region_code
WHERE (p.fy IS NULL OR d.fiscal_year = p.fy)
  AND (p.region IS NULL OR d.region_code = p.region OR r.parent_code = p.region)
ORDER BY d.fiscal_year, d.region_code
`;
};
