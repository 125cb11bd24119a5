-- rule
-- parameters: $1=p_grace_days:days, $2=as_of:date
SELECT 'project' AS "entity_type",
  CAST((CAST((CAST(CAST("m"."fiscal_year" AS TEXT) AS TEXT) || CAST('|' AS TEXT)) AS TEXT) || CAST("m"."project_code" AS TEXT)) AS VARCHAR) AS "entity_id",
  CAST("p"."project_name" AS VARCHAR) AS "entity_name",
  CAST("p"."region_code" AS VARCHAR) AS "region_code",
  CAST("p"."agency_code" AS VARCHAR) AS "agency_code",
  CAST("m"."fiscal_year" AS INTEGER) AS "fiscal_year",
  CAST("m"."planned_date" AS DATE) AS "period_start",
  CAST(("m"."planned_date" + CAST(CAST($1 AS BIGINT) AS INTEGER)) AS DATE) AS "period_end",
  CAST(NULL AS VARCHAR) AS "severity",
  'days_without_report' AS "measure_name",
  CAST(CAST(CAST($1 AS BIGINT) AS BIGINT) AS TEXT) AS "measure_value",
  CAST(CAST(CAST($1 AS BIGINT) AS BIGINT) AS TEXT) AS "threshold",
  CAST("p"."budget" AS DECIMAL(18,2)) AS "amount",
  CAST(coalesce((SELECT coalesce(jsonb_agg(jsonb_build_object('table', 'projects.milestones', 'key', CAST(__ek.k AS TEXT)) ORDER BY __ek.o), CAST('[]' AS JSONB)) FROM unnest(ARRAY[CAST("m"."milestone_id" AS TEXT)]) WITH ORDINALITY AS __ek(k, o)), CAST('[]' AS JSONB)) AS TEXT) AS "evidence",
  CAST(NULL AS VARCHAR) AS "evidence_query",
  CAST(json_build_object('project_name', CAST(("p"."project_name") AS VARCHAR), 'milestone', CAST(("m"."description") AS VARCHAR), 'planned_date', CAST(("m"."planned_date") AS VARCHAR), 'grace_days', CAST((CAST($1 AS BIGINT)) AS BIGINT), 'project_code', CAST(("p"."project_code") AS VARCHAR)) AS TEXT) AS "vars",
  CAST("m"."milestone_id" AS TEXT) AS "delta_key"
FROM "projects"."milestones" AS "m" JOIN "projects"."projects" AS "p" ON (("p"."project_code" = "m"."project_code") AND ("p"."fiscal_year" = "m"."fiscal_year"))
WHERE ("p"."vote_result" = 'passed')
  AND (("m"."planned_date" + CAST(CAST($1 AS BIGINT) AS INTEGER)) <= CAST($2 AS DATE) AND NOT coalesce(EXISTS (SELECT 1 FROM "projects"."progress" AS t0 WHERE ((((t0."project_code" = "m"."project_code") AND (t0."fiscal_year" = "m"."fiscal_year")) AND (t0."report_date" >= "m"."planned_date")) AND (t0."report_date" <= ("m"."planned_date" + CAST(CAST($1 AS BIGINT) AS INTEGER))))), FALSE));

-- precondition 1 (projects.milestones 为空 / projects.milestones is empty)
-- parameters: none
SELECT EXISTS (SELECT 1 FROM "projects"."milestones") AS ok;

-- precondition 2 (projects.projects 为空 / projects.projects is empty)
-- parameters: none
SELECT EXISTS (SELECT 1 FROM "projects"."projects") AS ok;

-- precondition 3 (projects.progress 为空 / projects.progress is empty)
-- parameters: none
SELECT EXISTS (SELECT 1 FROM "projects"."progress") AS ok;

-- input 1 (projects.milestones)
-- parameters: none
SELECT count(*) AS "rows" FROM "projects"."milestones" AS __in;

-- delta (milestone_id)
-- parameters: $1=p_grace_days:days, $2=delta_batches:list, $3=as_of:date
SELECT 'project' AS "entity_type",
  CAST((CAST((CAST(CAST("m"."fiscal_year" AS TEXT) AS TEXT) || CAST('|' AS TEXT)) AS TEXT) || CAST("m"."project_code" AS TEXT)) AS VARCHAR) AS "entity_id",
  CAST("p"."project_name" AS VARCHAR) AS "entity_name",
  CAST("p"."region_code" AS VARCHAR) AS "region_code",
  CAST("p"."agency_code" AS VARCHAR) AS "agency_code",
  CAST("m"."fiscal_year" AS INTEGER) AS "fiscal_year",
  CAST("m"."planned_date" AS DATE) AS "period_start",
  CAST(("m"."planned_date" + CAST(CAST($1 AS BIGINT) AS INTEGER)) AS DATE) AS "period_end",
  CAST(NULL AS VARCHAR) AS "severity",
  'days_without_report' AS "measure_name",
  CAST(CAST(CAST($1 AS BIGINT) AS BIGINT) AS TEXT) AS "measure_value",
  CAST(CAST(CAST($1 AS BIGINT) AS BIGINT) AS TEXT) AS "threshold",
  CAST("p"."budget" AS DECIMAL(18,2)) AS "amount",
  CAST(coalesce((SELECT coalesce(jsonb_agg(jsonb_build_object('table', 'projects.milestones', 'key', CAST(__ek.k AS TEXT)) ORDER BY __ek.o), CAST('[]' AS JSONB)) FROM unnest(ARRAY[CAST("m"."milestone_id" AS TEXT)]) WITH ORDINALITY AS __ek(k, o)), CAST('[]' AS JSONB)) AS TEXT) AS "evidence",
  CAST(NULL AS VARCHAR) AS "evidence_query",
  CAST(json_build_object('project_name', CAST(("p"."project_name") AS VARCHAR), 'milestone', CAST(("m"."description") AS VARCHAR), 'planned_date', CAST(("m"."planned_date") AS VARCHAR), 'grace_days', CAST((CAST($1 AS BIGINT)) AS BIGINT), 'project_code', CAST(("p"."project_code") AS VARCHAR)) AS TEXT) AS "vars",
  CAST("m"."milestone_id" AS TEXT) AS "delta_key"
FROM "projects"."milestones" AS "m" JOIN "projects"."projects" AS "p" ON (("p"."project_code" = "m"."project_code") AND ("p"."fiscal_year" = "m"."fiscal_year"))
WHERE "m"."_batch_id" = ANY(CAST($2 AS TEXT[]))
  AND ("p"."vote_result" = 'passed')
  AND (("m"."planned_date" + CAST(CAST($1 AS BIGINT) AS INTEGER)) <= CAST($3 AS DATE) AND NOT coalesce(EXISTS (SELECT 1 FROM "projects"."progress" AS t0 WHERE ((((t0."project_code" = "m"."project_code") AND (t0."fiscal_year" = "m"."fiscal_year")) AND (t0."report_date" >= "m"."planned_date")) AND (t0."report_date" <= ("m"."planned_date" + CAST(CAST($1 AS BIGINT) AS INTEGER))))), FALSE));
