-- treasury.duplicate_payment 重复支付 (medium)
-- Two or more payments from one agency to one payee account with the same amount within 30
-- days, reversals excluded (rules/CONVENTIONS.md): only positive payments paid on or before
-- as-of count, and a payment is excluded when a reversal (same agency and payee account,
-- amount = -payment amount) dated on or after it exists (by as-of). Pairs are consecutive
-- same-amount payments at most 30 days apart.
-- Entity: payment, the later payment of the pair; period: earlier .. later pay_date.
WITH params AS (SELECT CAST($as_of AS DATE) AS as_of),
seen AS (
  SELECT p.payment_id, p.agency_code, p.payee_account, p.amount, p.pay_date, p.fiscal_year
  FROM treasury.payments p, params
  WHERE p.pay_date <= as_of
),
repeated AS (
  -- only amounts paid more than once to the same account can pair up
  SELECT agency_code, payee_account, amount
  FROM seen WHERE amount > 0
  GROUP BY ALL HAVING count(*) >= 2
),
candidates AS (
  SELECT s.* FROM seen s SEMI JOIN repeated r USING (agency_code, payee_account, amount)
),
kept AS (
  SELECT c.* FROM candidates c
  ANTI JOIN (SELECT * FROM seen WHERE amount < 0) r
    ON r.agency_code = c.agency_code AND r.payee_account = c.payee_account
   AND r.amount = -c.amount AND r.pay_date >= c.pay_date
),
paired AS (
  SELECT *,
         lag(payment_id) OVER w AS prev_id,
         lag(pay_date) OVER w AS prev_date
  FROM kept
  WINDOW w AS (PARTITION BY agency_code, payee_account, amount ORDER BY pay_date, payment_id)
)
SELECT 'treasury.duplicate_payment' AS rule_id,
       'payment' AS entity_type,
       payment_id AS entity_id,
       prev_date AS period_start,
       pay_date AS period_end,
       fiscal_year,
       'medium' AS severity,
       CAST(date_diff('day', prev_date, pay_date) AS DOUBLE) AS measure_value,
       30.0 AS threshold,
       amount,
       [prev_id, payment_id] AS evidence_keys
FROM paired
WHERE prev_id IS NOT NULL AND date_diff('day', prev_date, pay_date) <= 30
