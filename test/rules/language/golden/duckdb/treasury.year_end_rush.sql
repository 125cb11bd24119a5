-- rule
-- parameters: $as_of=as_of:date, $scope=scope:list, $p_max_share_pct=p_max_share_pct:percent, $p_min_year_total=p_min_year_total:money
WITH fiscus_g AS (SELECT "p"."agency_code" AS "agency_code", "p"."fiscal_year" AS "fiscal_year", sum("p"."amount") AS "year_total", sum("p"."amount") FILTER (WHERE ((month("p"."pay_date") = 12) AND (year("p"."pay_date") = "p"."fiscal_year"))) AS "december", max("p"."region_code") AS "region_code", count(*) AS __n FROM "treasury"."payments" AS "p" WHERE "p"."pay_date" <= CAST($as_of AS DATE) AND (CAST($scope AS VARCHAR[]) IS NULL OR list_contains(CAST($scope AS VARCHAR[]), "p"."agency_code")) GROUP BY "p"."agency_code", "p"."fiscal_year")
SELECT 'agency' AS "entity_type",
  CAST(__g."agency_code" AS VARCHAR) AS "entity_id",
  CAST("ag"."agency_name" AS VARCHAR) AS "entity_name",
  CAST(__g."region_code" AS VARCHAR) AS "region_code",
  CAST(__g."agency_code" AS VARCHAR) AS "agency_code",
  CAST(__g."fiscal_year" AS INTEGER) AS "fiscal_year",
  CAST(make_date(CAST(__g."fiscal_year" AS INTEGER), CAST(1 AS INTEGER), CAST(1 AS INTEGER)) AS DATE) AS "period_start",
  CAST(make_date(CAST(__g."fiscal_year" AS INTEGER), CAST(12 AS INTEGER), CAST(31 AS INTEGER)) AS DATE) AS "period_end",
  CAST(NULL AS VARCHAR) AS "severity",
  'december_share_pct' AS "measure_name",
  CAST(CAST(round(TRY_CAST(((CAST((CAST(CAST(__g."december" AS DECIMAL(38,2)) * 100 AS HUGEINT) * 1000000000000) // NULLIF(CAST(CAST(__g."year_total" AS DECIMAL(38,2)) * 100 AS HUGEINT), 0) AS DECIMAL(38,0)) * CAST(0.0000000001 AS DECIMAL(38,10)))) AS DECIMAL(38,10)), 4) AS DECIMAL(24,4)) AS VARCHAR) AS "measure_value",
  CAST(CAST(round(TRY_CAST(CAST($p_max_share_pct AS DOUBLE) AS DECIMAL(38,10)), 4) AS DECIMAL(24,4)) AS VARCHAR) AS "threshold",
  CAST(coalesce(__g."december", 0) AS DECIMAL(18,2)) AS "amount",
  CAST(to_json(CAST(CASE WHEN __g.__n <= 500 THEN list_transform((SELECT list_sort(list_distinct(list(CAST("p"."payment_id" AS VARCHAR)))) FROM "treasury"."payments" AS "p" WHERE "p"."pay_date" <= CAST($as_of AS DATE) AND (CAST($scope AS VARCHAR[]) IS NULL OR list_contains(CAST($scope AS VARCHAR[]), "p"."agency_code")) AND "p"."agency_code" = __g."agency_code" AND "p"."fiscal_year" = __g."fiscal_year" AND __g.__n <= 500), k -> struct_pack("table" := 'treasury.payments', "key" := CAST(k AS VARCHAR))) ELSE CAST([] AS STRUCT("table" VARCHAR, "key" VARCHAR)[]) END AS STRUCT("table" VARCHAR, "key" VARCHAR)[])) AS VARCHAR) AS "evidence",
  CAST(CASE WHEN __g.__n > 500 THEN 'SELECT * FROM treasury.payments WHERE ' || 'agency_code = ' || '''' || replace(CAST(__g."agency_code" AS VARCHAR), '''', '''''') || '''' || ' AND ' || 'fiscal_year = ' || CAST(__g."fiscal_year" AS VARCHAR) || ' AND ' || 'pay_date <= ' || 'DATE ''' || CAST(CAST($as_of AS DATE) AS VARCHAR) || '''' END AS VARCHAR) AS "evidence_query",
  json_object('agency_name', CAST((coalesce("ag"."agency_name", __g."agency_code")) AS VARCHAR), 'fiscal_year', CAST(__g."fiscal_year" AS BIGINT), 'december', CAST(CAST(__g."december" AS DECIMAL(18,2)) AS VARCHAR), 'share', CAST(CAST(round(TRY_CAST(((CAST((CAST(CAST(__g."december" AS DECIMAL(38,2)) * 100 AS HUGEINT) * 1000000000000) // NULLIF(CAST(CAST(__g."year_total" AS DECIMAL(38,2)) * 100 AS HUGEINT), 0) AS DECIMAL(38,0)) * CAST(0.0000000001 AS DECIMAL(38,10)))) AS DECIMAL(38,10)), 2) AS DECIMAL(24,2)) AS VARCHAR)) AS "vars",
  CAST(__g."agency_code" AS VARCHAR) || '' || CAST(__g."fiscal_year" AS VARCHAR) AS "delta_key"
FROM fiscus_g AS __g LEFT JOIN "ref"."agencies" AS "ag" ON ("ag"."agency_code" = __g."agency_code")
WHERE ((__g."year_total" >= CAST($p_min_year_total AS DECIMAL(18,2))) AND ((__g."december" * 100) > (CAST($p_max_share_pct AS DOUBLE) * __g."year_total")));

-- precondition 1 (treasury.payments 为空 / treasury.payments is empty)
-- parameters: none
SELECT EXISTS (SELECT 1 FROM "treasury"."payments") AS ok;

-- input 1 (treasury.payments)
-- parameters: $as_of=as_of:date
SELECT count(*) AS "rows" FROM "treasury"."payments" AS __in WHERE __in."pay_date" <= CAST($as_of AS DATE);

-- delta (agency_code, fiscal_year)
-- parameters: $delta_batches=delta_batches:string, $as_of=as_of:date, $scope=scope:list, $p_max_share_pct=p_max_share_pct:percent, $p_min_year_total=p_min_year_total:money
WITH fiscus_touched AS MATERIALIZED (SELECT CAST("agency_code" AS VARCHAR) AS k0, CAST("fiscal_year" AS VARCHAR) AS k1 FROM "treasury"."payments" WHERE "_batch_id" IN (SELECT unnest(from_json(CAST($delta_batches AS VARCHAR), '["VARCHAR"]'))) UNION SELECT CAST(CAST(json_extract_string(old_row, '$."' || replace(replace(coalesce(nullif('agency_code', ''), '-'), '\', '\\'), '"', '\"') || '"') AS VARCHAR) AS VARCHAR) AS k0, CAST(CAST(json_extract_string(old_row, '$."' || replace(replace(coalesce(nullif('fiscal_year', ''), '-'), '\', '\\'), '"', '\"') || '"') AS INTEGER) AS VARCHAR) AS k1 FROM "fiscus"."row_history" WHERE table_name = 'treasury.payments' AND replaced_by_batch IN (SELECT unnest(from_json(CAST($delta_batches AS VARCHAR), '["VARCHAR"]')))),
fiscus_g AS (SELECT "p"."agency_code" AS "agency_code", "p"."fiscal_year" AS "fiscal_year", sum("p"."amount") AS "year_total", sum("p"."amount") FILTER (WHERE ((month("p"."pay_date") = 12) AND (year("p"."pay_date") = "p"."fiscal_year"))) AS "december", max("p"."region_code") AS "region_code", count(*) AS __n FROM "treasury"."payments" AS "p" WHERE "p"."pay_date" <= CAST($as_of AS DATE) AND (CAST($scope AS VARCHAR[]) IS NULL OR list_contains(CAST($scope AS VARCHAR[]), "p"."agency_code")) AND ("p"."agency_code", "p"."fiscal_year") IN (SELECT CAST(__dk.k0 AS VARCHAR), CAST(__dk.k1 AS INTEGER) FROM fiscus_touched AS __dk) GROUP BY "p"."agency_code", "p"."fiscal_year")
SELECT 'agency' AS "entity_type",
  CAST(__g."agency_code" AS VARCHAR) AS "entity_id",
  CAST("ag"."agency_name" AS VARCHAR) AS "entity_name",
  CAST(__g."region_code" AS VARCHAR) AS "region_code",
  CAST(__g."agency_code" AS VARCHAR) AS "agency_code",
  CAST(__g."fiscal_year" AS INTEGER) AS "fiscal_year",
  CAST(make_date(CAST(__g."fiscal_year" AS INTEGER), CAST(1 AS INTEGER), CAST(1 AS INTEGER)) AS DATE) AS "period_start",
  CAST(make_date(CAST(__g."fiscal_year" AS INTEGER), CAST(12 AS INTEGER), CAST(31 AS INTEGER)) AS DATE) AS "period_end",
  CAST(NULL AS VARCHAR) AS "severity",
  'december_share_pct' AS "measure_name",
  CAST(CAST(round(TRY_CAST(((CAST((CAST(CAST(__g."december" AS DECIMAL(38,2)) * 100 AS HUGEINT) * 1000000000000) // NULLIF(CAST(CAST(__g."year_total" AS DECIMAL(38,2)) * 100 AS HUGEINT), 0) AS DECIMAL(38,0)) * CAST(0.0000000001 AS DECIMAL(38,10)))) AS DECIMAL(38,10)), 4) AS DECIMAL(24,4)) AS VARCHAR) AS "measure_value",
  CAST(CAST(round(TRY_CAST(CAST($p_max_share_pct AS DOUBLE) AS DECIMAL(38,10)), 4) AS DECIMAL(24,4)) AS VARCHAR) AS "threshold",
  CAST(coalesce(__g."december", 0) AS DECIMAL(18,2)) AS "amount",
  CAST(to_json(CAST(CASE WHEN __g.__n <= 500 THEN list_transform((SELECT list_sort(list_distinct(list(CAST("p"."payment_id" AS VARCHAR)))) FROM "treasury"."payments" AS "p" WHERE "p"."pay_date" <= CAST($as_of AS DATE) AND (CAST($scope AS VARCHAR[]) IS NULL OR list_contains(CAST($scope AS VARCHAR[]), "p"."agency_code")) AND "p"."agency_code" = __g."agency_code" AND "p"."fiscal_year" = __g."fiscal_year" AND __g.__n <= 500), k -> struct_pack("table" := 'treasury.payments', "key" := CAST(k AS VARCHAR))) ELSE CAST([] AS STRUCT("table" VARCHAR, "key" VARCHAR)[]) END AS STRUCT("table" VARCHAR, "key" VARCHAR)[])) AS VARCHAR) AS "evidence",
  CAST(CASE WHEN __g.__n > 500 THEN 'SELECT * FROM treasury.payments WHERE ' || 'agency_code = ' || '''' || replace(CAST(__g."agency_code" AS VARCHAR), '''', '''''') || '''' || ' AND ' || 'fiscal_year = ' || CAST(__g."fiscal_year" AS VARCHAR) || ' AND ' || 'pay_date <= ' || 'DATE ''' || CAST(CAST($as_of AS DATE) AS VARCHAR) || '''' END AS VARCHAR) AS "evidence_query",
  json_object('agency_name', CAST((coalesce("ag"."agency_name", __g."agency_code")) AS VARCHAR), 'fiscal_year', CAST(__g."fiscal_year" AS BIGINT), 'december', CAST(CAST(__g."december" AS DECIMAL(18,2)) AS VARCHAR), 'share', CAST(CAST(round(TRY_CAST(((CAST((CAST(CAST(__g."december" AS DECIMAL(38,2)) * 100 AS HUGEINT) * 1000000000000) // NULLIF(CAST(CAST(__g."year_total" AS DECIMAL(38,2)) * 100 AS HUGEINT), 0) AS DECIMAL(38,0)) * CAST(0.0000000001 AS DECIMAL(38,10)))) AS DECIMAL(38,10)), 2) AS DECIMAL(24,2)) AS VARCHAR)) AS "vars",
  CAST(__g."agency_code" AS VARCHAR) || '' || CAST(__g."fiscal_year" AS VARCHAR) AS "delta_key"
FROM fiscus_g AS __g LEFT JOIN "ref"."agencies" AS "ag" ON ("ag"."agency_code" = __g."agency_code")
WHERE ((__g."year_total" >= CAST($p_min_year_total AS DECIMAL(18,2))) AND ((__g."december" * 100) > (CAST($p_max_share_pct AS DOUBLE) * __g."year_total")));
