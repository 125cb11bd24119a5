-- rule
-- parameters: $as_of=as_of:date, $scope=scope:list, $p_min_amount=p_min_amount:money, $p_min_count=p_min_count:integer, $p_max_mad=p_max_mad:number
WITH fiscus_bd AS (SELECT "p"."agency_code" AS "agency_code", "p"."fiscal_year" AS "fiscal_year", CASE WHEN abs("p"."amount") >= 1 THEN CAST(left(CAST(CAST(floor(abs("p"."amount")) AS BIGINT) AS VARCHAR), 1) AS INTEGER) END AS __digit, count(*) AS __c
        FROM "treasury"."payments" AS "p" WHERE "p"."pay_date" <= CAST($as_of AS DATE) AND (CAST($scope AS VARCHAR[]) IS NULL OR list_contains(CAST($scope AS VARCHAR[]), "p"."agency_code")) AND (("p"."amount" > 0) AND ("p"."amount" >= CAST($p_min_amount AS DECIMAL(18,2)))) AND CASE WHEN abs("p"."amount") >= 1 THEN CAST(left(CAST(CAST(floor(abs("p"."amount")) AS BIGINT) AS VARCHAR), 1) AS INTEGER) END IS NOT NULL
        GROUP BY "p"."agency_code", "p"."fiscal_year", CASE WHEN abs("p"."amount") >= 1 THEN CAST(left(CAST(CAST(floor(abs("p"."amount")) AS BIGINT) AS VARCHAR), 1) AS INTEGER) END),
fiscus_bn AS (SELECT "agency_code", "fiscal_year", sum(__c) AS __n FROM fiscus_bd GROUP BY "agency_code", "fiscal_year" HAVING sum(__c) >= CAST($p_min_count AS BIGINT)),
fiscus_bm AS (SELECT n."agency_code", n."fiscal_year", n.__n,
        sum(abs(coalesce(d.__c, 0) / CAST(n.__n AS DOUBLE) - log10(1 + 1 / CAST(dg.digit AS DOUBLE)))) / 9 AS __mad
        FROM fiscus_bn n CROSS JOIN (SELECT range AS digit FROM range(1, 10) __r) dg
        LEFT JOIN fiscus_bd d ON d."agency_code" = n."agency_code" AND d."fiscal_year" = n."fiscal_year" AND d.__digit = dg.digit
        GROUP BY n."agency_code", n."fiscal_year", n.__n)
SELECT 'agency' AS "entity_type",
  CAST(__b."agency_code" AS VARCHAR) AS "entity_id",
  CAST("ag"."agency_name" AS VARCHAR) AS "entity_name",
  CAST("ag"."region_code" AS VARCHAR) AS "region_code",
  CAST(__b."agency_code" AS VARCHAR) AS "agency_code",
  CAST(__b."fiscal_year" AS INTEGER) AS "fiscal_year",
  CAST(make_date(CAST(__b."fiscal_year" AS INTEGER), CAST(1 AS INTEGER), CAST(1 AS INTEGER)) AS DATE) AS "period_start",
  CAST(make_date(CAST(__b."fiscal_year" AS INTEGER), CAST(12 AS INTEGER), CAST(31 AS INTEGER)) AS DATE) AS "period_end",
  CAST(NULL AS VARCHAR) AS "severity",
  'mad' AS "measure_name",
  CAST(CAST(round(TRY_CAST(__b.__mad AS DECIMAL(38,10)), 4) AS DECIMAL(24,4)) AS VARCHAR) AS "measure_value",
  CAST(CAST(round(TRY_CAST(CAST($p_max_mad AS DOUBLE) AS DECIMAL(38,10)), 4) AS DECIMAL(24,4)) AS VARCHAR) AS "threshold",
  CAST(NULL AS DECIMAL(18,2)) AS "amount",
  CAST(CASE WHEN __b.__n <= 500 THEN list_transform((SELECT list_sort(list_distinct(list(CAST("p"."payment_id" AS VARCHAR)))) FROM "treasury"."payments" AS "p" WHERE "p"."pay_date" <= CAST($as_of AS DATE) AND (CAST($scope AS VARCHAR[]) IS NULL OR list_contains(CAST($scope AS VARCHAR[]), "p"."agency_code")) AND (("p"."amount" > 0) AND ("p"."amount" >= CAST($p_min_amount AS DECIMAL(18,2)))) AND CASE WHEN abs("p"."amount") >= 1 THEN CAST(left(CAST(CAST(floor(abs("p"."amount")) AS BIGINT) AS VARCHAR), 1) AS INTEGER) END IS NOT NULL AND "p"."agency_code" = __b."agency_code" AND "p"."fiscal_year" = __b."fiscal_year" AND __b.__n <= 500), k -> struct_pack("table" := 'treasury.payments', "key" := CAST(k AS VARCHAR))) ELSE CAST([] AS STRUCT("table" VARCHAR, "key" VARCHAR)[]) END AS STRUCT("table" VARCHAR, "key" VARCHAR)[]) AS "evidence",
  CAST(CASE WHEN __b.__n > 500 THEN 'SELECT * FROM treasury.payments WHERE ' || 'agency_code = ' || '''' || replace(CAST(__b."agency_code" AS VARCHAR), '''', '''''') || '''' || ' AND ' || 'fiscal_year = ' || CAST(__b."fiscal_year" AS VARCHAR) || ' AND ' || 'pay_date <= ' || 'DATE ''' || CAST(CAST($as_of AS DATE) AS VARCHAR) || '''' END AS VARCHAR) AS "evidence_query",
  json_object('agency_name', CAST((coalesce("ag"."agency_name", __b."agency_code")) AS VARCHAR), 'fiscal_year', CAST(__b."fiscal_year" AS BIGINT), 'n', CAST(__b.__n AS BIGINT), 'mad', CAST(CAST(round(TRY_CAST(__b.__mad AS DECIMAL(38,10)), 4) AS DECIMAL(24,4)) AS VARCHAR)) AS "vars",
  CAST(__b."agency_code" AS VARCHAR) || '' || CAST(__b."fiscal_year" AS VARCHAR) AS "delta_key"
FROM fiscus_bm AS __b LEFT JOIN "ref"."agencies" AS "ag" ON ("ag"."agency_code" = __b."agency_code")
WHERE (__b.__mad > CAST($p_max_mad AS DOUBLE));

-- precondition 1 (treasury.payments 为空 / treasury.payments is empty)
-- parameters: none
SELECT EXISTS (SELECT 1 FROM "treasury"."payments") AS ok;

-- precondition 2 (没有支付笔数达到1000的单位年度 / no agency-year has ≥ 1000 positive payments)
-- parameters: $as_of=as_of:date, $scope=scope:list, $p_min_amount=p_min_amount:money, $p_min_count=p_min_count:integer
WITH fiscus_bd AS (SELECT "p"."agency_code" AS "agency_code", "p"."fiscal_year" AS "fiscal_year", CASE WHEN abs("p"."amount") >= 1 THEN CAST(left(CAST(CAST(floor(abs("p"."amount")) AS BIGINT) AS VARCHAR), 1) AS INTEGER) END AS __digit, count(*) AS __c
        FROM "treasury"."payments" AS "p" WHERE "p"."pay_date" <= CAST($as_of AS DATE) AND (CAST($scope AS VARCHAR[]) IS NULL OR list_contains(CAST($scope AS VARCHAR[]), "p"."agency_code")) AND (("p"."amount" > 0) AND ("p"."amount" >= CAST($p_min_amount AS DECIMAL(18,2)))) AND CASE WHEN abs("p"."amount") >= 1 THEN CAST(left(CAST(CAST(floor(abs("p"."amount")) AS BIGINT) AS VARCHAR), 1) AS INTEGER) END IS NOT NULL
        GROUP BY "p"."agency_code", "p"."fiscal_year", CASE WHEN abs("p"."amount") >= 1 THEN CAST(left(CAST(CAST(floor(abs("p"."amount")) AS BIGINT) AS VARCHAR), 1) AS INTEGER) END),
fiscus_bn AS (SELECT "agency_code", "fiscal_year", sum(__c) AS __n FROM fiscus_bd GROUP BY "agency_code", "fiscal_year" HAVING sum(__c) >= CAST($p_min_count AS BIGINT))
SELECT EXISTS (SELECT 1 FROM fiscus_bn) AS ok;

-- input 1 (treasury.payments)
-- parameters: $as_of=as_of:date
SELECT count(*) AS "rows" FROM "treasury"."payments" AS __in WHERE __in."pay_date" <= CAST($as_of AS DATE);

-- delta (agency_code, fiscal_year)
-- parameters: $as_of=as_of:date, $scope=scope:list, $delta_0=delta_0:string, $delta_1=delta_1:string, $p_min_amount=p_min_amount:money, $p_min_count=p_min_count:integer, $p_max_mad=p_max_mad:number
WITH fiscus_bd AS (SELECT "p"."agency_code" AS "agency_code", "p"."fiscal_year" AS "fiscal_year", CASE WHEN abs("p"."amount") >= 1 THEN CAST(left(CAST(CAST(floor(abs("p"."amount")) AS BIGINT) AS VARCHAR), 1) AS INTEGER) END AS __digit, count(*) AS __c
        FROM "treasury"."payments" AS "p" WHERE "p"."pay_date" <= CAST($as_of AS DATE) AND (CAST($scope AS VARCHAR[]) IS NULL OR list_contains(CAST($scope AS VARCHAR[]), "p"."agency_code")) AND ("p"."agency_code", "p"."fiscal_year") IN (SELECT CAST(k0 AS VARCHAR), CAST(k1 AS INTEGER) FROM (SELECT unnest(from_json(CAST($delta_0 AS VARCHAR), '["VARCHAR"]')) AS k0, unnest(from_json(CAST($delta_1 AS VARCHAR), '["VARCHAR"]')) AS k1) AS __dk) AND (("p"."amount" > 0) AND ("p"."amount" >= CAST($p_min_amount AS DECIMAL(18,2)))) AND CASE WHEN abs("p"."amount") >= 1 THEN CAST(left(CAST(CAST(floor(abs("p"."amount")) AS BIGINT) AS VARCHAR), 1) AS INTEGER) END IS NOT NULL
        GROUP BY "p"."agency_code", "p"."fiscal_year", CASE WHEN abs("p"."amount") >= 1 THEN CAST(left(CAST(CAST(floor(abs("p"."amount")) AS BIGINT) AS VARCHAR), 1) AS INTEGER) END),
fiscus_bn AS (SELECT "agency_code", "fiscal_year", sum(__c) AS __n FROM fiscus_bd GROUP BY "agency_code", "fiscal_year" HAVING sum(__c) >= CAST($p_min_count AS BIGINT)),
fiscus_bm AS (SELECT n."agency_code", n."fiscal_year", n.__n,
        sum(abs(coalesce(d.__c, 0) / CAST(n.__n AS DOUBLE) - log10(1 + 1 / CAST(dg.digit AS DOUBLE)))) / 9 AS __mad
        FROM fiscus_bn n CROSS JOIN (SELECT range AS digit FROM range(1, 10) __r) dg
        LEFT JOIN fiscus_bd d ON d."agency_code" = n."agency_code" AND d."fiscal_year" = n."fiscal_year" AND d.__digit = dg.digit
        GROUP BY n."agency_code", n."fiscal_year", n.__n)
SELECT 'agency' AS "entity_type",
  CAST(__b."agency_code" AS VARCHAR) AS "entity_id",
  CAST("ag"."agency_name" AS VARCHAR) AS "entity_name",
  CAST("ag"."region_code" AS VARCHAR) AS "region_code",
  CAST(__b."agency_code" AS VARCHAR) AS "agency_code",
  CAST(__b."fiscal_year" AS INTEGER) AS "fiscal_year",
  CAST(make_date(CAST(__b."fiscal_year" AS INTEGER), CAST(1 AS INTEGER), CAST(1 AS INTEGER)) AS DATE) AS "period_start",
  CAST(make_date(CAST(__b."fiscal_year" AS INTEGER), CAST(12 AS INTEGER), CAST(31 AS INTEGER)) AS DATE) AS "period_end",
  CAST(NULL AS VARCHAR) AS "severity",
  'mad' AS "measure_name",
  CAST(CAST(round(TRY_CAST(__b.__mad AS DECIMAL(38,10)), 4) AS DECIMAL(24,4)) AS VARCHAR) AS "measure_value",
  CAST(CAST(round(TRY_CAST(CAST($p_max_mad AS DOUBLE) AS DECIMAL(38,10)), 4) AS DECIMAL(24,4)) AS VARCHAR) AS "threshold",
  CAST(NULL AS DECIMAL(18,2)) AS "amount",
  CAST(CASE WHEN __b.__n <= 500 THEN list_transform((SELECT list_sort(list_distinct(list(CAST("p"."payment_id" AS VARCHAR)))) FROM "treasury"."payments" AS "p" WHERE "p"."pay_date" <= CAST($as_of AS DATE) AND (CAST($scope AS VARCHAR[]) IS NULL OR list_contains(CAST($scope AS VARCHAR[]), "p"."agency_code")) AND ("p"."agency_code", "p"."fiscal_year") IN (SELECT CAST(k0 AS VARCHAR), CAST(k1 AS INTEGER) FROM (SELECT unnest(from_json(CAST($delta_0 AS VARCHAR), '["VARCHAR"]')) AS k0, unnest(from_json(CAST($delta_1 AS VARCHAR), '["VARCHAR"]')) AS k1) AS __dk) AND (("p"."amount" > 0) AND ("p"."amount" >= CAST($p_min_amount AS DECIMAL(18,2)))) AND CASE WHEN abs("p"."amount") >= 1 THEN CAST(left(CAST(CAST(floor(abs("p"."amount")) AS BIGINT) AS VARCHAR), 1) AS INTEGER) END IS NOT NULL AND "p"."agency_code" = __b."agency_code" AND "p"."fiscal_year" = __b."fiscal_year" AND __b.__n <= 500), k -> struct_pack("table" := 'treasury.payments', "key" := CAST(k AS VARCHAR))) ELSE CAST([] AS STRUCT("table" VARCHAR, "key" VARCHAR)[]) END AS STRUCT("table" VARCHAR, "key" VARCHAR)[]) AS "evidence",
  CAST(CASE WHEN __b.__n > 500 THEN 'SELECT * FROM treasury.payments WHERE ' || 'agency_code = ' || '''' || replace(CAST(__b."agency_code" AS VARCHAR), '''', '''''') || '''' || ' AND ' || 'fiscal_year = ' || CAST(__b."fiscal_year" AS VARCHAR) || ' AND ' || 'pay_date <= ' || 'DATE ''' || CAST(CAST($as_of AS DATE) AS VARCHAR) || '''' END AS VARCHAR) AS "evidence_query",
  json_object('agency_name', CAST((coalesce("ag"."agency_name", __b."agency_code")) AS VARCHAR), 'fiscal_year', CAST(__b."fiscal_year" AS BIGINT), 'n', CAST(__b.__n AS BIGINT), 'mad', CAST(CAST(round(TRY_CAST(__b.__mad AS DECIMAL(38,10)), 4) AS DECIMAL(24,4)) AS VARCHAR)) AS "vars",
  CAST(__b."agency_code" AS VARCHAR) || '' || CAST(__b."fiscal_year" AS VARCHAR) AS "delta_key"
FROM fiscus_bm AS __b LEFT JOIN "ref"."agencies" AS "ag" ON ("ag"."agency_code" = __b."agency_code")
WHERE (__b.__mad > CAST($p_max_mad AS DOUBLE));
