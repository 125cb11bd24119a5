-- rule
-- parameters: $1=p_min_pct:percent, $2=as_of:date, $3=scope:list, $4=p_appraisal_required_from:money
SELECT 'asset_change' AS "entity_type",
  CAST("c"."change_id" AS VARCHAR) AS "entity_id",
  CAST("k"."asset_name" AS VARCHAR) AS "entity_name",
  CAST("ag"."region_code" AS VARCHAR) AS "region_code",
  CAST("c"."agency_code" AS VARCHAR) AS "agency_code",
  CAST(CAST(EXTRACT(YEAR FROM "c"."change_date") AS INTEGER) AS INTEGER) AS "fiscal_year",
  CAST("c"."change_date" AS DATE) AS "period_start",
  CAST("c"."change_date" AS DATE) AS "period_end",
  CAST(NULL AS VARCHAR) AS "severity",
  'pct_of_appraisal' AS "measure_name",
  CAST(CAST(round(CAST(((div(CAST("c"."amount" AS NUMERIC) * 1000000000000, NULLIF(CAST("c"."appraised_value" AS NUMERIC), 0)) * 0.0000000001)) AS NUMERIC), 4) AS DECIMAL(24,4)) AS TEXT) AS "measure_value",
  CAST(CAST(round(CAST(CAST($1 AS DOUBLE PRECISION) AS NUMERIC), 4) AS DECIMAL(24,4)) AS TEXT) AS "threshold",
  CAST(coalesce(("c"."appraised_value" - "c"."amount"), "k"."original_value") AS DECIMAL(18,2)) AS "amount",
  CAST(coalesce((SELECT coalesce(jsonb_agg(jsonb_build_object('table', 'assets.changes', 'key', CAST(__ek.k AS TEXT)) ORDER BY __ek.o), CAST('[]' AS JSONB)) FROM unnest(ARRAY[CAST("c"."change_id" AS TEXT)]) WITH ORDINALITY AS __ek(k, o)), CAST('[]' AS JSONB)) AS TEXT) AS "evidence",
  CAST(NULL AS VARCHAR) AS "evidence_query",
  CAST(json_build_object('agency_name', CAST((coalesce("ag"."agency_name", "c"."agency_code")) AS VARCHAR), 'asset_name', CAST((coalesce("k"."asset_name", "c"."asset_id")) AS VARCHAR), 'original_value', CAST(CAST(("k"."original_value") AS DECIMAL(18,2)) AS VARCHAR), 'amount', CAST(CAST(("c"."amount") AS DECIMAL(18,2)) AS VARCHAR), 'detail', CAST((CASE WHEN ("c"."appraised_value" IS NULL) THEN '未经评估' ELSE (CAST((CAST('为评估价的' AS TEXT) || CAST(CAST(round(CAST(((div(CAST("c"."amount" AS NUMERIC) * 1000000000000, NULLIF(CAST("c"."appraised_value" AS NUMERIC), 0)) * 0.0000000001)) AS NUMERIC), CAST(2 AS INTEGER)) AS TEXT) AS TEXT)) AS TEXT) || CAST('%' AS TEXT)) END) AS VARCHAR), 'detail_en', CAST((CASE WHEN ("c"."appraised_value" IS NULL) THEN 'no appraisal' ELSE (CAST(CAST(round(CAST(((div(CAST("c"."amount" AS NUMERIC) * 1000000000000, NULLIF(CAST("c"."appraised_value" AS NUMERIC), 0)) * 0.0000000001)) AS NUMERIC), CAST(2 AS INTEGER)) AS TEXT) AS TEXT) || CAST('% of the appraisal' AS TEXT)) END) AS VARCHAR)) AS TEXT) AS "vars",
  CAST("c"."change_id" AS TEXT) AS "delta_key"
FROM "assets"."changes" AS "c" LEFT JOIN "assets"."cards" AS "k" ON ("k"."asset_id" = "c"."asset_id") AND "k"."acquired_date" <= CAST($2 AS DATE) LEFT JOIN "ref"."agencies" AS "ag" ON ("ag"."agency_code" = "c"."agency_code")
WHERE "c"."change_date" <= CAST($2 AS DATE)
  AND (CAST($3 AS TEXT[]) IS NULL OR "c"."agency_code" = ANY(CAST($3 AS TEXT[])))
  AND (("c"."change_type" = 'dispose') AND ((("c"."appraised_value" IS NOT NULL) AND (("c"."amount" * 100) < (CAST($1 AS DOUBLE PRECISION) * "c"."appraised_value"))) OR (("c"."appraised_value" IS NULL) AND ("k"."original_value" >= CAST($4 AS DECIMAL(18,2))))));

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
-- parameters: $1=p_min_pct:percent, $2=as_of:date, $3=scope:list, $4=delta_batches:list, $5=p_appraisal_required_from:money
SELECT 'asset_change' AS "entity_type",
  CAST("c"."change_id" AS VARCHAR) AS "entity_id",
  CAST("k"."asset_name" AS VARCHAR) AS "entity_name",
  CAST("ag"."region_code" AS VARCHAR) AS "region_code",
  CAST("c"."agency_code" AS VARCHAR) AS "agency_code",
  CAST(CAST(EXTRACT(YEAR FROM "c"."change_date") AS INTEGER) AS INTEGER) AS "fiscal_year",
  CAST("c"."change_date" AS DATE) AS "period_start",
  CAST("c"."change_date" AS DATE) AS "period_end",
  CAST(NULL AS VARCHAR) AS "severity",
  'pct_of_appraisal' AS "measure_name",
  CAST(CAST(round(CAST(((div(CAST("c"."amount" AS NUMERIC) * 1000000000000, NULLIF(CAST("c"."appraised_value" AS NUMERIC), 0)) * 0.0000000001)) AS NUMERIC), 4) AS DECIMAL(24,4)) AS TEXT) AS "measure_value",
  CAST(CAST(round(CAST(CAST($1 AS DOUBLE PRECISION) AS NUMERIC), 4) AS DECIMAL(24,4)) AS TEXT) AS "threshold",
  CAST(coalesce(("c"."appraised_value" - "c"."amount"), "k"."original_value") AS DECIMAL(18,2)) AS "amount",
  CAST(coalesce((SELECT coalesce(jsonb_agg(jsonb_build_object('table', 'assets.changes', 'key', CAST(__ek.k AS TEXT)) ORDER BY __ek.o), CAST('[]' AS JSONB)) FROM unnest(ARRAY[CAST("c"."change_id" AS TEXT)]) WITH ORDINALITY AS __ek(k, o)), CAST('[]' AS JSONB)) AS TEXT) AS "evidence",
  CAST(NULL AS VARCHAR) AS "evidence_query",
  CAST(json_build_object('agency_name', CAST((coalesce("ag"."agency_name", "c"."agency_code")) AS VARCHAR), 'asset_name', CAST((coalesce("k"."asset_name", "c"."asset_id")) AS VARCHAR), 'original_value', CAST(CAST(("k"."original_value") AS DECIMAL(18,2)) AS VARCHAR), 'amount', CAST(CAST(("c"."amount") AS DECIMAL(18,2)) AS VARCHAR), 'detail', CAST((CASE WHEN ("c"."appraised_value" IS NULL) THEN '未经评估' ELSE (CAST((CAST('为评估价的' AS TEXT) || CAST(CAST(round(CAST(((div(CAST("c"."amount" AS NUMERIC) * 1000000000000, NULLIF(CAST("c"."appraised_value" AS NUMERIC), 0)) * 0.0000000001)) AS NUMERIC), CAST(2 AS INTEGER)) AS TEXT) AS TEXT)) AS TEXT) || CAST('%' AS TEXT)) END) AS VARCHAR), 'detail_en', CAST((CASE WHEN ("c"."appraised_value" IS NULL) THEN 'no appraisal' ELSE (CAST(CAST(round(CAST(((div(CAST("c"."amount" AS NUMERIC) * 1000000000000, NULLIF(CAST("c"."appraised_value" AS NUMERIC), 0)) * 0.0000000001)) AS NUMERIC), CAST(2 AS INTEGER)) AS TEXT) AS TEXT) || CAST('% of the appraisal' AS TEXT)) END) AS VARCHAR)) AS TEXT) AS "vars",
  CAST("c"."change_id" AS TEXT) AS "delta_key"
FROM "assets"."changes" AS "c" LEFT JOIN "assets"."cards" AS "k" ON ("k"."asset_id" = "c"."asset_id") AND "k"."acquired_date" <= CAST($2 AS DATE) LEFT JOIN "ref"."agencies" AS "ag" ON ("ag"."agency_code" = "c"."agency_code")
WHERE "c"."change_date" <= CAST($2 AS DATE)
  AND (CAST($3 AS TEXT[]) IS NULL OR "c"."agency_code" = ANY(CAST($3 AS TEXT[])))
  AND "c"."_batch_id" = ANY(CAST($4 AS TEXT[]))
  AND (("c"."change_type" = 'dispose') AND ((("c"."appraised_value" IS NOT NULL) AND (("c"."amount" * 100) < (CAST($1 AS DOUBLE PRECISION) * "c"."appraised_value"))) OR (("c"."appraised_value" IS NULL) AND ("k"."original_value" >= CAST($5 AS DECIMAL(18,2))))));
