-- rule
-- parameters: $1=as_of:date, $2=scope:list, $3=p_max_days:days, $4=p_reference_field:string
WITH fiscus_cp AS MATERIALIZED (SELECT "p"."agency_code" AS __pk0, "p"."payee_account" AS __pk1, "p"."amount" AS __pk2 FROM "treasury"."payments" AS "p" WHERE "p"."pay_date" <= CAST($1 AS DATE) AND (CAST($2 AS TEXT[]) IS NULL OR "p"."agency_code" = ANY(CAST($2 AS TEXT[])))
        GROUP BY "p"."agency_code", "p"."payee_account", "p"."amount" HAVING (count(*) >= 2)),
fiscus_cr AS MATERIALIZED (SELECT CAST("p"."payment_id" AS TEXT) AS __key, "p"."agency_code" AS __pk0, "p"."payee_account" AS __pk1, "p"."amount" AS __pk2, "p"."pay_date" AS __d FROM "treasury"."payments" AS "p" JOIN fiscus_cp AS cp ON cp.__pk0 = "p"."agency_code" AND cp.__pk1 = "p"."payee_account" AND cp.__pk2 = "p"."amount" WHERE "p"."pay_date" <= CAST($1 AS DATE) AND (CAST($2 AS TEXT[]) IS NULL OR "p"."agency_code" = ANY(CAST($2 AS TEXT[]))) AND (("p"."amount" > 0) AND (NOT EXISTS (SELECT 1 FROM "treasury"."payments" AS t0 WHERE t0."pay_date" <= CAST($1 AS DATE) AND ((((t0."agency_code" = "p"."agency_code") AND (t0."payee_account" = "p"."payee_account")) AND (t0."amount" = (-"p"."amount"))) AND (t0."pay_date" >= "p"."pay_date")))))),
fiscus_cn AS (SELECT *, CASE WHEN lag(__d) OVER (PARTITION BY __pk0, __pk1, __pk2 ORDER BY __d, __key) IS NULL OR __d - lag(__d) OVER (PARTITION BY __pk0, __pk1, __pk2 ORDER BY __d, __key) > CAST(CAST($3 AS BIGINT) AS INTEGER) THEN 1 ELSE 0 END AS __new FROM fiscus_cr),
fiscus_cl AS (SELECT *, sum(__new) OVER (PARTITION BY __pk0, __pk1, __pk2 ORDER BY __d, __key ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS __cid FROM fiscus_cn),
fiscus_c AS (SELECT cl.__pk0 AS __pk0, cl.__pk1 AS __pk1, cl.__pk2 AS __pk2, cl.__cid AS __cid, min(cl.__d) AS __start, max(cl.__d) AS __end, count(*) AS __n, array_agg(cl.__key ORDER BY cl.__d, cl.__key) AS __keys, count(*) AS "n", count(DISTINCT coalesce((CAST('ref:' AS TEXT) || CAST(nullif(trim(CASE WHEN CAST($4 AS TEXT) IS NULL OR trim(CAST($4 AS TEXT)) = '' THEN NULL WHEN trim(CAST($4 AS TEXT)) = 'payment_id' THEN CAST("p"."payment_id" AS TEXT) WHEN trim(CAST($4 AS TEXT)) = 'fiscal_year' THEN CAST("p"."fiscal_year" AS TEXT) WHEN trim(CAST($4 AS TEXT)) = 'region_code' THEN CAST("p"."region_code" AS TEXT) WHEN trim(CAST($4 AS TEXT)) = 'agency_code' THEN CAST("p"."agency_code" AS TEXT) WHEN trim(CAST($4 AS TEXT)) = 'indicator_id' THEN CAST("p"."indicator_id" AS TEXT) WHEN trim(CAST($4 AS TEXT)) = 'func_code' THEN CAST("p"."func_code" AS TEXT) WHEN trim(CAST($4 AS TEXT)) = 'econ_code' THEN CAST("p"."econ_code" AS TEXT) WHEN trim(CAST($4 AS TEXT)) = 'fund_source' THEN CAST("p"."fund_source" AS TEXT) WHEN trim(CAST($4 AS TEXT)) = 'project_code' THEN CAST("p"."project_code" AS TEXT) WHEN trim(CAST($4 AS TEXT)) = 'payee_name' THEN CAST("p"."payee_name" AS TEXT) WHEN trim(CAST($4 AS TEXT)) = 'payee_account' THEN CAST("p"."payee_account" AS TEXT) WHEN trim(CAST($4 AS TEXT)) = 'payee_type' THEN CAST("p"."payee_type" AS TEXT) WHEN trim(CAST($4 AS TEXT)) = 'amount' THEN CAST("p"."amount" AS TEXT) WHEN trim(CAST($4 AS TEXT)) = 'pay_date' THEN CAST("p"."pay_date" AS TEXT) WHEN trim(CAST($4 AS TEXT)) = 'pay_method' THEN CAST("p"."pay_method" AS TEXT) WHEN trim(CAST($4 AS TEXT)) = 'purpose' THEN CAST("p"."purpose" AS TEXT) WHEN trim(CAST($4 AS TEXT)) = 'direct_fund' THEN CAST("p"."direct_fund" AS TEXT) ELSE (CAST("p"."extra" AS JSONB) ->> trim(CAST($4 AS TEXT))) END), '') AS TEXT)), (CAST('payment:' AS TEXT) || CAST("p"."payment_id" AS TEXT)))) AS "documents", (array_agg("p"."payment_id" ORDER BY cl.__d, cl.__key))[1] AS "__first_payment_id", (array_agg("p"."payee_name" ORDER BY cl.__d, cl.__key))[1] AS "__first_payee_name", (array_agg("p"."region_code" ORDER BY cl.__d, cl.__key))[1] AS "__first_region_code", (array_agg("p"."fiscal_year" ORDER BY cl.__d, cl.__key))[1] AS "__first_fiscal_year"
        FROM "treasury"."payments" AS "p" JOIN fiscus_cl AS cl ON cl.__key = CAST("p"."payment_id" AS TEXT)
        GROUP BY cl.__pk0, cl.__pk1, cl.__pk2, cl.__cid)
SELECT 'payment' AS "entity_type",
  CAST(c."__first_payment_id" AS VARCHAR) AS "entity_id",
  CAST(c."__first_payee_name" AS VARCHAR) AS "entity_name",
  CAST(c."__first_region_code" AS VARCHAR) AS "region_code",
  CAST(c.__pk0 AS VARCHAR) AS "agency_code",
  CAST(c."__first_fiscal_year" AS INTEGER) AS "fiscal_year",
  CAST(c.__start AS DATE) AS "period_start",
  CAST(c.__end AS DATE) AS "period_end",
  CAST(NULL AS VARCHAR) AS "severity",
  'documents' AS "measure_name",
  CAST(CAST(c."documents" AS BIGINT) AS TEXT) AS "measure_value",
  CAST(CAST(2 AS BIGINT) AS TEXT) AS "threshold",
  CAST((c.__pk2 * (c."documents" - 1)) AS DECIMAL(18,2)) AS "amount",
  CAST(coalesce(CASE WHEN c.__n <= 500 THEN (SELECT coalesce(jsonb_agg(jsonb_build_object('table', 'treasury.payments', 'key', CAST(__ek.k AS TEXT)) ORDER BY __ek.o), CAST('[]' AS JSONB)) FROM unnest(c.__keys) WITH ORDINALITY AS __ek(k, o)) ELSE CAST('[]' AS JSONB) END, CAST('[]' AS JSONB)) AS TEXT) AS "evidence",
  CAST(CASE WHEN c.__n > 500 THEN 'SELECT * FROM treasury.payments WHERE ' || 'agency_code = ' || '''' || replace(CAST(c.__pk0 AS VARCHAR), '''', '''''') || '''' || ' AND ' || 'payee_account = ' || '''' || replace(CAST(c.__pk1 AS VARCHAR), '''', '''''') || '''' || ' AND ' || 'amount = ' || CAST(c.__pk2 AS VARCHAR) || ' AND ' || 'pay_date BETWEEN ' || 'DATE ''' || CAST(c.__start AS VARCHAR) || '''' || ' AND ' || 'DATE ''' || CAST(c.__end AS VARCHAR) || '''' END AS VARCHAR) AS "evidence_query",
  CAST(json_build_object('agency_name', CAST((coalesce("ag"."agency_name", c.__pk0)) AS VARCHAR), 'cluster_start', CAST(c.__start AS VARCHAR), 'cluster_end', CAST(c.__end AS VARCHAR), 'payee_name', CAST((c."__first_payee_name") AS VARCHAR), 'payee_account', CAST(c.__pk1 AS VARCHAR), 'documents', CAST(c."documents" AS BIGINT), 'amount', CAST(CAST(c.__pk2 AS DECIMAL(18,2)) AS VARCHAR)) AS TEXT) AS "vars",
  CAST(c.__pk0 AS TEXT) || '' || CAST(c.__pk1 AS TEXT) AS "delta_key"
FROM fiscus_c AS c LEFT JOIN "ref"."agencies" AS "ag" ON ("ag"."agency_code" = c.__pk0)
WHERE ((c."n" >= 2) AND (c."documents" >= 2));

-- precondition 1 (treasury.payments 为空 / treasury.payments is empty)
-- parameters: none
SELECT EXISTS (SELECT 1 FROM "treasury"."payments") AS ok;

-- input 1 (treasury.payments)
-- parameters: $1=as_of:date
SELECT count(*) AS "rows" FROM "treasury"."payments" AS __in WHERE __in."pay_date" <= CAST($1 AS DATE);

-- delta (agency_code, payee_account)
-- parameters: $1=delta_batches:list, $2=as_of:date, $3=scope:list, $4=p_max_days:days, $5=p_reference_field:string
WITH fiscus_touched AS MATERIALIZED (SELECT CAST("agency_code" AS TEXT) AS k0, CAST("payee_account" AS TEXT) AS k1 FROM "treasury"."payments" WHERE "_batch_id" = ANY(CAST($1 AS TEXT[])) UNION SELECT CAST(CAST((CAST(old_row AS JSONB) ->> 'agency_code') AS VARCHAR) AS TEXT) AS k0, CAST(CAST((CAST(old_row AS JSONB) ->> 'payee_account') AS VARCHAR) AS TEXT) AS k1 FROM "fiscus"."row_history" WHERE table_name = 'treasury.payments' AND replaced_by_batch = ANY(CAST($1 AS TEXT[]))),
fiscus_cp AS MATERIALIZED (SELECT "p"."agency_code" AS __pk0, "p"."payee_account" AS __pk1, "p"."amount" AS __pk2 FROM "treasury"."payments" AS "p" WHERE "p"."pay_date" <= CAST($2 AS DATE) AND (CAST($3 AS TEXT[]) IS NULL OR "p"."agency_code" = ANY(CAST($3 AS TEXT[]))) AND ("p"."agency_code", "p"."payee_account") IN (SELECT CAST(__dk.k0 AS VARCHAR), CAST(__dk.k1 AS VARCHAR) FROM fiscus_touched AS __dk)
        GROUP BY "p"."agency_code", "p"."payee_account", "p"."amount" HAVING (count(*) >= 2)),
fiscus_cr AS MATERIALIZED (SELECT CAST("p"."payment_id" AS TEXT) AS __key, "p"."agency_code" AS __pk0, "p"."payee_account" AS __pk1, "p"."amount" AS __pk2, "p"."pay_date" AS __d FROM "treasury"."payments" AS "p" JOIN fiscus_cp AS cp ON cp.__pk0 = "p"."agency_code" AND cp.__pk1 = "p"."payee_account" AND cp.__pk2 = "p"."amount" WHERE "p"."pay_date" <= CAST($2 AS DATE) AND (CAST($3 AS TEXT[]) IS NULL OR "p"."agency_code" = ANY(CAST($3 AS TEXT[]))) AND ("p"."agency_code", "p"."payee_account") IN (SELECT CAST(__dk.k0 AS VARCHAR), CAST(__dk.k1 AS VARCHAR) FROM fiscus_touched AS __dk) AND (("p"."amount" > 0) AND (NOT EXISTS (SELECT 1 FROM "treasury"."payments" AS t0 WHERE t0."pay_date" <= CAST($2 AS DATE) AND ((((t0."agency_code" = "p"."agency_code") AND (t0."payee_account" = "p"."payee_account")) AND (t0."amount" = (-"p"."amount"))) AND (t0."pay_date" >= "p"."pay_date")))))),
fiscus_cn AS (SELECT *, CASE WHEN lag(__d) OVER (PARTITION BY __pk0, __pk1, __pk2 ORDER BY __d, __key) IS NULL OR __d - lag(__d) OVER (PARTITION BY __pk0, __pk1, __pk2 ORDER BY __d, __key) > CAST(CAST($4 AS BIGINT) AS INTEGER) THEN 1 ELSE 0 END AS __new FROM fiscus_cr),
fiscus_cl AS (SELECT *, sum(__new) OVER (PARTITION BY __pk0, __pk1, __pk2 ORDER BY __d, __key ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS __cid FROM fiscus_cn),
fiscus_c AS (SELECT cl.__pk0 AS __pk0, cl.__pk1 AS __pk1, cl.__pk2 AS __pk2, cl.__cid AS __cid, min(cl.__d) AS __start, max(cl.__d) AS __end, count(*) AS __n, array_agg(cl.__key ORDER BY cl.__d, cl.__key) AS __keys, count(*) AS "n", count(DISTINCT coalesce((CAST('ref:' AS TEXT) || CAST(nullif(trim(CASE WHEN CAST($5 AS TEXT) IS NULL OR trim(CAST($5 AS TEXT)) = '' THEN NULL WHEN trim(CAST($5 AS TEXT)) = 'payment_id' THEN CAST("p"."payment_id" AS TEXT) WHEN trim(CAST($5 AS TEXT)) = 'fiscal_year' THEN CAST("p"."fiscal_year" AS TEXT) WHEN trim(CAST($5 AS TEXT)) = 'region_code' THEN CAST("p"."region_code" AS TEXT) WHEN trim(CAST($5 AS TEXT)) = 'agency_code' THEN CAST("p"."agency_code" AS TEXT) WHEN trim(CAST($5 AS TEXT)) = 'indicator_id' THEN CAST("p"."indicator_id" AS TEXT) WHEN trim(CAST($5 AS TEXT)) = 'func_code' THEN CAST("p"."func_code" AS TEXT) WHEN trim(CAST($5 AS TEXT)) = 'econ_code' THEN CAST("p"."econ_code" AS TEXT) WHEN trim(CAST($5 AS TEXT)) = 'fund_source' THEN CAST("p"."fund_source" AS TEXT) WHEN trim(CAST($5 AS TEXT)) = 'project_code' THEN CAST("p"."project_code" AS TEXT) WHEN trim(CAST($5 AS TEXT)) = 'payee_name' THEN CAST("p"."payee_name" AS TEXT) WHEN trim(CAST($5 AS TEXT)) = 'payee_account' THEN CAST("p"."payee_account" AS TEXT) WHEN trim(CAST($5 AS TEXT)) = 'payee_type' THEN CAST("p"."payee_type" AS TEXT) WHEN trim(CAST($5 AS TEXT)) = 'amount' THEN CAST("p"."amount" AS TEXT) WHEN trim(CAST($5 AS TEXT)) = 'pay_date' THEN CAST("p"."pay_date" AS TEXT) WHEN trim(CAST($5 AS TEXT)) = 'pay_method' THEN CAST("p"."pay_method" AS TEXT) WHEN trim(CAST($5 AS TEXT)) = 'purpose' THEN CAST("p"."purpose" AS TEXT) WHEN trim(CAST($5 AS TEXT)) = 'direct_fund' THEN CAST("p"."direct_fund" AS TEXT) ELSE (CAST("p"."extra" AS JSONB) ->> trim(CAST($5 AS TEXT))) END), '') AS TEXT)), (CAST('payment:' AS TEXT) || CAST("p"."payment_id" AS TEXT)))) AS "documents", (array_agg("p"."payment_id" ORDER BY cl.__d, cl.__key))[1] AS "__first_payment_id", (array_agg("p"."payee_name" ORDER BY cl.__d, cl.__key))[1] AS "__first_payee_name", (array_agg("p"."region_code" ORDER BY cl.__d, cl.__key))[1] AS "__first_region_code", (array_agg("p"."fiscal_year" ORDER BY cl.__d, cl.__key))[1] AS "__first_fiscal_year"
        FROM "treasury"."payments" AS "p" JOIN fiscus_cl AS cl ON cl.__key = CAST("p"."payment_id" AS TEXT)
        GROUP BY cl.__pk0, cl.__pk1, cl.__pk2, cl.__cid)
SELECT 'payment' AS "entity_type",
  CAST(c."__first_payment_id" AS VARCHAR) AS "entity_id",
  CAST(c."__first_payee_name" AS VARCHAR) AS "entity_name",
  CAST(c."__first_region_code" AS VARCHAR) AS "region_code",
  CAST(c.__pk0 AS VARCHAR) AS "agency_code",
  CAST(c."__first_fiscal_year" AS INTEGER) AS "fiscal_year",
  CAST(c.__start AS DATE) AS "period_start",
  CAST(c.__end AS DATE) AS "period_end",
  CAST(NULL AS VARCHAR) AS "severity",
  'documents' AS "measure_name",
  CAST(CAST(c."documents" AS BIGINT) AS TEXT) AS "measure_value",
  CAST(CAST(2 AS BIGINT) AS TEXT) AS "threshold",
  CAST((c.__pk2 * (c."documents" - 1)) AS DECIMAL(18,2)) AS "amount",
  CAST(coalesce(CASE WHEN c.__n <= 500 THEN (SELECT coalesce(jsonb_agg(jsonb_build_object('table', 'treasury.payments', 'key', CAST(__ek.k AS TEXT)) ORDER BY __ek.o), CAST('[]' AS JSONB)) FROM unnest(c.__keys) WITH ORDINALITY AS __ek(k, o)) ELSE CAST('[]' AS JSONB) END, CAST('[]' AS JSONB)) AS TEXT) AS "evidence",
  CAST(CASE WHEN c.__n > 500 THEN 'SELECT * FROM treasury.payments WHERE ' || 'agency_code = ' || '''' || replace(CAST(c.__pk0 AS VARCHAR), '''', '''''') || '''' || ' AND ' || 'payee_account = ' || '''' || replace(CAST(c.__pk1 AS VARCHAR), '''', '''''') || '''' || ' AND ' || 'amount = ' || CAST(c.__pk2 AS VARCHAR) || ' AND ' || 'pay_date BETWEEN ' || 'DATE ''' || CAST(c.__start AS VARCHAR) || '''' || ' AND ' || 'DATE ''' || CAST(c.__end AS VARCHAR) || '''' END AS VARCHAR) AS "evidence_query",
  CAST(json_build_object('agency_name', CAST((coalesce("ag"."agency_name", c.__pk0)) AS VARCHAR), 'cluster_start', CAST(c.__start AS VARCHAR), 'cluster_end', CAST(c.__end AS VARCHAR), 'payee_name', CAST((c."__first_payee_name") AS VARCHAR), 'payee_account', CAST(c.__pk1 AS VARCHAR), 'documents', CAST(c."documents" AS BIGINT), 'amount', CAST(CAST(c.__pk2 AS DECIMAL(18,2)) AS VARCHAR)) AS TEXT) AS "vars",
  CAST(c.__pk0 AS TEXT) || '' || CAST(c.__pk1 AS TEXT) AS "delta_key"
FROM fiscus_c AS c LEFT JOIN "ref"."agencies" AS "ag" ON ("ag"."agency_code" = c.__pk0)
WHERE ((c."n" >= 2) AND (c."documents" >= 2));
