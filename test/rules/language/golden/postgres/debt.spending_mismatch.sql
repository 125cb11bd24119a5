-- rule
-- parameters: $1=as_of:date
WITH fiscus_l AS (SELECT "s"."bond_code" AS "bond_code", "s"."project_code" AS "project_code", sum("s"."amount") AS "spent", min("s"."pay_date") AS "first_pay", max("s"."pay_date") AS "last_pay", max("b"."region_code") AS "region_code", count(*) AS __n FROM "debt"."spending" AS "s" LEFT JOIN "debt"."bonds" AS "b" ON ("b"."bond_code" = "s"."bond_code") AND "b"."issue_date" <= CAST($1 AS DATE) WHERE "s"."pay_date" <= CAST($1 AS DATE) GROUP BY "s"."bond_code", "s"."project_code"),
fiscus_r AS (SELECT "a"."bond_code" AS "bond_code", "a"."project_code" AS "project_code", sum("a"."amount") AS "allocated_sum", max("a"."agency_code") AS "agency_code", max("a"."project_name") AS "project_name", count(*) AS __n FROM "debt"."allocations" AS "a" WHERE "a"."allocation_date" <= CAST($1 AS DATE) GROUP BY "a"."bond_code", "a"."project_code")
SELECT 'bond' AS "entity_type",
  CAST((CAST((CAST(__l."bond_code" AS TEXT) || CAST('|' AS TEXT)) AS TEXT) || CAST(__l."project_code" AS TEXT)) AS VARCHAR) AS "entity_id",
  CAST(coalesce(__r."project_name", __l."project_code") AS VARCHAR) AS "entity_name",
  CAST(__l."region_code" AS VARCHAR) AS "region_code",
  CAST(__r."agency_code" AS VARCHAR) AS "agency_code",
  CAST(CAST(EXTRACT(YEAR FROM __l."first_pay") AS INTEGER) AS INTEGER) AS "fiscal_year",
  CAST(__l."first_pay" AS DATE) AS "period_start",
  CAST(__l."last_pay" AS DATE) AS "period_end",
  CAST(NULL AS VARCHAR) AS "severity",
  'spent' AS "measure_name",
  CAST(CAST(__l."spent" AS DECIMAL(18,2)) AS TEXT) AS "measure_value",
  CAST(CAST((coalesce(__r."allocated_sum", 0)) AS DECIMAL(18,2)) AS TEXT) AS "threshold",
  CAST((__l."spent" - (coalesce(__r."allocated_sum", 0))) AS DECIMAL(18,2)) AS "amount",
  CAST(coalesce(CASE WHEN (coalesce(__l.__n, 0) + coalesce(__r.__n, 0)) <= 500 THEN (coalesce(coalesce((SELECT coalesce(jsonb_agg(jsonb_build_object('table', 'debt.spending', 'key', CAST(__ek.k AS TEXT)) ORDER BY __ek.o), CAST('[]' AS JSONB)) FROM unnest((SELECT array_agg(DISTINCT CAST(CAST("s"."spend_id" AS TEXT) AS TEXT) COLLATE "C" ORDER BY CAST(CAST("s"."spend_id" AS TEXT) AS TEXT) COLLATE "C") FROM "debt"."spending" AS "s" LEFT JOIN "debt"."bonds" AS "b" ON ("b"."bond_code" = "s"."bond_code") AND "b"."issue_date" <= CAST($1 AS DATE) WHERE "s"."pay_date" <= CAST($1 AS DATE) AND "s"."bond_code" = __l."bond_code" AND "s"."project_code" = __l."project_code" AND (coalesce(__l.__n, 0) + coalesce(__r.__n, 0)) <= 500)) WITH ORDINALITY AS __ek(k, o)), CAST('[]' AS JSONB)), CAST('[]' AS JSONB)) || coalesce(coalesce((SELECT coalesce(jsonb_agg(jsonb_build_object('table', 'debt.allocations', 'key', CAST(__ek.k AS TEXT)) ORDER BY __ek.o), CAST('[]' AS JSONB)) FROM unnest((SELECT array_agg(DISTINCT CAST(CAST("a"."allocation_id" AS TEXT) AS TEXT) COLLATE "C" ORDER BY CAST(CAST("a"."allocation_id" AS TEXT) AS TEXT) COLLATE "C") FROM "debt"."allocations" AS "a" WHERE "a"."allocation_date" <= CAST($1 AS DATE) AND "a"."bond_code" = __r."bond_code" AND "a"."project_code" = __r."project_code" AND (coalesce(__l.__n, 0) + coalesce(__r.__n, 0)) <= 500)) WITH ORDINALITY AS __ek(k, o)), CAST('[]' AS JSONB)), CAST('[]' AS JSONB))) ELSE CAST('[]' AS JSONB) END, CAST('[]' AS JSONB)) AS TEXT) AS "evidence",
  CAST(CASE WHEN (coalesce(__l.__n, 0) + coalesce(__r.__n, 0)) > 500 THEN 'SELECT * FROM debt.allocations WHERE ' || 'bond_code = ' || '''' || replace(CAST(__l."bond_code" AS VARCHAR), '''', '''''') || '''' || ' AND ' || 'project_code = ' || '''' || replace(CAST(__l."project_code" AS VARCHAR), '''', '''''') || '''' || ' AND ' || 'allocation_date <= ' || 'DATE ''' || CAST(CAST($1 AS DATE) AS VARCHAR) || '''' END AS VARCHAR) AS "evidence_query",
  CAST(json_build_object('bond_code', CAST(__l."bond_code" AS VARCHAR), 'project_code', CAST(__l."project_code" AS VARCHAR), 'spent', CAST(CAST(__l."spent" AS DECIMAL(18,2)) AS VARCHAR), 'allocated', CAST(CAST((coalesce(__r."allocated_sum", 0)) AS DECIMAL(18,2)) AS VARCHAR)) AS TEXT) AS "vars",
  CAST(__l."bond_code" AS TEXT) || '' || CAST(__l."project_code" AS TEXT) AS "delta_key"
FROM fiscus_l AS __l LEFT JOIN fiscus_r AS __r ON __l."bond_code" = __r."bond_code" AND __l."project_code" = __r."project_code"
WHERE (__l."spent" > (coalesce(__r."allocated_sum", 0)));

-- precondition 1 (debt.spending 为空 / debt.spending is empty)
-- parameters: none
SELECT EXISTS (SELECT 1 FROM "debt"."spending") AS ok;

-- precondition 2 (debt.bonds 为空 / debt.bonds is empty)
-- parameters: none
SELECT EXISTS (SELECT 1 FROM "debt"."bonds") AS ok;

-- precondition 3 (debt.allocations 为空 / debt.allocations is empty)
-- parameters: none
SELECT EXISTS (SELECT 1 FROM "debt"."allocations") AS ok;

-- input 1 (debt.spending)
-- parameters: $1=as_of:date
SELECT count(*) AS "rows" FROM "debt"."spending" AS __in WHERE __in."pay_date" <= CAST($1 AS DATE);

-- input 2 (debt.allocations)
-- parameters: $1=as_of:date
SELECT count(*) AS "rows" FROM "debt"."allocations" AS __in WHERE __in."allocation_date" <= CAST($1 AS DATE);

-- delta (bond_code, project_code)
-- parameters: $1=delta_batches:list, $2=as_of:date
WITH fiscus_touched AS MATERIALIZED (SELECT CAST("bond_code" AS TEXT) AS k0, CAST("project_code" AS TEXT) AS k1 FROM "debt"."spending" WHERE "_batch_id" = ANY(CAST($1 AS TEXT[])) UNION SELECT CAST(CAST((CAST(old_row AS JSONB) ->> 'bond_code') AS VARCHAR) AS TEXT) AS k0, CAST(CAST((CAST(old_row AS JSONB) ->> 'project_code') AS VARCHAR) AS TEXT) AS k1 FROM "fiscus"."row_history" WHERE table_name = 'debt.spending' AND replaced_by_batch = ANY(CAST($1 AS TEXT[])) UNION SELECT CAST("bond_code" AS TEXT) AS k0, CAST("project_code" AS TEXT) AS k1 FROM "debt"."allocations" WHERE "_batch_id" = ANY(CAST($1 AS TEXT[])) UNION SELECT CAST(CAST((CAST(old_row AS JSONB) ->> 'bond_code') AS VARCHAR) AS TEXT) AS k0, CAST(CAST((CAST(old_row AS JSONB) ->> 'project_code') AS VARCHAR) AS TEXT) AS k1 FROM "fiscus"."row_history" WHERE table_name = 'debt.allocations' AND replaced_by_batch = ANY(CAST($1 AS TEXT[]))),
fiscus_l AS (SELECT "s"."bond_code" AS "bond_code", "s"."project_code" AS "project_code", sum("s"."amount") AS "spent", min("s"."pay_date") AS "first_pay", max("s"."pay_date") AS "last_pay", max("b"."region_code") AS "region_code", count(*) AS __n FROM "debt"."spending" AS "s" LEFT JOIN "debt"."bonds" AS "b" ON ("b"."bond_code" = "s"."bond_code") AND "b"."issue_date" <= CAST($2 AS DATE) WHERE "s"."pay_date" <= CAST($2 AS DATE) AND ("s"."bond_code", "s"."project_code") IN (SELECT CAST(__dk.k0 AS VARCHAR), CAST(__dk.k1 AS VARCHAR) FROM fiscus_touched AS __dk) GROUP BY "s"."bond_code", "s"."project_code"),
fiscus_r AS (SELECT "a"."bond_code" AS "bond_code", "a"."project_code" AS "project_code", sum("a"."amount") AS "allocated_sum", max("a"."agency_code") AS "agency_code", max("a"."project_name") AS "project_name", count(*) AS __n FROM "debt"."allocations" AS "a" WHERE "a"."allocation_date" <= CAST($2 AS DATE) AND ("a"."bond_code", "a"."project_code") IN (SELECT CAST(__dk.k0 AS VARCHAR), CAST(__dk.k1 AS VARCHAR) FROM fiscus_touched AS __dk) GROUP BY "a"."bond_code", "a"."project_code")
SELECT 'bond' AS "entity_type",
  CAST((CAST((CAST(__l."bond_code" AS TEXT) || CAST('|' AS TEXT)) AS TEXT) || CAST(__l."project_code" AS TEXT)) AS VARCHAR) AS "entity_id",
  CAST(coalesce(__r."project_name", __l."project_code") AS VARCHAR) AS "entity_name",
  CAST(__l."region_code" AS VARCHAR) AS "region_code",
  CAST(__r."agency_code" AS VARCHAR) AS "agency_code",
  CAST(CAST(EXTRACT(YEAR FROM __l."first_pay") AS INTEGER) AS INTEGER) AS "fiscal_year",
  CAST(__l."first_pay" AS DATE) AS "period_start",
  CAST(__l."last_pay" AS DATE) AS "period_end",
  CAST(NULL AS VARCHAR) AS "severity",
  'spent' AS "measure_name",
  CAST(CAST(__l."spent" AS DECIMAL(18,2)) AS TEXT) AS "measure_value",
  CAST(CAST((coalesce(__r."allocated_sum", 0)) AS DECIMAL(18,2)) AS TEXT) AS "threshold",
  CAST((__l."spent" - (coalesce(__r."allocated_sum", 0))) AS DECIMAL(18,2)) AS "amount",
  CAST(coalesce(CASE WHEN (coalesce(__l.__n, 0) + coalesce(__r.__n, 0)) <= 500 THEN (coalesce(coalesce((SELECT coalesce(jsonb_agg(jsonb_build_object('table', 'debt.spending', 'key', CAST(__ek.k AS TEXT)) ORDER BY __ek.o), CAST('[]' AS JSONB)) FROM unnest((SELECT array_agg(DISTINCT CAST(CAST("s"."spend_id" AS TEXT) AS TEXT) COLLATE "C" ORDER BY CAST(CAST("s"."spend_id" AS TEXT) AS TEXT) COLLATE "C") FROM "debt"."spending" AS "s" LEFT JOIN "debt"."bonds" AS "b" ON ("b"."bond_code" = "s"."bond_code") AND "b"."issue_date" <= CAST($2 AS DATE) WHERE "s"."pay_date" <= CAST($2 AS DATE) AND "s"."bond_code" = __l."bond_code" AND "s"."project_code" = __l."project_code" AND (coalesce(__l.__n, 0) + coalesce(__r.__n, 0)) <= 500)) WITH ORDINALITY AS __ek(k, o)), CAST('[]' AS JSONB)), CAST('[]' AS JSONB)) || coalesce(coalesce((SELECT coalesce(jsonb_agg(jsonb_build_object('table', 'debt.allocations', 'key', CAST(__ek.k AS TEXT)) ORDER BY __ek.o), CAST('[]' AS JSONB)) FROM unnest((SELECT array_agg(DISTINCT CAST(CAST("a"."allocation_id" AS TEXT) AS TEXT) COLLATE "C" ORDER BY CAST(CAST("a"."allocation_id" AS TEXT) AS TEXT) COLLATE "C") FROM "debt"."allocations" AS "a" WHERE "a"."allocation_date" <= CAST($2 AS DATE) AND "a"."bond_code" = __r."bond_code" AND "a"."project_code" = __r."project_code" AND (coalesce(__l.__n, 0) + coalesce(__r.__n, 0)) <= 500)) WITH ORDINALITY AS __ek(k, o)), CAST('[]' AS JSONB)), CAST('[]' AS JSONB))) ELSE CAST('[]' AS JSONB) END, CAST('[]' AS JSONB)) AS TEXT) AS "evidence",
  CAST(CASE WHEN (coalesce(__l.__n, 0) + coalesce(__r.__n, 0)) > 500 THEN 'SELECT * FROM debt.allocations WHERE ' || 'bond_code = ' || '''' || replace(CAST(__l."bond_code" AS VARCHAR), '''', '''''') || '''' || ' AND ' || 'project_code = ' || '''' || replace(CAST(__l."project_code" AS VARCHAR), '''', '''''') || '''' || ' AND ' || 'allocation_date <= ' || 'DATE ''' || CAST(CAST($2 AS DATE) AS VARCHAR) || '''' END AS VARCHAR) AS "evidence_query",
  CAST(json_build_object('bond_code', CAST(__l."bond_code" AS VARCHAR), 'project_code', CAST(__l."project_code" AS VARCHAR), 'spent', CAST(CAST(__l."spent" AS DECIMAL(18,2)) AS VARCHAR), 'allocated', CAST(CAST((coalesce(__r."allocated_sum", 0)) AS DECIMAL(18,2)) AS VARCHAR)) AS TEXT) AS "vars",
  CAST(__l."bond_code" AS TEXT) || '' || CAST(__l."project_code" AS TEXT) AS "delta_key"
FROM fiscus_l AS __l LEFT JOIN fiscus_r AS __r ON __l."bond_code" = __r."bond_code" AND __l."project_code" = __r."project_code"
WHERE (__l."spent" > (coalesce(__r."allocated_sum", 0)));
