-- rule
-- parameters: $1=p_days:days, $2=p_min_share_pct:percent, $3=as_of:date
SELECT 'transfer' AS "entity_type",
  CAST("g"."transfer_id" AS VARCHAR) AS "entity_id",
  CAST("g"."program_name" AS VARCHAR) AS "entity_name",
  CAST("g"."to_region" AS VARCHAR) AS "region_code",
  CAST(NULL AS VARCHAR) AS "agency_code",
  CAST("g"."fiscal_year" AS INTEGER) AS "fiscal_year",
  CAST("g"."issued_date" AS DATE) AS "period_start",
  CAST(("g"."issued_date" + CAST(CAST($1 AS BIGINT) AS INTEGER)) AS DATE) AS "period_end",
  CAST(NULL AS VARCHAR) AS "severity",
  'disbursed_share_pct' AS "measure_name",
  CAST(CAST(round(CAST(((div(CAST((coalesce(__h0.v, 0)) AS NUMERIC) * 1000000000000, NULLIF(CAST("g"."amount" AS NUMERIC), 0)) * 0.0000000001)) AS NUMERIC), 4) AS DECIMAL(24,4)) AS TEXT) AS "measure_value",
  CAST(CAST(round(CAST(CAST($2 AS DOUBLE PRECISION) AS NUMERIC), 4) AS DECIMAL(24,4)) AS TEXT) AS "threshold",
  CAST(("g"."amount" - (coalesce(__h0.v, 0))) AS DECIMAL(18,2)) AS "amount",
  CAST(coalesce((SELECT coalesce(jsonb_agg(jsonb_build_object('table', 'transfers.grants', 'key', CAST(__ek.k AS TEXT)) ORDER BY __ek.o), CAST('[]' AS JSONB)) FROM unnest(ARRAY[CAST("g"."transfer_id" AS TEXT)]) WITH ORDINALITY AS __ek(k, o)), CAST('[]' AS JSONB)) AS TEXT) AS "evidence",
  CAST(NULL AS VARCHAR) AS "evidence_query",
  CAST(json_build_object('program_name', CAST(("g"."program_name") AS VARCHAR), 'amount', CAST(CAST(("g"."amount") AS DECIMAL(18,2)) AS VARCHAR), 'issued_date', CAST(("g"."issued_date") AS VARCHAR), 'after_days', CAST((CAST($1 AS BIGINT)) AS BIGINT), 'disbursed', CAST(CAST((coalesce(__h0.v, 0)) AS DECIMAL(18,2)) AS VARCHAR), 'share', CAST(CAST(round(CAST(((div(CAST((coalesce(__h0.v, 0)) AS NUMERIC) * 1000000000000, NULLIF(CAST("g"."amount" AS NUMERIC), 0)) * 0.0000000001)) AS NUMERIC), 2) AS DECIMAL(24,2)) AS TEXT)) AS TEXT) AS "vars",
  CAST("g"."transfer_id" AS TEXT) AS "delta_key"
FROM "transfers"."grants" AS "g" CROSS JOIN LATERAL (SELECT sum(t0."amount") AS v FROM "transfers"."disbursements" AS t0 WHERE t0."pay_date" <= CAST($3 AS DATE) AND ((t0."transfer_id" = "g"."transfer_id") AND (t0."pay_date" <= ("g"."issued_date" + CAST(CAST($1 AS BIGINT) AS INTEGER))))) AS __h0
WHERE "g"."issued_date" <= CAST($3 AS DATE)
  AND ("g"."direct_fund" AND ("g"."amount" > 0))
  AND (("g"."issued_date" + CAST(CAST($1 AS BIGINT) AS INTEGER)) <= CAST($3 AS DATE) AND NOT coalesce((((coalesce(__h0.v, 0)) * 100) >= (CAST($2 AS DOUBLE PRECISION) * "g"."amount")), FALSE));

-- precondition 1 (transfers.grants 为空 / transfers.grants is empty)
-- parameters: none
SELECT EXISTS (SELECT 1 FROM "transfers"."grants") AS ok;

-- precondition 2 (transfers.disbursements 为空 / transfers.disbursements is empty)
-- parameters: none
SELECT EXISTS (SELECT 1 FROM "transfers"."disbursements") AS ok;

-- input 1 (transfers.grants)
-- parameters: $1=as_of:date
SELECT count(*) AS "rows" FROM "transfers"."grants" AS __in WHERE __in."issued_date" <= CAST($1 AS DATE);

-- delta (transfer_id)
-- parameters: $1=p_days:days, $2=p_min_share_pct:percent, $3=as_of:date, $4=delta_batches:list
SELECT 'transfer' AS "entity_type",
  CAST("g"."transfer_id" AS VARCHAR) AS "entity_id",
  CAST("g"."program_name" AS VARCHAR) AS "entity_name",
  CAST("g"."to_region" AS VARCHAR) AS "region_code",
  CAST(NULL AS VARCHAR) AS "agency_code",
  CAST("g"."fiscal_year" AS INTEGER) AS "fiscal_year",
  CAST("g"."issued_date" AS DATE) AS "period_start",
  CAST(("g"."issued_date" + CAST(CAST($1 AS BIGINT) AS INTEGER)) AS DATE) AS "period_end",
  CAST(NULL AS VARCHAR) AS "severity",
  'disbursed_share_pct' AS "measure_name",
  CAST(CAST(round(CAST(((div(CAST((coalesce(__h0.v, 0)) AS NUMERIC) * 1000000000000, NULLIF(CAST("g"."amount" AS NUMERIC), 0)) * 0.0000000001)) AS NUMERIC), 4) AS DECIMAL(24,4)) AS TEXT) AS "measure_value",
  CAST(CAST(round(CAST(CAST($2 AS DOUBLE PRECISION) AS NUMERIC), 4) AS DECIMAL(24,4)) AS TEXT) AS "threshold",
  CAST(("g"."amount" - (coalesce(__h0.v, 0))) AS DECIMAL(18,2)) AS "amount",
  CAST(coalesce((SELECT coalesce(jsonb_agg(jsonb_build_object('table', 'transfers.grants', 'key', CAST(__ek.k AS TEXT)) ORDER BY __ek.o), CAST('[]' AS JSONB)) FROM unnest(ARRAY[CAST("g"."transfer_id" AS TEXT)]) WITH ORDINALITY AS __ek(k, o)), CAST('[]' AS JSONB)) AS TEXT) AS "evidence",
  CAST(NULL AS VARCHAR) AS "evidence_query",
  CAST(json_build_object('program_name', CAST(("g"."program_name") AS VARCHAR), 'amount', CAST(CAST(("g"."amount") AS DECIMAL(18,2)) AS VARCHAR), 'issued_date', CAST(("g"."issued_date") AS VARCHAR), 'after_days', CAST((CAST($1 AS BIGINT)) AS BIGINT), 'disbursed', CAST(CAST((coalesce(__h0.v, 0)) AS DECIMAL(18,2)) AS VARCHAR), 'share', CAST(CAST(round(CAST(((div(CAST((coalesce(__h0.v, 0)) AS NUMERIC) * 1000000000000, NULLIF(CAST("g"."amount" AS NUMERIC), 0)) * 0.0000000001)) AS NUMERIC), 2) AS DECIMAL(24,2)) AS TEXT)) AS TEXT) AS "vars",
  CAST("g"."transfer_id" AS TEXT) AS "delta_key"
FROM "transfers"."grants" AS "g" CROSS JOIN LATERAL (SELECT sum(t0."amount") AS v FROM "transfers"."disbursements" AS t0 WHERE t0."pay_date" <= CAST($3 AS DATE) AND ((t0."transfer_id" = "g"."transfer_id") AND (t0."pay_date" <= ("g"."issued_date" + CAST(CAST($1 AS BIGINT) AS INTEGER))))) AS __h0
WHERE "g"."issued_date" <= CAST($3 AS DATE)
  AND "g"."_batch_id" = ANY(CAST($4 AS TEXT[]))
  AND ("g"."direct_fund" AND ("g"."amount" > 0))
  AND (("g"."issued_date" + CAST(CAST($1 AS BIGINT) AS INTEGER)) <= CAST($3 AS DATE) AND NOT coalesce((((coalesce(__h0.v, 0)) * 100) >= (CAST($2 AS DOUBLE PRECISION) * "g"."amount")), FALSE));
