-- rule
-- parameters: $as_of=as_of:date
SELECT 'enterprise' AS "entity_type",
  CAST("f"."enterprise_code" AS VARCHAR) AS "entity_id",
  CAST("f"."enterprise_name" AS VARCHAR) AS "entity_name",
  CAST("f"."region_code" AS VARCHAR) AS "region_code",
  CAST(NULL AS VARCHAR) AS "agency_code",
  CAST(year(CAST(strptime("f"."period" || '-01', '%Y-%m-%d') AS DATE)) AS INTEGER) AS "fiscal_year",
  CAST(CAST(strptime("f"."period" || '-01', '%Y-%m-%d') AS DATE) AS DATE) AS "period_start",
  CAST(last_day(CAST(strptime("f"."period" || '-01', '%Y-%m-%d') AS DATE)) AS DATE) AS "period_end",
  CAST(NULL AS VARCHAR) AS "severity",
  'net_profit' AS "measure_name",
  CAST(CAST("f"."net_profit" AS DECIMAL(18,2)) AS VARCHAR) AS "measure_value",
  CAST(CAST(0 AS BIGINT) AS VARCHAR) AS "threshold",
  CAST((-"f"."net_profit") AS DECIMAL(18,2)) AS "amount",
  CAST(to_json(CAST(list_transform([CAST("f"."enterprise_code" AS VARCHAR) || '|' || CAST("f"."period" AS VARCHAR)], k -> struct_pack("table" := 'assets.soe_financials', "key" := CAST(k AS VARCHAR))) AS STRUCT("table" VARCHAR, "key" VARCHAR)[])) AS VARCHAR) AS "evidence",
  CAST(NULL AS VARCHAR) AS "evidence_query",
  json_object('enterprise_name', CAST(("f"."enterprise_name") AS VARCHAR), 'year', CAST((year(CAST(strptime("f"."period" || '-01', '%Y-%m-%d') AS DATE))) AS BIGINT), 'net_profit', CAST(CAST(("f"."net_profit") AS DECIMAL(18,2)) AS VARCHAR)) AS "vars",
  CAST("f"."enterprise_code" AS VARCHAR) || '' || CAST("f"."period" AS VARCHAR) AS "delta_key"
FROM "assets"."soe_financials" AS "f"
WHERE "f"."period" <= strftime(CAST($as_of AS DATE), '%Y-%m')
  AND (ends_with("f"."period", '-12') AND ("f"."net_profit" < 0));

-- precondition 1 (assets.soe_financials 为空 / assets.soe_financials is empty)
-- parameters: none
SELECT EXISTS (SELECT 1 FROM "assets"."soe_financials") AS ok;

-- input 1 (assets.soe_financials)
-- parameters: $as_of=as_of:date
SELECT count(*) AS "rows" FROM "assets"."soe_financials" AS __in WHERE __in."period" <= strftime(CAST($as_of AS DATE), '%Y-%m');

-- delta (enterprise_code, period)
-- parameters: $as_of=as_of:date, $delta_batches=delta_batches:string
SELECT 'enterprise' AS "entity_type",
  CAST("f"."enterprise_code" AS VARCHAR) AS "entity_id",
  CAST("f"."enterprise_name" AS VARCHAR) AS "entity_name",
  CAST("f"."region_code" AS VARCHAR) AS "region_code",
  CAST(NULL AS VARCHAR) AS "agency_code",
  CAST(year(CAST(strptime("f"."period" || '-01', '%Y-%m-%d') AS DATE)) AS INTEGER) AS "fiscal_year",
  CAST(CAST(strptime("f"."period" || '-01', '%Y-%m-%d') AS DATE) AS DATE) AS "period_start",
  CAST(last_day(CAST(strptime("f"."period" || '-01', '%Y-%m-%d') AS DATE)) AS DATE) AS "period_end",
  CAST(NULL AS VARCHAR) AS "severity",
  'net_profit' AS "measure_name",
  CAST(CAST("f"."net_profit" AS DECIMAL(18,2)) AS VARCHAR) AS "measure_value",
  CAST(CAST(0 AS BIGINT) AS VARCHAR) AS "threshold",
  CAST((-"f"."net_profit") AS DECIMAL(18,2)) AS "amount",
  CAST(to_json(CAST(list_transform([CAST("f"."enterprise_code" AS VARCHAR) || '|' || CAST("f"."period" AS VARCHAR)], k -> struct_pack("table" := 'assets.soe_financials', "key" := CAST(k AS VARCHAR))) AS STRUCT("table" VARCHAR, "key" VARCHAR)[])) AS VARCHAR) AS "evidence",
  CAST(NULL AS VARCHAR) AS "evidence_query",
  json_object('enterprise_name', CAST(("f"."enterprise_name") AS VARCHAR), 'year', CAST((year(CAST(strptime("f"."period" || '-01', '%Y-%m-%d') AS DATE))) AS BIGINT), 'net_profit', CAST(CAST(("f"."net_profit") AS DECIMAL(18,2)) AS VARCHAR)) AS "vars",
  CAST("f"."enterprise_code" AS VARCHAR) || '' || CAST("f"."period" AS VARCHAR) AS "delta_key"
FROM "assets"."soe_financials" AS "f"
WHERE "f"."period" <= strftime(CAST($as_of AS DATE), '%Y-%m')
  AND "f"."_batch_id" IN (SELECT unnest(from_json(CAST($delta_batches AS VARCHAR), '["VARCHAR"]')))
  AND (ends_with("f"."period", '-12') AND ("f"."net_profit" < 0));
