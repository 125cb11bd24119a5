-- asset.no_approval 未经审批出租出借处置 (medium)
-- A dispose / lease / lend change (dated on or before as-of) with no approval_no (null or blank).
-- Entity: asset_change; period: change_date.
WITH params AS (SELECT CAST($as_of AS DATE) AS as_of)
SELECT 'asset.no_approval' AS rule_id,
       'asset_change' AS entity_type,
       change_id AS entity_id,
       change_date AS period_start,
       change_date AS period_end,
       year(change_date) AS fiscal_year,
       'medium' AS severity,
       CAST(NULL AS DOUBLE) AS measure_value,
       CAST(NULL AS DOUBLE) AS threshold,
       amount,
       [change_id, asset_id] AS evidence_keys
FROM assets.changes, params
WHERE change_type IN ('dispose', 'lease', 'lend')
  AND change_date <= as_of
  AND nullif(trim(approval_no), '') IS NULL
