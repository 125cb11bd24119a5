/** Saved query `spending_by_month` (api/saved-queries/index.ts), in the engine's SQL: what differs comes from engine/sql-dialect.ts. */
import type { EngineSql } from '../../engine/sql-dialect.ts';

export default (d: EngineSql): string => `-- 月度支出（按月汇总，含累计）/ Spending by month with the running total.
WITH p AS (
  SELECT $fiscal_year::INTEGER AS fy, $agency::VARCHAR AS agency, $region::VARCHAR AS region,
         $fund_source::VARCHAR AS fund_source
)
SELECT ${d.monthText('x.pay_date')} AS month,
       count(*) AS payments,
       sum(x.amount)::DECIMAL(18,2) AS amount,
       (sum(sum(x.amount)) OVER (ORDER BY ${d.monthText('x.pay_date')}))::DECIMAL(18,2) AS cumulative
FROM treasury.payments x, p
WHERE x.fiscal_year = p.fy
  AND (p.agency IS NULL OR x.agency_code = p.agency)
  AND (p.region IS NULL OR x.region_code = p.region)
  AND (p.fund_source IS NULL OR x.fund_source = p.fund_source)
GROUP BY 1
ORDER BY 1
`;
