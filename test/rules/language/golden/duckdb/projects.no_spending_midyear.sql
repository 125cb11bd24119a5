-- rule
-- parameters: $as_of=as_of:date, $p_min_budget=p_min_budget:money
SELECT 'project' AS "entity_type",
  CAST((CAST((CAST(CAST("p"."fiscal_year" AS VARCHAR) AS VARCHAR) || CAST('|' AS VARCHAR)) AS VARCHAR) || CAST("p"."project_code" AS VARCHAR)) AS VARCHAR) AS "entity_id",
  CAST("p"."project_name" AS VARCHAR) AS "entity_name",
  CAST("p"."region_code" AS VARCHAR) AS "region_code",
  CAST("p"."agency_code" AS VARCHAR) AS "agency_code",
  CAST("p"."fiscal_year" AS INTEGER) AS "fiscal_year",
  CAST(make_date(CAST("p"."fiscal_year" AS INTEGER), CAST(1 AS INTEGER), CAST(1 AS INTEGER)) AS DATE) AS "period_start",
  CAST(make_date(CAST("p"."fiscal_year" AS INTEGER), CAST(6 AS INTEGER), CAST(30 AS INTEGER)) AS DATE) AS "period_end",
  CAST(NULL AS VARCHAR) AS "severity",
  'spent' AS "measure_name",
  CAST(CAST((coalesce(__h0.v, 0)) AS DECIMAL(18,2)) AS VARCHAR) AS "measure_value",
  CAST(CAST(0 AS BIGINT) AS VARCHAR) AS "threshold",
  CAST("p"."budget" AS DECIMAL(18,2)) AS "amount",
  CAST(to_json(CAST(list_transform([CAST("p"."fiscal_year" AS VARCHAR) || '|' || CAST("p"."project_code" AS VARCHAR)], k -> struct_pack("table" := 'projects.projects', "key" := CAST(k AS VARCHAR))) AS STRUCT("table" VARCHAR, "key" VARCHAR)[])) AS VARCHAR) AS "evidence",
  CAST(NULL AS VARCHAR) AS "evidence_query",
  json_object('project_name', CAST(("p"."project_name") AS VARCHAR), 'agency_name', CAST((coalesce("ag"."agency_name", "p"."agency_code")) AS VARCHAR), 'budget', CAST(CAST(("p"."budget") AS DECIMAL(18,2)) AS VARCHAR), 'fiscal_year', CAST(("p"."fiscal_year") AS BIGINT), 'project_code', CAST(("p"."project_code") AS VARCHAR)) AS "vars",
  CAST("p"."fiscal_year" AS VARCHAR) || '' || CAST("p"."project_code" AS VARCHAR) AS "delta_key"
FROM "projects"."projects" AS "p" LEFT JOIN "ref"."agencies" AS "ag" ON ("ag"."agency_code" = "p"."agency_code") CROSS JOIN LATERAL (SELECT sum(t0."amount") AS v FROM "treasury"."payments" AS t0 WHERE t0."pay_date" <= CAST($as_of AS DATE) AND (((t0."project_code" = "p"."project_code") AND (t0."fiscal_year" = "p"."fiscal_year")) AND (t0."pay_date" <= make_date(CAST("p"."fiscal_year" AS INTEGER), CAST(6 AS INTEGER), CAST(30 AS INTEGER))))) AS __h0
WHERE (("p"."vote_result" = 'passed') AND ("p"."budget" > CAST($p_min_budget AS DECIMAL(18,2))))
  AND ((make_date(CAST("p"."fiscal_year" AS INTEGER), CAST(6 AS INTEGER), CAST(30 AS INTEGER)) + CAST(1 AS INTEGER)) <= CAST($as_of AS DATE) AND NOT coalesce(((coalesce(__h0.v, 0)) > 0), FALSE));

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
-- parameters: $as_of=as_of:date, $delta_batches=delta_batches:string, $p_min_budget=p_min_budget:money
SELECT 'project' AS "entity_type",
  CAST((CAST((CAST(CAST("p"."fiscal_year" AS VARCHAR) AS VARCHAR) || CAST('|' AS VARCHAR)) AS VARCHAR) || CAST("p"."project_code" AS VARCHAR)) AS VARCHAR) AS "entity_id",
  CAST("p"."project_name" AS VARCHAR) AS "entity_name",
  CAST("p"."region_code" AS VARCHAR) AS "region_code",
  CAST("p"."agency_code" AS VARCHAR) AS "agency_code",
  CAST("p"."fiscal_year" AS INTEGER) AS "fiscal_year",
  CAST(make_date(CAST("p"."fiscal_year" AS INTEGER), CAST(1 AS INTEGER), CAST(1 AS INTEGER)) AS DATE) AS "period_start",
  CAST(make_date(CAST("p"."fiscal_year" AS INTEGER), CAST(6 AS INTEGER), CAST(30 AS INTEGER)) AS DATE) AS "period_end",
  CAST(NULL AS VARCHAR) AS "severity",
  'spent' AS "measure_name",
  CAST(CAST((coalesce(__h0.v, 0)) AS DECIMAL(18,2)) AS VARCHAR) AS "measure_value",
  CAST(CAST(0 AS BIGINT) AS VARCHAR) AS "threshold",
  CAST("p"."budget" AS DECIMAL(18,2)) AS "amount",
  CAST(to_json(CAST(list_transform([CAST("p"."fiscal_year" AS VARCHAR) || '|' || CAST("p"."project_code" AS VARCHAR)], k -> struct_pack("table" := 'projects.projects', "key" := CAST(k AS VARCHAR))) AS STRUCT("table" VARCHAR, "key" VARCHAR)[])) AS VARCHAR) AS "evidence",
  CAST(NULL AS VARCHAR) AS "evidence_query",
  json_object('project_name', CAST(("p"."project_name") AS VARCHAR), 'agency_name', CAST((coalesce("ag"."agency_name", "p"."agency_code")) AS VARCHAR), 'budget', CAST(CAST(("p"."budget") AS DECIMAL(18,2)) AS VARCHAR), 'fiscal_year', CAST(("p"."fiscal_year") AS BIGINT), 'project_code', CAST(("p"."project_code") AS VARCHAR)) AS "vars",
  CAST("p"."fiscal_year" AS VARCHAR) || '' || CAST("p"."project_code" AS VARCHAR) AS "delta_key"
FROM "projects"."projects" AS "p" LEFT JOIN "ref"."agencies" AS "ag" ON ("ag"."agency_code" = "p"."agency_code") CROSS JOIN LATERAL (SELECT sum(t0."amount") AS v FROM "treasury"."payments" AS t0 WHERE t0."pay_date" <= CAST($as_of AS DATE) AND (((t0."project_code" = "p"."project_code") AND (t0."fiscal_year" = "p"."fiscal_year")) AND (t0."pay_date" <= make_date(CAST("p"."fiscal_year" AS INTEGER), CAST(6 AS INTEGER), CAST(30 AS INTEGER))))) AS __h0
WHERE "p"."_batch_id" IN (SELECT unnest(from_json(CAST($delta_batches AS VARCHAR), '["VARCHAR"]')))
  AND (("p"."vote_result" = 'passed') AND ("p"."budget" > CAST($p_min_budget AS DECIMAL(18,2))))
  AND ((make_date(CAST("p"."fiscal_year" AS INTEGER), CAST(6 AS INTEGER), CAST(30 AS INTEGER)) + CAST(1 AS INTEGER)) <= CAST($as_of AS DATE) AND NOT coalesce(((coalesce(__h0.v, 0)) > 0), FALSE));
