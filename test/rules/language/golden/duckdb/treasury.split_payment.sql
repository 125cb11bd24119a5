-- rule
-- parameters: $as_of=as_of:date, $scope=scope:list, $p_max_single=p_max_single:money, $p_min_count=p_min_count:integer, $p_min_total=p_min_total:money, $p_window_days=p_window_days:days
WITH fiscus_wq AS NOT MATERIALIZED (SELECT "p"."agency_code" AS "agency_code", "p"."payee_account" AS "payee_account", "p"."pay_date" AS __d, CAST("p"."payment_id" AS VARCHAR) AS __key, "p"."amount" AS "__c_p_amount", "p"."payee_name" AS "__c_p_payee_name", "p"."region_code" AS "__c_p_region_code", "p"."fiscal_year" AS "__c_p_fiscal_year" FROM "treasury"."payments" AS "p" WHERE "p"."pay_date" <= CAST($as_of AS DATE) AND (CAST($scope AS VARCHAR[]) IS NULL OR list_contains(CAST($scope AS VARCHAR[]), "p"."agency_code")) AND (("p"."amount" > 0) AND ("p"."amount" < CAST($p_max_single AS DECIMAL(18,2))))),
fiscus_wp AS (SELECT "agency_code", "payee_account" FROM fiscus_wq AS q GROUP BY "agency_code", "payee_account" HAVING (count(*) >= CAST($p_min_count AS BIGINT)) AND (sum(q."__c_p_amount") >= CAST($p_min_total AS DECIMAL(18,2)))),
fiscus_w AS (SELECT DISTINCT q."agency_code" AS "agency_code", q."payee_account" AS "payee_account", q.__d AS __start, max(q.__d) OVER fiscus_frame AS __end, count(*) OVER fiscus_frame AS "n", sum(q."__c_p_amount") OVER fiscus_frame AS "total", max(q."__c_p_payee_name") OVER fiscus_frame AS "payee_name", max(q."__c_p_region_code") OVER fiscus_frame AS "region_code", min(q."__c_p_fiscal_year") OVER fiscus_frame AS "fiscal_year", count(*) OVER fiscus_frame AS __n
        FROM fiscus_wq AS q SEMI JOIN fiscus_wp AS wp ON q."agency_code" = wp."agency_code" AND q."payee_account" = wp."payee_account" WHERE q."agency_code" IS NOT NULL AND q."payee_account" IS NOT NULL AND q.__d IS NOT NULL
        WINDOW fiscus_frame AS (PARTITION BY q."agency_code", q."payee_account" ORDER BY (q.__d - DATE '1970-01-01') RANGE BETWEEN CURRENT ROW AND (CAST(CAST($p_window_days AS BIGINT) AS INTEGER) - 1) FOLLOWING)),
fiscus_wf AS MATERIALIZED (SELECT * FROM fiscus_w AS w WHERE ((w."n" >= CAST($p_min_count AS BIGINT)) AND (w."total" >= CAST($p_min_total AS DECIMAL(18,2))))),
fiscus_we AS (SELECT w."agency_code", w."payee_account", w.__start, list_sort(list_distinct(list(q.__key))) AS __keys
        FROM fiscus_wf AS w JOIN fiscus_wq AS q ON q."agency_code" = w."agency_code" AND q."payee_account" = w."payee_account" AND q.__d BETWEEN w.__start AND w.__end
        GROUP BY w."agency_code", w."payee_account", w.__start)
SELECT 'payee' AS "entity_type",
  CAST((CAST((CAST(w."agency_code" AS VARCHAR) || CAST('|' AS VARCHAR)) AS VARCHAR) || CAST(w."payee_account" AS VARCHAR)) AS VARCHAR) AS "entity_id",
  CAST(w."payee_name" AS VARCHAR) AS "entity_name",
  CAST(w."region_code" AS VARCHAR) AS "region_code",
  CAST(w."agency_code" AS VARCHAR) AS "agency_code",
  CAST(w."fiscal_year" AS INTEGER) AS "fiscal_year",
  CAST(w.__start AS DATE) AS "period_start",
  CAST(w.__end AS DATE) AS "period_end",
  CAST(NULL AS VARCHAR) AS "severity",
  'window_total' AS "measure_name",
  CAST(CAST(w."total" AS DECIMAL(18,2)) AS VARCHAR) AS "measure_value",
  CAST(CAST(CAST($p_min_total AS DECIMAL(18,2)) AS DECIMAL(18,2)) AS VARCHAR) AS "threshold",
  CAST(w."total" AS DECIMAL(18,2)) AS "amount",
  CAST(to_json(CAST(list_transform(we.__keys, k -> struct_pack("table" := 'treasury.payments', "key" := CAST(k AS VARCHAR))) AS STRUCT("table" VARCHAR, "key" VARCHAR)[])) AS VARCHAR) AS "evidence",
  CAST(NULL AS VARCHAR) AS "evidence_query",
  json_object('agency_name', CAST((coalesce("ag"."agency_name", w."agency_code")) AS VARCHAR), 'payee_name', CAST(w."payee_name" AS VARCHAR), 'window_days', CAST((CAST($p_window_days AS BIGINT)) AS BIGINT), 'n', CAST(w."n" AS BIGINT), 'total', CAST(CAST(w."total" AS DECIMAL(18,2)) AS VARCHAR)) AS "vars",
  CAST(w."agency_code" AS VARCHAR) || '' || CAST(w."payee_account" AS VARCHAR) AS "delta_key"
FROM fiscus_wf AS w JOIN fiscus_we AS we ON we."agency_code" = w."agency_code" AND we."payee_account" = w."payee_account" AND we.__start = w.__start LEFT JOIN "ref"."agencies" AS "ag" ON ("ag"."agency_code" = w."agency_code")
WHERE NOT EXISTS (SELECT 1 FROM fiscus_wf AS w2 WHERE w2."agency_code" = w."agency_code" AND w2."payee_account" = w."payee_account" AND w2.__start < w.__start AND w2.__start + (CAST(CAST($p_window_days AS BIGINT) AS INTEGER) - 1) >= w.__end);

-- precondition 1 (treasury.payments 为空 / treasury.payments is empty)
-- parameters: none
SELECT EXISTS (SELECT 1 FROM "treasury"."payments") AS ok;

-- input 1 (treasury.payments)
-- parameters: $as_of=as_of:date
SELECT count(*) AS "rows" FROM "treasury"."payments" AS __in WHERE __in."pay_date" <= CAST($as_of AS DATE);

-- delta (agency_code, payee_account)
-- parameters: $delta_batches=delta_batches:string, $as_of=as_of:date, $scope=scope:list, $delta_dates=delta_dates:string, $p_window_days=p_window_days:days, $p_max_single=p_max_single:money, $p_min_count=p_min_count:integer, $p_min_total=p_min_total:money
WITH fiscus_touched AS MATERIALIZED (SELECT CAST("agency_code" AS VARCHAR) AS k0, CAST("payee_account" AS VARCHAR) AS k1 FROM "treasury"."payments" WHERE "_batch_id" IN (SELECT unnest(from_json(CAST($delta_batches AS VARCHAR), '["VARCHAR"]'))) UNION SELECT CAST(CAST(json_extract_string(old_row, '$."' || replace(replace(coalesce(nullif('agency_code', ''), '-'), '\', '\\'), '"', '\"') || '"') AS VARCHAR) AS VARCHAR) AS k0, CAST(CAST(json_extract_string(old_row, '$."' || replace(replace(coalesce(nullif('payee_account', ''), '-'), '\', '\\'), '"', '\"') || '"') AS VARCHAR) AS VARCHAR) AS k1 FROM "fiscus"."row_history" WHERE table_name = 'treasury.payments' AND replaced_by_batch IN (SELECT unnest(from_json(CAST($delta_batches AS VARCHAR), '["VARCHAR"]')))),
fiscus_wq AS MATERIALIZED (SELECT "p"."agency_code" AS "agency_code", "p"."payee_account" AS "payee_account", "p"."pay_date" AS __d, CAST("p"."payment_id" AS VARCHAR) AS __key, "p"."amount" AS "__c_p_amount", "p"."payee_name" AS "__c_p_payee_name", "p"."region_code" AS "__c_p_region_code", "p"."fiscal_year" AS "__c_p_fiscal_year" FROM "treasury"."payments" AS "p" WHERE "p"."pay_date" <= CAST($as_of AS DATE) AND (CAST($scope AS VARCHAR[]) IS NULL OR list_contains(CAST($scope AS VARCHAR[]), "p"."agency_code")) AND ("p"."agency_code", "p"."payee_account") IN (SELECT CAST(__dk.k0 AS VARCHAR), CAST(__dk.k1 AS VARCHAR) FROM fiscus_touched AS __dk) AND "p"."pay_date" BETWEEN (CAST((from_json(CAST($delta_dates AS VARCHAR), '["VARCHAR"]'))[1] AS DATE) + CAST(-(2 * (CAST(CAST($p_window_days AS BIGINT) AS INTEGER) - 1)) AS INTEGER)) AND (CAST((from_json(CAST($delta_dates AS VARCHAR), '["VARCHAR"]'))[2] AS DATE) + CAST((2 * (CAST(CAST($p_window_days AS BIGINT) AS INTEGER) - 1)) AS INTEGER)) AND (("p"."amount" > 0) AND ("p"."amount" < CAST($p_max_single AS DECIMAL(18,2))))),
fiscus_wp AS (SELECT "agency_code", "payee_account" FROM fiscus_wq AS q GROUP BY "agency_code", "payee_account" HAVING (count(*) >= CAST($p_min_count AS BIGINT)) AND (sum(q."__c_p_amount") >= CAST($p_min_total AS DECIMAL(18,2)))),
fiscus_w AS (SELECT DISTINCT q."agency_code" AS "agency_code", q."payee_account" AS "payee_account", q.__d AS __start, max(q.__d) OVER fiscus_frame AS __end, count(*) OVER fiscus_frame AS "n", sum(q."__c_p_amount") OVER fiscus_frame AS "total", max(q."__c_p_payee_name") OVER fiscus_frame AS "payee_name", max(q."__c_p_region_code") OVER fiscus_frame AS "region_code", min(q."__c_p_fiscal_year") OVER fiscus_frame AS "fiscal_year", count(*) OVER fiscus_frame AS __n
        FROM fiscus_wq AS q SEMI JOIN fiscus_wp AS wp ON q."agency_code" = wp."agency_code" AND q."payee_account" = wp."payee_account" WHERE q."agency_code" IS NOT NULL AND q."payee_account" IS NOT NULL AND q.__d IS NOT NULL
        WINDOW fiscus_frame AS (PARTITION BY q."agency_code", q."payee_account" ORDER BY (q.__d - DATE '1970-01-01') RANGE BETWEEN CURRENT ROW AND (CAST(CAST($p_window_days AS BIGINT) AS INTEGER) - 1) FOLLOWING)),
fiscus_wf AS MATERIALIZED (SELECT * FROM fiscus_w AS w WHERE ((w."n" >= CAST($p_min_count AS BIGINT)) AND (w."total" >= CAST($p_min_total AS DECIMAL(18,2))))),
fiscus_we AS (SELECT w."agency_code", w."payee_account", w.__start, list_sort(list_distinct(list(q.__key))) AS __keys
        FROM fiscus_wf AS w JOIN fiscus_wq AS q ON q."agency_code" = w."agency_code" AND q."payee_account" = w."payee_account" AND q.__d BETWEEN w.__start AND w.__end
        GROUP BY w."agency_code", w."payee_account", w.__start)
SELECT 'payee' AS "entity_type",
  CAST((CAST((CAST(w."agency_code" AS VARCHAR) || CAST('|' AS VARCHAR)) AS VARCHAR) || CAST(w."payee_account" AS VARCHAR)) AS VARCHAR) AS "entity_id",
  CAST(w."payee_name" AS VARCHAR) AS "entity_name",
  CAST(w."region_code" AS VARCHAR) AS "region_code",
  CAST(w."agency_code" AS VARCHAR) AS "agency_code",
  CAST(w."fiscal_year" AS INTEGER) AS "fiscal_year",
  CAST(w.__start AS DATE) AS "period_start",
  CAST(w.__end AS DATE) AS "period_end",
  CAST(NULL AS VARCHAR) AS "severity",
  'window_total' AS "measure_name",
  CAST(CAST(w."total" AS DECIMAL(18,2)) AS VARCHAR) AS "measure_value",
  CAST(CAST(CAST($p_min_total AS DECIMAL(18,2)) AS DECIMAL(18,2)) AS VARCHAR) AS "threshold",
  CAST(w."total" AS DECIMAL(18,2)) AS "amount",
  CAST(to_json(CAST(list_transform(we.__keys, k -> struct_pack("table" := 'treasury.payments', "key" := CAST(k AS VARCHAR))) AS STRUCT("table" VARCHAR, "key" VARCHAR)[])) AS VARCHAR) AS "evidence",
  CAST(NULL AS VARCHAR) AS "evidence_query",
  json_object('agency_name', CAST((coalesce("ag"."agency_name", w."agency_code")) AS VARCHAR), 'payee_name', CAST(w."payee_name" AS VARCHAR), 'window_days', CAST((CAST($p_window_days AS BIGINT)) AS BIGINT), 'n', CAST(w."n" AS BIGINT), 'total', CAST(CAST(w."total" AS DECIMAL(18,2)) AS VARCHAR)) AS "vars",
  CAST(w."agency_code" AS VARCHAR) || '' || CAST(w."payee_account" AS VARCHAR) AS "delta_key"
FROM fiscus_wf AS w JOIN fiscus_we AS we ON we."agency_code" = w."agency_code" AND we."payee_account" = w."payee_account" AND we.__start = w.__start LEFT JOIN "ref"."agencies" AS "ag" ON ("ag"."agency_code" = w."agency_code")
WHERE NOT EXISTS (SELECT 1 FROM fiscus_wf AS w2 WHERE w2."agency_code" = w."agency_code" AND w2."payee_account" = w."payee_account" AND w2.__start < w.__start AND w2.__start + (CAST(CAST($p_window_days AS BIGINT) AS INTEGER) - 1) >= w.__end)
  AND w.__start BETWEEN (CAST((from_json(CAST($delta_dates AS VARCHAR), '["VARCHAR"]'))[1] AS DATE) + CAST(-(CAST(CAST($p_window_days AS BIGINT) AS INTEGER) - 1) AS INTEGER)) AND (CAST((from_json(CAST($delta_dates AS VARCHAR), '["VARCHAR"]'))[2] AS DATE) + CAST((CAST(CAST($p_window_days AS BIGINT) AS INTEGER) - 1) AS INTEGER));
