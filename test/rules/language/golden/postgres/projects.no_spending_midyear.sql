-- rule
-- parameters: $1=as_of:date, $2=p_min_budget:money
SELECT 'project' AS "entity_type",
  CAST((CAST((CAST(CAST("p"."fiscal_year" AS TEXT) AS TEXT) || CAST('|' AS TEXT)) AS TEXT) || CAST("p"."project_code" AS TEXT)) AS VARCHAR) AS "entity_id",
  CAST("p"."project_name" AS VARCHAR) AS "entity_name",
  CAST("p"."region_code" AS VARCHAR) AS "region_code",
  CAST("p"."agency_code" AS VARCHAR) AS "agency_code",
  CAST("p"."fiscal_year" AS INTEGER) AS "fiscal_year",
  CAST(make_date(CAST("p"."fiscal_year" AS INTEGER), CAST(1 AS INTEGER), CAST(1 AS INTEGER)) AS DATE) AS "period_start",
  CAST(make_date(CAST("p"."fiscal_year" AS INTEGER), CAST(6 AS INTEGER), CAST(30 AS INTEGER)) AS DATE) AS "period_end",
  CAST(NULL AS VARCHAR) AS "severity",
  'spent' AS "measure_name",
  CAST(CAST((coalesce(__h0.v, 0)) AS DECIMAL(18,2)) AS TEXT) AS "measure_value",
  CAST(CAST(0 AS BIGINT) AS TEXT) AS "threshold",
  CAST("p"."budget" AS DECIMAL(18,2)) AS "amount",
  CAST(coalesce((SELECT coalesce(jsonb_agg(jsonb_build_object('table', 'projects.projects', 'key', CAST(__ek.k AS TEXT)) ORDER BY __ek.o), CAST('[]' AS JSONB)) FROM unnest(ARRAY[CAST("p"."fiscal_year" AS TEXT) || '|' || CAST("p"."project_code" AS TEXT)]) WITH ORDINALITY AS __ek(k, o)), CAST('[]' AS JSONB)) AS TEXT) AS "evidence",
  CAST(NULL AS VARCHAR) AS "evidence_query",
  CAST(json_build_object('project_name', CAST(("p"."project_name") AS VARCHAR), 'agency_name', CAST((coalesce("ag"."agency_name", "p"."agency_code")) AS VARCHAR), 'budget', CAST(CAST(("p"."budget") AS DECIMAL(18,2)) AS VARCHAR), 'fiscal_year', CAST(("p"."fiscal_year") AS BIGINT), 'project_code', CAST(("p"."project_code") AS VARCHAR)) AS TEXT) AS "vars",
  CAST("p"."fiscal_year" AS TEXT) || '' || CAST("p"."project_code" AS TEXT) AS "delta_key"
FROM "projects"."projects" AS "p" LEFT JOIN "ref"."agencies" AS "ag" ON ("ag"."agency_code" = "p"."agency_code") CROSS JOIN LATERAL (SELECT sum(t0."amount") AS v FROM "treasury"."payments" AS t0 WHERE t0."pay_date" <= CAST($1 AS DATE) AND (((t0."project_code" = "p"."project_code") AND (t0."fiscal_year" = "p"."fiscal_year")) AND (t0."pay_date" <= make_date(CAST("p"."fiscal_year" AS INTEGER), CAST(6 AS INTEGER), CAST(30 AS INTEGER))))) AS __h0
WHERE (("p"."vote_result" = 'passed') AND ("p"."budget" > CAST($2 AS DECIMAL(18,2))))
  AND ((make_date(CAST("p"."fiscal_year" AS INTEGER), CAST(6 AS INTEGER), CAST(30 AS INTEGER)) + CAST(1 AS INTEGER)) <= CAST($1 AS DATE) AND NOT coalesce(((coalesce(__h0.v, 0)) > 0), FALSE));

-- precondition 1 (projects.projects 为空 / projects.projects is empty)
-- parameters: none
SELECT EXISTS (SELECT 1 FROM "projects"."projects") AS ok;

-- precondition 2 (treasury.payments 为空 / treasury.payments is empty)
-- parameters: none
SELECT EXISTS (SELECT 1 FROM "treasury"."payments") AS ok;

-- input 1 (projects.projects)
-- parameters: none
SELECT count(*) AS "rows" FROM "projects"."projects" AS __in;

-- delta (fiscal_year, project_code)
-- parameters: $1=as_of:date, $2=delta_batches:list, $3=p_min_budget:money
SELECT 'project' AS "entity_type",
  CAST((CAST((CAST(CAST("p"."fiscal_year" AS TEXT) AS TEXT) || CAST('|' AS TEXT)) AS TEXT) || CAST("p"."project_code" AS TEXT)) AS VARCHAR) AS "entity_id",
  CAST("p"."project_name" AS VARCHAR) AS "entity_name",
  CAST("p"."region_code" AS VARCHAR) AS "region_code",
  CAST("p"."agency_code" AS VARCHAR) AS "agency_code",
  CAST("p"."fiscal_year" AS INTEGER) AS "fiscal_year",
  CAST(make_date(CAST("p"."fiscal_year" AS INTEGER), CAST(1 AS INTEGER), CAST(1 AS INTEGER)) AS DATE) AS "period_start",
  CAST(make_date(CAST("p"."fiscal_year" AS INTEGER), CAST(6 AS INTEGER), CAST(30 AS INTEGER)) AS DATE) AS "period_end",
  CAST(NULL AS VARCHAR) AS "severity",
  'spent' AS "measure_name",
  CAST(CAST((coalesce(__h0.v, 0)) AS DECIMAL(18,2)) AS TEXT) AS "measure_value",
  CAST(CAST(0 AS BIGINT) AS TEXT) AS "threshold",
  CAST("p"."budget" AS DECIMAL(18,2)) AS "amount",
  CAST(coalesce((SELECT coalesce(jsonb_agg(jsonb_build_object('table', 'projects.projects', 'key', CAST(__ek.k AS TEXT)) ORDER BY __ek.o), CAST('[]' AS JSONB)) FROM unnest(ARRAY[CAST("p"."fiscal_year" AS TEXT) || '|' || CAST("p"."project_code" AS TEXT)]) WITH ORDINALITY AS __ek(k, o)), CAST('[]' AS JSONB)) AS TEXT) AS "evidence",
  CAST(NULL AS VARCHAR) AS "evidence_query",
  CAST(json_build_object('project_name', CAST(("p"."project_name") AS VARCHAR), 'agency_name', CAST((coalesce("ag"."agency_name", "p"."agency_code")) AS VARCHAR), 'budget', CAST(CAST(("p"."budget") AS DECIMAL(18,2)) AS VARCHAR), 'fiscal_year', CAST(("p"."fiscal_year") AS BIGINT), 'project_code', CAST(("p"."project_code") AS VARCHAR)) AS TEXT) AS "vars",
  CAST("p"."fiscal_year" AS TEXT) || '' || CAST("p"."project_code" AS TEXT) AS "delta_key"
FROM "projects"."projects" AS "p" LEFT JOIN "ref"."agencies" AS "ag" ON ("ag"."agency_code" = "p"."agency_code") CROSS JOIN LATERAL (SELECT sum(t0."amount") AS v FROM "treasury"."payments" AS t0 WHERE t0."pay_date" <= CAST($1 AS DATE) AND (((t0."project_code" = "p"."project_code") AND (t0."fiscal_year" = "p"."fiscal_year")) AND (t0."pay_date" <= make_date(CAST("p"."fiscal_year" AS INTEGER), CAST(6 AS INTEGER), CAST(30 AS INTEGER))))) AS __h0
WHERE "p"."_batch_id" = ANY(CAST($2 AS TEXT[]))
  AND (("p"."vote_result" = 'passed') AND ("p"."budget" > CAST($3 AS DECIMAL(18,2))))
  AND ((make_date(CAST("p"."fiscal_year" AS INTEGER), CAST(6 AS INTEGER), CAST(30 AS INTEGER)) + CAST(1 AS INTEGER)) <= CAST($1 AS DATE) AND NOT coalesce(((coalesce(__h0.v, 0)) > 0), FALSE));
