-- rule
-- parameters: $p_min_pct=p_min_pct:percent, $as_of=as_of:date, $scope=scope:list, $p_appraisal_required_from=p_appraisal_required_from:money
SELECT 'asset_change' AS "entity_type",
  CAST("c"."change_id" AS VARCHAR) AS "entity_id",
  CAST("k"."asset_name" AS VARCHAR) AS "entity_name",
  CAST("ag"."region_code" AS VARCHAR) AS "region_code",
  CAST("c"."agency_code" AS VARCHAR) AS "agency_code",
  CAST(year("c"."change_date") AS INTEGER) AS "fiscal_year",
  CAST("c"."change_date" AS DATE) AS "period_start",
  CAST("c"."change_date" AS DATE) AS "period_end",
  CAST(NULL AS VARCHAR) AS "severity",
  'pct_of_appraisal' AS "measure_name",
  CAST(CAST(round(TRY_CAST(((CAST((CAST(CAST("c"."amount" AS DECIMAL(38,2)) * 100 AS HUGEINT) * 1000000000000) // NULLIF(CAST(CAST("c"."appraised_value" AS DECIMAL(38,2)) * 100 AS HUGEINT), 0) AS DECIMAL(38,0)) * CAST(0.0000000001 AS DECIMAL(38,10)))) AS DECIMAL(38,10)), 4) AS DECIMAL(24,4)) AS VARCHAR) AS "measure_value",
  CAST(CAST(round(TRY_CAST(CAST($p_min_pct AS DOUBLE) AS DECIMAL(38,10)), 4) AS DECIMAL(24,4)) AS VARCHAR) AS "threshold",
  CAST(coalesce(("c"."appraised_value" - "c"."amount"), "k"."original_value") AS DECIMAL(18,2)) AS "amount",
  CAST(to_json(CAST(list_transform([CAST("c"."change_id" AS VARCHAR)], k -> struct_pack("table" := 'assets.changes', "key" := CAST(k AS VARCHAR))) AS STRUCT("table" VARCHAR, "key" VARCHAR)[])) AS VARCHAR) AS "evidence",
  CAST(NULL AS VARCHAR) AS "evidence_query",
  json_object('agency_name', CAST((coalesce("ag"."agency_name", "c"."agency_code")) AS VARCHAR), 'asset_name', CAST((coalesce("k"."asset_name", "c"."asset_id")) AS VARCHAR), 'original_value', CAST(CAST(("k"."original_value") AS DECIMAL(18,2)) AS VARCHAR), 'amount', CAST(CAST(("c"."amount") AS DECIMAL(18,2)) AS VARCHAR), 'detail', CAST((CASE WHEN ("c"."appraised_value" IS NULL) THEN '未经评估' ELSE (CAST((CAST('为评估价的' AS VARCHAR) || CAST(CAST(round(((CAST((CAST(CAST("c"."amount" AS DECIMAL(38,2)) * 100 AS HUGEINT) * 1000000000000) // NULLIF(CAST(CAST("c"."appraised_value" AS DECIMAL(38,2)) * 100 AS HUGEINT), 0) AS DECIMAL(38,0)) * CAST(0.0000000001 AS DECIMAL(38,10)))), 2) AS VARCHAR) AS VARCHAR)) AS VARCHAR) || CAST('%' AS VARCHAR)) END) AS VARCHAR), 'detail_en', CAST((CASE WHEN ("c"."appraised_value" IS NULL) THEN 'no appraisal' ELSE (CAST(CAST(round(((CAST((CAST(CAST("c"."amount" AS DECIMAL(38,2)) * 100 AS HUGEINT) * 1000000000000) // NULLIF(CAST(CAST("c"."appraised_value" AS DECIMAL(38,2)) * 100 AS HUGEINT), 0) AS DECIMAL(38,0)) * CAST(0.0000000001 AS DECIMAL(38,10)))), 2) AS VARCHAR) AS VARCHAR) || CAST('% of the appraisal' AS VARCHAR)) END) AS VARCHAR)) AS "vars",
  CAST("c"."change_id" AS VARCHAR) AS "delta_key"
FROM "assets"."changes" AS "c" LEFT JOIN "assets"."cards" AS "k" ON ("k"."asset_id" = "c"."asset_id") AND "k"."acquired_date" <= CAST($as_of AS DATE) LEFT JOIN "ref"."agencies" AS "ag" ON ("ag"."agency_code" = "c"."agency_code")
WHERE "c"."change_date" <= CAST($as_of AS DATE)
  AND (CAST($scope AS VARCHAR[]) IS NULL OR list_contains(CAST($scope AS VARCHAR[]), "c"."agency_code"))
  AND (("c"."change_type" = 'dispose') AND ((("c"."appraised_value" IS NOT NULL) AND (("c"."amount" * 100) < (CAST($p_min_pct AS DOUBLE) * "c"."appraised_value"))) OR (("c"."appraised_value" IS NULL) AND ("k"."original_value" >= CAST($p_appraisal_required_from AS DECIMAL(18,2))))));

-- precondition 1 (assets.changes 为空 / assets.changes is empty)
-- parameters: none
SELECT EXISTS (SELECT 1 FROM "assets"."changes") AS ok;

-- precondition 2 (assets.cards 为空 / assets.cards is empty)
-- parameters: none
SELECT EXISTS (SELECT 1 FROM "assets"."cards") AS ok;

-- input 1 (assets.changes)
-- parameters: $as_of=as_of:date
SELECT count(*) AS "rows" FROM "assets"."changes" AS __in WHERE __in."change_date" <= CAST($as_of AS DATE);

-- delta (change_id)
-- parameters: $p_min_pct=p_min_pct:percent, $as_of=as_of:date, $scope=scope:list, $delta_batches=delta_batches:string, $p_appraisal_required_from=p_appraisal_required_from:money
SELECT 'asset_change' AS "entity_type",
  CAST("c"."change_id" AS VARCHAR) AS "entity_id",
  CAST("k"."asset_name" AS VARCHAR) AS "entity_name",
  CAST("ag"."region_code" AS VARCHAR) AS "region_code",
  CAST("c"."agency_code" AS VARCHAR) AS "agency_code",
  CAST(year("c"."change_date") AS INTEGER) AS "fiscal_year",
  CAST("c"."change_date" AS DATE) AS "period_start",
  CAST("c"."change_date" AS DATE) AS "period_end",
  CAST(NULL AS VARCHAR) AS "severity",
  'pct_of_appraisal' AS "measure_name",
  CAST(CAST(round(TRY_CAST(((CAST((CAST(CAST("c"."amount" AS DECIMAL(38,2)) * 100 AS HUGEINT) * 1000000000000) // NULLIF(CAST(CAST("c"."appraised_value" AS DECIMAL(38,2)) * 100 AS HUGEINT), 0) AS DECIMAL(38,0)) * CAST(0.0000000001 AS DECIMAL(38,10)))) AS DECIMAL(38,10)), 4) AS DECIMAL(24,4)) AS VARCHAR) AS "measure_value",
  CAST(CAST(round(TRY_CAST(CAST($p_min_pct AS DOUBLE) AS DECIMAL(38,10)), 4) AS DECIMAL(24,4)) AS VARCHAR) AS "threshold",
  CAST(coalesce(("c"."appraised_value" - "c"."amount"), "k"."original_value") AS DECIMAL(18,2)) AS "amount",
  CAST(to_json(CAST(list_transform([CAST("c"."change_id" AS VARCHAR)], k -> struct_pack("table" := 'assets.changes', "key" := CAST(k AS VARCHAR))) AS STRUCT("table" VARCHAR, "key" VARCHAR)[])) AS VARCHAR) AS "evidence",
  CAST(NULL AS VARCHAR) AS "evidence_query",
  json_object('agency_name', CAST((coalesce("ag"."agency_name", "c"."agency_code")) AS VARCHAR), 'asset_name', CAST((coalesce("k"."asset_name", "c"."asset_id")) AS VARCHAR), 'original_value', CAST(CAST(("k"."original_value") AS DECIMAL(18,2)) AS VARCHAR), 'amount', CAST(CAST(("c"."amount") AS DECIMAL(18,2)) AS VARCHAR), 'detail', CAST((CASE WHEN ("c"."appraised_value" IS NULL) THEN '未经评估' ELSE (CAST((CAST('为评估价的' AS VARCHAR) || CAST(CAST(round(((CAST((CAST(CAST("c"."amount" AS DECIMAL(38,2)) * 100 AS HUGEINT) * 1000000000000) // NULLIF(CAST(CAST("c"."appraised_value" AS DECIMAL(38,2)) * 100 AS HUGEINT), 0) AS DECIMAL(38,0)) * CAST(0.0000000001 AS DECIMAL(38,10)))), 2) AS VARCHAR) AS VARCHAR)) AS VARCHAR) || CAST('%' AS VARCHAR)) END) AS VARCHAR), 'detail_en', CAST((CASE WHEN ("c"."appraised_value" IS NULL) THEN 'no appraisal' ELSE (CAST(CAST(round(((CAST((CAST(CAST("c"."amount" AS DECIMAL(38,2)) * 100 AS HUGEINT) * 1000000000000) // NULLIF(CAST(CAST("c"."appraised_value" AS DECIMAL(38,2)) * 100 AS HUGEINT), 0) AS DECIMAL(38,0)) * CAST(0.0000000001 AS DECIMAL(38,10)))), 2) AS VARCHAR) AS VARCHAR) || CAST('% of the appraisal' AS VARCHAR)) END) AS VARCHAR)) AS "vars",
  CAST("c"."change_id" AS VARCHAR) AS "delta_key"
FROM "assets"."changes" AS "c" LEFT JOIN "assets"."cards" AS "k" ON ("k"."asset_id" = "c"."asset_id") AND "k"."acquired_date" <= CAST($as_of AS DATE) LEFT JOIN "ref"."agencies" AS "ag" ON ("ag"."agency_code" = "c"."agency_code")
WHERE "c"."change_date" <= CAST($as_of AS DATE)
  AND (CAST($scope AS VARCHAR[]) IS NULL OR list_contains(CAST($scope AS VARCHAR[]), "c"."agency_code"))
  AND "c"."_batch_id" IN (SELECT unnest(from_json(CAST($delta_batches AS VARCHAR), '["VARCHAR"]')))
  AND (("c"."change_type" = 'dispose') AND ((("c"."appraised_value" IS NOT NULL) AND (("c"."amount" * 100) < (CAST($p_min_pct AS DOUBLE) * "c"."appraised_value"))) OR (("c"."appraised_value" IS NULL) AND ("k"."original_value" >= CAST($p_appraisal_required_from AS DECIMAL(18,2))))));
