/** Saved query `four_books` (api/saved-queries/index.ts), in the engine's SQL: what differs comes from engine/sql-dialect.ts. */
import type { EngineSql } from '../../engine/sql-dialect.ts';

export default (d: EngineSql): string => `-- 四本账（一般公共预算 / 政府性基金 / 国有资本经营 / 社会保险基金）/ The four books by fund_source.
WITH p AS (
  SELECT $fiscal_year::INTEGER AS fy, coalesce($as_of::DATE, make_date($fiscal_year::INTEGER, 12, 31)) AS as_of,
         $region::VARCHAR AS region
), books(fund_source, book_zh, book_en, ord) AS (
  VALUES ('general', '一般公共预算', 'general public budget', 1),
         ('gov_fund', '政府性基金预算', 'government fund budget', 2),
         ('soe_capital', '国有资本经营预算', 'state capital operation budget', 3),
         ('social_insurance', '社会保险基金预算', 'social insurance fund budget', 4)
), budget AS (
  SELECT i.fund_source, sum(i.amount) AS budget
  FROM treasury.budget_indicators i, p
  WHERE i.fiscal_year = p.fy AND i.approved_date <= p.as_of AND (p.region IS NULL OR i.region_code = p.region)
  GROUP BY 1
), spent AS (
  SELECT x.fund_source, sum(x.amount) AS spent, count(*) AS payments
  FROM treasury.payments x, p
  WHERE x.fiscal_year = p.fy AND x.pay_date <= p.as_of AND (p.region IS NULL OR x.region_code = p.region)
  GROUP BY 1
)
SELECT k.fund_source, k.book_zh, k.book_en,
       coalesce(b.budget, 0)::DECIMAL(18,2) AS budget,
       coalesce(s.spent, 0)::DECIMAL(18,2) AS spent,
       coalesce(s.payments, 0) AS payments,
       CASE WHEN coalesce(b.budget, 0) > 0 THEN ${d.roundDouble(`100 * CAST(coalesce(s.spent, 0) AS ${d.double}) / CAST(b.budget AS ${d.double})`, 2)} END AS execution_pct
FROM books k
LEFT JOIN budget b ON b.fund_source = k.fund_source
LEFT JOIN spent s ON s.fund_source = k.fund_source
ORDER BY k.ord
`;
