-- rule
-- parameters: $1=as_of:date, $2=scope:list
WITH fiscus_l AS (SELECT "p"."fiscal_year" AS "fiscal_year", "p"."agency_code" AS "agency_code", "p"."func_code" AS "func_code", "p"."econ_code" AS "econ_code", sum("p"."amount") AS "spending", max("p"."region_code") AS "region_code", count(*) AS __n FROM "treasury"."payments" AS "p" WHERE "p"."pay_date" <= CAST($1 AS DATE) AND (CAST($2 AS TEXT[]) IS NULL OR "p"."agency_code" = ANY(CAST($2 AS TEXT[]))) GROUP BY "p"."fiscal_year", "p"."agency_code", "p"."func_code", "p"."econ_code"),
fiscus_r AS (SELECT "i"."fiscal_year" AS "fiscal_year", "i"."agency_code" AS "agency_code", "i"."func_code" AS "func_code", "i"."econ_code" AS "econ_code", sum("i"."amount") AS "budget_sum", count(*) AS __n FROM "treasury"."budget_indicators" AS "i" WHERE "i"."approved_date" <= CAST($1 AS DATE) AND (CAST($2 AS TEXT[]) IS NULL OR "i"."agency_code" = ANY(CAST($2 AS TEXT[]))) GROUP BY "i"."fiscal_year", "i"."agency_code", "i"."func_code", "i"."econ_code")
SELECT 'budget_line' AS "entity_type",
  CAST((CAST((CAST((CAST((CAST((CAST((CAST(__l."fiscal_year" AS TEXT) || CAST('|' AS TEXT)) AS TEXT) || CAST(__l."agency_code" AS TEXT)) AS TEXT) || CAST('|' AS TEXT)) AS TEXT) || CAST(__l."func_code" AS TEXT)) AS TEXT) || CAST('|' AS TEXT)) AS TEXT) || CAST(__l."econ_code" AS TEXT)) AS VARCHAR) AS "entity_id",
  CAST("ag"."agency_name" AS VARCHAR) AS "entity_name",
  CAST(__l."region_code" AS VARCHAR) AS "region_code",
  CAST(__l."agency_code" AS VARCHAR) AS "agency_code",
  CAST(__l."fiscal_year" AS INTEGER) AS "fiscal_year",
  CAST(make_date(CAST(__l."fiscal_year" AS INTEGER), CAST(1 AS INTEGER), CAST(1 AS INTEGER)) AS DATE) AS "period_start",
  CAST(make_date(CAST(__l."fiscal_year" AS INTEGER), CAST(12 AS INTEGER), CAST(31 AS INTEGER)) AS DATE) AS "period_end",
  CAST(NULL AS VARCHAR) AS "severity",
  'spending' AS "measure_name",
  CAST(CAST(__l."spending" AS DECIMAL(18,2)) AS TEXT) AS "measure_value",
  CAST(CAST((coalesce(__r."budget_sum", 0)) AS DECIMAL(18,2)) AS TEXT) AS "threshold",
  CAST((__l."spending" - (coalesce(__r."budget_sum", 0))) AS DECIMAL(18,2)) AS "amount",
  CAST(coalesce(CASE WHEN (coalesce(__l.__n, 0) + coalesce(__r.__n, 0)) <= 500 THEN (coalesce(coalesce((SELECT coalesce(jsonb_agg(jsonb_build_object('table', 'treasury.payments', 'key', CAST(__ek.k AS TEXT)) ORDER BY __ek.o), CAST('[]' AS JSONB)) FROM unnest((SELECT array_agg(DISTINCT CAST(CAST("p"."payment_id" AS TEXT) AS TEXT) COLLATE "C" ORDER BY CAST(CAST("p"."payment_id" AS TEXT) AS TEXT) COLLATE "C") FROM "treasury"."payments" AS "p" WHERE "p"."pay_date" <= CAST($1 AS DATE) AND (CAST($2 AS TEXT[]) IS NULL OR "p"."agency_code" = ANY(CAST($2 AS TEXT[]))) AND "p"."fiscal_year" = __l."fiscal_year" AND "p"."agency_code" = __l."agency_code" AND "p"."func_code" = __l."func_code" AND "p"."econ_code" = __l."econ_code" AND (coalesce(__l.__n, 0) + coalesce(__r.__n, 0)) <= 500)) WITH ORDINALITY AS __ek(k, o)), CAST('[]' AS JSONB)), CAST('[]' AS JSONB)) || coalesce(coalesce((SELECT coalesce(jsonb_agg(jsonb_build_object('table', 'treasury.budget_indicators', 'key', CAST(__ek.k AS TEXT)) ORDER BY __ek.o), CAST('[]' AS JSONB)) FROM unnest((SELECT array_agg(DISTINCT CAST(CAST("i"."indicator_id" AS TEXT) AS TEXT) COLLATE "C" ORDER BY CAST(CAST("i"."indicator_id" AS TEXT) AS TEXT) COLLATE "C") FROM "treasury"."budget_indicators" AS "i" WHERE "i"."approved_date" <= CAST($1 AS DATE) AND (CAST($2 AS TEXT[]) IS NULL OR "i"."agency_code" = ANY(CAST($2 AS TEXT[]))) AND "i"."fiscal_year" = __r."fiscal_year" AND "i"."agency_code" = __r."agency_code" AND "i"."func_code" = __r."func_code" AND "i"."econ_code" = __r."econ_code" AND (coalesce(__l.__n, 0) + coalesce(__r.__n, 0)) <= 500)) WITH ORDINALITY AS __ek(k, o)), CAST('[]' AS JSONB)), CAST('[]' AS JSONB))) ELSE CAST('[]' AS JSONB) END, CAST('[]' AS JSONB)) AS TEXT) AS "evidence",
  CAST(CASE WHEN (coalesce(__l.__n, 0) + coalesce(__r.__n, 0)) > 500 THEN 'SELECT * FROM treasury.budget_indicators WHERE ' || 'fiscal_year = ' || CAST(__l."fiscal_year" AS VARCHAR) || ' AND ' || 'agency_code = ' || '''' || replace(CAST(__l."agency_code" AS VARCHAR), '''', '''''') || '''' || ' AND ' || 'func_code = ' || '''' || replace(CAST(__l."func_code" AS VARCHAR), '''', '''''') || '''' || ' AND ' || 'econ_code = ' || '''' || replace(CAST(__l."econ_code" AS VARCHAR), '''', '''''') || '''' || ' AND ' || 'approved_date <= ' || 'DATE ''' || CAST(CAST($1 AS DATE) AS VARCHAR) || '''' END AS VARCHAR) AS "evidence_query",
  CAST(json_build_object('agency_name', CAST((coalesce("ag"."agency_name", __l."agency_code")) AS VARCHAR), 'fiscal_year', CAST(__l."fiscal_year" AS BIGINT), 'func_code', CAST(__l."func_code" AS VARCHAR), 'econ_code', CAST(__l."econ_code" AS VARCHAR), 'spending', CAST(CAST(__l."spending" AS DECIMAL(18,2)) AS VARCHAR), 'budget', CAST(CAST((coalesce(__r."budget_sum", 0)) AS DECIMAL(18,2)) AS VARCHAR)) AS TEXT) AS "vars",
  CAST(__l."fiscal_year" AS TEXT) || '' || CAST(__l."agency_code" AS TEXT) || '' || CAST(__l."func_code" AS TEXT) || '' || CAST(__l."econ_code" AS TEXT) AS "delta_key"
FROM fiscus_l AS __l LEFT JOIN fiscus_r AS __r ON __l."fiscal_year" = __r."fiscal_year" AND __l."agency_code" = __r."agency_code" AND __l."func_code" = __r."func_code" AND __l."econ_code" = __r."econ_code" LEFT JOIN "ref"."agencies" AS "ag" ON ("ag"."agency_code" = __l."agency_code")
WHERE (__l."spending" > (coalesce(__r."budget_sum", 0)));

-- precondition 1 (treasury.payments 为空 / treasury.payments is empty)
-- parameters: none
SELECT EXISTS (SELECT 1 FROM "treasury"."payments") AS ok;

-- precondition 2 (treasury.budget_indicators 为空 / treasury.budget_indicators is empty)
-- parameters: none
SELECT EXISTS (SELECT 1 FROM "treasury"."budget_indicators") AS ok;

-- input 1 (treasury.payments)
-- parameters: $1=as_of:date
SELECT count(*) AS "rows" FROM "treasury"."payments" AS __in WHERE __in."pay_date" <= CAST($1 AS DATE);

-- input 2 (treasury.budget_indicators)
-- parameters: $1=as_of:date
SELECT count(*) AS "rows" FROM "treasury"."budget_indicators" AS __in WHERE __in."approved_date" <= CAST($1 AS DATE);

-- delta (fiscal_year, agency_code, func_code, econ_code)
-- parameters: $1=as_of:date, $2=scope:list, $3=delta_0:list, $4=delta_1:list, $5=delta_2:list, $6=delta_3:list
WITH fiscus_l AS (SELECT "p"."fiscal_year" AS "fiscal_year", "p"."agency_code" AS "agency_code", "p"."func_code" AS "func_code", "p"."econ_code" AS "econ_code", sum("p"."amount") AS "spending", max("p"."region_code") AS "region_code", count(*) AS __n FROM "treasury"."payments" AS "p" WHERE "p"."pay_date" <= CAST($1 AS DATE) AND (CAST($2 AS TEXT[]) IS NULL OR "p"."agency_code" = ANY(CAST($2 AS TEXT[]))) AND ("p"."fiscal_year", "p"."agency_code", "p"."func_code", "p"."econ_code") IN (SELECT CAST(__dk.k0 AS INTEGER), CAST(__dk.k1 AS VARCHAR), CAST(__dk.k2 AS VARCHAR), CAST(__dk.k3 AS VARCHAR) FROM unnest(CAST($3 AS TEXT[]), CAST($4 AS TEXT[]), CAST($5 AS TEXT[]), CAST($6 AS TEXT[])) AS __dk(k0, k1, k2, k3)) GROUP BY "p"."fiscal_year", "p"."agency_code", "p"."func_code", "p"."econ_code"),
fiscus_r AS (SELECT "i"."fiscal_year" AS "fiscal_year", "i"."agency_code" AS "agency_code", "i"."func_code" AS "func_code", "i"."econ_code" AS "econ_code", sum("i"."amount") AS "budget_sum", count(*) AS __n FROM "treasury"."budget_indicators" AS "i" WHERE "i"."approved_date" <= CAST($1 AS DATE) AND (CAST($2 AS TEXT[]) IS NULL OR "i"."agency_code" = ANY(CAST($2 AS TEXT[]))) AND ("i"."fiscal_year", "i"."agency_code", "i"."func_code", "i"."econ_code") IN (SELECT CAST(__dk.k0 AS INTEGER), CAST(__dk.k1 AS VARCHAR), CAST(__dk.k2 AS VARCHAR), CAST(__dk.k3 AS VARCHAR) FROM unnest(CAST($3 AS TEXT[]), CAST($4 AS TEXT[]), CAST($5 AS TEXT[]), CAST($6 AS TEXT[])) AS __dk(k0, k1, k2, k3)) GROUP BY "i"."fiscal_year", "i"."agency_code", "i"."func_code", "i"."econ_code")
SELECT 'budget_line' AS "entity_type",
  CAST((CAST((CAST((CAST((CAST((CAST((CAST(__l."fiscal_year" AS TEXT) || CAST('|' AS TEXT)) AS TEXT) || CAST(__l."agency_code" AS TEXT)) AS TEXT) || CAST('|' AS TEXT)) AS TEXT) || CAST(__l."func_code" AS TEXT)) AS TEXT) || CAST('|' AS TEXT)) AS TEXT) || CAST(__l."econ_code" AS TEXT)) AS VARCHAR) AS "entity_id",
  CAST("ag"."agency_name" AS VARCHAR) AS "entity_name",
  CAST(__l."region_code" AS VARCHAR) AS "region_code",
  CAST(__l."agency_code" AS VARCHAR) AS "agency_code",
  CAST(__l."fiscal_year" AS INTEGER) AS "fiscal_year",
  CAST(make_date(CAST(__l."fiscal_year" AS INTEGER), CAST(1 AS INTEGER), CAST(1 AS INTEGER)) AS DATE) AS "period_start",
  CAST(make_date(CAST(__l."fiscal_year" AS INTEGER), CAST(12 AS INTEGER), CAST(31 AS INTEGER)) AS DATE) AS "period_end",
  CAST(NULL AS VARCHAR) AS "severity",
  'spending' AS "measure_name",
  CAST(CAST(__l."spending" AS DECIMAL(18,2)) AS TEXT) AS "measure_value",
  CAST(CAST((coalesce(__r."budget_sum", 0)) AS DECIMAL(18,2)) AS TEXT) AS "threshold",
  CAST((__l."spending" - (coalesce(__r."budget_sum", 0))) AS DECIMAL(18,2)) AS "amount",
  CAST(coalesce(CASE WHEN (coalesce(__l.__n, 0) + coalesce(__r.__n, 0)) <= 500 THEN (coalesce(coalesce((SELECT coalesce(jsonb_agg(jsonb_build_object('table', 'treasury.payments', 'key', CAST(__ek.k AS TEXT)) ORDER BY __ek.o), CAST('[]' AS JSONB)) FROM unnest((SELECT array_agg(DISTINCT CAST(CAST("p"."payment_id" AS TEXT) AS TEXT) COLLATE "C" ORDER BY CAST(CAST("p"."payment_id" AS TEXT) AS TEXT) COLLATE "C") FROM "treasury"."payments" AS "p" WHERE "p"."pay_date" <= CAST($1 AS DATE) AND (CAST($2 AS TEXT[]) IS NULL OR "p"."agency_code" = ANY(CAST($2 AS TEXT[]))) AND "p"."fiscal_year" = __l."fiscal_year" AND "p"."agency_code" = __l."agency_code" AND "p"."func_code" = __l."func_code" AND "p"."econ_code" = __l."econ_code" AND (coalesce(__l.__n, 0) + coalesce(__r.__n, 0)) <= 500)) WITH ORDINALITY AS __ek(k, o)), CAST('[]' AS JSONB)), CAST('[]' AS JSONB)) || coalesce(coalesce((SELECT coalesce(jsonb_agg(jsonb_build_object('table', 'treasury.budget_indicators', 'key', CAST(__ek.k AS TEXT)) ORDER BY __ek.o), CAST('[]' AS JSONB)) FROM unnest((SELECT array_agg(DISTINCT CAST(CAST("i"."indicator_id" AS TEXT) AS TEXT) COLLATE "C" ORDER BY CAST(CAST("i"."indicator_id" AS TEXT) AS TEXT) COLLATE "C") FROM "treasury"."budget_indicators" AS "i" WHERE "i"."approved_date" <= CAST($1 AS DATE) AND (CAST($2 AS TEXT[]) IS NULL OR "i"."agency_code" = ANY(CAST($2 AS TEXT[]))) AND "i"."fiscal_year" = __r."fiscal_year" AND "i"."agency_code" = __r."agency_code" AND "i"."func_code" = __r."func_code" AND "i"."econ_code" = __r."econ_code" AND (coalesce(__l.__n, 0) + coalesce(__r.__n, 0)) <= 500)) WITH ORDINALITY AS __ek(k, o)), CAST('[]' AS JSONB)), CAST('[]' AS JSONB))) ELSE CAST('[]' AS JSONB) END, CAST('[]' AS JSONB)) AS TEXT) AS "evidence",
  CAST(CASE WHEN (coalesce(__l.__n, 0) + coalesce(__r.__n, 0)) > 500 THEN 'SELECT * FROM treasury.budget_indicators WHERE ' || 'fiscal_year = ' || CAST(__l."fiscal_year" AS VARCHAR) || ' AND ' || 'agency_code = ' || '''' || replace(CAST(__l."agency_code" AS VARCHAR), '''', '''''') || '''' || ' AND ' || 'func_code = ' || '''' || replace(CAST(__l."func_code" AS VARCHAR), '''', '''''') || '''' || ' AND ' || 'econ_code = ' || '''' || replace(CAST(__l."econ_code" AS VARCHAR), '''', '''''') || '''' || ' AND ' || 'approved_date <= ' || 'DATE ''' || CAST(CAST($1 AS DATE) AS VARCHAR) || '''' END AS VARCHAR) AS "evidence_query",
  CAST(json_build_object('agency_name', CAST((coalesce("ag"."agency_name", __l."agency_code")) AS VARCHAR), 'fiscal_year', CAST(__l."fiscal_year" AS BIGINT), 'func_code', CAST(__l."func_code" AS VARCHAR), 'econ_code', CAST(__l."econ_code" AS VARCHAR), 'spending', CAST(CAST(__l."spending" AS DECIMAL(18,2)) AS VARCHAR), 'budget', CAST(CAST((coalesce(__r."budget_sum", 0)) AS DECIMAL(18,2)) AS VARCHAR)) AS TEXT) AS "vars",
  CAST(__l."fiscal_year" AS TEXT) || '' || CAST(__l."agency_code" AS TEXT) || '' || CAST(__l."func_code" AS TEXT) || '' || CAST(__l."econ_code" AS TEXT) AS "delta_key"
FROM fiscus_l AS __l LEFT JOIN fiscus_r AS __r ON __l."fiscal_year" = __r."fiscal_year" AND __l."agency_code" = __r."agency_code" AND __l."func_code" = __r."func_code" AND __l."econ_code" = __r."econ_code" LEFT JOIN "ref"."agencies" AS "ag" ON ("ag"."agency_code" = __l."agency_code")
WHERE (__l."spending" > (coalesce(__r."budget_sum", 0)));
