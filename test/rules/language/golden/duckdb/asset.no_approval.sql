-- rule
-- parameters: $as_of=as_of:date, $scope=scope:list, $p_change_types=p_change_types:list
SELECT 'asset_change' AS "entity_type",
  CAST("c"."change_id" AS VARCHAR) AS "entity_id",
  CAST("k"."asset_name" AS VARCHAR) AS "entity_name",
  CAST("ag"."region_code" AS VARCHAR) AS "region_code",
  CAST("c"."agency_code" AS VARCHAR) AS "agency_code",
  CAST(year("c"."change_date") AS INTEGER) AS "fiscal_year",
  CAST("c"."change_date" AS DATE) AS "period_start",
  CAST("c"."change_date" AS DATE) AS "period_end",
  CAST(NULL AS VARCHAR) AS "severity",
  'approval_no' AS "measure_name",
  CAST(NULL AS VARCHAR) AS "measure_value",
  CAST(NULL AS VARCHAR) AS "threshold",
  CAST("c"."amount" AS DECIMAL(18,2)) AS "amount",
  CAST(to_json(CAST(list_transform([CAST("c"."change_id" AS VARCHAR)], k -> struct_pack("table" := 'assets.changes', "key" := CAST(k AS VARCHAR))) AS STRUCT("table" VARCHAR, "key" VARCHAR)[])) AS VARCHAR) AS "evidence",
  CAST(NULL AS VARCHAR) AS "evidence_query",
  json_object('change_label', CAST((CASE WHEN ("c"."change_type" = 'dispose') THEN '处置' ELSE CASE WHEN ("c"."change_type" = 'lease') THEN '出租' ELSE '出借' END END) AS VARCHAR), 'agency_name', CAST((coalesce("ag"."agency_name", "c"."agency_code")) AS VARCHAR), 'asset_name', CAST((coalesce("k"."asset_name", "c"."asset_id")) AS VARCHAR), 'amount', CAST(CAST(("c"."amount") AS DECIMAL(18,2)) AS VARCHAR), 'change_label_en', CAST((CASE WHEN ("c"."change_type" = 'dispose') THEN 'Disposal' ELSE CASE WHEN ("c"."change_type" = 'lease') THEN 'Lease' ELSE 'Loan' END END) AS VARCHAR)) AS "vars",
  CAST("c"."change_id" AS VARCHAR) AS "delta_key"
FROM "assets"."changes" AS "c" LEFT JOIN "assets"."cards" AS "k" ON ("k"."asset_id" = "c"."asset_id") AND "k"."acquired_date" <= CAST($as_of AS DATE) LEFT JOIN "ref"."agencies" AS "ag" ON ("ag"."agency_code" = "c"."agency_code")
WHERE "c"."change_date" <= CAST($as_of AS DATE)
  AND (CAST($scope AS VARCHAR[]) IS NULL OR list_contains(CAST($scope AS VARCHAR[]), "c"."agency_code"))
  AND (list_contains(CAST($p_change_types AS VARCHAR[]), CAST("c"."change_type" AS VARCHAR)) AND ("c"."approval_no" IS NULL OR trim("c"."approval_no") = ''));

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
-- parameters: $as_of=as_of:date, $scope=scope:list, $delta_batches=delta_batches:string, $p_change_types=p_change_types:list
SELECT 'asset_change' AS "entity_type",
  CAST("c"."change_id" AS VARCHAR) AS "entity_id",
  CAST("k"."asset_name" AS VARCHAR) AS "entity_name",
  CAST("ag"."region_code" AS VARCHAR) AS "region_code",
  CAST("c"."agency_code" AS VARCHAR) AS "agency_code",
  CAST(year("c"."change_date") AS INTEGER) AS "fiscal_year",
  CAST("c"."change_date" AS DATE) AS "period_start",
  CAST("c"."change_date" AS DATE) AS "period_end",
  CAST(NULL AS VARCHAR) AS "severity",
  'approval_no' AS "measure_name",
  CAST(NULL AS VARCHAR) AS "measure_value",
  CAST(NULL AS VARCHAR) AS "threshold",
  CAST("c"."amount" AS DECIMAL(18,2)) AS "amount",
  CAST(to_json(CAST(list_transform([CAST("c"."change_id" AS VARCHAR)], k -> struct_pack("table" := 'assets.changes', "key" := CAST(k AS VARCHAR))) AS STRUCT("table" VARCHAR, "key" VARCHAR)[])) AS VARCHAR) AS "evidence",
  CAST(NULL AS VARCHAR) AS "evidence_query",
  json_object('change_label', CAST((CASE WHEN ("c"."change_type" = 'dispose') THEN '处置' ELSE CASE WHEN ("c"."change_type" = 'lease') THEN '出租' ELSE '出借' END END) AS VARCHAR), 'agency_name', CAST((coalesce("ag"."agency_name", "c"."agency_code")) AS VARCHAR), 'asset_name', CAST((coalesce("k"."asset_name", "c"."asset_id")) AS VARCHAR), 'amount', CAST(CAST(("c"."amount") AS DECIMAL(18,2)) AS VARCHAR), 'change_label_en', CAST((CASE WHEN ("c"."change_type" = 'dispose') THEN 'Disposal' ELSE CASE WHEN ("c"."change_type" = 'lease') THEN 'Lease' ELSE 'Loan' END END) AS VARCHAR)) AS "vars",
  CAST("c"."change_id" AS VARCHAR) AS "delta_key"
FROM "assets"."changes" AS "c" LEFT JOIN "assets"."cards" AS "k" ON ("k"."asset_id" = "c"."asset_id") AND "k"."acquired_date" <= CAST($as_of AS DATE) LEFT JOIN "ref"."agencies" AS "ag" ON ("ag"."agency_code" = "c"."agency_code")
WHERE "c"."change_date" <= CAST($as_of AS DATE)
  AND (CAST($scope AS VARCHAR[]) IS NULL OR list_contains(CAST($scope AS VARCHAR[]), "c"."agency_code"))
  AND "c"."_batch_id" IN (SELECT unnest(from_json(CAST($delta_batches AS VARCHAR), '["VARCHAR"]')))
  AND (list_contains(CAST($p_change_types AS VARCHAR[]), CAST("c"."change_type" AS VARCHAR)) AND ("c"."approval_no" IS NULL OR trim("c"."approval_no") = ''));
