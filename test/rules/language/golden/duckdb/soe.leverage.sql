-- rule
-- parameters: $p_max_pct=p_max_pct:percent, $as_of=as_of:date
SELECT 'enterprise' AS "entity_type",
  CAST("f"."enterprise_code" AS VARCHAR) AS "entity_id",
  CAST("f"."enterprise_name" AS VARCHAR) AS "entity_name",
  CAST("f"."region_code" AS VARCHAR) AS "region_code",
  CAST(NULL AS VARCHAR) AS "agency_code",
  CAST(year(CAST(strptime("f"."period" || '-01', '%Y-%m-%d') AS DATE)) AS INTEGER) AS "fiscal_year",
  CAST(CAST(strptime("f"."period" || '-01', '%Y-%m-%d') AS DATE) AS DATE) AS "period_start",
  CAST(last_day(CAST(strptime("f"."period" || '-01', '%Y-%m-%d') AS DATE)) AS DATE) AS "period_end",
  CAST(NULL AS VARCHAR) AS "severity",
  'liabilities_to_assets_pct' AS "measure_name",
  CAST(CAST(round(TRY_CAST(((CAST((CAST(CAST("f"."total_liabilities" AS DECIMAL(38,2)) * 100 AS HUGEINT) * 1000000000000) // NULLIF(CAST(CAST("f"."total_assets" AS DECIMAL(38,2)) * 100 AS HUGEINT), 0) AS DECIMAL(38,0)) * CAST(0.0000000001 AS DECIMAL(38,10)))) AS DECIMAL(38,10)), 4) AS DECIMAL(24,4)) AS VARCHAR) AS "measure_value",
  CAST(CAST(round(TRY_CAST(CAST($p_max_pct AS DOUBLE) AS DECIMAL(38,10)), 4) AS DECIMAL(24,4)) AS VARCHAR) AS "threshold",
  CAST(("f"."total_liabilities" - (CAST(("f"."total_assets" * CAST($p_max_pct AS DOUBLE)) AS DOUBLE) / NULLIF(CAST(100 AS DOUBLE), 0))) AS DECIMAL(18,2)) AS "amount",
  CAST(to_json(CAST(list_transform([CAST("f"."enterprise_code" AS VARCHAR) || '|' || CAST("f"."period" AS VARCHAR)], k -> struct_pack("table" := 'assets.soe_financials', "key" := CAST(k AS VARCHAR))) AS STRUCT("table" VARCHAR, "key" VARCHAR)[])) AS VARCHAR) AS "evidence",
  CAST(NULL AS VARCHAR) AS "evidence_query",
  json_object('enterprise_name', CAST(("f"."enterprise_name") AS VARCHAR), 'period', CAST(("f"."period") AS VARCHAR), 'ratio', CAST(CAST(round(TRY_CAST(((CAST((CAST(CAST("f"."total_liabilities" AS DECIMAL(38,2)) * 100 AS HUGEINT) * 1000000000000) // NULLIF(CAST(CAST("f"."total_assets" AS DECIMAL(38,2)) * 100 AS HUGEINT), 0) AS DECIMAL(38,0)) * CAST(0.0000000001 AS DECIMAL(38,10)))) AS DECIMAL(38,10)), 2) AS DECIMAL(24,2)) AS VARCHAR)) AS "vars",
  CAST("f"."enterprise_code" AS VARCHAR) AS "delta_key"
FROM "assets"."soe_financials" AS "f"
WHERE "f"."period" <= strftime(CAST($as_of AS DATE), '%Y-%m')
  AND (("f"."period" = (SELECT max(t0."period") FROM "assets"."soe_financials" AS t0 WHERE t0."period" <= strftime(CAST($as_of AS DATE), '%Y-%m') AND (t0."enterprise_code" = "f"."enterprise_code"))) AND (("f"."total_liabilities" * 100) > (CAST($p_max_pct AS DOUBLE) * "f"."total_assets")));

-- precondition 1 (assets.soe_financials 为空 / assets.soe_financials is empty)
-- parameters: none
SELECT EXISTS (SELECT 1 FROM "assets"."soe_financials") AS ok;

-- input 1 (assets.soe_financials)
-- parameters: $as_of=as_of:date
SELECT count(*) AS "rows" FROM "assets"."soe_financials" AS __in WHERE __in."period" <= strftime(CAST($as_of AS DATE), '%Y-%m');

-- delta (enterprise_code)
-- parameters: $delta_batches=delta_batches:string, $p_max_pct=p_max_pct:percent, $as_of=as_of:date
WITH fiscus_touched AS MATERIALIZED (SELECT CAST("enterprise_code" AS VARCHAR) AS k0 FROM "assets"."soe_financials" WHERE "_batch_id" IN (SELECT unnest(from_json(CAST($delta_batches AS VARCHAR), '["VARCHAR"]'))) UNION SELECT CAST(CAST(json_extract_string(old_row, '$."' || replace(replace(coalesce(nullif('enterprise_code', ''), '-'), '\', '\\'), '"', '\"') || '"') AS VARCHAR) AS VARCHAR) AS k0 FROM "fiscus"."row_history" WHERE table_name = 'assets.soe_financials' AND replaced_by_batch IN (SELECT unnest(from_json(CAST($delta_batches AS VARCHAR), '["VARCHAR"]'))))
SELECT 'enterprise' AS "entity_type",
  CAST("f"."enterprise_code" AS VARCHAR) AS "entity_id",
  CAST("f"."enterprise_name" AS VARCHAR) AS "entity_name",
  CAST("f"."region_code" AS VARCHAR) AS "region_code",
  CAST(NULL AS VARCHAR) AS "agency_code",
  CAST(year(CAST(strptime("f"."period" || '-01', '%Y-%m-%d') AS DATE)) AS INTEGER) AS "fiscal_year",
  CAST(CAST(strptime("f"."period" || '-01', '%Y-%m-%d') AS DATE) AS DATE) AS "period_start",
  CAST(last_day(CAST(strptime("f"."period" || '-01', '%Y-%m-%d') AS DATE)) AS DATE) AS "period_end",
  CAST(NULL AS VARCHAR) AS "severity",
  'liabilities_to_assets_pct' AS "measure_name",
  CAST(CAST(round(TRY_CAST(((CAST((CAST(CAST("f"."total_liabilities" AS DECIMAL(38,2)) * 100 AS HUGEINT) * 1000000000000) // NULLIF(CAST(CAST("f"."total_assets" AS DECIMAL(38,2)) * 100 AS HUGEINT), 0) AS DECIMAL(38,0)) * CAST(0.0000000001 AS DECIMAL(38,10)))) AS DECIMAL(38,10)), 4) AS DECIMAL(24,4)) AS VARCHAR) AS "measure_value",
  CAST(CAST(round(TRY_CAST(CAST($p_max_pct AS DOUBLE) AS DECIMAL(38,10)), 4) AS DECIMAL(24,4)) AS VARCHAR) AS "threshold",
  CAST(("f"."total_liabilities" - (CAST(("f"."total_assets" * CAST($p_max_pct AS DOUBLE)) AS DOUBLE) / NULLIF(CAST(100 AS DOUBLE), 0))) AS DECIMAL(18,2)) AS "amount",
  CAST(to_json(CAST(list_transform([CAST("f"."enterprise_code" AS VARCHAR) || '|' || CAST("f"."period" AS VARCHAR)], k -> struct_pack("table" := 'assets.soe_financials', "key" := CAST(k AS VARCHAR))) AS STRUCT("table" VARCHAR, "key" VARCHAR)[])) AS VARCHAR) AS "evidence",
  CAST(NULL AS VARCHAR) AS "evidence_query",
  json_object('enterprise_name', CAST(("f"."enterprise_name") AS VARCHAR), 'period', CAST(("f"."period") AS VARCHAR), 'ratio', CAST(CAST(round(TRY_CAST(((CAST((CAST(CAST("f"."total_liabilities" AS DECIMAL(38,2)) * 100 AS HUGEINT) * 1000000000000) // NULLIF(CAST(CAST("f"."total_assets" AS DECIMAL(38,2)) * 100 AS HUGEINT), 0) AS DECIMAL(38,0)) * CAST(0.0000000001 AS DECIMAL(38,10)))) AS DECIMAL(38,10)), 2) AS DECIMAL(24,2)) AS VARCHAR)) AS "vars",
  CAST("f"."enterprise_code" AS VARCHAR) AS "delta_key"
FROM "assets"."soe_financials" AS "f"
WHERE "f"."period" <= strftime(CAST($as_of AS DATE), '%Y-%m')
  AND "f"."enterprise_code" IN (SELECT CAST(__dk.k0 AS VARCHAR) FROM fiscus_touched AS __dk)
  AND (("f"."period" = (SELECT max(t0."period") FROM "assets"."soe_financials" AS t0 WHERE t0."period" <= strftime(CAST($as_of AS DATE), '%Y-%m') AND (t0."enterprise_code" = "f"."enterprise_code"))) AND (("f"."total_liabilities" * 100) > (CAST($p_max_pct AS DOUBLE) * "f"."total_assets")));
