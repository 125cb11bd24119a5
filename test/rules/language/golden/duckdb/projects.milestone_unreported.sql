-- rule
-- parameters: $p_grace_days=p_grace_days:days, $as_of=as_of:date
SELECT 'project' AS "entity_type",
  CAST((CAST((CAST(CAST("m"."fiscal_year" AS VARCHAR) AS VARCHAR) || CAST('|' AS VARCHAR)) AS VARCHAR) || CAST("m"."project_code" AS VARCHAR)) AS VARCHAR) AS "entity_id",
  CAST("p"."project_name" AS VARCHAR) AS "entity_name",
  CAST("p"."region_code" AS VARCHAR) AS "region_code",
  CAST("p"."agency_code" AS VARCHAR) AS "agency_code",
  CAST("m"."fiscal_year" AS INTEGER) AS "fiscal_year",
  CAST("m"."planned_date" AS DATE) AS "period_start",
  CAST(("m"."planned_date" + CAST(CAST($p_grace_days AS BIGINT) AS INTEGER)) AS DATE) AS "period_end",
  CAST(NULL AS VARCHAR) AS "severity",
  'days_without_report' AS "measure_name",
  CAST(CAST(CAST($p_grace_days AS BIGINT) AS BIGINT) AS VARCHAR) AS "measure_value",
  CAST(CAST(CAST($p_grace_days AS BIGINT) AS BIGINT) AS VARCHAR) AS "threshold",
  CAST("p"."budget" AS DECIMAL(18,2)) AS "amount",
  CAST(to_json(CAST(list_transform([CAST("m"."milestone_id" AS VARCHAR)], k -> struct_pack("table" := 'projects.milestones', "key" := CAST(k AS VARCHAR))) AS STRUCT("table" VARCHAR, "key" VARCHAR)[])) AS VARCHAR) AS "evidence",
  CAST(NULL AS VARCHAR) AS "evidence_query",
  json_object('project_name', CAST(("p"."project_name") AS VARCHAR), 'milestone', CAST(("m"."description") AS VARCHAR), 'planned_date', CAST(("m"."planned_date") AS VARCHAR), 'grace_days', CAST((CAST($p_grace_days AS BIGINT)) AS BIGINT), 'project_code', CAST(("p"."project_code") AS VARCHAR)) AS "vars",
  CAST("m"."milestone_id" AS VARCHAR) AS "delta_key"
FROM "projects"."milestones" AS "m" JOIN "projects"."projects" AS "p" ON (("p"."project_code" = "m"."project_code") AND ("p"."fiscal_year" = "m"."fiscal_year"))
WHERE ("p"."vote_result" = 'passed')
  AND (("m"."planned_date" + CAST(CAST($p_grace_days AS BIGINT) AS INTEGER)) <= CAST($as_of AS DATE) AND NOT coalesce(EXISTS (SELECT 1 FROM "projects"."progress" AS t0 WHERE ((((t0."project_code" = "m"."project_code") AND (t0."fiscal_year" = "m"."fiscal_year")) AND (t0."report_date" >= "m"."planned_date")) AND (t0."report_date" <= ("m"."planned_date" + CAST(CAST($p_grace_days AS BIGINT) AS INTEGER))))), FALSE));

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
-- parameters: $p_grace_days=p_grace_days:days, $delta_batches=delta_batches:string, $as_of=as_of:date
SELECT 'project' AS "entity_type",
  CAST((CAST((CAST(CAST("m"."fiscal_year" AS VARCHAR) AS VARCHAR) || CAST('|' AS VARCHAR)) AS VARCHAR) || CAST("m"."project_code" AS VARCHAR)) AS VARCHAR) AS "entity_id",
  CAST("p"."project_name" AS VARCHAR) AS "entity_name",
  CAST("p"."region_code" AS VARCHAR) AS "region_code",
  CAST("p"."agency_code" AS VARCHAR) AS "agency_code",
  CAST("m"."fiscal_year" AS INTEGER) AS "fiscal_year",
  CAST("m"."planned_date" AS DATE) AS "period_start",
  CAST(("m"."planned_date" + CAST(CAST($p_grace_days AS BIGINT) AS INTEGER)) AS DATE) AS "period_end",
  CAST(NULL AS VARCHAR) AS "severity",
  'days_without_report' AS "measure_name",
  CAST(CAST(CAST($p_grace_days AS BIGINT) AS BIGINT) AS VARCHAR) AS "measure_value",
  CAST(CAST(CAST($p_grace_days AS BIGINT) AS BIGINT) AS VARCHAR) AS "threshold",
  CAST("p"."budget" AS DECIMAL(18,2)) AS "amount",
  CAST(to_json(CAST(list_transform([CAST("m"."milestone_id" AS VARCHAR)], k -> struct_pack("table" := 'projects.milestones', "key" := CAST(k AS VARCHAR))) AS STRUCT("table" VARCHAR, "key" VARCHAR)[])) AS VARCHAR) AS "evidence",
  CAST(NULL AS VARCHAR) AS "evidence_query",
  json_object('project_name', CAST(("p"."project_name") AS VARCHAR), 'milestone', CAST(("m"."description") AS VARCHAR), 'planned_date', CAST(("m"."planned_date") AS VARCHAR), 'grace_days', CAST((CAST($p_grace_days AS BIGINT)) AS BIGINT), 'project_code', CAST(("p"."project_code") AS VARCHAR)) AS "vars",
  CAST("m"."milestone_id" AS VARCHAR) AS "delta_key"
FROM "projects"."milestones" AS "m" JOIN "projects"."projects" AS "p" ON (("p"."project_code" = "m"."project_code") AND ("p"."fiscal_year" = "m"."fiscal_year"))
WHERE "m"."_batch_id" IN (SELECT unnest(from_json(CAST($delta_batches AS VARCHAR), '["VARCHAR"]')))
  AND ("p"."vote_result" = 'passed')
  AND (("m"."planned_date" + CAST(CAST($p_grace_days AS BIGINT) AS INTEGER)) <= CAST($as_of AS DATE) AND NOT coalesce(EXISTS (SELECT 1 FROM "projects"."progress" AS t0 WHERE ((((t0."project_code" = "m"."project_code") AND (t0."fiscal_year" = "m"."fiscal_year")) AND (t0."report_date" >= "m"."planned_date")) AND (t0."report_date" <= ("m"."planned_date" + CAST(CAST($p_grace_days AS BIGINT) AS INTEGER))))), FALSE));
