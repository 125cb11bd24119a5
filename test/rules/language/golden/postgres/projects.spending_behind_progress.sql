-- rule
-- parameters: $1=p_max_gap_points:percent, $2=as_of:date
SELECT 'project' AS "entity_type",
  CAST((CAST((CAST(CAST("g"."fiscal_year" AS TEXT) AS TEXT) || CAST('|' AS TEXT)) AS TEXT) || CAST("g"."project_code" AS TEXT)) AS VARCHAR) AS "entity_id",
  CAST("p"."project_name" AS VARCHAR) AS "entity_name",
  CAST("p"."region_code" AS VARCHAR) AS "region_code",
  CAST("p"."agency_code" AS VARCHAR) AS "agency_code",
  CAST("g"."fiscal_year" AS INTEGER) AS "fiscal_year",
  CAST("g"."report_date" AS DATE) AS "period_start",
  CAST("g"."report_date" AS DATE) AS "period_end",
  CAST(NULL AS VARCHAR) AS "severity",
  'gap_points' AS "measure_name",
  CAST(CAST(round(CAST((round(CAST(("g"."percent_complete" - ((div(CAST((coalesce(__h0.v, 0)) AS NUMERIC) * 1000000000000, NULLIF(CAST("p"."budget" AS NUMERIC), 0)) * 0.0000000001))) AS NUMERIC), CAST(2 AS INTEGER))) AS NUMERIC), 4) AS DECIMAL(24,4)) AS TEXT) AS "measure_value",
  CAST(CAST(round(CAST(CAST($1 AS DOUBLE PRECISION) AS NUMERIC), 4) AS DECIMAL(24,4)) AS TEXT) AS "threshold",
  CAST(round(CAST(((CAST(("p"."budget" * "g"."percent_complete") AS DOUBLE PRECISION) / NULLIF(CAST(100 AS DOUBLE PRECISION), 0)) - (coalesce(__h0.v, 0))) AS NUMERIC), CAST(2 AS INTEGER)) AS DECIMAL(18,2)) AS "amount",
  CAST(coalesce((SELECT coalesce(jsonb_agg(jsonb_build_object('table', 'projects.progress', 'key', CAST(__ek.k AS TEXT)) ORDER BY __ek.o), CAST('[]' AS JSONB)) FROM unnest(ARRAY[CAST("g"."report_id" AS TEXT)]) WITH ORDINALITY AS __ek(k, o)), CAST('[]' AS JSONB)) AS TEXT) AS "evidence",
  CAST(NULL AS VARCHAR) AS "evidence_query",
  CAST(json_build_object('project_name', CAST(("p"."project_name") AS VARCHAR), 'agency_name', CAST((coalesce("ag"."agency_name", "p"."agency_code")) AS VARCHAR), 'report_date', CAST(("g"."report_date") AS VARCHAR), 'percent', CAST(CAST(round(CAST(("g"."percent_complete") AS NUMERIC), 2) AS DECIMAL(24,2)) AS TEXT), 'execution', CAST(CAST(round(CAST(((div(CAST((coalesce(__h0.v, 0)) AS NUMERIC) * 1000000000000, NULLIF(CAST("p"."budget" AS NUMERIC), 0)) * 0.0000000001)) AS NUMERIC), 2) AS DECIMAL(24,2)) AS TEXT), 'gap', CAST(CAST(round(CAST((round(CAST(("g"."percent_complete" - ((div(CAST((coalesce(__h0.v, 0)) AS NUMERIC) * 1000000000000, NULLIF(CAST("p"."budget" AS NUMERIC), 0)) * 0.0000000001))) AS NUMERIC), CAST(2 AS INTEGER))) AS NUMERIC), 2) AS DECIMAL(24,2)) AS TEXT), 'project_code', CAST(("p"."project_code") AS VARCHAR)) AS TEXT) AS "vars"
FROM "projects"."progress" AS "g" JOIN "projects"."projects" AS "p" ON (("p"."project_code" = "g"."project_code") AND ("p"."fiscal_year" = "g"."fiscal_year")) LEFT JOIN "ref"."agencies" AS "ag" ON ("ag"."agency_code" = "p"."agency_code") CROSS JOIN LATERAL (SELECT sum(t2."amount") AS v FROM "treasury"."payments" AS t2 WHERE t2."pay_date" <= CAST($2 AS DATE) AND (((t2."project_code" = "g"."project_code") AND (t2."fiscal_year" = "g"."fiscal_year")) AND (t2."pay_date" <= "g"."report_date"))) AS __h0
WHERE ((((("p"."vote_result" = 'passed') AND ("p"."budget" > 0)) AND ("g"."report_date" <= CAST($2 AS DATE))) AND (NOT EXISTS (SELECT 1 FROM "projects"."progress" AS t0 WHERE ((((t0."project_code" = "g"."project_code") AND (t0."fiscal_year" = "g"."fiscal_year")) AND (t0."report_date" <= CAST($2 AS DATE))) AND ((t0."report_date" > "g"."report_date") OR ((t0."report_date" = "g"."report_date") AND (t0."report_id" > "g"."report_id"))))))) AND ((("g"."percent_complete" - CAST($1 AS DOUBLE PRECISION)) * "p"."budget") > (100 * coalesce((SELECT sum(t1."amount") FROM "treasury"."payments" AS t1 WHERE t1."pay_date" <= CAST($2 AS DATE) AND (((t1."project_code" = "g"."project_code") AND (t1."fiscal_year" = "g"."fiscal_year")) AND (t1."pay_date" <= "g"."report_date"))), 0))));

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
