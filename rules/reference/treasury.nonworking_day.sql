-- treasury.nonworking_day 非工作日支付 (low)
-- amount >= 10,000 paid on a day that is not a working day. Working days come from
-- fiscus.calendar_days (official PRC calendar: weekends and legal holidays off, 调休 workdays
-- on), overridden by ref.calendar ('holiday' = off, 'workday' = on); outside the calendar,
-- Monday-Friday. Paid on or before as-of. Entity: payment; period: pay_date.
WITH params AS (SELECT CAST($as_of AS DATE) AS as_of)
SELECT 'treasury.nonworking_day' AS rule_id,
       'payment' AS entity_type,
       p.payment_id AS entity_id,
       p.pay_date AS period_start,
       p.pay_date AS period_end,
       p.fiscal_year,
       'low' AS severity,
       CAST(p.amount AS DOUBLE) AS measure_value,
       10000.0 AS threshold,
       p.amount,
       [p.payment_id] AS evidence_keys
FROM treasury.payments p
CROSS JOIN params
LEFT JOIN fiscus.calendar_days c ON c.day = p.pay_date
LEFT JOIN ref.calendar r ON r."date" = p.pay_date
WHERE p.pay_date <= as_of
  AND p.amount >= 10000
  AND NOT coalesce(CASE r.kind WHEN 'workday' THEN true WHEN 'holiday' THEN false END,
                   c.is_workday,
                   isodow(p.pay_date) <= 5)
