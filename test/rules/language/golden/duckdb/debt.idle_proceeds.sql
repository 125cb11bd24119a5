-- rule
-- parameters: $p_days=p_days:days, $p_min_share_pct=p_min_share_pct:percent, $as_of=as_of:date
SELECT 'allocation' AS "entity_type",
  CAST("a"."allocation_id" AS VARCHAR) AS "entity_id",
  CAST("a"."project_name" AS VARCHAR) AS "entity_name",
  CAST("b"."region_code" AS VARCHAR) AS "region_code",
  CAST("a"."agency_code" AS VARCHAR) AS "agency_code",
  CAST(year("b"."issue_date") AS INTEGER) AS "fiscal_year",
  CAST("b"."issue_date" AS DATE) AS "period_start",
  CAST(("b"."issue_date" + CAST(CAST($p_days AS BIGINT) AS INTEGER)) AS DATE) AS "period_end",
  CAST(NULL AS VARCHAR) AS "severity",
  'spent_share_pct' AS "measure_name",
  CAST(CAST(round(TRY_CAST(((CAST((CAST(CAST((coalesce(__h0.v, 0)) AS DECIMAL(38,2)) * 100 AS HUGEINT) * 1000000000000) // NULLIF(CAST(CAST("a"."amount" AS DECIMAL(38,2)) * 100 AS HUGEINT), 0) AS DECIMAL(38,0)) * CAST(0.0000000001 AS DECIMAL(38,10)))) AS DECIMAL(38,10)), 4) AS DECIMAL(24,4)) AS VARCHAR) AS "measure_value",
  CAST(CAST(round(TRY_CAST(CAST($p_min_share_pct AS DOUBLE) AS DECIMAL(38,10)), 4) AS DECIMAL(24,4)) AS VARCHAR) AS "threshold",
  CAST(("a"."amount" - (coalesce(__h0.v, 0))) AS DECIMAL(18,2)) AS "amount",
  CAST(to_json(CAST(list_transform([CAST("a"."allocation_id" AS VARCHAR)], k -> struct_pack("table" := 'debt.allocations', "key" := CAST(k AS VARCHAR))) AS STRUCT("table" VARCHAR, "key" VARCHAR)[])) AS VARCHAR) AS "evidence",
  CAST(NULL AS VARCHAR) AS "evidence_query",
  json_object('project_name', CAST(("a"."project_name") AS VARCHAR), 'bond_name', CAST(("b"."bond_name") AS VARCHAR), 'allocated', CAST(CAST(("a"."amount") AS DECIMAL(18,2)) AS VARCHAR), 'after_days', CAST((CAST($p_days AS BIGINT)) AS BIGINT), 'spent', CAST(CAST((coalesce(__h0.v, 0)) AS DECIMAL(18,2)) AS VARCHAR), 'share', CAST(CAST(round(TRY_CAST(((CAST((CAST(CAST((coalesce(__h0.v, 0)) AS DECIMAL(38,2)) * 100 AS HUGEINT) * 1000000000000) // NULLIF(CAST(CAST("a"."amount" AS DECIMAL(38,2)) * 100 AS HUGEINT), 0) AS DECIMAL(38,0)) * CAST(0.0000000001 AS DECIMAL(38,10)))) AS DECIMAL(38,10)), 2) AS DECIMAL(24,2)) AS VARCHAR)) AS "vars",
  CAST("a"."allocation_id" AS VARCHAR) AS "delta_key"
FROM "debt"."allocations" AS "a" JOIN "debt"."bonds" AS "b" ON ("b"."bond_code" = "a"."bond_code") AND "b"."issue_date" <= CAST($as_of AS DATE) CROSS JOIN LATERAL (SELECT sum(t0."amount") AS v FROM "debt"."spending" AS t0 WHERE t0."pay_date" <= CAST($as_of AS DATE) AND (((t0."bond_code" = "a"."bond_code") AND (t0."project_code" = "a"."project_code")) AND (t0."pay_date" <= ("b"."issue_date" + CAST(CAST($p_days AS BIGINT) AS INTEGER))))) AS __h0
WHERE "a"."allocation_date" <= CAST($as_of AS DATE)
  AND ("b"."bond_type" = 'special')
  AND (("b"."issue_date" + CAST(CAST($p_days AS BIGINT) AS INTEGER)) <= CAST($as_of AS DATE) AND NOT coalesce((((coalesce(__h0.v, 0)) * 100) >= (CAST($p_min_share_pct AS DOUBLE) * "a"."amount")), FALSE));

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
-- parameters: $as_of=as_of:date
SELECT count(*) AS "rows" FROM "debt"."allocations" AS __in WHERE __in."allocation_date" <= CAST($as_of AS DATE);

-- delta (allocation_id)
-- parameters: $p_days=p_days:days, $p_min_share_pct=p_min_share_pct:percent, $as_of=as_of:date, $delta_batches=delta_batches:string
SELECT 'allocation' AS "entity_type",
  CAST("a"."allocation_id" AS VARCHAR) AS "entity_id",
  CAST("a"."project_name" AS VARCHAR) AS "entity_name",
  CAST("b"."region_code" AS VARCHAR) AS "region_code",
  CAST("a"."agency_code" AS VARCHAR) AS "agency_code",
  CAST(year("b"."issue_date") AS INTEGER) AS "fiscal_year",
  CAST("b"."issue_date" AS DATE) AS "period_start",
  CAST(("b"."issue_date" + CAST(CAST($p_days AS BIGINT) AS INTEGER)) AS DATE) AS "period_end",
  CAST(NULL AS VARCHAR) AS "severity",
  'spent_share_pct' AS "measure_name",
  CAST(CAST(round(TRY_CAST(((CAST((CAST(CAST((coalesce(__h0.v, 0)) AS DECIMAL(38,2)) * 100 AS HUGEINT) * 1000000000000) // NULLIF(CAST(CAST("a"."amount" AS DECIMAL(38,2)) * 100 AS HUGEINT), 0) AS DECIMAL(38,0)) * CAST(0.0000000001 AS DECIMAL(38,10)))) AS DECIMAL(38,10)), 4) AS DECIMAL(24,4)) AS VARCHAR) AS "measure_value",
  CAST(CAST(round(TRY_CAST(CAST($p_min_share_pct AS DOUBLE) AS DECIMAL(38,10)), 4) AS DECIMAL(24,4)) AS VARCHAR) AS "threshold",
  CAST(("a"."amount" - (coalesce(__h0.v, 0))) AS DECIMAL(18,2)) AS "amount",
  CAST(to_json(CAST(list_transform([CAST("a"."allocation_id" AS VARCHAR)], k -> struct_pack("table" := 'debt.allocations', "key" := CAST(k AS VARCHAR))) AS STRUCT("table" VARCHAR, "key" VARCHAR)[])) AS VARCHAR) AS "evidence",
  CAST(NULL AS VARCHAR) AS "evidence_query",
  json_object('project_name', CAST(("a"."project_name") AS VARCHAR), 'bond_name', CAST(("b"."bond_name") AS VARCHAR), 'allocated', CAST(CAST(("a"."amount") AS DECIMAL(18,2)) AS VARCHAR), 'after_days', CAST((CAST($p_days AS BIGINT)) AS BIGINT), 'spent', CAST(CAST((coalesce(__h0.v, 0)) AS DECIMAL(18,2)) AS VARCHAR), 'share', CAST(CAST(round(TRY_CAST(((CAST((CAST(CAST((coalesce(__h0.v, 0)) AS DECIMAL(38,2)) * 100 AS HUGEINT) * 1000000000000) // NULLIF(CAST(CAST("a"."amount" AS DECIMAL(38,2)) * 100 AS HUGEINT), 0) AS DECIMAL(38,0)) * CAST(0.0000000001 AS DECIMAL(38,10)))) AS DECIMAL(38,10)), 2) AS DECIMAL(24,2)) AS VARCHAR)) AS "vars",
  CAST("a"."allocation_id" AS VARCHAR) AS "delta_key"
FROM "debt"."allocations" AS "a" JOIN "debt"."bonds" AS "b" ON ("b"."bond_code" = "a"."bond_code") AND "b"."issue_date" <= CAST($as_of AS DATE) CROSS JOIN LATERAL (SELECT sum(t0."amount") AS v FROM "debt"."spending" AS t0 WHERE t0."pay_date" <= CAST($as_of AS DATE) AND (((t0."bond_code" = "a"."bond_code") AND (t0."project_code" = "a"."project_code")) AND (t0."pay_date" <= ("b"."issue_date" + CAST(CAST($p_days AS BIGINT) AS INTEGER))))) AS __h0
WHERE "a"."allocation_date" <= CAST($as_of AS DATE)
  AND "a"."_batch_id" IN (SELECT unnest(from_json(CAST($delta_batches AS VARCHAR), '["VARCHAR"]')))
  AND ("b"."bond_type" = 'special')
  AND (("b"."issue_date" + CAST(CAST($p_days AS BIGINT) AS INTEGER)) <= CAST($as_of AS DATE) AND NOT coalesce((((coalesce(__h0.v, 0)) * 100) >= (CAST($p_min_share_pct AS DOUBLE) * "a"."amount")), FALSE));
