-- rule
-- parameters: $1=as_of:date, $2=p_min_peers:integer, $3=p_max_z:number
WITH fiscus_zv AS (SELECT "p"."econ_code" AS "econ_code", CAST(CASE WHEN CAST("p"."amount" AS DOUBLE PRECISION) > 0 THEN ln(CAST("p"."amount" AS DOUBLE PRECISION)) END AS DOUBLE PRECISION) AS __v
        FROM "treasury"."payments" AS "p" WHERE "p"."pay_date" <= CAST($1 AS DATE) AND ("p"."amount" > 0)),
fiscus_zm AS (SELECT "econ_code", percentile_cont(0.5) WITHIN GROUP (ORDER BY __v) AS __med, count(__v) AS __n FROM fiscus_zv GROUP BY "econ_code" HAVING count(__v) >= CAST($2 AS BIGINT)),
fiscus_zs AS (SELECT m."econ_code", m.__med, m.__n, percentile_cont(0.5) WITHIN GROUP (ORDER BY abs(v.__v - m.__med)) AS __mad, CASE WHEN (m.__med + (CAST($3 AS DOUBLE PRECISION)) * 1.4826 * percentile_cont(0.5) WITHIN GROUP (ORDER BY abs(v.__v - m.__med)) - 1e-9 * (abs(m.__med) + abs((CAST($3 AS DOUBLE PRECISION)) * 1.4826 * percentile_cont(0.5) WITHIN GROUP (ORDER BY abs(v.__v - m.__med))) + 1)) < -700 THEN 0 ELSE exp(least((m.__med + (CAST($3 AS DOUBLE PRECISION)) * 1.4826 * percentile_cont(0.5) WITHIN GROUP (ORDER BY abs(v.__v - m.__med)) - 1e-9 * (abs(m.__med) + abs((CAST($3 AS DOUBLE PRECISION)) * 1.4826 * percentile_cont(0.5) WITHIN GROUP (ORDER BY abs(v.__v - m.__med))) + 1)), 700)) END AS __xmin
        FROM fiscus_zv v JOIN fiscus_zm m ON v."econ_code" = m."econ_code"
        GROUP BY m."econ_code", m.__med, m.__n)
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
  CAST(CAST(round(CAST(((CAST(CASE WHEN CAST("p"."amount" AS DOUBLE PRECISION) > 0 THEN ln(CAST("p"."amount" AS DOUBLE PRECISION)) END AS DOUBLE PRECISION) - zs.__med) / NULLIF((1.4826 * zs.__mad), 0)) AS NUMERIC), 4) AS DECIMAL(24,4)) AS TEXT) AS "measure_value",
  CAST(CAST(round(CAST(CAST($3 AS DOUBLE PRECISION) AS NUMERIC), 4) AS DECIMAL(24,4)) AS TEXT) AS "threshold",
  CAST("p"."amount" AS DECIMAL(18,2)) AS "amount",
  CAST(coalesce((SELECT coalesce(jsonb_agg(jsonb_build_object('table', 'treasury.payments', 'key', CAST(__ek.k AS TEXT)) ORDER BY __ek.o), CAST('[]' AS JSONB)) FROM unnest(ARRAY[CAST("p"."payment_id" AS TEXT)]) WITH ORDINALITY AS __ek(k, o)), CAST('[]' AS JSONB)) AS TEXT) AS "evidence",
  CAST(NULL AS VARCHAR) AS "evidence_query",
  CAST(json_build_object('agency_name', CAST((coalesce("ag"."agency_name", "p"."agency_code")) AS VARCHAR), 'payee_name', CAST(("p"."payee_name") AS VARCHAR), 'amount', CAST(CAST(("p"."amount") AS DECIMAL(18,2)) AS VARCHAR), 'econ_code', CAST(("p"."econ_code") AS VARCHAR), 'z_shown', CAST(CAST(round(CAST((round(CAST(((CAST(CASE WHEN CAST("p"."amount" AS DOUBLE PRECISION) > 0 THEN ln(CAST("p"."amount" AS DOUBLE PRECISION)) END AS DOUBLE PRECISION) - zs.__med) / NULLIF((1.4826 * zs.__mad), 0)) AS NUMERIC), CAST(2 AS INTEGER))) AS NUMERIC), 2) AS DECIMAL(24,2)) AS TEXT)) AS TEXT) AS "vars",
  CAST("p"."econ_code" AS TEXT) AS "delta_key"
FROM "treasury"."payments" AS "p" JOIN fiscus_zs AS zs ON zs."econ_code" = "p"."econ_code" LEFT JOIN "ref"."agencies" AS "ag" ON ("ag"."agency_code" = "p"."agency_code")
WHERE "p"."pay_date" <= CAST($1 AS DATE)
  AND ("p"."amount" > 0)
  AND CAST("p"."amount" AS DOUBLE PRECISION) > zs.__xmin
  AND (((CAST(CASE WHEN CAST("p"."amount" AS DOUBLE PRECISION) > 0 THEN ln(CAST("p"."amount" AS DOUBLE PRECISION)) END AS DOUBLE PRECISION) - zs.__med) / NULLIF((1.4826 * zs.__mad), 0)) > CAST($3 AS DOUBLE PRECISION));

-- precondition 1 (treasury.payments 为空 / treasury.payments is empty)
-- parameters: none
SELECT EXISTS (SELECT 1 FROM "treasury"."payments") AS ok;

-- precondition 2 (没有经济分类的正数支付达到30笔 / no economic class has ≥ 30 positive payments)
-- parameters: $1=as_of:date, $2=p_min_peers:integer
WITH fiscus_zv AS (SELECT "p"."econ_code" AS "econ_code", CAST(CASE WHEN CAST("p"."amount" AS DOUBLE PRECISION) > 0 THEN ln(CAST("p"."amount" AS DOUBLE PRECISION)) END AS DOUBLE PRECISION) AS __v
        FROM "treasury"."payments" AS "p" WHERE "p"."pay_date" <= CAST($1 AS DATE) AND ("p"."amount" > 0)),
fiscus_zm AS (SELECT "econ_code" FROM fiscus_zv GROUP BY "econ_code" HAVING count(__v) >= CAST($2 AS BIGINT))
SELECT EXISTS (SELECT 1 FROM fiscus_zm) AS ok;

-- input 1 (treasury.payments)
-- parameters: $1=as_of:date
SELECT count(*) AS "rows" FROM "treasury"."payments" AS __in WHERE __in."pay_date" <= CAST($1 AS DATE);

-- delta (econ_code)
-- parameters: $1=delta_batches:list, $2=as_of:date, $3=p_min_peers:integer, $4=p_max_z:number
WITH fiscus_touched AS MATERIALIZED (SELECT CAST("econ_code" AS TEXT) AS k0 FROM "treasury"."payments" WHERE "_batch_id" = ANY(CAST($1 AS TEXT[])) UNION SELECT CAST(CAST((CAST(old_row AS JSONB) ->> 'econ_code') AS VARCHAR) AS TEXT) AS k0 FROM "fiscus"."row_history" WHERE table_name = 'treasury.payments' AND replaced_by_batch = ANY(CAST($1 AS TEXT[]))),
fiscus_zv AS (SELECT "p"."econ_code" AS "econ_code", CAST(CASE WHEN CAST("p"."amount" AS DOUBLE PRECISION) > 0 THEN ln(CAST("p"."amount" AS DOUBLE PRECISION)) END AS DOUBLE PRECISION) AS __v
        FROM "treasury"."payments" AS "p" WHERE "p"."pay_date" <= CAST($2 AS DATE) AND "p"."econ_code" IN (SELECT CAST(__dk.k0 AS VARCHAR) FROM fiscus_touched AS __dk) AND ("p"."amount" > 0)),
fiscus_zm AS (SELECT "econ_code", percentile_cont(0.5) WITHIN GROUP (ORDER BY __v) AS __med, count(__v) AS __n FROM fiscus_zv GROUP BY "econ_code" HAVING count(__v) >= CAST($3 AS BIGINT)),
fiscus_zs AS (SELECT m."econ_code", m.__med, m.__n, percentile_cont(0.5) WITHIN GROUP (ORDER BY abs(v.__v - m.__med)) AS __mad, CASE WHEN (m.__med + (CAST($4 AS DOUBLE PRECISION)) * 1.4826 * percentile_cont(0.5) WITHIN GROUP (ORDER BY abs(v.__v - m.__med)) - 1e-9 * (abs(m.__med) + abs((CAST($4 AS DOUBLE PRECISION)) * 1.4826 * percentile_cont(0.5) WITHIN GROUP (ORDER BY abs(v.__v - m.__med))) + 1)) < -700 THEN 0 ELSE exp(least((m.__med + (CAST($4 AS DOUBLE PRECISION)) * 1.4826 * percentile_cont(0.5) WITHIN GROUP (ORDER BY abs(v.__v - m.__med)) - 1e-9 * (abs(m.__med) + abs((CAST($4 AS DOUBLE PRECISION)) * 1.4826 * percentile_cont(0.5) WITHIN GROUP (ORDER BY abs(v.__v - m.__med))) + 1)), 700)) END AS __xmin
        FROM fiscus_zv v JOIN fiscus_zm m ON v."econ_code" = m."econ_code"
        GROUP BY m."econ_code", m.__med, m.__n)
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
  CAST(CAST(round(CAST(((CAST(CASE WHEN CAST("p"."amount" AS DOUBLE PRECISION) > 0 THEN ln(CAST("p"."amount" AS DOUBLE PRECISION)) END AS DOUBLE PRECISION) - zs.__med) / NULLIF((1.4826 * zs.__mad), 0)) AS NUMERIC), 4) AS DECIMAL(24,4)) AS TEXT) AS "measure_value",
  CAST(CAST(round(CAST(CAST($4 AS DOUBLE PRECISION) AS NUMERIC), 4) AS DECIMAL(24,4)) AS TEXT) AS "threshold",
  CAST("p"."amount" AS DECIMAL(18,2)) AS "amount",
  CAST(coalesce((SELECT coalesce(jsonb_agg(jsonb_build_object('table', 'treasury.payments', 'key', CAST(__ek.k AS TEXT)) ORDER BY __ek.o), CAST('[]' AS JSONB)) FROM unnest(ARRAY[CAST("p"."payment_id" AS TEXT)]) WITH ORDINALITY AS __ek(k, o)), CAST('[]' AS JSONB)) AS TEXT) AS "evidence",
  CAST(NULL AS VARCHAR) AS "evidence_query",
  CAST(json_build_object('agency_name', CAST((coalesce("ag"."agency_name", "p"."agency_code")) AS VARCHAR), 'payee_name', CAST(("p"."payee_name") AS VARCHAR), 'amount', CAST(CAST(("p"."amount") AS DECIMAL(18,2)) AS VARCHAR), 'econ_code', CAST(("p"."econ_code") AS VARCHAR), 'z_shown', CAST(CAST(round(CAST((round(CAST(((CAST(CASE WHEN CAST("p"."amount" AS DOUBLE PRECISION) > 0 THEN ln(CAST("p"."amount" AS DOUBLE PRECISION)) END AS DOUBLE PRECISION) - zs.__med) / NULLIF((1.4826 * zs.__mad), 0)) AS NUMERIC), CAST(2 AS INTEGER))) AS NUMERIC), 2) AS DECIMAL(24,2)) AS TEXT)) AS TEXT) AS "vars",
  CAST("p"."econ_code" AS TEXT) AS "delta_key"
FROM "treasury"."payments" AS "p" JOIN fiscus_zs AS zs ON zs."econ_code" = "p"."econ_code" LEFT JOIN "ref"."agencies" AS "ag" ON ("ag"."agency_code" = "p"."agency_code")
WHERE "p"."pay_date" <= CAST($2 AS DATE)
  AND "p"."econ_code" IN (SELECT CAST(__dk.k0 AS VARCHAR) FROM fiscus_touched AS __dk)
  AND ("p"."amount" > 0)
  AND CAST("p"."amount" AS DOUBLE PRECISION) > zs.__xmin
  AND (((CAST(CASE WHEN CAST("p"."amount" AS DOUBLE PRECISION) > 0 THEN ln(CAST("p"."amount" AS DOUBLE PRECISION)) END AS DOUBLE PRECISION) - zs.__med) / NULLIF((1.4826 * zs.__mad), 0)) > CAST($4 AS DOUBLE PRECISION));
