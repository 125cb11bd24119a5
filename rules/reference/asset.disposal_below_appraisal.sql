-- asset.disposal_below_appraisal 资产处置低于评估价 (high)
-- A 'dispose' change (dated on or before as-of) whose amount < 90 % of appraised_value, or
-- with no appraised_value when the asset card's original_value >= 500,000.
-- Entity: asset_change; period: change_date. Amount: appraised - amount, or original_value
-- when unappraised.
WITH params AS (SELECT CAST($as_of AS DATE) AS as_of)
SELECT 'asset.disposal_below_appraisal' AS rule_id,
       'asset_change' AS entity_type,
       c.change_id AS entity_id,
       c.change_date AS period_start,
       c.change_date AS period_end,
       year(c.change_date) AS fiscal_year,
       'high' AS severity,
       CASE WHEN c.appraised_value > 0 THEN 100 * CAST(c.amount AS DOUBLE) / CAST(c.appraised_value AS DOUBLE) END AS measure_value,
       90.0 AS threshold,
       CASE WHEN c.appraised_value IS NULL THEN a.original_value ELSE CAST(c.appraised_value - c.amount AS DECIMAL(18, 2)) END AS amount,
       [c.change_id, c.asset_id] AS evidence_keys
FROM assets.changes c
CROSS JOIN params
LEFT JOIN assets.cards a ON a.asset_id = c.asset_id
WHERE c.change_type = 'dispose'
  AND c.change_date <= as_of
  AND ((c.appraised_value IS NOT NULL AND c.amount * 10 < c.appraised_value * 9)
       OR (c.appraised_value IS NULL AND a.original_value >= 500000))
