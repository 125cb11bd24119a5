-- treasury.individual_large 向个人大额支付 (medium)
-- payee_type 'individual', amount >= 50,000, econ_code not under 301 (工资福利) or 303
-- (对个人和家庭的补助). Paid on or before as-of. Entity: payment; period: pay_date.
WITH params AS (SELECT CAST($as_of AS DATE) AS as_of)
SELECT 'treasury.individual_large' AS rule_id,
       'payment' AS entity_type,
       payment_id AS entity_id,
       pay_date AS period_start,
       pay_date AS period_end,
       fiscal_year,
       'medium' AS severity,
       CAST(amount AS DOUBLE) AS measure_value,
       50000.0 AS threshold,
       amount,
       [payment_id] AS evidence_keys
FROM treasury.payments, params
WHERE pay_date <= as_of
  AND payee_type = 'individual'
  AND amount >= 50000
  AND NOT (starts_with(econ_code, '301') OR starts_with(econ_code, '303'))
