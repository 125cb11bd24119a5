-- rule
-- parameters: $p_min_value=p_min_value:money, $as_of=as_of:date, $scope=scope:list, $p_categories=p_categories:list
SELECT 'asset' AS "entity_type",
  CAST("k"."asset_id" AS VARCHAR) AS "entity_id",
  CAST("k"."asset_name" AS VARCHAR) AS "entity_name",
  CAST("ag"."region_code" AS VARCHAR) AS "region_code",
  CAST("k"."agency_code" AS VARCHAR) AS "agency_code",
  CAST(NULL AS INTEGER) AS "fiscal_year",
  CAST(NULL AS DATE) AS "period_start",
  CAST(NULL AS DATE) AS "period_end",
  CAST(NULL AS VARCHAR) AS "severity",
  'original_value' AS "measure_name",
  CAST(CAST("k"."original_value" AS DECIMAL(18,2)) AS VARCHAR) AS "measure_value",
  CAST(CAST(CAST($p_min_value AS DECIMAL(18,2)) AS DECIMAL(18,2)) AS VARCHAR) AS "threshold",
  CAST("k"."original_value" AS DECIMAL(18,2)) AS "amount",
  CAST(to_json(CAST(list_transform([CAST("k"."asset_id" AS VARCHAR)], k -> struct_pack("table" := 'assets.cards', "key" := CAST(k AS VARCHAR))) AS STRUCT("table" VARCHAR, "key" VARCHAR)[])) AS VARCHAR) AS "evidence",
  CAST(NULL AS VARCHAR) AS "evidence_query",
  json_object('agency_name', CAST((coalesce("ag"."agency_name", "k"."agency_code")) AS VARCHAR), 'asset_name', CAST(("k"."asset_name") AS VARCHAR), 'original_value', CAST(CAST(("k"."original_value") AS DECIMAL(18,2)) AS VARCHAR)) AS "vars",
  CAST("k"."asset_id" AS VARCHAR) AS "delta_key"
FROM "assets"."cards" AS "k" LEFT JOIN "ref"."agencies" AS "ag" ON ("ag"."agency_code" = "k"."agency_code")
WHERE "k"."acquired_date" <= CAST($as_of AS DATE)
  AND (CAST($scope AS VARCHAR[]) IS NULL OR list_contains(CAST($scope AS VARCHAR[]), "k"."agency_code"))
  AND ((list_contains(CAST($p_categories AS VARCHAR[]), CAST("k"."category" AS VARCHAR)) AND ("k"."status" = 'idle')) AND ("k"."original_value" >= CAST($p_min_value AS DECIMAL(18,2))));

-- precondition 1 (assets.cards 为空 / assets.cards is empty)
-- parameters: none
SELECT EXISTS (SELECT 1 FROM "assets"."cards") AS ok;

-- input 1 (assets.cards)
-- parameters: $as_of=as_of:date
SELECT count(*) AS "rows" FROM "assets"."cards" AS __in WHERE __in."acquired_date" <= CAST($as_of AS DATE);

-- delta (asset_id)
-- parameters: $p_min_value=p_min_value:money, $as_of=as_of:date, $scope=scope:list, $delta_batches=delta_batches:string, $p_categories=p_categories:list
SELECT 'asset' AS "entity_type",
  CAST("k"."asset_id" AS VARCHAR) AS "entity_id",
  CAST("k"."asset_name" AS VARCHAR) AS "entity_name",
  CAST("ag"."region_code" AS VARCHAR) AS "region_code",
  CAST("k"."agency_code" AS VARCHAR) AS "agency_code",
  CAST(NULL AS INTEGER) AS "fiscal_year",
  CAST(NULL AS DATE) AS "period_start",
  CAST(NULL AS DATE) AS "period_end",
  CAST(NULL AS VARCHAR) AS "severity",
  'original_value' AS "measure_name",
  CAST(CAST("k"."original_value" AS DECIMAL(18,2)) AS VARCHAR) AS "measure_value",
  CAST(CAST(CAST($p_min_value AS DECIMAL(18,2)) AS DECIMAL(18,2)) AS VARCHAR) AS "threshold",
  CAST("k"."original_value" AS DECIMAL(18,2)) AS "amount",
  CAST(to_json(CAST(list_transform([CAST("k"."asset_id" AS VARCHAR)], k -> struct_pack("table" := 'assets.cards', "key" := CAST(k AS VARCHAR))) AS STRUCT("table" VARCHAR, "key" VARCHAR)[])) AS VARCHAR) AS "evidence",
  CAST(NULL AS VARCHAR) AS "evidence_query",
  json_object('agency_name', CAST((coalesce("ag"."agency_name", "k"."agency_code")) AS VARCHAR), 'asset_name', CAST(("k"."asset_name") AS VARCHAR), 'original_value', CAST(CAST(("k"."original_value") AS DECIMAL(18,2)) AS VARCHAR)) AS "vars",
  CAST("k"."asset_id" AS VARCHAR) AS "delta_key"
FROM "assets"."cards" AS "k" LEFT JOIN "ref"."agencies" AS "ag" ON ("ag"."agency_code" = "k"."agency_code")
WHERE "k"."acquired_date" <= CAST($as_of AS DATE)
  AND (CAST($scope AS VARCHAR[]) IS NULL OR list_contains(CAST($scope AS VARCHAR[]), "k"."agency_code"))
  AND "k"."_batch_id" IN (SELECT unnest(from_json(CAST($delta_batches AS VARCHAR), '["VARCHAR"]')))
  AND ((list_contains(CAST($p_categories AS VARCHAR[]), CAST("k"."category" AS VARCHAR)) AND ("k"."status" = 'idle')) AND ("k"."original_value" >= CAST($p_min_value AS DECIMAL(18,2))));
