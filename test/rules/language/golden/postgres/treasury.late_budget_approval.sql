-- rule
-- parameters: $1=as_of:date, $2=scope:list, $3=p_max_days:days
WITH fiscus_g AS (SELECT "i"."agency_code" AS "agency_code", "i"."fiscal_year" AS "fiscal_year", min("i"."approved_date") AS "first_approved", max("s"."congress_approved_date") AS "congress_date", sum("i"."amount") AS "initial_total", max("ag"."agency_name") AS "agency_name", max("ag"."region_code") AS "region_code", count(*) AS __n FROM "treasury"."budget_indicators" AS "i" JOIN "ref"."agencies" AS "ag" ON ("ag"."agency_code" = "i"."agency_code") JOIN "ref"."budget_sessions" AS "s" ON (("s"."region_code" = "ag"."region_code") AND ("s"."fiscal_year" = "i"."fiscal_year")) WHERE "i"."approved_date" <= CAST($1 AS DATE) AND (CAST($2 AS TEXT[]) IS NULL OR "i"."agency_code" = ANY(CAST($2 AS TEXT[]))) AND ("i"."kind" = 'initial') GROUP BY "i"."agency_code", "i"."fiscal_year")
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
  CAST(CAST(((__g."first_approved" - __g."congress_date")) AS BIGINT) AS TEXT) AS "measure_value",
  CAST(CAST(CAST($3 AS BIGINT) AS BIGINT) AS TEXT) AS "threshold",
  CAST(__g."initial_total" AS DECIMAL(18,2)) AS "amount",
  CAST(coalesce(CASE WHEN __g.__n <= 500 THEN (SELECT coalesce(jsonb_agg(jsonb_build_object('table', 'treasury.budget_indicators', 'key', CAST(__ek.k AS TEXT)) ORDER BY __ek.o), CAST('[]' AS JSONB)) FROM unnest((SELECT array_agg(DISTINCT CAST(CAST("i"."indicator_id" AS TEXT) AS TEXT) COLLATE "C" ORDER BY CAST(CAST("i"."indicator_id" AS TEXT) AS TEXT) COLLATE "C") FROM "treasury"."budget_indicators" AS "i" JOIN "ref"."agencies" AS "ag" ON ("ag"."agency_code" = "i"."agency_code") JOIN "ref"."budget_sessions" AS "s" ON (("s"."region_code" = "ag"."region_code") AND ("s"."fiscal_year" = "i"."fiscal_year")) WHERE "i"."approved_date" <= CAST($1 AS DATE) AND (CAST($2 AS TEXT[]) IS NULL OR "i"."agency_code" = ANY(CAST($2 AS TEXT[]))) AND ("i"."kind" = 'initial') AND "i"."agency_code" = __g."agency_code" AND "i"."fiscal_year" = __g."fiscal_year" AND __g.__n <= 500)) WITH ORDINALITY AS __ek(k, o)) ELSE CAST('[]' AS JSONB) END, CAST('[]' AS JSONB)) AS TEXT) AS "evidence",
  CAST(CASE WHEN __g.__n > 500 THEN 'SELECT * FROM treasury.budget_indicators WHERE ' || 'agency_code = ' || '''' || replace(CAST(__g."agency_code" AS VARCHAR), '''', '''''') || '''' || ' AND ' || 'fiscal_year = ' || CAST(__g."fiscal_year" AS VARCHAR) || ' AND ' || 'approved_date <= ' || 'DATE ''' || CAST(CAST($1 AS DATE) AS VARCHAR) || '''' END AS VARCHAR) AS "evidence_query",
  CAST(json_build_object('agency_name', CAST(__g."agency_name" AS VARCHAR), 'fiscal_year', CAST(__g."fiscal_year" AS BIGINT), 'first_approved', CAST(__g."first_approved" AS VARCHAR), 'days_late', CAST(((__g."first_approved" - __g."congress_date")) AS BIGINT)) AS TEXT) AS "vars",
  CAST(__g."agency_code" AS TEXT) || '' || CAST(__g."fiscal_year" AS TEXT) AS "delta_key"
FROM fiscus_g AS __g
WHERE (((__g."first_approved" - __g."congress_date")) > CAST($3 AS BIGINT));

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
-- parameters: $1=as_of:date
SELECT count(*) AS "rows" FROM "treasury"."budget_indicators" AS __in WHERE __in."approved_date" <= CAST($1 AS DATE);

-- delta (agency_code, fiscal_year)
-- parameters: $1=delta_batches:list, $2=as_of:date, $3=scope:list, $4=p_max_days:days
WITH fiscus_touched AS MATERIALIZED (SELECT CAST("agency_code" AS TEXT) AS k0, CAST("fiscal_year" AS TEXT) AS k1 FROM "treasury"."budget_indicators" WHERE "_batch_id" = ANY(CAST($1 AS TEXT[])) UNION SELECT CAST(CAST((CAST(old_row AS JSONB) ->> 'agency_code') AS VARCHAR) AS TEXT) AS k0, CAST(CAST((CAST(old_row AS JSONB) ->> 'fiscal_year') AS INTEGER) AS TEXT) AS k1 FROM "fiscus"."row_history" WHERE table_name = 'treasury.budget_indicators' AND replaced_by_batch = ANY(CAST($1 AS TEXT[]))),
fiscus_g AS (SELECT "i"."agency_code" AS "agency_code", "i"."fiscal_year" AS "fiscal_year", min("i"."approved_date") AS "first_approved", max("s"."congress_approved_date") AS "congress_date", sum("i"."amount") AS "initial_total", max("ag"."agency_name") AS "agency_name", max("ag"."region_code") AS "region_code", count(*) AS __n FROM "treasury"."budget_indicators" AS "i" JOIN "ref"."agencies" AS "ag" ON ("ag"."agency_code" = "i"."agency_code") JOIN "ref"."budget_sessions" AS "s" ON (("s"."region_code" = "ag"."region_code") AND ("s"."fiscal_year" = "i"."fiscal_year")) WHERE "i"."approved_date" <= CAST($2 AS DATE) AND (CAST($3 AS TEXT[]) IS NULL OR "i"."agency_code" = ANY(CAST($3 AS TEXT[]))) AND ("i"."agency_code", "i"."fiscal_year") IN (SELECT CAST(__dk.k0 AS VARCHAR), CAST(__dk.k1 AS INTEGER) FROM fiscus_touched AS __dk) AND ("i"."kind" = 'initial') GROUP BY "i"."agency_code", "i"."fiscal_year")
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
  CAST(CAST(((__g."first_approved" - __g."congress_date")) AS BIGINT) AS TEXT) AS "measure_value",
  CAST(CAST(CAST($4 AS BIGINT) AS BIGINT) AS TEXT) AS "threshold",
  CAST(__g."initial_total" AS DECIMAL(18,2)) AS "amount",
  CAST(coalesce(CASE WHEN __g.__n <= 500 THEN (SELECT coalesce(jsonb_agg(jsonb_build_object('table', 'treasury.budget_indicators', 'key', CAST(__ek.k AS TEXT)) ORDER BY __ek.o), CAST('[]' AS JSONB)) FROM unnest((SELECT array_agg(DISTINCT CAST(CAST("i"."indicator_id" AS TEXT) AS TEXT) COLLATE "C" ORDER BY CAST(CAST("i"."indicator_id" AS TEXT) AS TEXT) COLLATE "C") FROM "treasury"."budget_indicators" AS "i" JOIN "ref"."agencies" AS "ag" ON ("ag"."agency_code" = "i"."agency_code") JOIN "ref"."budget_sessions" AS "s" ON (("s"."region_code" = "ag"."region_code") AND ("s"."fiscal_year" = "i"."fiscal_year")) WHERE "i"."approved_date" <= CAST($2 AS DATE) AND (CAST($3 AS TEXT[]) IS NULL OR "i"."agency_code" = ANY(CAST($3 AS TEXT[]))) AND ("i"."kind" = 'initial') AND "i"."agency_code" = __g."agency_code" AND "i"."fiscal_year" = __g."fiscal_year" AND __g.__n <= 500)) WITH ORDINALITY AS __ek(k, o)) ELSE CAST('[]' AS JSONB) END, CAST('[]' AS JSONB)) AS TEXT) AS "evidence",
  CAST(CASE WHEN __g.__n > 500 THEN 'SELECT * FROM treasury.budget_indicators WHERE ' || 'agency_code = ' || '''' || replace(CAST(__g."agency_code" AS VARCHAR), '''', '''''') || '''' || ' AND ' || 'fiscal_year = ' || CAST(__g."fiscal_year" AS VARCHAR) || ' AND ' || 'approved_date <= ' || 'DATE ''' || CAST(CAST($2 AS DATE) AS VARCHAR) || '''' END AS VARCHAR) AS "evidence_query",
  CAST(json_build_object('agency_name', CAST(__g."agency_name" AS VARCHAR), 'fiscal_year', CAST(__g."fiscal_year" AS BIGINT), 'first_approved', CAST(__g."first_approved" AS VARCHAR), 'days_late', CAST(((__g."first_approved" - __g."congress_date")) AS BIGINT)) AS TEXT) AS "vars",
  CAST(__g."agency_code" AS TEXT) || '' || CAST(__g."fiscal_year" AS TEXT) AS "delta_key"
FROM fiscus_g AS __g
WHERE (((__g."first_approved" - __g."congress_date")) > CAST($4 AS BIGINT));
