-- rule
-- parameters: $p_max_gap_points=p_max_gap_points:percent, $as_of=as_of:date
SELECT 'project' AS "entity_type",
  CAST((CAST((CAST(CAST("g"."fiscal_year" AS VARCHAR) AS VARCHAR) || CAST('|' AS VARCHAR)) AS VARCHAR) || CAST("g"."project_code" AS VARCHAR)) AS VARCHAR) AS "entity_id",
  CAST("p"."project_name" AS VARCHAR) AS "entity_name",
  CAST("p"."region_code" AS VARCHAR) AS "region_code",
  CAST("p"."agency_code" AS VARCHAR) AS "agency_code",
  CAST("g"."fiscal_year" AS INTEGER) AS "fiscal_year",
  CAST("g"."report_date" AS DATE) AS "period_start",
  CAST("g"."report_date" AS DATE) AS "period_end",
  CAST(NULL AS VARCHAR) AS "severity",
  'gap_points' AS "measure_name",
  CAST(CAST(round(TRY_CAST((round(("g"."percent_complete" - ((CAST((CAST(CAST((coalesce(__h0.v, 0)) AS DECIMAL(38,2)) * 100 AS HUGEINT) * 1000000000000) // NULLIF(CAST(CAST("p"."budget" AS DECIMAL(38,2)) * 100 AS HUGEINT), 0) AS DECIMAL(38,0)) * CAST(0.0000000001 AS DECIMAL(38,10))))), 2)) AS DECIMAL(38,10)), 4) AS DECIMAL(24,4)) AS VARCHAR) AS "measure_value",
  CAST(CAST(round(TRY_CAST(CAST($p_max_gap_points AS DOUBLE) AS DECIMAL(38,10)), 4) AS DECIMAL(24,4)) AS VARCHAR) AS "threshold",
  CAST(round(((CAST(("p"."budget" * "g"."percent_complete") AS DOUBLE) / NULLIF(CAST(100 AS DOUBLE), 0)) - (coalesce(__h0.v, 0))), 2) AS DECIMAL(18,2)) AS "amount",
  CAST(to_json(CAST(list_transform([CAST("g"."report_id" AS VARCHAR)], k -> struct_pack("table" := 'projects.progress', "key" := CAST(k AS VARCHAR))) AS STRUCT("table" VARCHAR, "key" VARCHAR)[])) AS VARCHAR) AS "evidence",
  CAST(NULL AS VARCHAR) AS "evidence_query",
  json_object('project_name', CAST(("p"."project_name") AS VARCHAR), 'agency_name', CAST((coalesce("ag"."agency_name", "p"."agency_code")) AS VARCHAR), 'report_date', CAST(("g"."report_date") AS VARCHAR), 'percent', CAST(CAST(round(TRY_CAST(("g"."percent_complete") AS DECIMAL(38,10)), 2) AS DECIMAL(24,2)) AS VARCHAR), 'execution', CAST(CAST(round(TRY_CAST(((CAST((CAST(CAST((coalesce(__h0.v, 0)) AS DECIMAL(38,2)) * 100 AS HUGEINT) * 1000000000000) // NULLIF(CAST(CAST("p"."budget" AS DECIMAL(38,2)) * 100 AS HUGEINT), 0) AS DECIMAL(38,0)) * CAST(0.0000000001 AS DECIMAL(38,10)))) AS DECIMAL(38,10)), 2) AS DECIMAL(24,2)) AS VARCHAR), 'gap', CAST(CAST(round(TRY_CAST((round(("g"."percent_complete" - ((CAST((CAST(CAST((coalesce(__h0.v, 0)) AS DECIMAL(38,2)) * 100 AS HUGEINT) * 1000000000000) // NULLIF(CAST(CAST("p"."budget" AS DECIMAL(38,2)) * 100 AS HUGEINT), 0) AS DECIMAL(38,0)) * CAST(0.0000000001 AS DECIMAL(38,10))))), 2)) AS DECIMAL(38,10)), 2) AS DECIMAL(24,2)) AS VARCHAR), 'project_code', CAST(("p"."project_code") AS VARCHAR)) AS "vars"
FROM "projects"."progress" AS "g" JOIN "projects"."projects" AS "p" ON (("p"."project_code" = "g"."project_code") AND ("p"."fiscal_year" = "g"."fiscal_year")) LEFT JOIN "ref"."agencies" AS "ag" ON ("ag"."agency_code" = "p"."agency_code") CROSS JOIN LATERAL (SELECT sum(t2."amount") AS v FROM "treasury"."payments" AS t2 WHERE t2."pay_date" <= CAST($as_of AS DATE) AND (((t2."project_code" = "g"."project_code") AND (t2."fiscal_year" = "g"."fiscal_year")) AND (t2."pay_date" <= "g"."report_date"))) AS __h0
WHERE ((((("p"."vote_result" = 'passed') AND ("p"."budget" > 0)) AND ("g"."report_date" <= CAST($as_of AS DATE))) AND (NOT EXISTS (SELECT 1 FROM "projects"."progress" AS t0 WHERE ((((t0."project_code" = "g"."project_code") AND (t0."fiscal_year" = "g"."fiscal_year")) AND (t0."report_date" <= CAST($as_of AS DATE))) AND ((t0."report_date" > "g"."report_date") OR ((t0."report_date" = "g"."report_date") AND (t0."report_id" > "g"."report_id"))))))) AND ((("g"."percent_complete" - CAST($p_max_gap_points AS DOUBLE)) * "p"."budget") > (100 * coalesce((SELECT sum(t1."amount") FROM "treasury"."payments" AS t1 WHERE t1."pay_date" <= CAST($as_of AS DATE) AND (((t1."project_code" = "g"."project_code") AND (t1."fiscal_year" = "g"."fiscal_year")) AND (t1."pay_date" <= "g"."report_date"))), 0))));

-- precondition 1 (projects.progress 为空 / projects.progress is empty)
-- parameters: none
SELECT EXISTS (SELECT 1 FROM "projects"."progress") AS ok;

-- precondition 2 (projects.projects 为空 / projects.projects is empty)
-- parameters: none
SELECT EXISTS (SELECT 1 FROM "projects"."projects") AS ok;

-- precondition 3 (treasury.payments 为空 / treasury.payments is empty)
-- parameters: none
SELECT EXISTS (SELECT 1 FROM "treasury"."payments") AS ok;

-- input 1 (projects.progress)
-- parameters: none
SELECT count(*) AS "rows" FROM "projects"."progress" AS __in;
