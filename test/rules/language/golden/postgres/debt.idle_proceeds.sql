-- rule
-- parameters: $1=p_days:days, $2=p_min_share_pct:percent, $3=as_of:date
SELECT 'allocation' AS "entity_type",
  CAST("a"."allocation_id" AS VARCHAR) AS "entity_id",
  CAST("a"."project_name" AS VARCHAR) AS "entity_name",
  CAST("b"."region_code" AS VARCHAR) AS "region_code",
  CAST("a"."agency_code" AS VARCHAR) AS "agency_code",
  CAST(CAST(EXTRACT(YEAR FROM "b"."issue_date") AS INTEGER) AS INTEGER) AS "fiscal_year",
  CAST("b"."issue_date" AS DATE) AS "period_start",
  CAST(("b"."issue_date" + CAST(CAST($1 AS BIGINT) AS INTEGER)) AS DATE) AS "period_end",
  CAST(NULL AS VARCHAR) AS "severity",
  'spent_share_pct' AS "measure_name",
  CAST(CAST(round(CAST(((div(CAST((coalesce(__h0.v, 0)) AS NUMERIC) * 1000000000000, NULLIF(CAST("a"."amount" AS NUMERIC), 0)) * 0.0000000001)) AS NUMERIC), 4) AS DECIMAL(24,4)) AS TEXT) AS "measure_value",
  CAST(CAST(round(CAST(CAST($2 AS DOUBLE PRECISION) AS NUMERIC), 4) AS DECIMAL(24,4)) AS TEXT) AS "threshold",
  CAST(("a"."amount" - (coalesce(__h0.v, 0))) AS DECIMAL(18,2)) AS "amount",
  CAST(coalesce((SELECT coalesce(jsonb_agg(jsonb_build_object('table', 'debt.allocations', 'key', CAST(__ek.k AS TEXT)) ORDER BY __ek.o), CAST('[]' AS JSONB)) FROM unnest(ARRAY[CAST("a"."allocation_id" AS TEXT)]) WITH ORDINALITY AS __ek(k, o)), CAST('[]' AS JSONB)) AS TEXT) AS "evidence",
  CAST(NULL AS VARCHAR) AS "evidence_query",
  CAST(json_build_object('project_name', CAST(("a"."project_name") AS VARCHAR), 'bond_name', CAST(("b"."bond_name") AS VARCHAR), 'allocated', CAST(CAST(("a"."amount") AS DECIMAL(18,2)) AS VARCHAR), 'after_days', CAST((CAST($1 AS BIGINT)) AS BIGINT), 'spent', CAST(CAST((coalesce(__h0.v, 0)) AS DECIMAL(18,2)) AS VARCHAR), 'share', CAST(CAST(round(CAST(((div(CAST((coalesce(__h0.v, 0)) AS NUMERIC) * 1000000000000, NULLIF(CAST("a"."amount" AS NUMERIC), 0)) * 0.0000000001)) AS NUMERIC), 2) AS DECIMAL(24,2)) AS TEXT)) AS TEXT) AS "vars",
  CAST("a"."allocation_id" AS TEXT) AS "delta_key"
FROM "debt"."allocations" AS "a" JOIN "debt"."bonds" AS "b" ON ("b"."bond_code" = "a"."bond_code") AND "b"."issue_date" <= CAST($3 AS DATE) CROSS JOIN LATERAL (SELECT sum(t0."amount") AS v FROM "debt"."spending" AS t0 WHERE t0."pay_date" <= CAST($3 AS DATE) AND (((t0."bond_code" = "a"."bond_code") AND (t0."project_code" = "a"."project_code")) AND (t0."pay_date" <= ("b"."issue_date" + CAST(CAST($1 AS BIGINT) AS INTEGER))))) AS __h0
WHERE "a"."allocation_date" <= CAST($3 AS DATE)
  AND ("b"."bond_type" = 'special')
  AND (("b"."issue_date" + CAST(CAST($1 AS BIGINT) AS INTEGER)) <= CAST($3 AS DATE) AND NOT coalesce((((coalesce(__h0.v, 0)) * 100) >= (CAST($2 AS DOUBLE PRECISION) * "a"."amount")), FALSE));

-- precondition 1 (debt.allocations 为空 / debt.allocations is empty)
-- parameters: none
SELECT EXISTS (SELECT 1 FROM "debt"."allocations") AS ok;

-- precondition 2 (debt.bonds 为空 / debt.bonds is empty)
-- parameters: none
SELECT EXISTS (SELECT 1 FROM "debt"."bonds") AS ok;

-- precondition 3 (debt.spending 为空 / debt.spending is empty)
-- parameters: none
SELECT EXISTS (SELECT 1 FROM "debt"."spending") AS ok;

-- input 1 (debt.allocations)
-- parameters: $1=as_of:date
SELECT count(*) AS "rows" FROM "debt"."allocations" AS __in WHERE __in."allocation_date" <= CAST($1 AS DATE);

-- delta (allocation_id)
-- parameters: $1=p_days:days, $2=p_min_share_pct:percent, $3=as_of:date, $4=delta_batches:list
SELECT 'allocation' AS "entity_type",
  CAST("a"."allocation_id" AS VARCHAR) AS "entity_id",
  CAST("a"."project_name" AS VARCHAR) AS "entity_name",
  CAST("b"."region_code" AS VARCHAR) AS "region_code",
  CAST("a"."agency_code" AS VARCHAR) AS "agency_code",
  CAST(CAST(EXTRACT(YEAR FROM "b"."issue_date") AS INTEGER) AS INTEGER) AS "fiscal_year",
  CAST("b"."issue_date" AS DATE) AS "period_start",
  CAST(("b"."issue_date" + CAST(CAST($1 AS BIGINT) AS INTEGER)) AS DATE) AS "period_end",
  CAST(NULL AS VARCHAR) AS "severity",
  'spent_share_pct' AS "measure_name",
  CAST(CAST(round(CAST(((div(CAST((coalesce(__h0.v, 0)) AS NUMERIC) * 1000000000000, NULLIF(CAST("a"."amount" AS NUMERIC), 0)) * 0.0000000001)) AS NUMERIC), 4) AS DECIMAL(24,4)) AS TEXT) AS "measure_value",
  CAST(CAST(round(CAST(CAST($2 AS DOUBLE PRECISION) AS NUMERIC), 4) AS DECIMAL(24,4)) AS TEXT) AS "threshold",
  CAST(("a"."amount" - (coalesce(__h0.v, 0))) AS DECIMAL(18,2)) AS "amount",
  CAST(coalesce((SELECT coalesce(jsonb_agg(jsonb_build_object('table', 'debt.allocations', 'key', CAST(__ek.k AS TEXT)) ORDER BY __ek.o), CAST('[]' AS JSONB)) FROM unnest(ARRAY[CAST("a"."allocation_id" AS TEXT)]) WITH ORDINALITY AS __ek(k, o)), CAST('[]' AS JSONB)) AS TEXT) AS "evidence",
  CAST(NULL AS VARCHAR) AS "evidence_query",
  CAST(json_build_object('project_name', CAST(("a"."project_name") AS VARCHAR), 'bond_name', CAST(("b"."bond_name") AS VARCHAR), 'allocated', CAST(CAST(("a"."amount") AS DECIMAL(18,2)) AS VARCHAR), 'after_days', CAST((CAST($1 AS BIGINT)) AS BIGINT), 'spent', CAST(CAST((coalesce(__h0.v, 0)) AS DECIMAL(18,2)) AS VARCHAR), 'share', CAST(CAST(round(CAST(((div(CAST((coalesce(__h0.v, 0)) AS NUMERIC) * 1000000000000, NULLIF(CAST("a"."amount" AS NUMERIC), 0)) * 0.0000000001)) AS NUMERIC), 2) AS DECIMAL(24,2)) AS TEXT)) AS TEXT) AS "vars",
  CAST("a"."allocation_id" AS TEXT) AS "delta_key"
FROM "debt"."allocations" AS "a" JOIN "debt"."bonds" AS "b" ON ("b"."bond_code" = "a"."bond_code") AND "b"."issue_date" <= CAST($3 AS DATE) CROSS JOIN LATERAL (SELECT sum(t0."amount") AS v FROM "debt"."spending" AS t0 WHERE t0."pay_date" <= CAST($3 AS DATE) AND (((t0."bond_code" = "a"."bond_code") AND (t0."project_code" = "a"."project_code")) AND (t0."pay_date" <= ("b"."issue_date" + CAST(CAST($1 AS BIGINT) AS INTEGER))))) AS __h0
WHERE "a"."allocation_date" <= CAST($3 AS DATE)
  AND "a"."_batch_id" = ANY(CAST($4 AS TEXT[]))
  AND ("b"."bond_type" = 'special')
  AND (("b"."issue_date" + CAST(CAST($1 AS BIGINT) AS INTEGER)) <= CAST($3 AS DATE) AND NOT coalesce((((coalesce(__h0.v, 0)) * 100) >= (CAST($2 AS DOUBLE PRECISION) * "a"."amount")), FALSE));
