-- rule
-- parameters: $1=as_of:date, $2=scope:list, $3=p_change_types:list
SELECT 'asset_change' AS "entity_type",
  CAST("c"."change_id" AS VARCHAR) AS "entity_id",
  CAST("k"."asset_name" AS VARCHAR) AS "entity_name",
  CAST("ag"."region_code" AS VARCHAR) AS "region_code",
  CAST("c"."agency_code" AS VARCHAR) AS "agency_code",
  CAST(CAST(EXTRACT(YEAR FROM "c"."change_date") AS INTEGER) AS INTEGER) AS "fiscal_year",
  CAST("c"."change_date" AS DATE) AS "period_start",
  CAST("c"."change_date" AS DATE) AS "period_end",
  CAST(NULL AS VARCHAR) AS "severity",
  'approval_no' AS "measure_name",
  CAST(NULL AS VARCHAR) AS "measure_value",
  CAST(NULL AS VARCHAR) AS "threshold",
  CAST("c"."amount" AS DECIMAL(18,2)) AS "amount",
  CAST(coalesce((SELECT coalesce(jsonb_agg(jsonb_build_object('table', 'assets.changes', 'key', CAST(__ek.k AS TEXT)) ORDER BY __ek.o), CAST('[]' AS JSONB)) FROM unnest(ARRAY[CAST("c"."change_id" AS TEXT)]) WITH ORDINALITY AS __ek(k, o)), CAST('[]' AS JSONB)) AS TEXT) AS "evidence",
  CAST(NULL AS VARCHAR) AS "evidence_query",
  CAST(json_build_object('change_label', CAST((CASE WHEN ("c"."change_type" = 'dispose') THEN '处置' ELSE CASE WHEN ("c"."change_type" = 'lease') THEN '出租' ELSE '出借' END END) AS VARCHAR), 'agency_name', CAST((coalesce("ag"."agency_name", "c"."agency_code")) AS VARCHAR), 'asset_name', CAST((coalesce("k"."asset_name", "c"."asset_id")) AS VARCHAR), 'amount', CAST(CAST(("c"."amount") AS DECIMAL(18,2)) AS VARCHAR), 'change_label_en', CAST((CASE WHEN ("c"."change_type" = 'dispose') THEN 'Disposal' ELSE CASE WHEN ("c"."change_type" = 'lease') THEN 'Lease' ELSE 'Loan' END END) AS VARCHAR)) AS TEXT) AS "vars",
  CAST("c"."change_id" AS TEXT) AS "delta_key"
FROM "assets"."changes" AS "c" LEFT JOIN "assets"."cards" AS "k" ON ("k"."asset_id" = "c"."asset_id") AND "k"."acquired_date" <= CAST($1 AS DATE) LEFT JOIN "ref"."agencies" AS "ag" ON ("ag"."agency_code" = "c"."agency_code")
WHERE "c"."change_date" <= CAST($1 AS DATE)
  AND (CAST($2 AS TEXT[]) IS NULL OR "c"."agency_code" = ANY(CAST($2 AS TEXT[])))
  AND ((CAST("c"."change_type" AS TEXT) = ANY(CAST($3 AS TEXT[]))) AND ("c"."approval_no" IS NULL OR trim("c"."approval_no") = ''));

-- precondition 1 (assets.changes 为空 / assets.changes is empty)
-- parameters: none
SELECT EXISTS (SELECT 1 FROM "assets"."changes") AS ok;

-- precondition 2 (assets.cards 为空 / assets.cards is empty)
-- parameters: none
SELECT EXISTS (SELECT 1 FROM "assets"."cards") AS ok;

-- input 1 (assets.changes)
-- parameters: $1=as_of:date
SELECT count(*) AS "rows" FROM "assets"."changes" AS __in WHERE __in."change_date" <= CAST($1 AS DATE);

-- delta (change_id)
-- parameters: $1=as_of:date, $2=scope:list, $3=delta_batches:list, $4=p_change_types:list
SELECT 'asset_change' AS "entity_type",
  CAST("c"."change_id" AS VARCHAR) AS "entity_id",
  CAST("k"."asset_name" AS VARCHAR) AS "entity_name",
  CAST("ag"."region_code" AS VARCHAR) AS "region_code",
  CAST("c"."agency_code" AS VARCHAR) AS "agency_code",
  CAST(CAST(EXTRACT(YEAR FROM "c"."change_date") AS INTEGER) AS INTEGER) AS "fiscal_year",
  CAST("c"."change_date" AS DATE) AS "period_start",
  CAST("c"."change_date" AS DATE) AS "period_end",
  CAST(NULL AS VARCHAR) AS "severity",
  'approval_no' AS "measure_name",
  CAST(NULL AS VARCHAR) AS "measure_value",
  CAST(NULL AS VARCHAR) AS "threshold",
  CAST("c"."amount" AS DECIMAL(18,2)) AS "amount",
  CAST(coalesce((SELECT coalesce(jsonb_agg(jsonb_build_object('table', 'assets.changes', 'key', CAST(__ek.k AS TEXT)) ORDER BY __ek.o), CAST('[]' AS JSONB)) FROM unnest(ARRAY[CAST("c"."change_id" AS TEXT)]) WITH ORDINALITY AS __ek(k, o)), CAST('[]' AS JSONB)) AS TEXT) AS "evidence",
  CAST(NULL AS VARCHAR) AS "evidence_query",
  CAST(json_build_object('change_label', CAST((CASE WHEN ("c"."change_type" = 'dispose') THEN '处置' ELSE CASE WHEN ("c"."change_type" = 'lease') THEN '出租' ELSE '出借' END END) AS VARCHAR), 'agency_name', CAST((coalesce("ag"."agency_name", "c"."agency_code")) AS VARCHAR), 'asset_name', CAST((coalesce("k"."asset_name", "c"."asset_id")) AS VARCHAR), 'amount', CAST(CAST(("c"."amount") AS DECIMAL(18,2)) AS VARCHAR), 'change_label_en', CAST((CASE WHEN ("c"."change_type" = 'dispose') THEN 'Disposal' ELSE CASE WHEN ("c"."change_type" = 'lease') THEN 'Lease' ELSE 'Loan' END END) AS VARCHAR)) AS TEXT) AS "vars",
  CAST("c"."change_id" AS TEXT) AS "delta_key"
FROM "assets"."changes" AS "c" LEFT JOIN "assets"."cards" AS "k" ON ("k"."asset_id" = "c"."asset_id") AND "k"."acquired_date" <= CAST($1 AS DATE) LEFT JOIN "ref"."agencies" AS "ag" ON ("ag"."agency_code" = "c"."agency_code")
WHERE "c"."change_date" <= CAST($1 AS DATE)
  AND (CAST($2 AS TEXT[]) IS NULL OR "c"."agency_code" = ANY(CAST($2 AS TEXT[])))
  AND "c"."_batch_id" = ANY(CAST($3 AS TEXT[]))
  AND ((CAST("c"."change_type" AS TEXT) = ANY(CAST($4 AS TEXT[]))) AND ("c"."approval_no" IS NULL OR trim("c"."approval_no") = ''));
