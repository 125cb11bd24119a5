-- rule
-- parameters: $as_of=as_of:date, $scope=scope:list, $p_max_days=p_max_days:days, $p_reference_field=p_reference_field:string
WITH fiscus_cp AS MATERIALIZED (SELECT "p"."agency_code" AS __pk0, "p"."payee_account" AS __pk1, "p"."amount" AS __pk2 FROM "treasury"."payments" AS "p" WHERE "p"."pay_date" <= CAST($as_of AS DATE) AND (CAST($scope AS VARCHAR[]) IS NULL OR list_contains(CAST($scope AS VARCHAR[]), "p"."agency_code"))
        GROUP BY "p"."agency_code", "p"."payee_account", "p"."amount" HAVING (count(*) >= 2)),
fiscus_cr AS MATERIALIZED (SELECT CAST("p"."payment_id" AS VARCHAR) AS __key, "p"."agency_code" AS __pk0, "p"."payee_account" AS __pk1, "p"."amount" AS __pk2, "p"."pay_date" AS __d FROM "treasury"."payments" AS "p" SEMI JOIN fiscus_cp AS cp ON cp.__pk0 = "p"."agency_code" AND cp.__pk1 = "p"."payee_account" AND cp.__pk2 = "p"."amount" WHERE "p"."pay_date" <= CAST($as_of AS DATE) AND (CAST($scope AS VARCHAR[]) IS NULL OR list_contains(CAST($scope AS VARCHAR[]), "p"."agency_code")) AND (("p"."amount" > 0) AND (NOT EXISTS (SELECT 1 FROM "treasury"."payments" AS t0 WHERE t0."pay_date" <= CAST($as_of AS DATE) AND ((((t0."agency_code" = "p"."agency_code") AND (t0."payee_account" = "p"."payee_account")) AND (t0."amount" = (-"p"."amount"))) AND (t0."pay_date" >= "p"."pay_date")))))),
fiscus_cn AS (SELECT *, CASE WHEN lag(__d) OVER (PARTITION BY __pk0, __pk1, __pk2 ORDER BY __d, __key) IS NULL OR __d - lag(__d) OVER (PARTITION BY __pk0, __pk1, __pk2 ORDER BY __d, __key) > CAST(CAST($p_max_days AS BIGINT) AS INTEGER) THEN 1 ELSE 0 END AS __new FROM fiscus_cr),
fiscus_cl AS (SELECT *, sum(__new) OVER (PARTITION BY __pk0, __pk1, __pk2 ORDER BY __d, __key ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS __cid FROM fiscus_cn),
fiscus_c AS (SELECT cl.__pk0 AS __pk0, cl.__pk1 AS __pk1, cl.__pk2 AS __pk2, cl.__cid AS __cid, min(cl.__d) AS __start, max(cl.__d) AS __end, count(*) AS __n, list(cl.__key ORDER BY cl.__d, cl.__key) AS __keys, count(*) AS "n", count(DISTINCT coalesce((CAST('ref:' AS VARCHAR) || CAST(nullif(trim(CASE WHEN CAST($p_reference_field AS VARCHAR) IS NULL OR trim(CAST($p_reference_field AS VARCHAR)) = '' THEN NULL WHEN trim(CAST($p_reference_field AS VARCHAR)) = 'payment_id' THEN CAST("p"."payment_id" AS VARCHAR) WHEN trim(CAST($p_reference_field AS VARCHAR)) = 'fiscal_year' THEN CAST("p"."fiscal_year" AS VARCHAR) WHEN trim(CAST($p_reference_field AS VARCHAR)) = 'region_code' THEN CAST("p"."region_code" AS VARCHAR) WHEN trim(CAST($p_reference_field AS VARCHAR)) = 'agency_code' THEN CAST("p"."agency_code" AS VARCHAR) WHEN trim(CAST($p_reference_field AS VARCHAR)) = 'indicator_id' THEN CAST("p"."indicator_id" AS VARCHAR) WHEN trim(CAST($p_reference_field AS VARCHAR)) = 'func_code' THEN CAST("p"."func_code" AS VARCHAR) WHEN trim(CAST($p_reference_field AS VARCHAR)) = 'econ_code' THEN CAST("p"."econ_code" AS VARCHAR) WHEN trim(CAST($p_reference_field AS VARCHAR)) = 'fund_source' THEN CAST("p"."fund_source" AS VARCHAR) WHEN trim(CAST($p_reference_field AS VARCHAR)) = 'project_code' THEN CAST("p"."project_code" AS VARCHAR) WHEN trim(CAST($p_reference_field AS VARCHAR)) = 'payee_name' THEN CAST("p"."payee_name" AS VARCHAR) WHEN trim(CAST($p_reference_field AS VARCHAR)) = 'payee_account' THEN CAST("p"."payee_account" AS VARCHAR) WHEN trim(CAST($p_reference_field AS VARCHAR)) = 'payee_type' THEN CAST("p"."payee_type" AS VARCHAR) WHEN trim(CAST($p_reference_field AS VARCHAR)) = 'amount' THEN CAST("p"."amount" AS VARCHAR) WHEN trim(CAST($p_reference_field AS VARCHAR)) = 'pay_date' THEN CAST("p"."pay_date" AS VARCHAR) WHEN trim(CAST($p_reference_field AS VARCHAR)) = 'pay_method' THEN CAST("p"."pay_method" AS VARCHAR) WHEN trim(CAST($p_reference_field AS VARCHAR)) = 'purpose' THEN CAST("p"."purpose" AS VARCHAR) WHEN trim(CAST($p_reference_field AS VARCHAR)) = 'direct_fund' THEN CAST("p"."direct_fund" AS VARCHAR) ELSE json_extract_string("p"."extra", '$."' || replace(replace(coalesce(nullif(trim(CAST($p_reference_field AS VARCHAR)), ''), '-'), '\', '\\'), '"', '\"') || '"') END), '') AS VARCHAR)), (CAST('payment:' AS VARCHAR) || CAST("p"."payment_id" AS VARCHAR)))) AS "documents", first("p"."payment_id" ORDER BY cl.__d, cl.__key) AS "__first_payment_id", first("p"."payee_name" ORDER BY cl.__d, cl.__key) AS "__first_payee_name", first("p"."region_code" ORDER BY cl.__d, cl.__key) AS "__first_region_code", first("p"."fiscal_year" ORDER BY cl.__d, cl.__key) AS "__first_fiscal_year"
        FROM "treasury"."payments" AS "p" JOIN fiscus_cl AS cl ON cl.__key = CAST("p"."payment_id" AS VARCHAR)
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
  CAST(CAST(c."documents" AS BIGINT) AS VARCHAR) AS "measure_value",
  CAST(CAST(2 AS BIGINT) AS VARCHAR) AS "threshold",
  CAST((c.__pk2 * (c."documents" - 1)) AS DECIMAL(18,2)) AS "amount",
  CAST(CASE WHEN c.__n <= 500 THEN list_transform(c.__keys, k -> struct_pack("table" := 'treasury.payments', "key" := CAST(k AS VARCHAR))) ELSE CAST([] AS STRUCT("table" VARCHAR, "key" VARCHAR)[]) END AS STRUCT("table" VARCHAR, "key" VARCHAR)[]) AS "evidence",
  CAST(CASE WHEN c.__n > 500 THEN 'SELECT * FROM treasury.payments WHERE ' || 'agency_code = ' || '''' || replace(CAST(c.__pk0 AS VARCHAR), '''', '''''') || '''' || ' AND ' || 'payee_account = ' || '''' || replace(CAST(c.__pk1 AS VARCHAR), '''', '''''') || '''' || ' AND ' || 'amount = ' || CAST(c.__pk2 AS VARCHAR) || ' AND ' || 'pay_date BETWEEN ' || 'DATE ''' || CAST(c.__start AS VARCHAR) || '''' || ' AND ' || 'DATE ''' || CAST(c.__end AS VARCHAR) || '''' END AS VARCHAR) AS "evidence_query",
  json_object('agency_name', CAST((coalesce("ag"."agency_name", c.__pk0)) AS VARCHAR), 'cluster_start', CAST(c.__start AS VARCHAR), 'cluster_end', CAST(c.__end AS VARCHAR), 'payee_name', CAST((c."__first_payee_name") AS VARCHAR), 'payee_account', CAST(c.__pk1 AS VARCHAR), 'documents', CAST(c."documents" AS BIGINT), 'amount', CAST(CAST(c.__pk2 AS DECIMAL(18,2)) AS VARCHAR)) AS "vars"
FROM fiscus_c AS c LEFT JOIN "ref"."agencies" AS "ag" ON ("ag"."agency_code" = c.__pk0)
WHERE ((c."n" >= 2) AND (c."documents" >= 2));

-- precondition 1 (treasury.payments 为空 / treasury.payments is empty)
-- parameters: none
SELECT EXISTS (SELECT 1 FROM "treasury"."payments") AS ok;

-- input 1 (treasury.payments)
-- parameters: $as_of=as_of:date
SELECT count(*) AS "rows" FROM "treasury"."payments" AS __in WHERE __in."pay_date" <= CAST($as_of AS DATE);
