-- rule
-- parameters: $as_of=as_of:date, $p_max_z=p_max_z:number, $p_min_peers=p_min_peers:integer
WITH fiscus_zv AS (SELECT "p"."econ_code" AS "econ_code", CAST(CASE WHEN CAST("p"."amount" AS DOUBLE) > 0 THEN ln(CAST("p"."amount" AS DOUBLE)) END AS DOUBLE) AS __v
        FROM "treasury"."payments" AS "p" WHERE "p"."pay_date" <= CAST($as_of AS DATE) AND ("p"."amount" > 0)),
fiscus_zs AS (SELECT "econ_code", median(__v) AS __med, count(__v) AS __n, mad(__v) AS __mad, CASE WHEN (median(__v) + (CAST($p_max_z AS DOUBLE)) * 1.4826 * mad(__v) - 1e-9 * (abs(median(__v)) + abs((CAST($p_max_z AS DOUBLE)) * 1.4826 * mad(__v)) + 1)) < -700 THEN 0 ELSE exp(least((median(__v) + (CAST($p_max_z AS DOUBLE)) * 1.4826 * mad(__v) - 1e-9 * (abs(median(__v)) + abs((CAST($p_max_z AS DOUBLE)) * 1.4826 * mad(__v)) + 1)), 700)) END AS __xmin
        FROM fiscus_zv GROUP BY "econ_code" HAVING count(__v) >= CAST($p_min_peers AS BIGINT))
SELECT 'payment' AS "entity_type",
  CAST("p"."payment_id" AS VARCHAR) AS "entity_id",
  CAST("p"."payee_name" AS VARCHAR) AS "entity_name",
  CAST("p"."region_code" AS VARCHAR) AS "region_code",
  CAST("p"."agency_code" AS VARCHAR) AS "agency_code",
  CAST("p"."fiscal_year" AS INTEGER) AS "fiscal_year",
  CAST("p"."pay_date" AS DATE) AS "period_start",
  CAST("p"."pay_date" AS DATE) AS "period_end",
  CAST(NULL AS VARCHAR) AS "severity",
  'robust_z' AS "measure_name",
  CAST(CAST(round(TRY_CAST(((CAST(CASE WHEN CAST("p"."amount" AS DOUBLE) > 0 THEN ln(CAST("p"."amount" AS DOUBLE)) END AS DOUBLE) - zs.__med) / NULLIF((1.4826 * zs.__mad), 0)) AS DECIMAL(38,10)), 4) AS DECIMAL(24,4)) AS VARCHAR) AS "measure_value",
  CAST(CAST(round(TRY_CAST(CAST($p_max_z AS DOUBLE) AS DECIMAL(38,10)), 4) AS DECIMAL(24,4)) AS VARCHAR) AS "threshold",
  CAST("p"."amount" AS DECIMAL(18,2)) AS "amount",
  CAST(to_json(CAST(list_transform([CAST("p"."payment_id" AS VARCHAR)], k -> struct_pack("table" := 'treasury.payments', "key" := CAST(k AS VARCHAR))) AS STRUCT("table" VARCHAR, "key" VARCHAR)[])) AS VARCHAR) AS "evidence",
  CAST(NULL AS VARCHAR) AS "evidence_query",
  json_object('agency_name', CAST((coalesce("ag"."agency_name", "p"."agency_code")) AS VARCHAR), 'payee_name', CAST(("p"."payee_name") AS VARCHAR), 'amount', CAST(CAST(("p"."amount") AS DECIMAL(18,2)) AS VARCHAR), 'econ_code', CAST(("p"."econ_code") AS VARCHAR), 'z_shown', CAST(CAST(round(TRY_CAST((round(((CAST(CASE WHEN CAST("p"."amount" AS DOUBLE) > 0 THEN ln(CAST("p"."amount" AS DOUBLE)) END AS DOUBLE) - zs.__med) / NULLIF((1.4826 * zs.__mad), 0)), 2)) AS DECIMAL(38,10)), 2) AS DECIMAL(24,2)) AS VARCHAR)) AS "vars",
  CAST("p"."econ_code" AS VARCHAR) AS "delta_key"
FROM "treasury"."payments" AS "p" JOIN fiscus_zs AS zs ON zs."econ_code" = "p"."econ_code" LEFT JOIN "ref"."agencies" AS "ag" ON ("ag"."agency_code" = "p"."agency_code")
WHERE "p"."pay_date" <= CAST($as_of AS DATE)
  AND ("p"."amount" > 0)
  AND CAST("p"."amount" AS DOUBLE) > zs.__xmin
  AND (((CAST(CASE WHEN CAST("p"."amount" AS DOUBLE) > 0 THEN ln(CAST("p"."amount" AS DOUBLE)) END AS DOUBLE) - zs.__med) / NULLIF((1.4826 * zs.__mad), 0)) > CAST($p_max_z AS DOUBLE));

-- precondition 1 (treasury.payments 为空 / treasury.payments is empty)
-- parameters: none
SELECT EXISTS (SELECT 1 FROM "treasury"."payments") AS ok;

-- precondition 2 (没有经济分类的正数支付达到30笔 / no economic class has ≥ 30 positive payments)
-- parameters: $as_of=as_of:date, $p_min_peers=p_min_peers:integer
WITH fiscus_zv AS (SELECT "p"."econ_code" AS "econ_code", CAST(CASE WHEN CAST("p"."amount" AS DOUBLE) > 0 THEN ln(CAST("p"."amount" AS DOUBLE)) END AS DOUBLE) AS __v
        FROM "treasury"."payments" AS "p" WHERE "p"."pay_date" <= CAST($as_of AS DATE) AND ("p"."amount" > 0)),
fiscus_zm AS (SELECT "econ_code" FROM fiscus_zv GROUP BY "econ_code" HAVING count(__v) >= CAST($p_min_peers AS BIGINT))
SELECT EXISTS (SELECT 1 FROM fiscus_zm) AS ok;

-- input 1 (treasury.payments)
-- parameters: $as_of=as_of:date
SELECT count(*) AS "rows" FROM "treasury"."payments" AS __in WHERE __in."pay_date" <= CAST($as_of AS DATE);

-- delta (econ_code)
-- parameters: $delta_batches=delta_batches:string, $as_of=as_of:date, $p_max_z=p_max_z:number, $p_min_peers=p_min_peers:integer
WITH fiscus_touched AS MATERIALIZED (SELECT CAST("econ_code" AS VARCHAR) AS k0 FROM "treasury"."payments" WHERE "_batch_id" IN (SELECT unnest(from_json(CAST($delta_batches AS VARCHAR), '["VARCHAR"]'))) UNION SELECT CAST(CAST(json_extract_string(old_row, '$."' || replace(replace(coalesce(nullif('econ_code', ''), '-'), '\', '\\'), '"', '\"') || '"') AS VARCHAR) AS VARCHAR) AS k0 FROM "fiscus"."row_history" WHERE table_name = 'treasury.payments' AND replaced_by_batch IN (SELECT unnest(from_json(CAST($delta_batches AS VARCHAR), '["VARCHAR"]')))),
fiscus_zv AS (SELECT "p"."econ_code" AS "econ_code", CAST(CASE WHEN CAST("p"."amount" AS DOUBLE) > 0 THEN ln(CAST("p"."amount" AS DOUBLE)) END AS DOUBLE) AS __v
        FROM "treasury"."payments" AS "p" WHERE "p"."pay_date" <= CAST($as_of AS DATE) AND "p"."econ_code" IN (SELECT CAST(__dk.k0 AS VARCHAR) FROM fiscus_touched AS __dk) AND ("p"."amount" > 0)),
fiscus_zs AS (SELECT "econ_code", median(__v) AS __med, count(__v) AS __n, mad(__v) AS __mad, CASE WHEN (median(__v) + (CAST($p_max_z AS DOUBLE)) * 1.4826 * mad(__v) - 1e-9 * (abs(median(__v)) + abs((CAST($p_max_z AS DOUBLE)) * 1.4826 * mad(__v)) + 1)) < -700 THEN 0 ELSE exp(least((median(__v) + (CAST($p_max_z AS DOUBLE)) * 1.4826 * mad(__v) - 1e-9 * (abs(median(__v)) + abs((CAST($p_max_z AS DOUBLE)) * 1.4826 * mad(__v)) + 1)), 700)) END AS __xmin
        FROM fiscus_zv GROUP BY "econ_code" HAVING count(__v) >= CAST($p_min_peers AS BIGINT))
SELECT 'payment' AS "entity_type",
  CAST("p"."payment_id" AS VARCHAR) AS "entity_id",
  CAST("p"."payee_name" AS VARCHAR) AS "entity_name",
  CAST("p"."region_code" AS VARCHAR) AS "region_code",
  CAST("p"."agency_code" AS VARCHAR) AS "agency_code",
  CAST("p"."fiscal_year" AS INTEGER) AS "fiscal_year",
  CAST("p"."pay_date" AS DATE) AS "period_start",
  CAST("p"."pay_date" AS DATE) AS "period_end",
  CAST(NULL AS VARCHAR) AS "severity",
  'robust_z' AS "measure_name",
  CAST(CAST(round(TRY_CAST(((CAST(CASE WHEN CAST("p"."amount" AS DOUBLE) > 0 THEN ln(CAST("p"."amount" AS DOUBLE)) END AS DOUBLE) - zs.__med) / NULLIF((1.4826 * zs.__mad), 0)) AS DECIMAL(38,10)), 4) AS DECIMAL(24,4)) AS VARCHAR) AS "measure_value",
  CAST(CAST(round(TRY_CAST(CAST($p_max_z AS DOUBLE) AS DECIMAL(38,10)), 4) AS DECIMAL(24,4)) AS VARCHAR) AS "threshold",
  CAST("p"."amount" AS DECIMAL(18,2)) AS "amount",
  CAST(to_json(CAST(list_transform([CAST("p"."payment_id" AS VARCHAR)], k -> struct_pack("table" := 'treasury.payments', "key" := CAST(k AS VARCHAR))) AS STRUCT("table" VARCHAR, "key" VARCHAR)[])) AS VARCHAR) AS "evidence",
  CAST(NULL AS VARCHAR) AS "evidence_query",
  json_object('agency_name', CAST((coalesce("ag"."agency_name", "p"."agency_code")) AS VARCHAR), 'payee_name', CAST(("p"."payee_name") AS VARCHAR), 'amount', CAST(CAST(("p"."amount") AS DECIMAL(18,2)) AS VARCHAR), 'econ_code', CAST(("p"."econ_code") AS VARCHAR), 'z_shown', CAST(CAST(round(TRY_CAST((round(((CAST(CASE WHEN CAST("p"."amount" AS DOUBLE) > 0 THEN ln(CAST("p"."amount" AS DOUBLE)) END AS DOUBLE) - zs.__med) / NULLIF((1.4826 * zs.__mad), 0)), 2)) AS DECIMAL(38,10)), 2) AS DECIMAL(24,2)) AS VARCHAR)) AS "vars",
  CAST("p"."econ_code" AS VARCHAR) AS "delta_key"
FROM "treasury"."payments" AS "p" JOIN fiscus_zs AS zs ON zs."econ_code" = "p"."econ_code" LEFT JOIN "ref"."agencies" AS "ag" ON ("ag"."agency_code" = "p"."agency_code")
WHERE "p"."pay_date" <= CAST($as_of AS DATE)
  AND "p"."econ_code" IN (SELECT CAST(__dk.k0 AS VARCHAR) FROM fiscus_touched AS __dk)
  AND ("p"."amount" > 0)
  AND CAST("p"."amount" AS DOUBLE) > zs.__xmin
  AND (((CAST(CASE WHEN CAST("p"."amount" AS DOUBLE) > 0 THEN ln(CAST("p"."amount" AS DOUBLE)) END AS DOUBLE) - zs.__med) / NULLIF((1.4826 * zs.__mad), 0)) > CAST($p_max_z AS DOUBLE));
