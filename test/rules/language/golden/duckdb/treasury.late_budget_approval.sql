-- rule
-- parameters: $as_of=as_of:date, $scope=scope:list, $p_max_days=p_max_days:days
WITH fiscus_g AS (SELECT "i"."agency_code" AS "agency_code", "i"."fiscal_year" AS "fiscal_year", min("i"."approved_date") AS "first_approved", max("s"."congress_approved_date") AS "congress_date", sum("i"."amount") AS "initial_total", max("ag"."agency_name") AS "agency_name", max("ag"."region_code") AS "region_code", count(*) AS __n FROM "treasury"."budget_indicators" AS "i" JOIN "ref"."agencies" AS "ag" ON ("ag"."agency_code" = "i"."agency_code") JOIN "ref"."budget_sessions" AS "s" ON (("s"."region_code" = "ag"."region_code") AND ("s"."fiscal_year" = "i"."fiscal_year")) WHERE "i"."approved_date" <= CAST($as_of AS DATE) AND (CAST($scope AS VARCHAR[]) IS NULL OR list_contains(CAST($scope AS VARCHAR[]), "i"."agency_code")) AND ("i"."kind" = 'initial') GROUP BY "i"."agency_code", "i"."fiscal_year")
SELECT 'agency' AS "entity_type",
  CAST(__g."agency_code" AS VARCHAR) AS "entity_id",
  CAST(__g."agency_name" AS VARCHAR) AS "entity_name",
  CAST(__g."region_code" AS VARCHAR) AS "region_code",
  CAST(__g."agency_code" AS VARCHAR) AS "agency_code",
  CAST(__g."fiscal_year" AS INTEGER) AS "fiscal_year",
  CAST(make_date(CAST(__g."fiscal_year" AS INTEGER), CAST(1 AS INTEGER), CAST(1 AS INTEGER)) AS DATE) AS "period_start",
  CAST(make_date(CAST(__g."fiscal_year" AS INTEGER), CAST(12 AS INTEGER), CAST(31 AS INTEGER)) AS DATE) AS "period_end",
  CAST(NULL AS VARCHAR) AS "severity",
  'days_after_congress' AS "measure_name",
  CAST(CAST(((__g."first_approved" - __g."congress_date")) AS BIGINT) AS VARCHAR) AS "measure_value",
  CAST(CAST(CAST($p_max_days AS BIGINT) AS BIGINT) AS VARCHAR) AS "threshold",
  CAST(__g."initial_total" AS DECIMAL(18,2)) AS "amount",
  CAST(to_json(CAST(CASE WHEN __g.__n <= 500 THEN list_transform((SELECT list_sort(list_distinct(list(CAST("i"."indicator_id" AS VARCHAR)))) FROM "treasury"."budget_indicators" AS "i" JOIN "ref"."agencies" AS "ag" ON ("ag"."agency_code" = "i"."agency_code") JOIN "ref"."budget_sessions" AS "s" ON (("s"."region_code" = "ag"."region_code") AND ("s"."fiscal_year" = "i"."fiscal_year")) WHERE "i"."approved_date" <= CAST($as_of AS DATE) AND (CAST($scope AS VARCHAR[]) IS NULL OR list_contains(CAST($scope AS VARCHAR[]), "i"."agency_code")) AND ("i"."kind" = 'initial') AND "i"."agency_code" = __g."agency_code" AND "i"."fiscal_year" = __g."fiscal_year" AND __g.__n <= 500), k -> struct_pack("table" := 'treasury.budget_indicators', "key" := CAST(k AS VARCHAR))) ELSE CAST([] AS STRUCT("table" VARCHAR, "key" VARCHAR)[]) END AS STRUCT("table" VARCHAR, "key" VARCHAR)[])) AS VARCHAR) AS "evidence",
  CAST(CASE WHEN __g.__n > 500 THEN 'SELECT * FROM treasury.budget_indicators WHERE ' || 'agency_code = ' || '''' || replace(CAST(__g."agency_code" AS VARCHAR), '''', '''''') || '''' || ' AND ' || 'fiscal_year = ' || CAST(__g."fiscal_year" AS VARCHAR) || ' AND ' || 'approved_date <= ' || 'DATE ''' || CAST(CAST($as_of AS DATE) AS VARCHAR) || '''' END AS VARCHAR) AS "evidence_query",
  json_object('agency_name', CAST(__g."agency_name" AS VARCHAR), 'fiscal_year', CAST(__g."fiscal_year" AS BIGINT), 'first_approved', CAST(__g."first_approved" AS VARCHAR), 'days_late', CAST(((__g."first_approved" - __g."congress_date")) AS BIGINT)) AS "vars",
  CAST(__g."agency_code" AS VARCHAR) || '' || CAST(__g."fiscal_year" AS VARCHAR) AS "delta_key"
FROM fiscus_g AS __g
WHERE (((__g."first_approved" - __g."congress_date")) > CAST($p_max_days AS BIGINT));

-- precondition 1 (treasury.budget_indicators 为空 / treasury.budget_indicators is empty)
-- parameters: none
SELECT EXISTS (SELECT 1 FROM "treasury"."budget_indicators") AS ok;

-- precondition 2 (ref.agencies 为空 / ref.agencies is empty)
-- parameters: none
SELECT EXISTS (SELECT 1 FROM "ref"."agencies") AS ok;

-- precondition 3 (ref.budget_sessions 为空 / ref.budget_sessions is empty)
-- parameters: none
SELECT EXISTS (SELECT 1 FROM "ref"."budget_sessions") AS ok;

-- input 1 (treasury.budget_indicators)
-- parameters: $as_of=as_of:date
SELECT count(*) AS "rows" FROM "treasury"."budget_indicators" AS __in WHERE __in."approved_date" <= CAST($as_of AS DATE);

-- delta (agency_code, fiscal_year)
-- parameters: $delta_batches=delta_batches:string, $as_of=as_of:date, $scope=scope:list, $p_max_days=p_max_days:days
WITH fiscus_touched AS MATERIALIZED (SELECT CAST("agency_code" AS VARCHAR) AS k0, CAST("fiscal_year" AS VARCHAR) AS k1 FROM "treasury"."budget_indicators" WHERE "_batch_id" IN (SELECT unnest(from_json(CAST($delta_batches AS VARCHAR), '["VARCHAR"]'))) UNION SELECT CAST(CAST(json_extract_string(old_row, '$."' || replace(replace(coalesce(nullif('agency_code', ''), '-'), '\', '\\'), '"', '\"') || '"') AS VARCHAR) AS VARCHAR) AS k0, CAST(CAST(json_extract_string(old_row, '$."' || replace(replace(coalesce(nullif('fiscal_year', ''), '-'), '\', '\\'), '"', '\"') || '"') AS INTEGER) AS VARCHAR) AS k1 FROM "fiscus"."row_history" WHERE table_name = 'treasury.budget_indicators' AND replaced_by_batch IN (SELECT unnest(from_json(CAST($delta_batches AS VARCHAR), '["VARCHAR"]')))),
fiscus_g AS (SELECT "i"."agency_code" AS "agency_code", "i"."fiscal_year" AS "fiscal_year", min("i"."approved_date") AS "first_approved", max("s"."congress_approved_date") AS "congress_date", sum("i"."amount") AS "initial_total", max("ag"."agency_name") AS "agency_name", max("ag"."region_code") AS "region_code", count(*) AS __n FROM "treasury"."budget_indicators" AS "i" JOIN "ref"."agencies" AS "ag" ON ("ag"."agency_code" = "i"."agency_code") JOIN "ref"."budget_sessions" AS "s" ON (("s"."region_code" = "ag"."region_code") AND ("s"."fiscal_year" = "i"."fiscal_year")) WHERE "i"."approved_date" <= CAST($as_of AS DATE) AND (CAST($scope AS VARCHAR[]) IS NULL OR list_contains(CAST($scope AS VARCHAR[]), "i"."agency_code")) AND ("i"."agency_code", "i"."fiscal_year") IN (SELECT CAST(__dk.k0 AS VARCHAR), CAST(__dk.k1 AS INTEGER) FROM fiscus_touched AS __dk) AND ("i"."kind" = 'initial') GROUP BY "i"."agency_code", "i"."fiscal_year")
SELECT 'agency' AS "entity_type",
  CAST(__g."agency_code" AS VARCHAR) AS "entity_id",
  CAST(__g."agency_name" AS VARCHAR) AS "entity_name",
  CAST(__g."region_code" AS VARCHAR) AS "region_code",
  CAST(__g."agency_code" AS VARCHAR) AS "agency_code",
  CAST(__g."fiscal_year" AS INTEGER) AS "fiscal_year",
  CAST(make_date(CAST(__g."fiscal_year" AS INTEGER), CAST(1 AS INTEGER), CAST(1 AS INTEGER)) AS DATE) AS "period_start",
  CAST(make_date(CAST(__g."fiscal_year" AS INTEGER), CAST(12 AS INTEGER), CAST(31 AS INTEGER)) AS DATE) AS "period_end",
  CAST(NULL AS VARCHAR) AS "severity",
  'days_after_congress' AS "measure_name",
  CAST(CAST(((__g."first_approved" - __g."congress_date")) AS BIGINT) AS VARCHAR) AS "measure_value",
  CAST(CAST(CAST($p_max_days AS BIGINT) AS BIGINT) AS VARCHAR) AS "threshold",
  CAST(__g."initial_total" AS DECIMAL(18,2)) AS "amount",
  CAST(to_json(CAST(CASE WHEN __g.__n <= 500 THEN list_transform((SELECT list_sort(list_distinct(list(CAST("i"."indicator_id" AS VARCHAR)))) FROM "treasury"."budget_indicators" AS "i" JOIN "ref"."agencies" AS "ag" ON ("ag"."agency_code" = "i"."agency_code") JOIN "ref"."budget_sessions" AS "s" ON (("s"."region_code" = "ag"."region_code") AND ("s"."fiscal_year" = "i"."fiscal_year")) WHERE "i"."approved_date" <= CAST($as_of AS DATE) AND (CAST($scope AS VARCHAR[]) IS NULL OR list_contains(CAST($scope AS VARCHAR[]), "i"."agency_code")) AND ("i"."kind" = 'initial') AND "i"."agency_code" = __g."agency_code" AND "i"."fiscal_year" = __g."fiscal_year" AND __g.__n <= 500), k -> struct_pack("table" := 'treasury.budget_indicators', "key" := CAST(k AS VARCHAR))) ELSE CAST([] AS STRUCT("table" VARCHAR, "key" VARCHAR)[]) END AS STRUCT("table" VARCHAR, "key" VARCHAR)[])) AS VARCHAR) AS "evidence",
  CAST(CASE WHEN __g.__n > 500 THEN 'SELECT * FROM treasury.budget_indicators WHERE ' || 'agency_code = ' || '''' || replace(CAST(__g."agency_code" AS VARCHAR), '''', '''''') || '''' || ' AND ' || 'fiscal_year = ' || CAST(__g."fiscal_year" AS VARCHAR) || ' AND ' || 'approved_date <= ' || 'DATE ''' || CAST(CAST($as_of AS DATE) AS VARCHAR) || '''' END AS VARCHAR) AS "evidence_query",
  json_object('agency_name', CAST(__g."agency_name" AS VARCHAR), 'fiscal_year', CAST(__g."fiscal_year" AS BIGINT), 'first_approved', CAST(__g."first_approved" AS VARCHAR), 'days_late', CAST(((__g."first_approved" - __g."congress_date")) AS BIGINT)) AS "vars",
  CAST(__g."agency_code" AS VARCHAR) || '' || CAST(__g."fiscal_year" AS VARCHAR) AS "delta_key"
FROM fiscus_g AS __g
WHERE (((__g."first_approved" - __g."congress_date")) > CAST($p_max_days AS BIGINT));
