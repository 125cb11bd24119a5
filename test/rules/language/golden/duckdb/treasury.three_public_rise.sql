-- rule
-- parameters: $as_of=as_of:date, $scope=scope:list, $p_econ_codes=p_econ_codes:list
WITH fiscus_l AS (SELECT "p"."agency_code" AS "agency_code", "p"."fiscal_year" AS "fiscal_year", sum("p"."amount") AS "this_year", max("p"."region_code") AS "region_code", count(*) AS __n FROM "treasury"."payments" AS "p" WHERE "p"."pay_date" <= CAST($as_of AS DATE) AND (CAST($scope AS VARCHAR[]) IS NULL OR list_contains(CAST($scope AS VARCHAR[]), "p"."agency_code")) AND list_contains(CAST($p_econ_codes AS VARCHAR[]), CAST("p"."econ_code" AS VARCHAR)) GROUP BY "p"."agency_code", "p"."fiscal_year"),
fiscus_r AS (SELECT "q"."agency_code" AS "agency_code", ("q"."fiscal_year" + 1) AS "fiscal_year", sum("q"."amount") AS "last_year", count(*) AS __n FROM "treasury"."payments" AS "q" WHERE "q"."pay_date" <= CAST($as_of AS DATE) AND (CAST($scope AS VARCHAR[]) IS NULL OR list_contains(CAST($scope AS VARCHAR[]), "q"."agency_code")) AND list_contains(CAST($p_econ_codes AS VARCHAR[]), CAST("q"."econ_code" AS VARCHAR)) GROUP BY "q"."agency_code", ("q"."fiscal_year" + 1))
SELECT 'agency' AS "entity_type",
  CAST(__l."agency_code" AS VARCHAR) AS "entity_id",
  CAST("ag"."agency_name" AS VARCHAR) AS "entity_name",
  CAST(__l."region_code" AS VARCHAR) AS "region_code",
  CAST(__l."agency_code" AS VARCHAR) AS "agency_code",
  CAST(__l."fiscal_year" AS INTEGER) AS "fiscal_year",
  CAST(make_date(CAST(__l."fiscal_year" AS INTEGER), CAST(1 AS INTEGER), CAST(1 AS INTEGER)) AS DATE) AS "period_start",
  CAST(make_date(CAST(__l."fiscal_year" AS INTEGER), CAST(12 AS INTEGER), CAST(31 AS INTEGER)) AS DATE) AS "period_end",
  CAST(NULL AS VARCHAR) AS "severity",
  'three_public_total' AS "measure_name",
  CAST(CAST(__l."this_year" AS DECIMAL(18,2)) AS VARCHAR) AS "measure_value",
  CAST(CAST(__r."last_year" AS DECIMAL(18,2)) AS VARCHAR) AS "threshold",
  CAST((__l."this_year" - __r."last_year") AS DECIMAL(18,2)) AS "amount",
  CAST(to_json(CAST(CASE WHEN (coalesce(__l.__n, 0) + coalesce(__r.__n, 0)) <= 500 THEN list_concat(coalesce(list_transform((SELECT list_sort(list_distinct(list(CAST("p"."payment_id" AS VARCHAR)))) FROM "treasury"."payments" AS "p" WHERE "p"."pay_date" <= CAST($as_of AS DATE) AND (CAST($scope AS VARCHAR[]) IS NULL OR list_contains(CAST($scope AS VARCHAR[]), "p"."agency_code")) AND list_contains(CAST($p_econ_codes AS VARCHAR[]), CAST("p"."econ_code" AS VARCHAR)) AND "p"."agency_code" = __l."agency_code" AND "p"."fiscal_year" = __l."fiscal_year" AND (coalesce(__l.__n, 0) + coalesce(__r.__n, 0)) <= 500), k -> struct_pack("table" := 'treasury.payments', "key" := CAST(k AS VARCHAR))), CAST([] AS STRUCT("table" VARCHAR, "key" VARCHAR)[])), coalesce(list_transform((SELECT list_sort(list_distinct(list(CAST("q"."payment_id" AS VARCHAR)))) FROM "treasury"."payments" AS "q" WHERE "q"."pay_date" <= CAST($as_of AS DATE) AND (CAST($scope AS VARCHAR[]) IS NULL OR list_contains(CAST($scope AS VARCHAR[]), "q"."agency_code")) AND list_contains(CAST($p_econ_codes AS VARCHAR[]), CAST("q"."econ_code" AS VARCHAR)) AND "q"."agency_code" = __r."agency_code" AND ("q"."fiscal_year" + 1) = __r."fiscal_year" AND (coalesce(__l.__n, 0) + coalesce(__r.__n, 0)) <= 500), k -> struct_pack("table" := 'treasury.payments', "key" := CAST(k AS VARCHAR))), CAST([] AS STRUCT("table" VARCHAR, "key" VARCHAR)[]))) ELSE CAST([] AS STRUCT("table" VARCHAR, "key" VARCHAR)[]) END AS STRUCT("table" VARCHAR, "key" VARCHAR)[])) AS VARCHAR) AS "evidence",
  CAST(CASE WHEN (coalesce(__l.__n, 0) + coalesce(__r.__n, 0)) > 500 THEN 'SELECT * FROM treasury.payments WHERE ' || 'agency_code = ' || '''' || replace(CAST(__l."agency_code" AS VARCHAR), '''', '''''') || '''' || ' AND ' || 'pay_date <= ' || 'DATE ''' || CAST(CAST($as_of AS DATE) AS VARCHAR) || '''' END AS VARCHAR) AS "evidence_query",
  json_object('agency_name', CAST((coalesce("ag"."agency_name", __l."agency_code")) AS VARCHAR), 'fiscal_year', CAST(__l."fiscal_year" AS BIGINT), 'this_year', CAST(CAST(__l."this_year" AS DECIMAL(18,2)) AS VARCHAR), 'last_year', CAST(CAST(__r."last_year" AS DECIMAL(18,2)) AS VARCHAR)) AS "vars",
  CAST(__l."agency_code" AS VARCHAR) AS "delta_key"
FROM fiscus_l AS __l JOIN fiscus_r AS __r ON __l."agency_code" = __r."agency_code" AND __l."fiscal_year" = __r."fiscal_year" LEFT JOIN "ref"."agencies" AS "ag" ON ("ag"."agency_code" = __l."agency_code")
WHERE (__l."this_year" > __r."last_year");

-- precondition 1 (treasury.payments 为空 / treasury.payments is empty)
-- parameters: none
SELECT EXISTS (SELECT 1 FROM "treasury"."payments") AS ok;

-- input 1 (treasury.payments)
-- parameters: $as_of=as_of:date
SELECT count(*) AS "rows" FROM "treasury"."payments" AS __in WHERE __in."pay_date" <= CAST($as_of AS DATE);

-- input 2 (treasury.payments)
-- parameters: $as_of=as_of:date
SELECT count(*) AS "rows" FROM "treasury"."payments" AS __in WHERE __in."pay_date" <= CAST($as_of AS DATE);

-- delta (agency_code)
-- parameters: $delta_batches=delta_batches:string, $as_of=as_of:date, $scope=scope:list, $p_econ_codes=p_econ_codes:list
WITH fiscus_touched AS MATERIALIZED (SELECT CAST("agency_code" AS VARCHAR) AS k0 FROM "treasury"."payments" WHERE "_batch_id" IN (SELECT unnest(from_json(CAST($delta_batches AS VARCHAR), '["VARCHAR"]'))) UNION SELECT CAST(CAST(json_extract_string(old_row, '$."' || replace(replace(coalesce(nullif('agency_code', ''), '-'), '\', '\\'), '"', '\"') || '"') AS VARCHAR) AS VARCHAR) AS k0 FROM "fiscus"."row_history" WHERE table_name = 'treasury.payments' AND replaced_by_batch IN (SELECT unnest(from_json(CAST($delta_batches AS VARCHAR), '["VARCHAR"]')))),
fiscus_l AS (SELECT "p"."agency_code" AS "agency_code", "p"."fiscal_year" AS "fiscal_year", sum("p"."amount") AS "this_year", max("p"."region_code") AS "region_code", count(*) AS __n FROM "treasury"."payments" AS "p" WHERE "p"."pay_date" <= CAST($as_of AS DATE) AND (CAST($scope AS VARCHAR[]) IS NULL OR list_contains(CAST($scope AS VARCHAR[]), "p"."agency_code")) AND "p"."agency_code" IN (SELECT CAST(__dk.k0 AS VARCHAR) FROM fiscus_touched AS __dk) AND list_contains(CAST($p_econ_codes AS VARCHAR[]), CAST("p"."econ_code" AS VARCHAR)) GROUP BY "p"."agency_code", "p"."fiscal_year"),
fiscus_r AS (SELECT "q"."agency_code" AS "agency_code", ("q"."fiscal_year" + 1) AS "fiscal_year", sum("q"."amount") AS "last_year", count(*) AS __n FROM "treasury"."payments" AS "q" WHERE "q"."pay_date" <= CAST($as_of AS DATE) AND (CAST($scope AS VARCHAR[]) IS NULL OR list_contains(CAST($scope AS VARCHAR[]), "q"."agency_code")) AND "q"."agency_code" IN (SELECT CAST(__dk.k0 AS VARCHAR) FROM fiscus_touched AS __dk) AND list_contains(CAST($p_econ_codes AS VARCHAR[]), CAST("q"."econ_code" AS VARCHAR)) GROUP BY "q"."agency_code", ("q"."fiscal_year" + 1))
SELECT 'agency' AS "entity_type",
  CAST(__l."agency_code" AS VARCHAR) AS "entity_id",
  CAST("ag"."agency_name" AS VARCHAR) AS "entity_name",
  CAST(__l."region_code" AS VARCHAR) AS "region_code",
  CAST(__l."agency_code" AS VARCHAR) AS "agency_code",
  CAST(__l."fiscal_year" AS INTEGER) AS "fiscal_year",
  CAST(make_date(CAST(__l."fiscal_year" AS INTEGER), CAST(1 AS INTEGER), CAST(1 AS INTEGER)) AS DATE) AS "period_start",
  CAST(make_date(CAST(__l."fiscal_year" AS INTEGER), CAST(12 AS INTEGER), CAST(31 AS INTEGER)) AS DATE) AS "period_end",
  CAST(NULL AS VARCHAR) AS "severity",
  'three_public_total' AS "measure_name",
  CAST(CAST(__l."this_year" AS DECIMAL(18,2)) AS VARCHAR) AS "measure_value",
  CAST(CAST(__r."last_year" AS DECIMAL(18,2)) AS VARCHAR) AS "threshold",
  CAST((__l."this_year" - __r."last_year") AS DECIMAL(18,2)) AS "amount",
  CAST(to_json(CAST(CASE WHEN (coalesce(__l.__n, 0) + coalesce(__r.__n, 0)) <= 500 THEN list_concat(coalesce(list_transform((SELECT list_sort(list_distinct(list(CAST("p"."payment_id" AS VARCHAR)))) FROM "treasury"."payments" AS "p" WHERE "p"."pay_date" <= CAST($as_of AS DATE) AND (CAST($scope AS VARCHAR[]) IS NULL OR list_contains(CAST($scope AS VARCHAR[]), "p"."agency_code")) AND list_contains(CAST($p_econ_codes AS VARCHAR[]), CAST("p"."econ_code" AS VARCHAR)) AND "p"."agency_code" = __l."agency_code" AND "p"."fiscal_year" = __l."fiscal_year" AND (coalesce(__l.__n, 0) + coalesce(__r.__n, 0)) <= 500), k -> struct_pack("table" := 'treasury.payments', "key" := CAST(k AS VARCHAR))), CAST([] AS STRUCT("table" VARCHAR, "key" VARCHAR)[])), coalesce(list_transform((SELECT list_sort(list_distinct(list(CAST("q"."payment_id" AS VARCHAR)))) FROM "treasury"."payments" AS "q" WHERE "q"."pay_date" <= CAST($as_of AS DATE) AND (CAST($scope AS VARCHAR[]) IS NULL OR list_contains(CAST($scope AS VARCHAR[]), "q"."agency_code")) AND list_contains(CAST($p_econ_codes AS VARCHAR[]), CAST("q"."econ_code" AS VARCHAR)) AND "q"."agency_code" = __r."agency_code" AND ("q"."fiscal_year" + 1) = __r."fiscal_year" AND (coalesce(__l.__n, 0) + coalesce(__r.__n, 0)) <= 500), k -> struct_pack("table" := 'treasury.payments', "key" := CAST(k AS VARCHAR))), CAST([] AS STRUCT("table" VARCHAR, "key" VARCHAR)[]))) ELSE CAST([] AS STRUCT("table" VARCHAR, "key" VARCHAR)[]) END AS STRUCT("table" VARCHAR, "key" VARCHAR)[])) AS VARCHAR) AS "evidence",
  CAST(CASE WHEN (coalesce(__l.__n, 0) + coalesce(__r.__n, 0)) > 500 THEN 'SELECT * FROM treasury.payments WHERE ' || 'agency_code = ' || '''' || replace(CAST(__l."agency_code" AS VARCHAR), '''', '''''') || '''' || ' AND ' || 'pay_date <= ' || 'DATE ''' || CAST(CAST($as_of AS DATE) AS VARCHAR) || '''' END AS VARCHAR) AS "evidence_query",
  json_object('agency_name', CAST((coalesce("ag"."agency_name", __l."agency_code")) AS VARCHAR), 'fiscal_year', CAST(__l."fiscal_year" AS BIGINT), 'this_year', CAST(CAST(__l."this_year" AS DECIMAL(18,2)) AS VARCHAR), 'last_year', CAST(CAST(__r."last_year" AS DECIMAL(18,2)) AS VARCHAR)) AS "vars",
  CAST(__l."agency_code" AS VARCHAR) AS "delta_key"
FROM fiscus_l AS __l JOIN fiscus_r AS __r ON __l."agency_code" = __r."agency_code" AND __l."fiscal_year" = __r."fiscal_year" LEFT JOIN "ref"."agencies" AS "ag" ON ("ag"."agency_code" = __l."agency_code")
WHERE (__l."this_year" > __r."last_year");
