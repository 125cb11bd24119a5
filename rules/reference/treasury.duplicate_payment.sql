-- treasury.duplicate_payment 重复支付 (medium)
-- Two or more payments from one agency to one payee account with the same amount within 30
-- days, reversals excluded (rules/CONVENTIONS.md): only positive payments paid on or before
-- as-of count, and a payment is excluded when a reversal (same agency and payee account,
-- amount = -payment amount) dated on or after it exists (by as-of).
-- A cluster is the counted payments of one agency, payee account and amount in date order
-- (ties by payment_id), cut wherever two consecutive ones are more than 30 days apart; one
-- finding per cluster of two or more. (The catalogue default has no reference field, so every
-- payment is its own document.)
-- Entity: payment, the cluster's first payment; period: first .. last pay_date;
-- measure: payments in the cluster / 2; amount: amount × (payments − 1); evidence: all of them.
WITH params AS (SELECT CAST($as_of AS DATE) AS as_of),
seen AS (
  SELECT p.payment_id, p.agency_code, p.payee_account, p.amount, p.pay_date, p.fiscal_year
  FROM treasury.payments p, params
  WHERE p.pay_date <= as_of
),
repeated AS (
  -- only amounts paid more than once to the same account can form a cluster
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
starts AS (
  SELECT *,
         CASE WHEN date_diff('day', lag(pay_date) OVER w, pay_date) <= 30 THEN 0 ELSE 1 END AS is_start
  FROM kept
  WINDOW w AS (PARTITION BY agency_code, payee_account, amount ORDER BY pay_date, payment_id)
),
numbered AS (
  SELECT *,
         sum(is_start) OVER (PARTITION BY agency_code, payee_account, amount ORDER BY pay_date, payment_id
                             ROWS UNBOUNDED PRECEDING) AS cluster_no
  FROM starts
),
clusters AS (
  SELECT agency_code, payee_account, amount, cluster_no,
         list(payment_id ORDER BY pay_date, payment_id) AS ids,
         list(fiscal_year ORDER BY pay_date, payment_id)[1] AS fiscal_year,
         min(pay_date) AS first_date, max(pay_date) AS last_date, count(*) AS n
  FROM numbered
  GROUP BY agency_code, payee_account, amount, cluster_no
  HAVING count(*) >= 2
)
SELECT 'treasury.duplicate_payment' AS rule_id,
       'payment' AS entity_type,
       ids[1] AS entity_id,
       first_date AS period_start,
       last_date AS period_end,
       fiscal_year,
       'medium' AS severity,
       CAST(n AS DOUBLE) AS measure_value,
       2.0 AS threshold,
       amount * (n - 1) AS amount,
       ids AS evidence_keys
FROM clusters
