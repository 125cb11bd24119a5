-- treasury.split_payment 拆分支付 (high)
-- >= 3 payments from one agency to one payee account within any 7-day window (first and last
-- pay_date at most 6 days apart), each below 200,000 and together >= 200,000.
-- Payments considered: paid on or before as-of, 0 < amount < 200,000 (reversals are not payments).
-- One flag per maximal qualifying window: the payments dated d .. d+6 for a payment date d,
-- unless the same set lies in the window of an earlier payment date (the previous payment date
-- is then at least last_date - 6).
-- Entity: payee 'agency_code|payee_account'; period: first .. last pay_date of the window.
WITH params AS (SELECT CAST($as_of AS DATE) AS as_of),
base AS (
  SELECT payment_id, agency_code, payee_account, pay_date, amount, fiscal_year
  FROM treasury.payments, params
  WHERE pay_date <= as_of AND amount > 0 AND amount < 200000
),
candidates AS (
  -- a qualifying window needs an agency→account pair with >= 3 payments and >= 200,000 overall
  SELECT b.* FROM base b
  SEMI JOIN (SELECT agency_code, payee_account FROM base GROUP BY ALL HAVING count(*) >= 3 AND sum(amount) >= 200000) g
    USING (agency_code, payee_account)
),
win AS (
  SELECT agency_code, payee_account, pay_date AS first_date,
         count(*) OVER w AS n,
         sum(amount) OVER w AS total,
         max(pay_date) OVER w AS last_date,
         -- among payments of the same day exactly one sees the previous day; the others see their own
         lag(pay_date) OVER w AS prev_date
  FROM candidates
  WINDOW w AS (PARTITION BY agency_code, payee_account ORDER BY pay_date
               RANGE BETWEEN CURRENT ROW AND INTERVAL 6 DAYS FOLLOWING)
),
found AS (
  SELECT agency_code, payee_account, first_date, last_date, total
  FROM win
  WHERE n >= 3 AND total >= 200000
    AND (prev_date IS NULL OR last_date > prev_date + 6)
)
SELECT 'treasury.split_payment' AS rule_id,
       'payee' AS entity_type,
       f.agency_code || '|' || f.payee_account AS entity_id,
       f.first_date AS period_start,
       f.last_date AS period_end,
       min(b.fiscal_year) AS fiscal_year,
       'high' AS severity,
       CAST(f.total AS DOUBLE) AS measure_value,
       200000.0 AS threshold,
       CAST(f.total AS DECIMAL(18, 2)) AS amount,
       list(b.payment_id ORDER BY b.payment_id) AS evidence_keys
FROM found f
JOIN candidates b
  ON b.agency_code = f.agency_code AND b.payee_account = f.payee_account
 AND b.pay_date BETWEEN f.first_date AND f.last_date
GROUP BY f.agency_code, f.payee_account, f.first_date, f.last_date, f.total
