-- rule
-- parameters: $as_of=as_of:date, $scope=scope:list, $p_fund_source=p_fund_source:string, $p_max_lag_points=p_max_lag_points:percent, $p_min_budget=p_min_budget:money
WITH fiscus_at AS (SELECT CAST(last_day(make_date(CAST(y.range AS INTEGER), CAST(m.m AS INTEGER), CAST(1 AS INTEGER))) AS DATE) AS at
      FROM range(coalesce((SELECT year(min("approved_date")) FROM "treasury"."budget_indicators" WHERE "approved_date" <= CAST($as_of AS DATE)), year(CAST($as_of AS DATE))), year(CAST($as_of AS DATE)) + 1) y,
      (VALUES (3),(6),(9),(12)) m(m)
      WHERE last_day(make_date(CAST(y.range AS INTEGER), CAST(m.m AS INTEGER), CAST(1 AS INTEGER))) <= CAST($as_of AS DATE)),
fiscus_l AS (SELECT fiscus_at.at AS "at", "i"."agency_code" AS "agency_code", sum("i"."amount") AS "budget", max("i"."region_code") AS "region_code", count(*) AS __n FROM fiscus_at CROSS JOIN "treasury"."budget_indicators" AS "i" WHERE "i"."approved_date" <= CAST($as_of AS DATE) AND (CAST($scope AS VARCHAR[]) IS NULL OR list_contains(CAST($scope AS VARCHAR[]), "i"."agency_code")) AND ((("i"."fund_source" = CAST($p_fund_source AS VARCHAR)) AND ("i"."approved_date" <= fiscus_at.at)) AND ("i"."fiscal_year" = year(fiscus_at.at))) GROUP BY fiscus_at.at, "i"."agency_code"),
fiscus_r AS (SELECT fiscus_at.at AS "at", "p"."agency_code" AS "agency_code", sum("p"."amount") AS "spending", count(*) AS __n FROM fiscus_at CROSS JOIN "treasury"."payments" AS "p" WHERE "p"."pay_date" <= CAST($as_of AS DATE) AND (CAST($scope AS VARCHAR[]) IS NULL OR list_contains(CAST($scope AS VARCHAR[]), "p"."agency_code")) AND ((("p"."fund_source" = CAST($p_fund_source AS VARCHAR)) AND ("p"."pay_date" <= fiscus_at.at)) AND ("p"."fiscal_year" = year(fiscus_at.at))) GROUP BY fiscus_at.at, "p"."agency_code")
SELECT 'agency' AS "entity_type",
  CAST(__l."agency_code" AS VARCHAR) AS "entity_id",
  CAST("ag"."agency_name" AS VARCHAR) AS "entity_name",
  CAST(__l."region_code" AS VARCHAR) AS "region_code",
  CAST(__l."agency_code" AS VARCHAR) AS "agency_code",
  CAST(year(__l."at") AS INTEGER) AS "fiscal_year",
  CAST(make_date(CAST(year(__l."at") AS INTEGER), CAST(1 AS INTEGER), CAST(1 AS INTEGER)) AS DATE) AS "period_start",
  CAST(__l."at" AS DATE) AS "period_end",
  CAST(NULL AS VARCHAR) AS "severity",
  'lag_points' AS "measure_name",
  CAST(CAST(round(TRY_CAST((round((((CAST((CAST(CAST(dayofyear(__l."at") AS DECIMAL(38,8)) * 100000000 AS HUGEINT) * 1000000000000) // NULLIF(CAST(CAST(dayofyear(make_date(CAST(year(__l."at") AS INTEGER), CAST(12 AS INTEGER), CAST(31 AS INTEGER))) AS DECIMAL(38,8)) * 100000000 AS HUGEINT), 0) AS DECIMAL(38,0)) * CAST(0.0000000001 AS DECIMAL(38,10)))) - ((CAST((CAST(CAST((coalesce(__r."spending", 0)) AS DECIMAL(38,8)) * 100000000 AS HUGEINT) * 1000000000000) // NULLIF(CAST(CAST(__l."budget" AS DECIMAL(38,8)) * 100000000 AS HUGEINT), 0) AS DECIMAL(38,0)) * CAST(0.0000000001 AS DECIMAL(38,10))))), 6)) AS DECIMAL(38,10)), 4) AS DECIMAL(24,4)) AS VARCHAR) AS "measure_value",
  CAST(CAST(round(TRY_CAST(CAST($p_max_lag_points AS DOUBLE) AS DECIMAL(38,10)), 4) AS DECIMAL(24,4)) AS VARCHAR) AS "threshold",
  CAST((__l."budget" - (coalesce(__r."spending", 0))) AS DECIMAL(18,2)) AS "amount",
  CAST(CASE WHEN (coalesce(__l.__n, 0) + coalesce(__r.__n, 0)) <= 500 THEN list_concat(coalesce(list_transform((SELECT list_sort(list_distinct(list(CAST("i"."indicator_id" AS VARCHAR)))) FROM fiscus_at CROSS JOIN "treasury"."budget_indicators" AS "i" WHERE "i"."approved_date" <= CAST($as_of AS DATE) AND (CAST($scope AS VARCHAR[]) IS NULL OR list_contains(CAST($scope AS VARCHAR[]), "i"."agency_code")) AND ((("i"."fund_source" = CAST($p_fund_source AS VARCHAR)) AND ("i"."approved_date" <= fiscus_at.at)) AND ("i"."fiscal_year" = year(fiscus_at.at))) AND fiscus_at.at IS NOT DISTINCT FROM __l."at" AND "i"."agency_code" IS NOT DISTINCT FROM __l."agency_code"), k -> struct_pack("table" := 'treasury.budget_indicators', "key" := CAST(k AS VARCHAR))), CAST([] AS STRUCT("table" VARCHAR, "key" VARCHAR)[])), coalesce(list_transform((SELECT list_sort(list_distinct(list(CAST("p"."payment_id" AS VARCHAR)))) FROM fiscus_at CROSS JOIN "treasury"."payments" AS "p" WHERE "p"."pay_date" <= CAST($as_of AS DATE) AND (CAST($scope AS VARCHAR[]) IS NULL OR list_contains(CAST($scope AS VARCHAR[]), "p"."agency_code")) AND ((("p"."fund_source" = CAST($p_fund_source AS VARCHAR)) AND ("p"."pay_date" <= fiscus_at.at)) AND ("p"."fiscal_year" = year(fiscus_at.at))) AND fiscus_at.at IS NOT DISTINCT FROM __r."at" AND "p"."agency_code" IS NOT DISTINCT FROM __r."agency_code"), k -> struct_pack("table" := 'treasury.payments', "key" := CAST(k AS VARCHAR))), CAST([] AS STRUCT("table" VARCHAR, "key" VARCHAR)[]))) ELSE CAST([] AS STRUCT("table" VARCHAR, "key" VARCHAR)[]) END AS STRUCT("table" VARCHAR, "key" VARCHAR)[]) AS "evidence",
  CAST(CASE WHEN (coalesce(__l.__n, 0) + coalesce(__r.__n, 0)) > 500 THEN 'SELECT * FROM treasury.payments WHERE ' || 'agency_code = ' || '''' || replace(CAST(__l."agency_code" AS VARCHAR), '''', '''''') || '''' || ' AND ' || 'pay_date <= ' || 'DATE ''' || CAST(CAST($as_of AS DATE) AS VARCHAR) || '''' END AS VARCHAR) AS "evidence_query",
  json_object('agency_name', CAST((coalesce("ag"."agency_name", __l."agency_code")) AS VARCHAR), 'at', CAST(__l."at" AS VARCHAR), 'execution', CAST(CAST(round(TRY_CAST(((CAST((CAST(CAST((coalesce(__r."spending", 0)) AS DECIMAL(38,8)) * 100000000 AS HUGEINT) * 1000000000000) // NULLIF(CAST(CAST(__l."budget" AS DECIMAL(38,8)) * 100000000 AS HUGEINT), 0) AS DECIMAL(38,0)) * CAST(0.0000000001 AS DECIMAL(38,10)))) AS DECIMAL(38,10)), 2) AS DECIMAL(24,2)) AS VARCHAR), 'time_progress', CAST(CAST(round(TRY_CAST(((CAST((CAST(CAST(dayofyear(__l."at") AS DECIMAL(38,8)) * 100000000 AS HUGEINT) * 1000000000000) // NULLIF(CAST(CAST(dayofyear(make_date(CAST(year(__l."at") AS INTEGER), CAST(12 AS INTEGER), CAST(31 AS INTEGER))) AS DECIMAL(38,8)) * 100000000 AS HUGEINT), 0) AS DECIMAL(38,0)) * CAST(0.0000000001 AS DECIMAL(38,10)))) AS DECIMAL(38,10)), 2) AS DECIMAL(24,2)) AS VARCHAR), 'lag', CAST(CAST(round(TRY_CAST((round((((CAST((CAST(CAST(dayofyear(__l."at") AS DECIMAL(38,8)) * 100000000 AS HUGEINT) * 1000000000000) // NULLIF(CAST(CAST(dayofyear(make_date(CAST(year(__l."at") AS INTEGER), CAST(12 AS INTEGER), CAST(31 AS INTEGER))) AS DECIMAL(38,8)) * 100000000 AS HUGEINT), 0) AS DECIMAL(38,0)) * CAST(0.0000000001 AS DECIMAL(38,10)))) - ((CAST((CAST(CAST((coalesce(__r."spending", 0)) AS DECIMAL(38,8)) * 100000000 AS HUGEINT) * 1000000000000) // NULLIF(CAST(CAST(__l."budget" AS DECIMAL(38,8)) * 100000000 AS HUGEINT), 0) AS DECIMAL(38,0)) * CAST(0.0000000001 AS DECIMAL(38,10))))), 6)) AS DECIMAL(38,10)), 2) AS DECIMAL(24,2)) AS VARCHAR)) AS "vars"
FROM fiscus_l AS __l LEFT JOIN fiscus_r AS __r ON __l."at" IS NOT DISTINCT FROM __r."at" AND __l."agency_code" IS NOT DISTINCT FROM __r."agency_code" LEFT JOIN "ref"."agencies" AS "ag" ON ("ag"."agency_code" = __l."agency_code")
WHERE ((__l."budget" >= CAST($p_min_budget AS DECIMAL(18,2))) AND ((round((((CAST((CAST(CAST(dayofyear(__l."at") AS DECIMAL(38,8)) * 100000000 AS HUGEINT) * 1000000000000) // NULLIF(CAST(CAST(dayofyear(make_date(CAST(year(__l."at") AS INTEGER), CAST(12 AS INTEGER), CAST(31 AS INTEGER))) AS DECIMAL(38,8)) * 100000000 AS HUGEINT), 0) AS DECIMAL(38,0)) * CAST(0.0000000001 AS DECIMAL(38,10)))) - ((CAST((CAST(CAST((coalesce(__r."spending", 0)) AS DECIMAL(38,8)) * 100000000 AS HUGEINT) * 1000000000000) // NULLIF(CAST(CAST(__l."budget" AS DECIMAL(38,8)) * 100000000 AS HUGEINT), 0) AS DECIMAL(38,0)) * CAST(0.0000000001 AS DECIMAL(38,10))))), 6)) > CAST($p_max_lag_points AS DOUBLE)));

-- precondition 1 (treasury.budget_indicators 为空 / treasury.budget_indicators is empty)
-- parameters: none
SELECT EXISTS (SELECT 1 FROM "treasury"."budget_indicators") AS ok;

-- precondition 2 (treasury.payments 为空 / treasury.payments is empty)
-- parameters: none
SELECT EXISTS (SELECT 1 FROM "treasury"."payments") AS ok;

-- input 1 (treasury.budget_indicators)
-- parameters: $as_of=as_of:date
SELECT count(*) AS "rows" FROM "treasury"."budget_indicators" AS __in WHERE __in."approved_date" <= CAST($as_of AS DATE);

-- input 2 (treasury.payments)
-- parameters: $as_of=as_of:date
SELECT count(*) AS "rows" FROM "treasury"."payments" AS __in WHERE __in."pay_date" <= CAST($as_of AS DATE);
