-- treasury.three_public_rise 三公经费增长 (medium)
-- An agency's three-public spending (econ 30212, 30217, 30231, 31013 together, reversals
-- included) in a fiscal year exceeds its spending on them in the previous year. Judged only
-- when the previous year is in the data for that agency (it has any payment in fiscal year
-- Y-1); its three-public spending then counts as 0 when it had none.
-- Entity: agency; period: the fiscal year.
WITH params AS (SELECT CAST($as_of AS DATE) AS as_of),
pay AS (
  SELECT p.* FROM treasury.payments p, params WHERE p.pay_date <= as_of
),
tp AS (
  SELECT agency_code, fiscal_year, sum(amount) AS spent, list(payment_id ORDER BY payment_id) AS ids
  FROM pay
  WHERE econ_code IN ('30212', '30217', '30231', '31013')
  GROUP BY ALL
),
active AS (SELECT DISTINCT agency_code, fiscal_year FROM pay)
SELECT 'treasury.three_public_rise' AS rule_id,
       'agency' AS entity_type,
       cur.agency_code AS entity_id,
       make_date(cur.fiscal_year, 1, 1) AS period_start,
       make_date(cur.fiscal_year, 12, 31) AS period_end,
       cur.fiscal_year,
       'medium' AS severity,
       CAST(cur.spent AS DOUBLE) AS measure_value,
       CAST(coalesce(prev.spent, 0) AS DOUBLE) AS threshold,
       CAST(cur.spent - coalesce(prev.spent, 0) AS DECIMAL(18, 2)) AS amount,
       list_concat(coalesce(prev.ids, []), cur.ids) AS evidence_keys
FROM tp cur
JOIN active a ON a.agency_code = cur.agency_code AND a.fiscal_year = cur.fiscal_year - 1
LEFT JOIN tp prev ON prev.agency_code = cur.agency_code AND prev.fiscal_year = cur.fiscal_year - 1
WHERE cur.spent > coalesce(prev.spent, 0)
