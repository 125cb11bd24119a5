-- rule
-- parameters: $1=as_of:date, $2=scope:list, $3=p_min_amount:money, $4=p_min_count:integer, $5=p_max_mad:number
WITH fiscus_bd AS (SELECT "p"."agency_code" AS "agency_code", "p"."fiscal_year" AS "fiscal_year", CASE WHEN abs("p"."amount") >= 1 THEN CAST(left(CAST(CAST(floor(abs("p"."amount")) AS BIGINT) AS TEXT), 1) AS INTEGER) END AS __digit, count(*) AS __c
        FROM "treasury"."payments" AS "p" WHERE "p"."pay_date" <= CAST($1 AS DATE) AND (CAST($2 AS TEXT[]) IS NULL OR "p"."agency_code" = ANY(CAST($2 AS TEXT[]))) AND (("p"."amount" > 0) AND ("p"."amount" >= CAST($3 AS DECIMAL(18,2)))) AND CASE WHEN abs("p"."amount") >= 1 THEN CAST(left(CAST(CAST(floor(abs("p"."amount")) AS BIGINT) AS TEXT), 1) AS INTEGER) END IS NOT NULL
        GROUP BY "p"."agency_code", "p"."fiscal_year", CASE WHEN abs("p"."amount") >= 1 THEN CAST(left(CAST(CAST(floor(abs("p"."amount")) AS BIGINT) AS TEXT), 1) AS INTEGER) END),
fiscus_bn AS (SELECT "agency_code", "fiscal_year", sum(__c) AS __n FROM fiscus_bd GROUP BY "agency_code", "fiscal_year" HAVING sum(__c) >= CAST($4 AS BIGINT)),
fiscus_bm AS (SELECT n."agency_code", n."fiscal_year", n.__n,
        sum(abs(coalesce(d.__c, 0) / CAST(n.__n AS DOUBLE PRECISION) - log10(1 + 1 / CAST(dg.digit AS DOUBLE PRECISION)))) / 9 AS __mad
        FROM fiscus_bn n CROSS JOIN (SELECT range AS digit FROM generate_series(1, (10) - 1) AS __r("range")) dg
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
  CAST(CAST(round(CAST(__b.__mad AS NUMERIC), 4) AS DECIMAL(24,4)) AS TEXT) AS "measure_value",
  CAST(CAST(round(CAST(CAST($5 AS DOUBLE PRECISION) AS NUMERIC), 4) AS DECIMAL(24,4)) AS TEXT) AS "threshold",
  CAST(NULL AS DECIMAL(18,2)) AS "amount",
  CAST(coalesce(CASE WHEN __b.__n <= 500 THEN (SELECT coalesce(jsonb_agg(jsonb_build_object('table', 'treasury.payments', 'key', CAST(__ek.k AS TEXT)) ORDER BY __ek.o), CAST('[]' AS JSONB)) FROM unnest((SELECT array_agg(DISTINCT CAST(CAST("p"."payment_id" AS TEXT) AS TEXT) COLLATE "C" ORDER BY CAST(CAST("p"."payment_id" AS TEXT) AS TEXT) COLLATE "C") FROM "treasury"."payments" AS "p" WHERE "p"."pay_date" <= CAST($1 AS DATE) AND (CAST($2 AS TEXT[]) IS NULL OR "p"."agency_code" = ANY(CAST($2 AS TEXT[]))) AND (("p"."amount" > 0) AND ("p"."amount" >= CAST($3 AS DECIMAL(18,2)))) AND CASE WHEN abs("p"."amount") >= 1 THEN CAST(left(CAST(CAST(floor(abs("p"."amount")) AS BIGINT) AS TEXT), 1) AS INTEGER) END IS NOT NULL AND "p"."agency_code" = __b."agency_code" AND "p"."fiscal_year" = __b."fiscal_year" AND __b.__n <= 500)) WITH ORDINALITY AS __ek(k, o)) ELSE CAST('[]' AS JSONB) END, CAST('[]' AS JSONB)) AS TEXT) AS "evidence",
  CAST(CASE WHEN __b.__n > 500 THEN 'SELECT * FROM treasury.payments WHERE ' || 'agency_code = ' || '''' || replace(CAST(__b."agency_code" AS VARCHAR), '''', '''''') || '''' || ' AND ' || 'fiscal_year = ' || CAST(__b."fiscal_year" AS VARCHAR) || ' AND ' || 'pay_date <= ' || 'DATE ''' || CAST(CAST($1 AS DATE) AS VARCHAR) || '''' END AS VARCHAR) AS "evidence_query",
  CAST(json_build_object('agency_name', CAST((coalesce("ag"."agency_name", __b."agency_code")) AS VARCHAR), 'fiscal_year', CAST(__b."fiscal_year" AS BIGINT), 'n', CAST(__b.__n AS BIGINT), 'mad', CAST(CAST(round(CAST(__b.__mad AS NUMERIC), 4) AS DECIMAL(24,4)) AS TEXT)) AS TEXT) AS "vars",
  CAST(__b."agency_code" AS TEXT) || '' || CAST(__b."fiscal_year" AS TEXT) AS "delta_key"
FROM fiscus_bm AS __b LEFT JOIN "ref"."agencies" AS "ag" ON ("ag"."agency_code" = __b."agency_code")
WHERE (__b.__mad > CAST($5 AS DOUBLE PRECISION));

-- precondition 1 (treasury.payments 为空 / treasury.payments is empty)
-- parameters: none
SELECT EXISTS (SELECT 1 FROM "treasury"."payments") AS ok;

-- precondition 2 (没有支付笔数达到1000的单位年度 / no agency-year has ≥ 1000 positive payments)
-- parameters: $1=as_of:date, $2=scope:list, $3=p_min_amount:money, $4=p_min_count:integer
WITH fiscus_bd AS (SELECT "p"."agency_code" AS "agency_code", "p"."fiscal_year" AS "fiscal_year", CASE WHEN abs("p"."amount") >= 1 THEN CAST(left(CAST(CAST(floor(abs("p"."amount")) AS BIGINT) AS TEXT), 1) AS INTEGER) END AS __digit, count(*) AS __c
        FROM "treasury"."payments" AS "p" WHERE "p"."pay_date" <= CAST($1 AS DATE) AND (CAST($2 AS TEXT[]) IS NULL OR "p"."agency_code" = ANY(CAST($2 AS TEXT[]))) AND (("p"."amount" > 0) AND ("p"."amount" >= CAST($3 AS DECIMAL(18,2)))) AND CASE WHEN abs("p"."amount") >= 1 THEN CAST(left(CAST(CAST(floor(abs("p"."amount")) AS BIGINT) AS TEXT), 1) AS INTEGER) END IS NOT NULL
        GROUP BY "p"."agency_code", "p"."fiscal_year", CASE WHEN abs("p"."amount") >= 1 THEN CAST(left(CAST(CAST(floor(abs("p"."amount")) AS BIGINT) AS TEXT), 1) AS INTEGER) END),
fiscus_bn AS (SELECT "agency_code", "fiscal_year", sum(__c) AS __n FROM fiscus_bd GROUP BY "agency_code", "fiscal_year" HAVING sum(__c) >= CAST($4 AS BIGINT))
SELECT EXISTS (SELECT 1 FROM fiscus_bn) AS ok;

-- input 1 (treasury.payments)
-- parameters: $1=as_of:date
SELECT count(*) AS "rows" FROM "treasury"."payments" AS __in WHERE __in."pay_date" <= CAST($1 AS DATE);

-- delta (agency_code, fiscal_year)
-- parameters: $1=as_of:date, $2=scope:list, $3=delta_0:list, $4=delta_1:list, $5=p_min_amount:money, $6=p_min_count:integer, $7=p_max_mad:number
WITH fiscus_bd AS (SELECT "p"."agency_code" AS "agency_code", "p"."fiscal_year" AS "fiscal_year", CASE WHEN abs("p"."amount") >= 1 THEN CAST(left(CAST(CAST(floor(abs("p"."amount")) AS BIGINT) AS TEXT), 1) AS INTEGER) END AS __digit, count(*) AS __c
        FROM "treasury"."payments" AS "p" WHERE "p"."pay_date" <= CAST($1 AS DATE) AND (CAST($2 AS TEXT[]) IS NULL OR "p"."agency_code" = ANY(CAST($2 AS TEXT[]))) AND ("p"."agency_code", "p"."fiscal_year") IN (SELECT CAST(__dk.k0 AS VARCHAR), CAST(__dk.k1 AS INTEGER) FROM unnest(CAST($3 AS TEXT[]), CAST($4 AS TEXT[])) AS __dk(k0, k1)) AND (("p"."amount" > 0) AND ("p"."amount" >= CAST($5 AS DECIMAL(18,2)))) AND CASE WHEN abs("p"."amount") >= 1 THEN CAST(left(CAST(CAST(floor(abs("p"."amount")) AS BIGINT) AS TEXT), 1) AS INTEGER) END IS NOT NULL
        GROUP BY "p"."agency_code", "p"."fiscal_year", CASE WHEN abs("p"."amount") >= 1 THEN CAST(left(CAST(CAST(floor(abs("p"."amount")) AS BIGINT) AS TEXT), 1) AS INTEGER) END),
fiscus_bn AS (SELECT "agency_code", "fiscal_year", sum(__c) AS __n FROM fiscus_bd GROUP BY "agency_code", "fiscal_year" HAVING sum(__c) >= CAST($6 AS BIGINT)),
fiscus_bm AS (SELECT n."agency_code", n."fiscal_year", n.__n,
        sum(abs(coalesce(d.__c, 0) / CAST(n.__n AS DOUBLE PRECISION) - log10(1 + 1 / CAST(dg.digit AS DOUBLE PRECISION)))) / 9 AS __mad
        FROM fiscus_bn n CROSS JOIN (SELECT range AS digit FROM generate_series(1, (10) - 1) AS __r("range")) dg
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
  CAST(CAST(round(CAST(__b.__mad AS NUMERIC), 4) AS DECIMAL(24,4)) AS TEXT) AS "measure_value",
  CAST(CAST(round(CAST(CAST($7 AS DOUBLE PRECISION) AS NUMERIC), 4) AS DECIMAL(24,4)) AS TEXT) AS "threshold",
  CAST(NULL AS DECIMAL(18,2)) AS "amount",
  CAST(coalesce(CASE WHEN __b.__n <= 500 THEN (SELECT coalesce(jsonb_agg(jsonb_build_object('table', 'treasury.payments', 'key', CAST(__ek.k AS TEXT)) ORDER BY __ek.o), CAST('[]' AS JSONB)) FROM unnest((SELECT array_agg(DISTINCT CAST(CAST("p"."payment_id" AS TEXT) AS TEXT) COLLATE "C" ORDER BY CAST(CAST("p"."payment_id" AS TEXT) AS TEXT) COLLATE "C") FROM "treasury"."payments" AS "p" WHERE "p"."pay_date" <= CAST($1 AS DATE) AND (CAST($2 AS TEXT[]) IS NULL OR "p"."agency_code" = ANY(CAST($2 AS TEXT[]))) AND ("p"."agency_code", "p"."fiscal_year") IN (SELECT CAST(__dk.k0 AS VARCHAR), CAST(__dk.k1 AS INTEGER) FROM unnest(CAST($3 AS TEXT[]), CAST($4 AS TEXT[])) AS __dk(k0, k1)) AND (("p"."amount" > 0) AND ("p"."amount" >= CAST($5 AS DECIMAL(18,2)))) AND CASE WHEN abs("p"."amount") >= 1 THEN CAST(left(CAST(CAST(floor(abs("p"."amount")) AS BIGINT) AS TEXT), 1) AS INTEGER) END IS NOT NULL AND "p"."agency_code" = __b."agency_code" AND "p"."fiscal_year" = __b."fiscal_year" AND __b.__n <= 500)) WITH ORDINALITY AS __ek(k, o)) ELSE CAST('[]' AS JSONB) END, CAST('[]' AS JSONB)) AS TEXT) AS "evidence",
  CAST(CASE WHEN __b.__n > 500 THEN 'SELECT * FROM treasury.payments WHERE ' || 'agency_code = ' || '''' || replace(CAST(__b."agency_code" AS VARCHAR), '''', '''''') || '''' || ' AND ' || 'fiscal_year = ' || CAST(__b."fiscal_year" AS VARCHAR) || ' AND ' || 'pay_date <= ' || 'DATE ''' || CAST(CAST($1 AS DATE) AS VARCHAR) || '''' END AS VARCHAR) AS "evidence_query",
  CAST(json_build_object('agency_name', CAST((coalesce("ag"."agency_name", __b."agency_code")) AS VARCHAR), 'fiscal_year', CAST(__b."fiscal_year" AS BIGINT), 'n', CAST(__b.__n AS BIGINT), 'mad', CAST(CAST(round(CAST(__b.__mad AS NUMERIC), 4) AS DECIMAL(24,4)) AS TEXT)) AS TEXT) AS "vars",
  CAST(__b."agency_code" AS TEXT) || '' || CAST(__b."fiscal_year" AS TEXT) AS "delta_key"
FROM fiscus_bm AS __b LEFT JOIN "ref"."agencies" AS "ag" ON ("ag"."agency_code" = __b."agency_code")
WHERE (__b.__mad > CAST($7 AS DOUBLE PRECISION));
