-- treasury.amount_outlier 金额异常 (low)
-- A payment whose log-amount is more than 4 robust z-scores above its econ_code peer group:
-- z = (ln(amount) - median) / (1.4826 * MAD), MAD = median(|ln(amount) - median|) (the same
-- as the modified z-score 0.6745 * (x - median) / MAD). The peer group is every positive
-- payment with the same econ_code paid on or before as-of (all agencies, all years), and is
-- judged only with >= 30 payments and MAD > 0. Only the high side is flagged.
-- Entity: payment; period: pay_date.
WITH params AS (SELECT CAST($as_of AS DATE) AS as_of),
base AS (
  SELECT payment_id, econ_code, amount, pay_date, fiscal_year, ln(CAST(amount AS DOUBLE)) AS l
  FROM treasury.payments, params
  WHERE pay_date <= as_of AND amount > 0
),
centre AS (
  SELECT econ_code, count(*) AS n, median(l) AS med
  FROM base GROUP BY econ_code HAVING count(*) >= 30
),
spread AS (
  SELECT b.econ_code, median(abs(b.l - c.med)) AS mad
  FROM base b JOIN centre c USING (econ_code)
  GROUP BY b.econ_code
),
scored AS (
  SELECT b.*, (b.l - c.med) / (1.4826 * s.mad) AS z
  FROM base b
  JOIN centre c USING (econ_code)
  JOIN spread s USING (econ_code)
  WHERE s.mad > 0
)
SELECT 'treasury.amount_outlier' AS rule_id,
       'payment' AS entity_type,
       payment_id AS entity_id,
       pay_date AS period_start,
       pay_date AS period_end,
       fiscal_year,
       'low' AS severity,
       z AS measure_value,
       4.0 AS threshold,
       amount,
       [payment_id] AS evidence_keys
FROM scored
WHERE z > 4
