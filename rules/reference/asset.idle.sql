-- asset.idle 资产闲置 (low)
-- A building or land card with status 'idle' and original_value >= 1,000,000 (acquired on or
-- before as-of). A card is a current-state snapshot with no natural period, so the period is
-- NULL (never derived from the as-of date: rules/CONVENTIONS.md); fiscal year NULL.
-- Entity: asset.
WITH params AS (SELECT CAST($as_of AS DATE) AS as_of)
SELECT 'asset.idle' AS rule_id,
       'asset' AS entity_type,
       asset_id AS entity_id,
       CAST(NULL AS DATE) AS period_start,
       CAST(NULL AS DATE) AS period_end,
       CAST(NULL AS INTEGER) AS fiscal_year,
       'low' AS severity,
       CAST(original_value AS DOUBLE) AS measure_value,
       1000000.0 AS threshold,
       original_value AS amount,
       [asset_id] AS evidence_keys
FROM assets.cards, params
WHERE category IN ('building', 'land')
  AND status = 'idle'
  AND original_value >= 1000000
  AND acquired_date <= as_of
