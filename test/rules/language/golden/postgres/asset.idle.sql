-- rule
-- parameters: $1=p_min_value:money, $2=as_of:date, $3=scope:list, $4=p_categories:list
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
  CAST(CAST("k"."original_value" AS DECIMAL(18,2)) AS TEXT) AS "measure_value",
  CAST(CAST(CAST($1 AS DECIMAL(18,2)) AS DECIMAL(18,2)) AS TEXT) AS "threshold",
  CAST("k"."original_value" AS DECIMAL(18,2)) AS "amount",
  CAST(coalesce((SELECT coalesce(jsonb_agg(jsonb_build_object('table', 'assets.cards', 'key', CAST(__ek.k AS TEXT)) ORDER BY __ek.o), CAST('[]' AS JSONB)) FROM unnest(ARRAY[CAST("k"."asset_id" AS TEXT)]) WITH ORDINALITY AS __ek(k, o)), CAST('[]' AS JSONB)) AS TEXT) AS "evidence",
  CAST(NULL AS VARCHAR) AS "evidence_query",
  CAST(json_build_object('agency_name', CAST((coalesce("ag"."agency_name", "k"."agency_code")) AS VARCHAR), 'asset_name', CAST(("k"."asset_name") AS VARCHAR), 'original_value', CAST(CAST(("k"."original_value") AS DECIMAL(18,2)) AS VARCHAR)) AS TEXT) AS "vars",
  CAST("k"."asset_id" AS TEXT) AS "delta_key"
FROM "assets"."cards" AS "k" LEFT JOIN "ref"."agencies" AS "ag" ON ("ag"."agency_code" = "k"."agency_code")
WHERE "k"."acquired_date" <= CAST($2 AS DATE)
  AND (CAST($3 AS TEXT[]) IS NULL OR "k"."agency_code" = ANY(CAST($3 AS TEXT[])))
  AND (((CAST("k"."category" AS TEXT) = ANY(CAST($4 AS TEXT[]))) AND ("k"."status" = 'idle')) AND ("k"."original_value" >= CAST($1 AS DECIMAL(18,2))));

-- precondition 1 (assets.cards 为空 / assets.cards is empty)
-- parameters: none
SELECT EXISTS (SELECT 1 FROM "assets"."cards") AS ok;

-- input 1 (assets.cards)
-- parameters: $1=as_of:date
SELECT count(*) AS "rows" FROM "assets"."cards" AS __in WHERE __in."acquired_date" <= CAST($1 AS DATE);

-- delta (asset_id)
-- parameters: $1=p_min_value:money, $2=as_of:date, $3=scope:list, $4=delta_batches:list, $5=p_categories:list
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
  CAST(CAST("k"."original_value" AS DECIMAL(18,2)) AS TEXT) AS "measure_value",
  CAST(CAST(CAST($1 AS DECIMAL(18,2)) AS DECIMAL(18,2)) AS TEXT) AS "threshold",
  CAST("k"."original_value" AS DECIMAL(18,2)) AS "amount",
  CAST(coalesce((SELECT coalesce(jsonb_agg(jsonb_build_object('table', 'assets.cards', 'key', CAST(__ek.k AS TEXT)) ORDER BY __ek.o), CAST('[]' AS JSONB)) FROM unnest(ARRAY[CAST("k"."asset_id" AS TEXT)]) WITH ORDINALITY AS __ek(k, o)), CAST('[]' AS JSONB)) AS TEXT) AS "evidence",
  CAST(NULL AS VARCHAR) AS "evidence_query",
  CAST(json_build_object('agency_name', CAST((coalesce("ag"."agency_name", "k"."agency_code")) AS VARCHAR), 'asset_name', CAST(("k"."asset_name") AS VARCHAR), 'original_value', CAST(CAST(("k"."original_value") AS DECIMAL(18,2)) AS VARCHAR)) AS TEXT) AS "vars",
  CAST("k"."asset_id" AS TEXT) AS "delta_key"
FROM "assets"."cards" AS "k" LEFT JOIN "ref"."agencies" AS "ag" ON ("ag"."agency_code" = "k"."agency_code")
WHERE "k"."acquired_date" <= CAST($2 AS DATE)
  AND (CAST($3 AS TEXT[]) IS NULL OR "k"."agency_code" = ANY(CAST($3 AS TEXT[])))
  AND "k"."_batch_id" = ANY(CAST($4 AS TEXT[]))
  AND (((CAST("k"."category" AS TEXT) = ANY(CAST($5 AS TEXT[]))) AND ("k"."status" = 'idle')) AND ("k"."original_value" >= CAST($1 AS DECIMAL(18,2))));
