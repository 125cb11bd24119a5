-- rule
-- parameters: $1=as_of:date, $2=scope:list, $3=p_fund_source:string, $4=p_max_lag_points:percent, $5=p_min_budget:money
WITH fiscus_at AS (SELECT CAST(CAST(date_trunc('month', CAST(make_date(CAST(y.range AS INTEGER), CAST(m.m AS INTEGER), CAST(1 AS INTEGER)) AS TIMESTAMP)) + INTERVAL '1 month' - INTERVAL '1 day' AS DATE) AS DATE) AS at
      FROM generate_series(coalesce((SELECT CAST(EXTRACT(YEAR FROM min("approved_date")) AS INTEGER) FROM "treasury"."budget_indicators" WHERE "approved_date" <= CAST($1 AS DATE)), CAST(EXTRACT(YEAR FROM CAST($1 AS DATE)) AS INTEGER)), (CAST(EXTRACT(YEAR FROM CAST($1 AS DATE)) AS INTEGER) + 1) - 1) AS y("range"),
      (VALUES (3),(6),(9),(12)) m(m)
      WHERE CAST(date_trunc('month', CAST(make_date(CAST(y.range AS INTEGER), CAST(m.m AS INTEGER), CAST(1 AS INTEGER)) AS TIMESTAMP)) + INTERVAL '1 month' - INTERVAL '1 day' AS DATE) <= CAST($1 AS DATE)),
fiscus_l AS (SELECT fiscus_at.at AS "at", "i"."agency_code" AS "agency_code", sum("i"."amount") AS "budget", max("i"."region_code") AS "region_code", count(*) AS __n FROM fiscus_at CROSS JOIN "treasury"."budget_indicators" AS "i" WHERE "i"."approved_date" <= CAST($1 AS DATE) AND (CAST($2 AS TEXT[]) IS NULL OR "i"."agency_code" = ANY(CAST($2 AS TEXT[]))) AND ((("i"."fund_source" = CAST($3 AS TEXT)) AND ("i"."approved_date" <= fiscus_at.at)) AND ("i"."fiscal_year" = CAST(EXTRACT(YEAR FROM fiscus_at.at) AS INTEGER))) GROUP BY fiscus_at.at, "i"."agency_code"),
fiscus_r AS (SELECT fiscus_at.at AS "at", "p"."agency_code" AS "agency_code", sum("p"."amount") AS "spending", count(*) AS __n FROM fiscus_at CROSS JOIN "treasury"."payments" AS "p" WHERE "p"."pay_date" <= CAST($1 AS DATE) AND (CAST($2 AS TEXT[]) IS NULL OR "p"."agency_code" = ANY(CAST($2 AS TEXT[]))) AND ((("p"."fund_source" = CAST($3 AS TEXT)) AND ("p"."pay_date" <= fiscus_at.at)) AND ("p"."fiscal_year" = CAST(EXTRACT(YEAR FROM fiscus_at.at) AS INTEGER))) GROUP BY fiscus_at.at, "p"."agency_code")
SELECT 'agency' AS "entity_type",
  CAST(__l."agency_code" AS VARCHAR) AS "entity_id",
  CAST("ag"."agency_name" AS VARCHAR) AS "entity_name",
  CAST(__l."region_code" AS VARCHAR) AS "region_code",
  CAST(__l."agency_code" AS VARCHAR) AS "agency_code",
  CAST(CAST(EXTRACT(YEAR FROM __l."at") AS INTEGER) AS INTEGER) AS "fiscal_year",
  CAST(make_date(CAST(CAST(EXTRACT(YEAR FROM __l."at") AS INTEGER) AS INTEGER), CAST(1 AS INTEGER), CAST(1 AS INTEGER)) AS DATE) AS "period_start",
  CAST(__l."at" AS DATE) AS "period_end",
  CAST(NULL AS VARCHAR) AS "severity",
  'lag_points' AS "measure_name",
  CAST(CAST(round(CAST((round(CAST((((div(CAST(CAST(EXTRACT(DOY FROM __l."at") AS INTEGER) AS NUMERIC) * 1000000000000, NULLIF(CAST(CAST(EXTRACT(DOY FROM make_date(CAST(CAST(EXTRACT(YEAR FROM __l."at") AS INTEGER) AS INTEGER), CAST(12 AS INTEGER), CAST(31 AS INTEGER))) AS INTEGER) AS NUMERIC), 0)) * 0.0000000001)) - ((div(CAST((coalesce(__r."spending", 0)) AS NUMERIC) * 1000000000000, NULLIF(CAST(__l."budget" AS NUMERIC), 0)) * 0.0000000001))) AS NUMERIC), CAST(6 AS INTEGER))) AS NUMERIC), 4) AS DECIMAL(24,4)) AS TEXT) AS "measure_value",
  CAST(CAST(round(CAST(CAST($4 AS DOUBLE PRECISION) AS NUMERIC), 4) AS DECIMAL(24,4)) AS TEXT) AS "threshold",
  CAST((__l."budget" - (coalesce(__r."spending", 0))) AS DECIMAL(18,2)) AS "amount",
  CAST(coalesce(CASE WHEN (coalesce(__l.__n, 0) + coalesce(__r.__n, 0)) <= 500 THEN (coalesce(coalesce((SELECT coalesce(jsonb_agg(jsonb_build_object('table', 'treasury.budget_indicators', 'key', CAST(__ek.k AS TEXT)) ORDER BY __ek.o), CAST('[]' AS JSONB)) FROM unnest((SELECT array_agg(DISTINCT CAST(CAST("i"."indicator_id" AS TEXT) AS TEXT) COLLATE "C" ORDER BY CAST(CAST("i"."indicator_id" AS TEXT) AS TEXT) COLLATE "C") FROM fiscus_at CROSS JOIN "treasury"."budget_indicators" AS "i" WHERE "i"."approved_date" <= CAST($1 AS DATE) AND (CAST($2 AS TEXT[]) IS NULL OR "i"."agency_code" = ANY(CAST($2 AS TEXT[]))) AND ((("i"."fund_source" = CAST($3 AS TEXT)) AND ("i"."approved_date" <= fiscus_at.at)) AND ("i"."fiscal_year" = CAST(EXTRACT(YEAR FROM fiscus_at.at) AS INTEGER))) AND fiscus_at.at IS NOT DISTINCT FROM __l."at" AND "i"."agency_code" IS NOT DISTINCT FROM __l."agency_code")) WITH ORDINALITY AS __ek(k, o)), CAST('[]' AS JSONB)), CAST('[]' AS JSONB)) || coalesce(coalesce((SELECT coalesce(jsonb_agg(jsonb_build_object('table', 'treasury.payments', 'key', CAST(__ek.k AS TEXT)) ORDER BY __ek.o), CAST('[]' AS JSONB)) FROM unnest((SELECT array_agg(DISTINCT CAST(CAST("p"."payment_id" AS TEXT) AS TEXT) COLLATE "C" ORDER BY CAST(CAST("p"."payment_id" AS TEXT) AS TEXT) COLLATE "C") FROM fiscus_at CROSS JOIN "treasury"."payments" AS "p" WHERE "p"."pay_date" <= CAST($1 AS DATE) AND (CAST($2 AS TEXT[]) IS NULL OR "p"."agency_code" = ANY(CAST($2 AS TEXT[]))) AND ((("p"."fund_source" = CAST($3 AS TEXT)) AND ("p"."pay_date" <= fiscus_at.at)) AND ("p"."fiscal_year" = CAST(EXTRACT(YEAR FROM fiscus_at.at) AS INTEGER))) AND fiscus_at.at IS NOT DISTINCT FROM __r."at" AND "p"."agency_code" IS NOT DISTINCT FROM __r."agency_code")) WITH ORDINALITY AS __ek(k, o)), CAST('[]' AS JSONB)), CAST('[]' AS JSONB))) ELSE CAST('[]' AS JSONB) END, CAST('[]' AS JSONB)) AS TEXT) AS "evidence",
  CAST(CASE WHEN (coalesce(__l.__n, 0) + coalesce(__r.__n, 0)) > 500 THEN 'SELECT * FROM treasury.payments WHERE ' || 'agency_code = ' || '''' || replace(CAST(__l."agency_code" AS VARCHAR), '''', '''''') || '''' || ' AND ' || 'pay_date <= ' || 'DATE ''' || CAST(CAST($1 AS DATE) AS VARCHAR) || '''' END AS VARCHAR) AS "evidence_query",
  CAST(json_build_object('agency_name', CAST((coalesce("ag"."agency_name", __l."agency_code")) AS VARCHAR), 'at', CAST(__l."at" AS VARCHAR), 'execution', CAST(CAST(round(CAST(((div(CAST((coalesce(__r."spending", 0)) AS NUMERIC) * 1000000000000, NULLIF(CAST(__l."budget" AS NUMERIC), 0)) * 0.0000000001)) AS NUMERIC), 2) AS DECIMAL(24,2)) AS TEXT), 'time_progress', CAST(CAST(round(CAST(((div(CAST(CAST(EXTRACT(DOY FROM __l."at") AS INTEGER) AS NUMERIC) * 1000000000000, NULLIF(CAST(CAST(EXTRACT(DOY FROM make_date(CAST(CAST(EXTRACT(YEAR FROM __l."at") AS INTEGER) AS INTEGER), CAST(12 AS INTEGER), CAST(31 AS INTEGER))) AS INTEGER) AS NUMERIC), 0)) * 0.0000000001)) AS NUMERIC), 2) AS DECIMAL(24,2)) AS TEXT), 'lag', CAST(CAST(round(CAST((round(CAST((((div(CAST(CAST(EXTRACT(DOY FROM __l."at") AS INTEGER) AS NUMERIC) * 1000000000000, NULLIF(CAST(CAST(EXTRACT(DOY FROM make_date(CAST(CAST(EXTRACT(YEAR FROM __l."at") AS INTEGER) AS INTEGER), CAST(12 AS INTEGER), CAST(31 AS INTEGER))) AS INTEGER) AS NUMERIC), 0)) * 0.0000000001)) - ((div(CAST((coalesce(__r."spending", 0)) AS NUMERIC) * 1000000000000, NULLIF(CAST(__l."budget" AS NUMERIC), 0)) * 0.0000000001))) AS NUMERIC), CAST(6 AS INTEGER))) AS NUMERIC), 2) AS DECIMAL(24,2)) AS TEXT)) AS TEXT) AS "vars"
FROM fiscus_l AS __l LEFT JOIN fiscus_r AS __r ON __l."at" IS NOT DISTINCT FROM __r."at" AND __l."agency_code" IS NOT DISTINCT FROM __r."agency_code" LEFT JOIN "ref"."agencies" AS "ag" ON ("ag"."agency_code" = __l."agency_code")
WHERE ((__l."budget" >= CAST($5 AS DECIMAL(18,2))) AND ((round(CAST((((div(CAST(CAST(EXTRACT(DOY FROM __l."at") AS INTEGER) AS NUMERIC) * 1000000000000, NULLIF(CAST(CAST(EXTRACT(DOY FROM make_date(CAST(CAST(EXTRACT(YEAR FROM __l."at") AS INTEGER) AS INTEGER), CAST(12 AS INTEGER), CAST(31 AS INTEGER))) AS INTEGER) AS NUMERIC), 0)) * 0.0000000001)) - ((div(CAST((coalesce(__r."spending", 0)) AS NUMERIC) * 1000000000000, NULLIF(CAST(__l."budget" AS NUMERIC), 0)) * 0.0000000001))) AS NUMERIC), CAST(6 AS INTEGER))) > CAST($4 AS DOUBLE PRECISION)));

-- precondition 1 (treasury.budget_indicators 为空 / treasury.budget_indicators is empty)
-- parameters: none
SELECT EXISTS (SELECT 1 FROM "treasury"."budget_indicators") AS ok;

-- precondition 2 (treasury.payments 为空 / treasury.payments is empty)
-- parameters: none
SELECT EXISTS (SELECT 1 FROM "treasury"."payments") AS ok;

-- input 1 (treasury.budget_indicators)
-- parameters: $1=as_of:date
SELECT count(*) AS "rows" FROM "treasury"."budget_indicators" AS __in WHERE __in."approved_date" <= CAST($1 AS DATE);

-- input 2 (treasury.payments)
-- parameters: $1=as_of:date
SELECT count(*) AS "rows" FROM "treasury"."payments" AS __in WHERE __in."pay_date" <= CAST($1 AS DATE);
