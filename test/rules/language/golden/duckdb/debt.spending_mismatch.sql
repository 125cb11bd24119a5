-- rule
-- parameters: $as_of=as_of:date
WITH fiscus_l AS (SELECT "s"."bond_code" AS "bond_code", "s"."project_code" AS "project_code", sum("s"."amount") AS "spent", min("s"."pay_date") AS "first_pay", max("s"."pay_date") AS "last_pay", max("b"."region_code") AS "region_code", count(*) AS __n FROM "debt"."spending" AS "s" LEFT JOIN "debt"."bonds" AS "b" ON ("b"."bond_code" = "s"."bond_code") AND "b"."issue_date" <= CAST($as_of AS DATE) WHERE "s"."pay_date" <= CAST($as_of AS DATE) GROUP BY "s"."bond_code", "s"."project_code"),
fiscus_r AS (SELECT "a"."bond_code" AS "bond_code", "a"."project_code" AS "project_code", sum("a"."amount") AS "allocated_sum", max("a"."agency_code") AS "agency_code", max("a"."project_name") AS "project_name", count(*) AS __n FROM "debt"."allocations" AS "a" WHERE "a"."allocation_date" <= CAST($as_of AS DATE) GROUP BY "a"."bond_code", "a"."project_code")
SELECT 'bond' AS "entity_type",
  CAST((CAST((CAST(__l."bond_code" AS VARCHAR) || CAST('|' AS VARCHAR)) AS VARCHAR) || CAST(__l."project_code" AS VARCHAR)) AS VARCHAR) AS "entity_id",
  CAST(coalesce(__r."project_name", __l."project_code") AS VARCHAR) AS "entity_name",
  CAST(__l."region_code" AS VARCHAR) AS "region_code",
  CAST(__r."agency_code" AS VARCHAR) AS "agency_code",
  CAST(year(__l."first_pay") AS INTEGER) AS "fiscal_year",
  CAST(__l."first_pay" AS DATE) AS "period_start",
  CAST(__l."last_pay" AS DATE) AS "period_end",
  CAST(NULL AS VARCHAR) AS "severity",
  'spent' AS "measure_name",
  CAST(CAST(__l."spent" AS DECIMAL(18,2)) AS VARCHAR) AS "measure_value",
  CAST(CAST((coalesce(__r."allocated_sum", 0)) AS DECIMAL(18,2)) AS VARCHAR) AS "threshold",
  CAST((__l."spent" - (coalesce(__r."allocated_sum", 0))) AS DECIMAL(18,2)) AS "amount",
  CAST(to_json(CAST(CASE WHEN (coalesce(__l.__n, 0) + coalesce(__r.__n, 0)) <= 500 THEN list_concat(coalesce(list_transform((SELECT list_sort(list_distinct(list(CAST("s"."spend_id" AS VARCHAR)))) FROM "debt"."spending" AS "s" LEFT JOIN "debt"."bonds" AS "b" ON ("b"."bond_code" = "s"."bond_code") AND "b"."issue_date" <= CAST($as_of AS DATE) WHERE "s"."pay_date" <= CAST($as_of AS DATE) AND "s"."bond_code" = __l."bond_code" AND "s"."project_code" = __l."project_code" AND (coalesce(__l.__n, 0) + coalesce(__r.__n, 0)) <= 500), k -> struct_pack("table" := 'debt.spending', "key" := CAST(k AS VARCHAR))), CAST([] AS STRUCT("table" VARCHAR, "key" VARCHAR)[])), coalesce(list_transform((SELECT list_sort(list_distinct(list(CAST("a"."allocation_id" AS VARCHAR)))) FROM "debt"."allocations" AS "a" WHERE "a"."allocation_date" <= CAST($as_of AS DATE) AND "a"."bond_code" = __r."bond_code" AND "a"."project_code" = __r."project_code" AND (coalesce(__l.__n, 0) + coalesce(__r.__n, 0)) <= 500), k -> struct_pack("table" := 'debt.allocations', "key" := CAST(k AS VARCHAR))), CAST([] AS STRUCT("table" VARCHAR, "key" VARCHAR)[]))) ELSE CAST([] AS STRUCT("table" VARCHAR, "key" VARCHAR)[]) END AS STRUCT("table" VARCHAR, "key" VARCHAR)[])) AS VARCHAR) AS "evidence",
  CAST(CASE WHEN (coalesce(__l.__n, 0) + coalesce(__r.__n, 0)) > 500 THEN 'SELECT * FROM debt.allocations WHERE ' || 'bond_code = ' || '''' || replace(CAST(__l."bond_code" AS VARCHAR), '''', '''''') || '''' || ' AND ' || 'project_code = ' || '''' || replace(CAST(__l."project_code" AS VARCHAR), '''', '''''') || '''' || ' AND ' || 'allocation_date <= ' || 'DATE ''' || CAST(CAST($as_of AS DATE) AS VARCHAR) || '''' END AS VARCHAR) AS "evidence_query",
  json_object('bond_code', CAST(__l."bond_code" AS VARCHAR), 'project_code', CAST(__l."project_code" AS VARCHAR), 'spent', CAST(CAST(__l."spent" AS DECIMAL(18,2)) AS VARCHAR), 'allocated', CAST(CAST((coalesce(__r."allocated_sum", 0)) AS DECIMAL(18,2)) AS VARCHAR)) AS "vars",
  CAST(__l."bond_code" AS VARCHAR) || '' || CAST(__l."project_code" AS VARCHAR) AS "delta_key"
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
-- parameters: $as_of=as_of:date
SELECT count(*) AS "rows" FROM "debt"."spending" AS __in WHERE __in."pay_date" <= CAST($as_of AS DATE);

-- input 2 (debt.allocations)
-- parameters: $as_of=as_of:date
SELECT count(*) AS "rows" FROM "debt"."allocations" AS __in WHERE __in."allocation_date" <= CAST($as_of AS DATE);

-- delta (bond_code, project_code)
-- parameters: $delta_batches=delta_batches:string, $as_of=as_of:date
WITH fiscus_touched AS MATERIALIZED (SELECT CAST("bond_code" AS VARCHAR) AS k0, CAST("project_code" AS VARCHAR) AS k1 FROM "debt"."spending" WHERE "_batch_id" IN (SELECT unnest(from_json(CAST($delta_batches AS VARCHAR), '["VARCHAR"]'))) UNION SELECT CAST(CAST(json_extract_string(old_row, '$."' || replace(replace(coalesce(nullif('bond_code', ''), '-'), '\', '\\'), '"', '\"') || '"') AS VARCHAR) AS VARCHAR) AS k0, CAST(CAST(json_extract_string(old_row, '$."' || replace(replace(coalesce(nullif('project_code', ''), '-'), '\', '\\'), '"', '\"') || '"') AS VARCHAR) AS VARCHAR) AS k1 FROM "fiscus"."row_history" WHERE table_name = 'debt.spending' AND replaced_by_batch IN (SELECT unnest(from_json(CAST($delta_batches AS VARCHAR), '["VARCHAR"]'))) UNION SELECT CAST("bond_code" AS VARCHAR) AS k0, CAST("project_code" AS VARCHAR) AS k1 FROM "debt"."allocations" WHERE "_batch_id" IN (SELECT unnest(from_json(CAST($delta_batches AS VARCHAR), '["VARCHAR"]'))) UNION SELECT CAST(CAST(json_extract_string(old_row, '$."' || replace(replace(coalesce(nullif('bond_code', ''), '-'), '\', '\\'), '"', '\"') || '"') AS VARCHAR) AS VARCHAR) AS k0, CAST(CAST(json_extract_string(old_row, '$."' || replace(replace(coalesce(nullif('project_code', ''), '-'), '\', '\\'), '"', '\"') || '"') AS VARCHAR) AS VARCHAR) AS k1 FROM "fiscus"."row_history" WHERE table_name = 'debt.allocations' AND replaced_by_batch IN (SELECT unnest(from_json(CAST($delta_batches AS VARCHAR), '["VARCHAR"]')))),
fiscus_l AS (SELECT "s"."bond_code" AS "bond_code", "s"."project_code" AS "project_code", sum("s"."amount") AS "spent", min("s"."pay_date") AS "first_pay", max("s"."pay_date") AS "last_pay", max("b"."region_code") AS "region_code", count(*) AS __n FROM "debt"."spending" AS "s" LEFT JOIN "debt"."bonds" AS "b" ON ("b"."bond_code" = "s"."bond_code") AND "b"."issue_date" <= CAST($as_of AS DATE) WHERE "s"."pay_date" <= CAST($as_of AS DATE) AND ("s"."bond_code", "s"."project_code") IN (SELECT CAST(__dk.k0 AS VARCHAR), CAST(__dk.k1 AS VARCHAR) FROM fiscus_touched AS __dk) GROUP BY "s"."bond_code", "s"."project_code"),
fiscus_r AS (SELECT "a"."bond_code" AS "bond_code", "a"."project_code" AS "project_code", sum("a"."amount") AS "allocated_sum", max("a"."agency_code") AS "agency_code", max("a"."project_name") AS "project_name", count(*) AS __n FROM "debt"."allocations" AS "a" WHERE "a"."allocation_date" <= CAST($as_of AS DATE) AND ("a"."bond_code", "a"."project_code") IN (SELECT CAST(__dk.k0 AS VARCHAR), CAST(__dk.k1 AS VARCHAR) FROM fiscus_touched AS __dk) GROUP BY "a"."bond_code", "a"."project_code")
SELECT 'bond' AS "entity_type",
  CAST((CAST((CAST(__l."bond_code" AS VARCHAR) || CAST('|' AS VARCHAR)) AS VARCHAR) || CAST(__l."project_code" AS VARCHAR)) AS VARCHAR) AS "entity_id",
  CAST(coalesce(__r."project_name", __l."project_code") AS VARCHAR) AS "entity_name",
  CAST(__l."region_code" AS VARCHAR) AS "region_code",
  CAST(__r."agency_code" AS VARCHAR) AS "agency_code",
  CAST(year(__l."first_pay") AS INTEGER) AS "fiscal_year",
  CAST(__l."first_pay" AS DATE) AS "period_start",
  CAST(__l."last_pay" AS DATE) AS "period_end",
  CAST(NULL AS VARCHAR) AS "severity",
  'spent' AS "measure_name",
  CAST(CAST(__l."spent" AS DECIMAL(18,2)) AS VARCHAR) AS "measure_value",
  CAST(CAST((coalesce(__r."allocated_sum", 0)) AS DECIMAL(18,2)) AS VARCHAR) AS "threshold",
  CAST((__l."spent" - (coalesce(__r."allocated_sum", 0))) AS DECIMAL(18,2)) AS "amount",
  CAST(to_json(CAST(CASE WHEN (coalesce(__l.__n, 0) + coalesce(__r.__n, 0)) <= 500 THEN list_concat(coalesce(list_transform((SELECT list_sort(list_distinct(list(CAST("s"."spend_id" AS VARCHAR)))) FROM "debt"."spending" AS "s" LEFT JOIN "debt"."bonds" AS "b" ON ("b"."bond_code" = "s"."bond_code") AND "b"."issue_date" <= CAST($as_of AS DATE) WHERE "s"."pay_date" <= CAST($as_of AS DATE) AND "s"."bond_code" = __l."bond_code" AND "s"."project_code" = __l."project_code" AND (coalesce(__l.__n, 0) + coalesce(__r.__n, 0)) <= 500), k -> struct_pack("table" := 'debt.spending', "key" := CAST(k AS VARCHAR))), CAST([] AS STRUCT("table" VARCHAR, "key" VARCHAR)[])), coalesce(list_transform((SELECT list_sort(list_distinct(list(CAST("a"."allocation_id" AS VARCHAR)))) FROM "debt"."allocations" AS "a" WHERE "a"."allocation_date" <= CAST($as_of AS DATE) AND "a"."bond_code" = __r."bond_code" AND "a"."project_code" = __r."project_code" AND (coalesce(__l.__n, 0) + coalesce(__r.__n, 0)) <= 500), k -> struct_pack("table" := 'debt.allocations', "key" := CAST(k AS VARCHAR))), CAST([] AS STRUCT("table" VARCHAR, "key" VARCHAR)[]))) ELSE CAST([] AS STRUCT("table" VARCHAR, "key" VARCHAR)[]) END AS STRUCT("table" VARCHAR, "key" VARCHAR)[])) AS VARCHAR) AS "evidence",
  CAST(CASE WHEN (coalesce(__l.__n, 0) + coalesce(__r.__n, 0)) > 500 THEN 'SELECT * FROM debt.allocations WHERE ' || 'bond_code = ' || '''' || replace(CAST(__l."bond_code" AS VARCHAR), '''', '''''') || '''' || ' AND ' || 'project_code = ' || '''' || replace(CAST(__l."project_code" AS VARCHAR), '''', '''''') || '''' || ' AND ' || 'allocation_date <= ' || 'DATE ''' || CAST(CAST($as_of AS DATE) AS VARCHAR) || '''' END AS VARCHAR) AS "evidence_query",
  json_object('bond_code', CAST(__l."bond_code" AS VARCHAR), 'project_code', CAST(__l."project_code" AS VARCHAR), 'spent', CAST(CAST(__l."spent" AS DECIMAL(18,2)) AS VARCHAR), 'allocated', CAST(CAST((coalesce(__r."allocated_sum", 0)) AS DECIMAL(18,2)) AS VARCHAR)) AS "vars",
  CAST(__l."bond_code" AS VARCHAR) || '' || CAST(__l."project_code" AS VARCHAR) AS "delta_key"
FROM fiscus_l AS __l LEFT JOIN fiscus_r AS __r ON __l."bond_code" = __r."bond_code" AND __l."project_code" = __r."project_code"
WHERE (__l."spent" > (coalesce(__r."allocated_sum", 0)));
