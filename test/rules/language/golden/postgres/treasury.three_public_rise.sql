-- rule
-- parameters: $1=as_of:date, $2=scope:list, $3=p_econ_codes:list
WITH fiscus_l AS (SELECT "p"."agency_code" AS "agency_code", "p"."fiscal_year" AS "fiscal_year", sum("p"."amount") AS "this_year", max("p"."region_code") AS "region_code", count(*) AS __n FROM "treasury"."payments" AS "p" WHERE "p"."pay_date" <= CAST($1 AS DATE) AND (CAST($2 AS TEXT[]) IS NULL OR "p"."agency_code" = ANY(CAST($2 AS TEXT[]))) AND (CAST("p"."econ_code" AS TEXT) = ANY(CAST($3 AS TEXT[]))) GROUP BY "p"."agency_code", "p"."fiscal_year"),
fiscus_r AS (SELECT "q"."agency_code" AS "agency_code", ("q"."fiscal_year" + 1) AS "fiscal_year", sum("q"."amount") AS "last_year", count(*) AS __n FROM "treasury"."payments" AS "q" WHERE "q"."pay_date" <= CAST($1 AS DATE) AND (CAST($2 AS TEXT[]) IS NULL OR "q"."agency_code" = ANY(CAST($2 AS TEXT[]))) AND (CAST("q"."econ_code" AS TEXT) = ANY(CAST($3 AS TEXT[]))) GROUP BY "q"."agency_code", ("q"."fiscal_year" + 1))
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
  CAST(CAST(__l."this_year" AS DECIMAL(18,2)) AS TEXT) AS "measure_value",
  CAST(CAST(__r."last_year" AS DECIMAL(18,2)) AS TEXT) AS "threshold",
  CAST((__l."this_year" - __r."last_year") AS DECIMAL(18,2)) AS "amount",
  CAST(coalesce(CASE WHEN (coalesce(__l.__n, 0) + coalesce(__r.__n, 0)) <= 500 THEN (coalesce(coalesce((SELECT coalesce(jsonb_agg(jsonb_build_object('table', 'treasury.payments', 'key', CAST(__ek.k AS TEXT)) ORDER BY __ek.o), CAST('[]' AS JSONB)) FROM unnest((SELECT array_agg(DISTINCT CAST(CAST("p"."payment_id" AS TEXT) AS TEXT) COLLATE "C" ORDER BY CAST(CAST("p"."payment_id" AS TEXT) AS TEXT) COLLATE "C") FROM "treasury"."payments" AS "p" WHERE "p"."pay_date" <= CAST($1 AS DATE) AND (CAST($2 AS TEXT[]) IS NULL OR "p"."agency_code" = ANY(CAST($2 AS TEXT[]))) AND (CAST("p"."econ_code" AS TEXT) = ANY(CAST($3 AS TEXT[]))) AND "p"."agency_code" = __l."agency_code" AND "p"."fiscal_year" = __l."fiscal_year" AND (coalesce(__l.__n, 0) + coalesce(__r.__n, 0)) <= 500)) WITH ORDINALITY AS __ek(k, o)), CAST('[]' AS JSONB)), CAST('[]' AS JSONB)) || coalesce(coalesce((SELECT coalesce(jsonb_agg(jsonb_build_object('table', 'treasury.payments', 'key', CAST(__ek.k AS TEXT)) ORDER BY __ek.o), CAST('[]' AS JSONB)) FROM unnest((SELECT array_agg(DISTINCT CAST(CAST("q"."payment_id" AS TEXT) AS TEXT) COLLATE "C" ORDER BY CAST(CAST("q"."payment_id" AS TEXT) AS TEXT) COLLATE "C") FROM "treasury"."payments" AS "q" WHERE "q"."pay_date" <= CAST($1 AS DATE) AND (CAST($2 AS TEXT[]) IS NULL OR "q"."agency_code" = ANY(CAST($2 AS TEXT[]))) AND (CAST("q"."econ_code" AS TEXT) = ANY(CAST($3 AS TEXT[]))) AND "q"."agency_code" = __r."agency_code" AND ("q"."fiscal_year" + 1) = __r."fiscal_year" AND (coalesce(__l.__n, 0) + coalesce(__r.__n, 0)) <= 500)) WITH ORDINALITY AS __ek(k, o)), CAST('[]' AS JSONB)), CAST('[]' AS JSONB))) ELSE CAST('[]' AS JSONB) END, CAST('[]' AS JSONB)) AS TEXT) AS "evidence",
  CAST(CASE WHEN (coalesce(__l.__n, 0) + coalesce(__r.__n, 0)) > 500 THEN 'SELECT * FROM treasury.payments WHERE ' || 'agency_code = ' || '''' || replace(CAST(__l."agency_code" AS VARCHAR), '''', '''''') || '''' || ' AND ' || 'pay_date <= ' || 'DATE ''' || CAST(CAST($1 AS DATE) AS VARCHAR) || '''' END AS VARCHAR) AS "evidence_query",
  CAST(json_build_object('agency_name', CAST((coalesce("ag"."agency_name", __l."agency_code")) AS VARCHAR), 'fiscal_year', CAST(__l."fiscal_year" AS BIGINT), 'this_year', CAST(CAST(__l."this_year" AS DECIMAL(18,2)) AS VARCHAR), 'last_year', CAST(CAST(__r."last_year" AS DECIMAL(18,2)) AS VARCHAR)) AS TEXT) AS "vars",
  CAST(__l."agency_code" AS TEXT) AS "delta_key"
FROM fiscus_l AS __l JOIN fiscus_r AS __r ON __l."agency_code" = __r."agency_code" AND __l."fiscal_year" = __r."fiscal_year" LEFT JOIN "ref"."agencies" AS "ag" ON ("ag"."agency_code" = __l."agency_code")
WHERE (__l."this_year" > __r."last_year");

-- precondition 1 (treasury.payments 为空 / treasury.payments is empty)
-- parameters: none
SELECT EXISTS (SELECT 1 FROM "treasury"."payments") AS ok;

-- input 1 (treasury.payments)
-- parameters: $1=as_of:date
SELECT count(*) AS "rows" FROM "treasury"."payments" AS __in WHERE __in."pay_date" <= CAST($1 AS DATE);

-- input 2 (treasury.payments)
-- parameters: $1=as_of:date
SELECT count(*) AS "rows" FROM "treasury"."payments" AS __in WHERE __in."pay_date" <= CAST($1 AS DATE);

-- delta (agency_code)
-- parameters: $1=delta_batches:list, $2=as_of:date, $3=scope:list, $4=p_econ_codes:list
WITH fiscus_touched AS MATERIALIZED (SELECT CAST("agency_code" AS TEXT) AS k0 FROM "treasury"."payments" WHERE "_batch_id" = ANY(CAST($1 AS TEXT[])) UNION SELECT CAST(CAST((CAST(old_row AS JSONB) ->> 'agency_code') AS VARCHAR) AS TEXT) AS k0 FROM "fiscus"."row_history" WHERE table_name = 'treasury.payments' AND replaced_by_batch = ANY(CAST($1 AS TEXT[]))),
fiscus_l AS (SELECT "p"."agency_code" AS "agency_code", "p"."fiscal_year" AS "fiscal_year", sum("p"."amount") AS "this_year", max("p"."region_code") AS "region_code", count(*) AS __n FROM "treasury"."payments" AS "p" WHERE "p"."pay_date" <= CAST($2 AS DATE) AND (CAST($3 AS TEXT[]) IS NULL OR "p"."agency_code" = ANY(CAST($3 AS TEXT[]))) AND "p"."agency_code" IN (SELECT CAST(__dk.k0 AS VARCHAR) FROM fiscus_touched AS __dk) AND (CAST("p"."econ_code" AS TEXT) = ANY(CAST($4 AS TEXT[]))) GROUP BY "p"."agency_code", "p"."fiscal_year"),
fiscus_r AS (SELECT "q"."agency_code" AS "agency_code", ("q"."fiscal_year" + 1) AS "fiscal_year", sum("q"."amount") AS "last_year", count(*) AS __n FROM "treasury"."payments" AS "q" WHERE "q"."pay_date" <= CAST($2 AS DATE) AND (CAST($3 AS TEXT[]) IS NULL OR "q"."agency_code" = ANY(CAST($3 AS TEXT[]))) AND "q"."agency_code" IN (SELECT CAST(__dk.k0 AS VARCHAR) FROM fiscus_touched AS __dk) AND (CAST("q"."econ_code" AS TEXT) = ANY(CAST($4 AS TEXT[]))) GROUP BY "q"."agency_code", ("q"."fiscal_year" + 1))
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
  CAST(CAST(__l."this_year" AS DECIMAL(18,2)) AS TEXT) AS "measure_value",
  CAST(CAST(__r."last_year" AS DECIMAL(18,2)) AS TEXT) AS "threshold",
  CAST((__l."this_year" - __r."last_year") AS DECIMAL(18,2)) AS "amount",
  CAST(coalesce(CASE WHEN (coalesce(__l.__n, 0) + coalesce(__r.__n, 0)) <= 500 THEN (coalesce(coalesce((SELECT coalesce(jsonb_agg(jsonb_build_object('table', 'treasury.payments', 'key', CAST(__ek.k AS TEXT)) ORDER BY __ek.o), CAST('[]' AS JSONB)) FROM unnest((SELECT array_agg(DISTINCT CAST(CAST("p"."payment_id" AS TEXT) AS TEXT) COLLATE "C" ORDER BY CAST(CAST("p"."payment_id" AS TEXT) AS TEXT) COLLATE "C") FROM "treasury"."payments" AS "p" WHERE "p"."pay_date" <= CAST($2 AS DATE) AND (CAST($3 AS TEXT[]) IS NULL OR "p"."agency_code" = ANY(CAST($3 AS TEXT[]))) AND (CAST("p"."econ_code" AS TEXT) = ANY(CAST($4 AS TEXT[]))) AND "p"."agency_code" = __l."agency_code" AND "p"."fiscal_year" = __l."fiscal_year" AND (coalesce(__l.__n, 0) + coalesce(__r.__n, 0)) <= 500)) WITH ORDINALITY AS __ek(k, o)), CAST('[]' AS JSONB)), CAST('[]' AS JSONB)) || coalesce(coalesce((SELECT coalesce(jsonb_agg(jsonb_build_object('table', 'treasury.payments', 'key', CAST(__ek.k AS TEXT)) ORDER BY __ek.o), CAST('[]' AS JSONB)) FROM unnest((SELECT array_agg(DISTINCT CAST(CAST("q"."payment_id" AS TEXT) AS TEXT) COLLATE "C" ORDER BY CAST(CAST("q"."payment_id" AS TEXT) AS TEXT) COLLATE "C") FROM "treasury"."payments" AS "q" WHERE "q"."pay_date" <= CAST($2 AS DATE) AND (CAST($3 AS TEXT[]) IS NULL OR "q"."agency_code" = ANY(CAST($3 AS TEXT[]))) AND (CAST("q"."econ_code" AS TEXT) = ANY(CAST($4 AS TEXT[]))) AND "q"."agency_code" = __r."agency_code" AND ("q"."fiscal_year" + 1) = __r."fiscal_year" AND (coalesce(__l.__n, 0) + coalesce(__r.__n, 0)) <= 500)) WITH ORDINALITY AS __ek(k, o)), CAST('[]' AS JSONB)), CAST('[]' AS JSONB))) ELSE CAST('[]' AS JSONB) END, CAST('[]' AS JSONB)) AS TEXT) AS "evidence",
  CAST(CASE WHEN (coalesce(__l.__n, 0) + coalesce(__r.__n, 0)) > 500 THEN 'SELECT * FROM treasury.payments WHERE ' || 'agency_code = ' || '''' || replace(CAST(__l."agency_code" AS VARCHAR), '''', '''''') || '''' || ' AND ' || 'pay_date <= ' || 'DATE ''' || CAST(CAST($2 AS DATE) AS VARCHAR) || '''' END AS VARCHAR) AS "evidence_query",
  CAST(json_build_object('agency_name', CAST((coalesce("ag"."agency_name", __l."agency_code")) AS VARCHAR), 'fiscal_year', CAST(__l."fiscal_year" AS BIGINT), 'this_year', CAST(CAST(__l."this_year" AS DECIMAL(18,2)) AS VARCHAR), 'last_year', CAST(CAST(__r."last_year" AS DECIMAL(18,2)) AS VARCHAR)) AS TEXT) AS "vars",
  CAST(__l."agency_code" AS TEXT) AS "delta_key"
FROM fiscus_l AS __l JOIN fiscus_r AS __r ON __l."agency_code" = __r."agency_code" AND __l."fiscal_year" = __r."fiscal_year" LEFT JOIN "ref"."agencies" AS "ag" ON ("ag"."agency_code" = __l."agency_code")
WHERE (__l."this_year" > __r."last_year");
