-- rule
-- parameters: $p_days=p_days:days, $p_min_share_pct=p_min_share_pct:percent, $as_of=as_of:date
SELECT 'transfer' AS "entity_type",
  CAST("g"."transfer_id" AS VARCHAR) AS "entity_id",
  CAST("g"."program_name" AS VARCHAR) AS "entity_name",
  CAST("g"."to_region" AS VARCHAR) AS "region_code",
  CAST(NULL AS VARCHAR) AS "agency_code",
  CAST("g"."fiscal_year" AS INTEGER) AS "fiscal_year",
  CAST("g"."issued_date" AS DATE) AS "period_start",
  CAST(("g"."issued_date" + CAST(CAST($p_days AS BIGINT) AS INTEGER)) AS DATE) AS "period_end",
  CAST(NULL AS VARCHAR) AS "severity",
  'disbursed_share_pct' AS "measure_name",
  CAST(CAST(round(TRY_CAST(((CAST((CAST(CAST((coalesce(__h0.v, 0)) AS DECIMAL(38,2)) * 100 AS HUGEINT) * 1000000000000) // NULLIF(CAST(CAST("g"."amount" AS DECIMAL(38,2)) * 100 AS HUGEINT), 0) AS DECIMAL(38,0)) * CAST(0.0000000001 AS DECIMAL(38,10)))) AS DECIMAL(38,10)), 4) AS DECIMAL(24,4)) AS VARCHAR) AS "measure_value",
  CAST(CAST(round(TRY_CAST(CAST($p_min_share_pct AS DOUBLE) AS DECIMAL(38,10)), 4) AS DECIMAL(24,4)) AS VARCHAR) AS "threshold",
  CAST(("g"."amount" - (coalesce(__h0.v, 0))) AS DECIMAL(18,2)) AS "amount",
  CAST(to_json(CAST(list_transform([CAST("g"."transfer_id" AS VARCHAR)], k -> struct_pack("table" := 'transfers.grants', "key" := CAST(k AS VARCHAR))) AS STRUCT("table" VARCHAR, "key" VARCHAR)[])) AS VARCHAR) AS "evidence",
  CAST(NULL AS VARCHAR) AS "evidence_query",
  json_object('program_name', CAST(("g"."program_name") AS VARCHAR), 'amount', CAST(CAST(("g"."amount") AS DECIMAL(18,2)) AS VARCHAR), 'issued_date', CAST(("g"."issued_date") AS VARCHAR), 'after_days', CAST((CAST($p_days AS BIGINT)) AS BIGINT), 'disbursed', CAST(CAST((coalesce(__h0.v, 0)) AS DECIMAL(18,2)) AS VARCHAR), 'share', CAST(CAST(round(TRY_CAST(((CAST((CAST(CAST((coalesce(__h0.v, 0)) AS DECIMAL(38,2)) * 100 AS HUGEINT) * 1000000000000) // NULLIF(CAST(CAST("g"."amount" AS DECIMAL(38,2)) * 100 AS HUGEINT), 0) AS DECIMAL(38,0)) * CAST(0.0000000001 AS DECIMAL(38,10)))) AS DECIMAL(38,10)), 2) AS DECIMAL(24,2)) AS VARCHAR)) AS "vars",
  CAST("g"."transfer_id" AS VARCHAR) AS "delta_key"
FROM "transfers"."grants" AS "g" CROSS JOIN LATERAL (SELECT sum(t0."amount") AS v FROM "transfers"."disbursements" AS t0 WHERE t0."pay_date" <= CAST($as_of AS DATE) AND ((t0."transfer_id" = "g"."transfer_id") AND (t0."pay_date" <= ("g"."issued_date" + CAST(CAST($p_days AS BIGINT) AS INTEGER))))) AS __h0
WHERE "g"."issued_date" <= CAST($as_of AS DATE)
  AND ("g"."direct_fund" AND ("g"."amount" > 0))
  AND (("g"."issued_date" + CAST(CAST($p_days AS BIGINT) AS INTEGER)) <= CAST($as_of AS DATE) AND NOT coalesce((((coalesce(__h0.v, 0)) * 100) >= (CAST($p_min_share_pct AS DOUBLE) * "g"."amount")), FALSE));

-- precondition 1 (transfers.grants 为空 / transfers.grants is empty)
-- parameters: none
SELECT EXISTS (SELECT 1 FROM "transfers"."grants") AS ok;

-- precondition 2 (transfers.disbursements 为空 / transfers.disbursements is empty)
-- parameters: none
SELECT EXISTS (SELECT 1 FROM "transfers"."disbursements") AS ok;

-- input 1 (transfers.grants)
-- parameters: $as_of=as_of:date
SELECT count(*) AS "rows" FROM "transfers"."grants" AS __in WHERE __in."issued_date" <= CAST($as_of AS DATE);

-- delta (transfer_id)
-- parameters: $p_days=p_days:days, $p_min_share_pct=p_min_share_pct:percent, $as_of=as_of:date, $delta_batches=delta_batches:string
SELECT 'transfer' AS "entity_type",
  CAST("g"."transfer_id" AS VARCHAR) AS "entity_id",
  CAST("g"."program_name" AS VARCHAR) AS "entity_name",
  CAST("g"."to_region" AS VARCHAR) AS "region_code",
  CAST(NULL AS VARCHAR) AS "agency_code",
  CAST("g"."fiscal_year" AS INTEGER) AS "fiscal_year",
  CAST("g"."issued_date" AS DATE) AS "period_start",
  CAST(("g"."issued_date" + CAST(CAST($p_days AS BIGINT) AS INTEGER)) AS DATE) AS "period_end",
  CAST(NULL AS VARCHAR) AS "severity",
  'disbursed_share_pct' AS "measure_name",
  CAST(CAST(round(TRY_CAST(((CAST((CAST(CAST((coalesce(__h0.v, 0)) AS DECIMAL(38,2)) * 100 AS HUGEINT) * 1000000000000) // NULLIF(CAST(CAST("g"."amount" AS DECIMAL(38,2)) * 100 AS HUGEINT), 0) AS DECIMAL(38,0)) * CAST(0.0000000001 AS DECIMAL(38,10)))) AS DECIMAL(38,10)), 4) AS DECIMAL(24,4)) AS VARCHAR) AS "measure_value",
  CAST(CAST(round(TRY_CAST(CAST($p_min_share_pct AS DOUBLE) AS DECIMAL(38,10)), 4) AS DECIMAL(24,4)) AS VARCHAR) AS "threshold",
  CAST(("g"."amount" - (coalesce(__h0.v, 0))) AS DECIMAL(18,2)) AS "amount",
  CAST(to_json(CAST(list_transform([CAST("g"."transfer_id" AS VARCHAR)], k -> struct_pack("table" := 'transfers.grants', "key" := CAST(k AS VARCHAR))) AS STRUCT("table" VARCHAR, "key" VARCHAR)[])) AS VARCHAR) AS "evidence",
  CAST(NULL AS VARCHAR) AS "evidence_query",
  json_object('program_name', CAST(("g"."program_name") AS VARCHAR), 'amount', CAST(CAST(("g"."amount") AS DECIMAL(18,2)) AS VARCHAR), 'issued_date', CAST(("g"."issued_date") AS VARCHAR), 'after_days', CAST((CAST($p_days AS BIGINT)) AS BIGINT), 'disbursed', CAST(CAST((coalesce(__h0.v, 0)) AS DECIMAL(18,2)) AS VARCHAR), 'share', CAST(CAST(round(TRY_CAST(((CAST((CAST(CAST((coalesce(__h0.v, 0)) AS DECIMAL(38,2)) * 100 AS HUGEINT) * 1000000000000) // NULLIF(CAST(CAST("g"."amount" AS DECIMAL(38,2)) * 100 AS HUGEINT), 0) AS DECIMAL(38,0)) * CAST(0.0000000001 AS DECIMAL(38,10)))) AS DECIMAL(38,10)), 2) AS DECIMAL(24,2)) AS VARCHAR)) AS "vars",
  CAST("g"."transfer_id" AS VARCHAR) AS "delta_key"
FROM "transfers"."grants" AS "g" CROSS JOIN LATERAL (SELECT sum(t0."amount") AS v FROM "transfers"."disbursements" AS t0 WHERE t0."pay_date" <= CAST($as_of AS DATE) AND ((t0."transfer_id" = "g"."transfer_id") AND (t0."pay_date" <= ("g"."issued_date" + CAST(CAST($p_days AS BIGINT) AS INTEGER))))) AS __h0
WHERE "g"."issued_date" <= CAST($as_of AS DATE)
  AND "g"."_batch_id" IN (SELECT unnest(from_json(CAST($delta_batches AS VARCHAR), '["VARCHAR"]')))
  AND ("g"."direct_fund" AND ("g"."amount" > 0))
  AND (("g"."issued_date" + CAST(CAST($p_days AS BIGINT) AS INTEGER)) <= CAST($as_of AS DATE) AND NOT coalesce((((coalesce(__h0.v, 0)) * 100) >= (CAST($p_min_share_pct AS DOUBLE) * "g"."amount")), FALSE));
