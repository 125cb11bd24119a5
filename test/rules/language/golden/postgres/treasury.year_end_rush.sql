-- rule
-- parameters: $1=as_of:date, $2=scope:list, $3=p_max_share_pct:percent, $4=p_min_year_total:money
WITH fiscus_g AS (SELECT "p"."agency_code" AS "agency_code", "p"."fiscal_year" AS "fiscal_year", sum("p"."amount") AS "year_total", sum("p"."amount") FILTER (WHERE ((CAST(EXTRACT(MONTH FROM "p"."pay_date") AS INTEGER) = 12) AND (CAST(EXTRACT(YEAR FROM "p"."pay_date") AS INTEGER) = "p"."fiscal_year"))) AS "december", max("p"."region_code") AS "region_code", count(*) AS __n FROM "treasury"."payments" AS "p" WHERE "p"."pay_date" <= CAST($1 AS DATE) AND (CAST($2 AS TEXT[]) IS NULL OR "p"."agency_code" = ANY(CAST($2 AS TEXT[]))) GROUP BY "p"."agency_code", "p"."fiscal_year")
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
  CAST(CAST(round(CAST(((div(CAST(__g."december" AS NUMERIC) * 1000000000000, NULLIF(CAST(__g."year_total" AS NUMERIC), 0)) * 0.0000000001)) AS NUMERIC), 4) AS DECIMAL(24,4)) AS TEXT) AS "measure_value",
  CAST(CAST(round(CAST(CAST($3 AS DOUBLE PRECISION) AS NUMERIC), 4) AS DECIMAL(24,4)) AS TEXT) AS "threshold",
  CAST(coalesce(__g."december", 0) AS DECIMAL(18,2)) AS "amount",
  CAST(coalesce(CASE WHEN __g.__n <= 500 THEN (SELECT coalesce(jsonb_agg(jsonb_build_object('table', 'treasury.payments', 'key', CAST(__ek.k AS TEXT)) ORDER BY __ek.o), CAST('[]' AS JSONB)) FROM unnest((SELECT array_agg(DISTINCT CAST(CAST("p"."payment_id" AS TEXT) AS TEXT) COLLATE "C" ORDER BY CAST(CAST("p"."payment_id" AS TEXT) AS TEXT) COLLATE "C") FROM "treasury"."payments" AS "p" WHERE "p"."pay_date" <= CAST($1 AS DATE) AND (CAST($2 AS TEXT[]) IS NULL OR "p"."agency_code" = ANY(CAST($2 AS TEXT[]))) AND "p"."agency_code" = __g."agency_code" AND "p"."fiscal_year" = __g."fiscal_year" AND __g.__n <= 500)) WITH ORDINALITY AS __ek(k, o)) ELSE CAST('[]' AS JSONB) END, CAST('[]' AS JSONB)) AS TEXT) AS "evidence",
  CAST(CASE WHEN __g.__n > 500 THEN 'SELECT * FROM treasury.payments WHERE ' || 'agency_code = ' || '''' || replace(CAST(__g."agency_code" AS VARCHAR), '''', '''''') || '''' || ' AND ' || 'fiscal_year = ' || CAST(__g."fiscal_year" AS VARCHAR) || ' AND ' || 'pay_date <= ' || 'DATE ''' || CAST(CAST($1 AS DATE) AS VARCHAR) || '''' END AS VARCHAR) AS "evidence_query",
  CAST(json_build_object('agency_name', CAST((coalesce("ag"."agency_name", __g."agency_code")) AS VARCHAR), 'fiscal_year', CAST(__g."fiscal_year" AS BIGINT), 'december', CAST(CAST(__g."december" AS DECIMAL(18,2)) AS VARCHAR), 'share', CAST(CAST(round(CAST(((div(CAST(__g."december" AS NUMERIC) * 1000000000000, NULLIF(CAST(__g."year_total" AS NUMERIC), 0)) * 0.0000000001)) AS NUMERIC), 2) AS DECIMAL(24,2)) AS TEXT)) AS TEXT) AS "vars",
  CAST(__g."agency_code" AS TEXT) || '' || CAST(__g."fiscal_year" AS TEXT) AS "delta_key"
FROM fiscus_g AS __g LEFT JOIN "ref"."agencies" AS "ag" ON ("ag"."agency_code" = __g."agency_code")
WHERE ((__g."year_total" >= CAST($4 AS DECIMAL(18,2))) AND ((__g."december" * 100) > (CAST($3 AS DOUBLE PRECISION) * __g."year_total")));

-- precondition 1 (treasury.payments 为空 / treasury.payments is empty)
-- parameters: none
SELECT EXISTS (SELECT 1 FROM "treasury"."payments") AS ok;

-- input 1 (treasury.payments)
-- parameters: $1=as_of:date
SELECT count(*) AS "rows" FROM "treasury"."payments" AS __in WHERE __in."pay_date" <= CAST($1 AS DATE);

-- delta (agency_code, fiscal_year)
-- parameters: $1=delta_batches:list, $2=as_of:date, $3=scope:list, $4=p_max_share_pct:percent, $5=p_min_year_total:money
WITH fiscus_touched AS MATERIALIZED (SELECT CAST("agency_code" AS TEXT) AS k0, CAST("fiscal_year" AS TEXT) AS k1 FROM "treasury"."payments" WHERE "_batch_id" = ANY(CAST($1 AS TEXT[])) UNION SELECT CAST(CAST((CAST(old_row AS JSONB) ->> 'agency_code') AS VARCHAR) AS TEXT) AS k0, CAST(CAST((CAST(old_row AS JSONB) ->> 'fiscal_year') AS INTEGER) AS TEXT) AS k1 FROM "fiscus"."row_history" WHERE table_name = 'treasury.payments' AND replaced_by_batch = ANY(CAST($1 AS TEXT[]))),
fiscus_g AS (SELECT "p"."agency_code" AS "agency_code", "p"."fiscal_year" AS "fiscal_year", sum("p"."amount") AS "year_total", sum("p"."amount") FILTER (WHERE ((CAST(EXTRACT(MONTH FROM "p"."pay_date") AS INTEGER) = 12) AND (CAST(EXTRACT(YEAR FROM "p"."pay_date") AS INTEGER) = "p"."fiscal_year"))) AS "december", max("p"."region_code") AS "region_code", count(*) AS __n FROM "treasury"."payments" AS "p" WHERE "p"."pay_date" <= CAST($2 AS DATE) AND (CAST($3 AS TEXT[]) IS NULL OR "p"."agency_code" = ANY(CAST($3 AS TEXT[]))) AND ("p"."agency_code", "p"."fiscal_year") IN (SELECT CAST(__dk.k0 AS VARCHAR), CAST(__dk.k1 AS INTEGER) FROM fiscus_touched AS __dk) GROUP BY "p"."agency_code", "p"."fiscal_year")
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
  CAST(CAST(round(CAST(((div(CAST(__g."december" AS NUMERIC) * 1000000000000, NULLIF(CAST(__g."year_total" AS NUMERIC), 0)) * 0.0000000001)) AS NUMERIC), 4) AS DECIMAL(24,4)) AS TEXT) AS "measure_value",
  CAST(CAST(round(CAST(CAST($4 AS DOUBLE PRECISION) AS NUMERIC), 4) AS DECIMAL(24,4)) AS TEXT) AS "threshold",
  CAST(coalesce(__g."december", 0) AS DECIMAL(18,2)) AS "amount",
  CAST(coalesce(CASE WHEN __g.__n <= 500 THEN (SELECT coalesce(jsonb_agg(jsonb_build_object('table', 'treasury.payments', 'key', CAST(__ek.k AS TEXT)) ORDER BY __ek.o), CAST('[]' AS JSONB)) FROM unnest((SELECT array_agg(DISTINCT CAST(CAST("p"."payment_id" AS TEXT) AS TEXT) COLLATE "C" ORDER BY CAST(CAST("p"."payment_id" AS TEXT) AS TEXT) COLLATE "C") FROM "treasury"."payments" AS "p" WHERE "p"."pay_date" <= CAST($2 AS DATE) AND (CAST($3 AS TEXT[]) IS NULL OR "p"."agency_code" = ANY(CAST($3 AS TEXT[]))) AND "p"."agency_code" = __g."agency_code" AND "p"."fiscal_year" = __g."fiscal_year" AND __g.__n <= 500)) WITH ORDINALITY AS __ek(k, o)) ELSE CAST('[]' AS JSONB) END, CAST('[]' AS JSONB)) AS TEXT) AS "evidence",
  CAST(CASE WHEN __g.__n > 500 THEN 'SELECT * FROM treasury.payments WHERE ' || 'agency_code = ' || '''' || replace(CAST(__g."agency_code" AS VARCHAR), '''', '''''') || '''' || ' AND ' || 'fiscal_year = ' || CAST(__g."fiscal_year" AS VARCHAR) || ' AND ' || 'pay_date <= ' || 'DATE ''' || CAST(CAST($2 AS DATE) AS VARCHAR) || '''' END AS VARCHAR) AS "evidence_query",
  CAST(json_build_object('agency_name', CAST((coalesce("ag"."agency_name", __g."agency_code")) AS VARCHAR), 'fiscal_year', CAST(__g."fiscal_year" AS BIGINT), 'december', CAST(CAST(__g."december" AS DECIMAL(18,2)) AS VARCHAR), 'share', CAST(CAST(round(CAST(((div(CAST(__g."december" AS NUMERIC) * 1000000000000, NULLIF(CAST(__g."year_total" AS NUMERIC), 0)) * 0.0000000001)) AS NUMERIC), 2) AS DECIMAL(24,2)) AS TEXT)) AS TEXT) AS "vars",
  CAST(__g."agency_code" AS TEXT) || '' || CAST(__g."fiscal_year" AS TEXT) AS "delta_key"
FROM fiscus_g AS __g LEFT JOIN "ref"."agencies" AS "ag" ON ("ag"."agency_code" = __g."agency_code")
WHERE ((__g."year_total" >= CAST($5 AS DECIMAL(18,2))) AND ((__g."december" * 100) > (CAST($4 AS DOUBLE PRECISION) * __g."year_total")));
