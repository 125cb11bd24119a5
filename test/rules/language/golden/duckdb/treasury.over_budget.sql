-- rule
-- parameters: $as_of=as_of:date, $scope=scope:list
WITH fiscus_l AS (SELECT "p"."fiscal_year" AS "fiscal_year", "p"."agency_code" AS "agency_code", "p"."func_code" AS "func_code", "p"."econ_code" AS "econ_code", sum("p"."amount") AS "spending", max("p"."region_code") AS "region_code", count(*) AS __n FROM "treasury"."payments" AS "p" WHERE "p"."pay_date" <= CAST($as_of AS DATE) AND (CAST($scope AS VARCHAR[]) IS NULL OR list_contains(CAST($scope AS VARCHAR[]), "p"."agency_code")) GROUP BY "p"."fiscal_year", "p"."agency_code", "p"."func_code", "p"."econ_code"),
fiscus_r AS (SELECT "i"."fiscal_year" AS "fiscal_year", "i"."agency_code" AS "agency_code", "i"."func_code" AS "func_code", "i"."econ_code" AS "econ_code", sum("i"."amount") AS "budget_sum", count(*) AS __n FROM "treasury"."budget_indicators" AS "i" WHERE "i"."approved_date" <= CAST($as_of AS DATE) AND (CAST($scope AS VARCHAR[]) IS NULL OR list_contains(CAST($scope AS VARCHAR[]), "i"."agency_code")) GROUP BY "i"."fiscal_year", "i"."agency_code", "i"."func_code", "i"."econ_code")
SELECT 'budget_line' AS "entity_type",
  CAST((CAST((CAST((CAST((CAST((CAST((CAST(__l."fiscal_year" AS VARCHAR) || CAST('|' AS VARCHAR)) AS VARCHAR) || CAST(__l."agency_code" AS VARCHAR)) AS VARCHAR) || CAST('|' AS VARCHAR)) AS VARCHAR) || CAST(__l."func_code" AS VARCHAR)) AS VARCHAR) || CAST('|' AS VARCHAR)) AS VARCHAR) || CAST(__l."econ_code" AS VARCHAR)) AS VARCHAR) AS "entity_id",
  CAST("ag"."agency_name" AS VARCHAR) AS "entity_name",
  CAST(__l."region_code" AS VARCHAR) AS "region_code",
  CAST(__l."agency_code" AS VARCHAR) AS "agency_code",
  CAST(__l."fiscal_year" AS INTEGER) AS "fiscal_year",
  CAST(make_date(CAST(__l."fiscal_year" AS INTEGER), CAST(1 AS INTEGER), CAST(1 AS INTEGER)) AS DATE) AS "period_start",
  CAST(make_date(CAST(__l."fiscal_year" AS INTEGER), CAST(12 AS INTEGER), CAST(31 AS INTEGER)) AS DATE) AS "period_end",
  CAST(NULL AS VARCHAR) AS "severity",
  'spending' AS "measure_name",
  CAST(CAST(__l."spending" AS DECIMAL(18,2)) AS VARCHAR) AS "measure_value",
  CAST(CAST((coalesce(__r."budget_sum", 0)) AS DECIMAL(18,2)) AS VARCHAR) AS "threshold",
  CAST((__l."spending" - (coalesce(__r."budget_sum", 0))) AS DECIMAL(18,2)) AS "amount",
  CAST(to_json(CAST(CASE WHEN (coalesce(__l.__n, 0) + coalesce(__r.__n, 0)) <= 500 THEN list_concat(coalesce(list_transform((SELECT list_sort(list_distinct(list(CAST("p"."payment_id" AS VARCHAR)))) FROM "treasury"."payments" AS "p" WHERE "p"."pay_date" <= CAST($as_of AS DATE) AND (CAST($scope AS VARCHAR[]) IS NULL OR list_contains(CAST($scope AS VARCHAR[]), "p"."agency_code")) AND "p"."fiscal_year" = __l."fiscal_year" AND "p"."agency_code" = __l."agency_code" AND "p"."func_code" = __l."func_code" AND "p"."econ_code" = __l."econ_code" AND (coalesce(__l.__n, 0) + coalesce(__r.__n, 0)) <= 500), k -> struct_pack("table" := 'treasury.payments', "key" := CAST(k AS VARCHAR))), CAST([] AS STRUCT("table" VARCHAR, "key" VARCHAR)[])), coalesce(list_transform((SELECT list_sort(list_distinct(list(CAST("i"."indicator_id" AS VARCHAR)))) FROM "treasury"."budget_indicators" AS "i" WHERE "i"."approved_date" <= CAST($as_of AS DATE) AND (CAST($scope AS VARCHAR[]) IS NULL OR list_contains(CAST($scope AS VARCHAR[]), "i"."agency_code")) AND "i"."fiscal_year" = __r."fiscal_year" AND "i"."agency_code" = __r."agency_code" AND "i"."func_code" = __r."func_code" AND "i"."econ_code" = __r."econ_code" AND (coalesce(__l.__n, 0) + coalesce(__r.__n, 0)) <= 500), k -> struct_pack("table" := 'treasury.budget_indicators', "key" := CAST(k AS VARCHAR))), CAST([] AS STRUCT("table" VARCHAR, "key" VARCHAR)[]))) ELSE CAST([] AS STRUCT("table" VARCHAR, "key" VARCHAR)[]) END AS STRUCT("table" VARCHAR, "key" VARCHAR)[])) AS VARCHAR) AS "evidence",
  CAST(CASE WHEN (coalesce(__l.__n, 0) + coalesce(__r.__n, 0)) > 500 THEN 'SELECT * FROM treasury.budget_indicators WHERE ' || 'fiscal_year = ' || CAST(__l."fiscal_year" AS VARCHAR) || ' AND ' || 'agency_code = ' || '''' || replace(CAST(__l."agency_code" AS VARCHAR), '''', '''''') || '''' || ' AND ' || 'func_code = ' || '''' || replace(CAST(__l."func_code" AS VARCHAR), '''', '''''') || '''' || ' AND ' || 'econ_code = ' || '''' || replace(CAST(__l."econ_code" AS VARCHAR), '''', '''''') || '''' || ' AND ' || 'approved_date <= ' || 'DATE ''' || CAST(CAST($as_of AS DATE) AS VARCHAR) || '''' END AS VARCHAR) AS "evidence_query",
  json_object('agency_name', CAST((coalesce("ag"."agency_name", __l."agency_code")) AS VARCHAR), 'fiscal_year', CAST(__l."fiscal_year" AS BIGINT), 'func_code', CAST(__l."func_code" AS VARCHAR), 'econ_code', CAST(__l."econ_code" AS VARCHAR), 'spending', CAST(CAST(__l."spending" AS DECIMAL(18,2)) AS VARCHAR), 'budget', CAST(CAST((coalesce(__r."budget_sum", 0)) AS DECIMAL(18,2)) AS VARCHAR)) AS "vars",
  CAST(__l."fiscal_year" AS VARCHAR) || '' || CAST(__l."agency_code" AS VARCHAR) || '' || CAST(__l."func_code" AS VARCHAR) || '' || CAST(__l."econ_code" AS VARCHAR) AS "delta_key"
FROM fiscus_l AS __l LEFT JOIN fiscus_r AS __r ON __l."fiscal_year" = __r."fiscal_year" AND __l."agency_code" = __r."agency_code" AND __l."func_code" = __r."func_code" AND __l."econ_code" = __r."econ_code" LEFT JOIN "ref"."agencies" AS "ag" ON ("ag"."agency_code" = __l."agency_code")
WHERE (__l."spending" > (coalesce(__r."budget_sum", 0)));

-- precondition 1 (treasury.payments 为空 / treasury.payments is empty)
-- parameters: none
SELECT EXISTS (SELECT 1 FROM "treasury"."payments") AS ok;

-- precondition 2 (treasury.budget_indicators 为空 / treasury.budget_indicators is empty)
-- parameters: none
SELECT EXISTS (SELECT 1 FROM "treasury"."budget_indicators") AS ok;

-- input 1 (treasury.payments)
-- parameters: $as_of=as_of:date
SELECT count(*) AS "rows" FROM "treasury"."payments" AS __in WHERE __in."pay_date" <= CAST($as_of AS DATE);

-- input 2 (treasury.budget_indicators)
-- parameters: $as_of=as_of:date
SELECT count(*) AS "rows" FROM "treasury"."budget_indicators" AS __in WHERE __in."approved_date" <= CAST($as_of AS DATE);

-- delta (fiscal_year, agency_code, func_code, econ_code)
-- parameters: $as_of=as_of:date, $scope=scope:list, $delta_0=delta_0:string, $delta_1=delta_1:string, $delta_2=delta_2:string, $delta_3=delta_3:string
WITH fiscus_l AS (SELECT "p"."fiscal_year" AS "fiscal_year", "p"."agency_code" AS "agency_code", "p"."func_code" AS "func_code", "p"."econ_code" AS "econ_code", sum("p"."amount") AS "spending", max("p"."region_code") AS "region_code", count(*) AS __n FROM "treasury"."payments" AS "p" WHERE "p"."pay_date" <= CAST($as_of AS DATE) AND (CAST($scope AS VARCHAR[]) IS NULL OR list_contains(CAST($scope AS VARCHAR[]), "p"."agency_code")) AND ("p"."fiscal_year", "p"."agency_code", "p"."func_code", "p"."econ_code") IN (SELECT CAST(k0 AS INTEGER), CAST(k1 AS VARCHAR), CAST(k2 AS VARCHAR), CAST(k3 AS VARCHAR) FROM (SELECT unnest(from_json(CAST($delta_0 AS VARCHAR), '["VARCHAR"]')) AS k0, unnest(from_json(CAST($delta_1 AS VARCHAR), '["VARCHAR"]')) AS k1, unnest(from_json(CAST($delta_2 AS VARCHAR), '["VARCHAR"]')) AS k2, unnest(from_json(CAST($delta_3 AS VARCHAR), '["VARCHAR"]')) AS k3) AS __dk) GROUP BY "p"."fiscal_year", "p"."agency_code", "p"."func_code", "p"."econ_code"),
fiscus_r AS (SELECT "i"."fiscal_year" AS "fiscal_year", "i"."agency_code" AS "agency_code", "i"."func_code" AS "func_code", "i"."econ_code" AS "econ_code", sum("i"."amount") AS "budget_sum", count(*) AS __n FROM "treasury"."budget_indicators" AS "i" WHERE "i"."approved_date" <= CAST($as_of AS DATE) AND (CAST($scope AS VARCHAR[]) IS NULL OR list_contains(CAST($scope AS VARCHAR[]), "i"."agency_code")) AND ("i"."fiscal_year", "i"."agency_code", "i"."func_code", "i"."econ_code") IN (SELECT CAST(k0 AS INTEGER), CAST(k1 AS VARCHAR), CAST(k2 AS VARCHAR), CAST(k3 AS VARCHAR) FROM (SELECT unnest(from_json(CAST($delta_0 AS VARCHAR), '["VARCHAR"]')) AS k0, unnest(from_json(CAST($delta_1 AS VARCHAR), '["VARCHAR"]')) AS k1, unnest(from_json(CAST($delta_2 AS VARCHAR), '["VARCHAR"]')) AS k2, unnest(from_json(CAST($delta_3 AS VARCHAR), '["VARCHAR"]')) AS k3) AS __dk) GROUP BY "i"."fiscal_year", "i"."agency_code", "i"."func_code", "i"."econ_code")
SELECT 'budget_line' AS "entity_type",
  CAST((CAST((CAST((CAST((CAST((CAST((CAST(__l."fiscal_year" AS VARCHAR) || CAST('|' AS VARCHAR)) AS VARCHAR) || CAST(__l."agency_code" AS VARCHAR)) AS VARCHAR) || CAST('|' AS VARCHAR)) AS VARCHAR) || CAST(__l."func_code" AS VARCHAR)) AS VARCHAR) || CAST('|' AS VARCHAR)) AS VARCHAR) || CAST(__l."econ_code" AS VARCHAR)) AS VARCHAR) AS "entity_id",
  CAST("ag"."agency_name" AS VARCHAR) AS "entity_name",
  CAST(__l."region_code" AS VARCHAR) AS "region_code",
  CAST(__l."agency_code" AS VARCHAR) AS "agency_code",
  CAST(__l."fiscal_year" AS INTEGER) AS "fiscal_year",
  CAST(make_date(CAST(__l."fiscal_year" AS INTEGER), CAST(1 AS INTEGER), CAST(1 AS INTEGER)) AS DATE) AS "period_start",
  CAST(make_date(CAST(__l."fiscal_year" AS INTEGER), CAST(12 AS INTEGER), CAST(31 AS INTEGER)) AS DATE) AS "period_end",
  CAST(NULL AS VARCHAR) AS "severity",
  'spending' AS "measure_name",
  CAST(CAST(__l."spending" AS DECIMAL(18,2)) AS VARCHAR) AS "measure_value",
  CAST(CAST((coalesce(__r."budget_sum", 0)) AS DECIMAL(18,2)) AS VARCHAR) AS "threshold",
  CAST((__l."spending" - (coalesce(__r."budget_sum", 0))) AS DECIMAL(18,2)) AS "amount",
  CAST(to_json(CAST(CASE WHEN (coalesce(__l.__n, 0) + coalesce(__r.__n, 0)) <= 500 THEN list_concat(coalesce(list_transform((SELECT list_sort(list_distinct(list(CAST("p"."payment_id" AS VARCHAR)))) FROM "treasury"."payments" AS "p" WHERE "p"."pay_date" <= CAST($as_of AS DATE) AND (CAST($scope AS VARCHAR[]) IS NULL OR list_contains(CAST($scope AS VARCHAR[]), "p"."agency_code")) AND "p"."fiscal_year" = __l."fiscal_year" AND "p"."agency_code" = __l."agency_code" AND "p"."func_code" = __l."func_code" AND "p"."econ_code" = __l."econ_code" AND (coalesce(__l.__n, 0) + coalesce(__r.__n, 0)) <= 500), k -> struct_pack("table" := 'treasury.payments', "key" := CAST(k AS VARCHAR))), CAST([] AS STRUCT("table" VARCHAR, "key" VARCHAR)[])), coalesce(list_transform((SELECT list_sort(list_distinct(list(CAST("i"."indicator_id" AS VARCHAR)))) FROM "treasury"."budget_indicators" AS "i" WHERE "i"."approved_date" <= CAST($as_of AS DATE) AND (CAST($scope AS VARCHAR[]) IS NULL OR list_contains(CAST($scope AS VARCHAR[]), "i"."agency_code")) AND "i"."fiscal_year" = __r."fiscal_year" AND "i"."agency_code" = __r."agency_code" AND "i"."func_code" = __r."func_code" AND "i"."econ_code" = __r."econ_code" AND (coalesce(__l.__n, 0) + coalesce(__r.__n, 0)) <= 500), k -> struct_pack("table" := 'treasury.budget_indicators', "key" := CAST(k AS VARCHAR))), CAST([] AS STRUCT("table" VARCHAR, "key" VARCHAR)[]))) ELSE CAST([] AS STRUCT("table" VARCHAR, "key" VARCHAR)[]) END AS STRUCT("table" VARCHAR, "key" VARCHAR)[])) AS VARCHAR) AS "evidence",
  CAST(CASE WHEN (coalesce(__l.__n, 0) + coalesce(__r.__n, 0)) > 500 THEN 'SELECT * FROM treasury.budget_indicators WHERE ' || 'fiscal_year = ' || CAST(__l."fiscal_year" AS VARCHAR) || ' AND ' || 'agency_code = ' || '''' || replace(CAST(__l."agency_code" AS VARCHAR), '''', '''''') || '''' || ' AND ' || 'func_code = ' || '''' || replace(CAST(__l."func_code" AS VARCHAR), '''', '''''') || '''' || ' AND ' || 'econ_code = ' || '''' || replace(CAST(__l."econ_code" AS VARCHAR), '''', '''''') || '''' || ' AND ' || 'approved_date <= ' || 'DATE ''' || CAST(CAST($as_of AS DATE) AS VARCHAR) || '''' END AS VARCHAR) AS "evidence_query",
  json_object('agency_name', CAST((coalesce("ag"."agency_name", __l."agency_code")) AS VARCHAR), 'fiscal_year', CAST(__l."fiscal_year" AS BIGINT), 'func_code', CAST(__l."func_code" AS VARCHAR), 'econ_code', CAST(__l."econ_code" AS VARCHAR), 'spending', CAST(CAST(__l."spending" AS DECIMAL(18,2)) AS VARCHAR), 'budget', CAST(CAST((coalesce(__r."budget_sum", 0)) AS DECIMAL(18,2)) AS VARCHAR)) AS "vars",
  CAST(__l."fiscal_year" AS VARCHAR) || '' || CAST(__l."agency_code" AS VARCHAR) || '' || CAST(__l."func_code" AS VARCHAR) || '' || CAST(__l."econ_code" AS VARCHAR) AS "delta_key"
FROM fiscus_l AS __l LEFT JOIN fiscus_r AS __r ON __l."fiscal_year" = __r."fiscal_year" AND __l."agency_code" = __r."agency_code" AND __l."func_code" = __r."func_code" AND __l."econ_code" = __r."econ_code" LEFT JOIN "ref"."agencies" AS "ag" ON ("ag"."agency_code" = __l."agency_code")
WHERE (__l."spending" > (coalesce(__r."budget_sum", 0)));
