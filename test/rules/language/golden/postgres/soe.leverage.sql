-- rule
-- parameters: $1=p_max_pct:percent, $2=as_of:date
SELECT 'enterprise' AS "entity_type",
  CAST("f"."enterprise_code" AS VARCHAR) AS "entity_id",
  CAST("f"."enterprise_name" AS VARCHAR) AS "entity_name",
  CAST("f"."region_code" AS VARCHAR) AS "region_code",
  CAST(NULL AS VARCHAR) AS "agency_code",
  CAST(CAST(EXTRACT(YEAR FROM to_date("f"."period" || '-01', 'YYYY-MM-DD')) AS INTEGER) AS INTEGER) AS "fiscal_year",
  CAST(to_date("f"."period" || '-01', 'YYYY-MM-DD') AS DATE) AS "period_start",
  CAST(CAST(date_trunc('month', CAST(to_date("f"."period" || '-01', 'YYYY-MM-DD') AS TIMESTAMP)) + INTERVAL '1 month' - INTERVAL '1 day' AS DATE) AS DATE) AS "period_end",
  CAST(NULL AS VARCHAR) AS "severity",
  'liabilities_to_assets_pct' AS "measure_name",
  CAST(CAST(round(CAST(((div(CAST("f"."total_liabilities" AS NUMERIC) * 1000000000000, NULLIF(CAST("f"."total_assets" AS NUMERIC), 0)) * 0.0000000001)) AS NUMERIC), 4) AS DECIMAL(24,4)) AS TEXT) AS "measure_value",
  CAST(CAST(round(CAST(CAST($1 AS DOUBLE PRECISION) AS NUMERIC), 4) AS DECIMAL(24,4)) AS TEXT) AS "threshold",
  CAST(("f"."total_liabilities" - (CAST(("f"."total_assets" * CAST($1 AS DOUBLE PRECISION)) AS DOUBLE PRECISION) / NULLIF(CAST(100 AS DOUBLE PRECISION), 0))) AS DECIMAL(18,2)) AS "amount",
  CAST(coalesce((SELECT coalesce(jsonb_agg(jsonb_build_object('table', 'assets.soe_financials', 'key', CAST(__ek.k AS TEXT)) ORDER BY __ek.o), CAST('[]' AS JSONB)) FROM unnest(ARRAY[CAST("f"."enterprise_code" AS TEXT) || '|' || CAST("f"."period" AS TEXT)]) WITH ORDINALITY AS __ek(k, o)), CAST('[]' AS JSONB)) AS TEXT) AS "evidence",
  CAST(NULL AS VARCHAR) AS "evidence_query",
  CAST(json_build_object('enterprise_name', CAST(("f"."enterprise_name") AS VARCHAR), 'period', CAST(("f"."period") AS VARCHAR), 'ratio', CAST(CAST(round(CAST(((div(CAST("f"."total_liabilities" AS NUMERIC) * 1000000000000, NULLIF(CAST("f"."total_assets" AS NUMERIC), 0)) * 0.0000000001)) AS NUMERIC), 2) AS DECIMAL(24,2)) AS TEXT)) AS TEXT) AS "vars",
  CAST("f"."enterprise_code" AS TEXT) AS "delta_key"
FROM "assets"."soe_financials" AS "f"
WHERE "f"."period" <= to_char(CAST($2 AS DATE), 'YYYY-MM')
  AND (("f"."period" = (SELECT max(t0."period") FROM "assets"."soe_financials" AS t0 WHERE t0."period" <= to_char(CAST($2 AS DATE), 'YYYY-MM') AND (t0."enterprise_code" = "f"."enterprise_code"))) AND (("f"."total_liabilities" * 100) > (CAST($1 AS DOUBLE PRECISION) * "f"."total_assets")));

-- precondition 1 (assets.soe_financials 为空 / assets.soe_financials is empty)
-- parameters: none
SELECT EXISTS (SELECT 1 FROM "assets"."soe_financials") AS ok;

-- input 1 (assets.soe_financials)
-- parameters: $1=as_of:date
SELECT count(*) AS "rows" FROM "assets"."soe_financials" AS __in WHERE __in."period" <= to_char(CAST($1 AS DATE), 'YYYY-MM');

-- delta (enterprise_code)
-- parameters: $1=delta_batches:list, $2=p_max_pct:percent, $3=as_of:date
WITH fiscus_touched AS MATERIALIZED (SELECT CAST("enterprise_code" AS TEXT) AS k0 FROM "assets"."soe_financials" WHERE "_batch_id" = ANY(CAST($1 AS TEXT[])) UNION SELECT CAST(CAST((CAST(old_row AS JSONB) ->> 'enterprise_code') AS VARCHAR) AS TEXT) AS k0 FROM "fiscus"."row_history" WHERE table_name = 'assets.soe_financials' AND replaced_by_batch = ANY(CAST($1 AS TEXT[])))
SELECT 'enterprise' AS "entity_type",
  CAST("f"."enterprise_code" AS VARCHAR) AS "entity_id",
  CAST("f"."enterprise_name" AS VARCHAR) AS "entity_name",
  CAST("f"."region_code" AS VARCHAR) AS "region_code",
  CAST(NULL AS VARCHAR) AS "agency_code",
  CAST(CAST(EXTRACT(YEAR FROM to_date("f"."period" || '-01', 'YYYY-MM-DD')) AS INTEGER) AS INTEGER) AS "fiscal_year",
  CAST(to_date("f"."period" || '-01', 'YYYY-MM-DD') AS DATE) AS "period_start",
  CAST(CAST(date_trunc('month', CAST(to_date("f"."period" || '-01', 'YYYY-MM-DD') AS TIMESTAMP)) + INTERVAL '1 month' - INTERVAL '1 day' AS DATE) AS DATE) AS "period_end",
  CAST(NULL AS VARCHAR) AS "severity",
  'liabilities_to_assets_pct' AS "measure_name",
  CAST(CAST(round(CAST(((div(CAST("f"."total_liabilities" AS NUMERIC) * 1000000000000, NULLIF(CAST("f"."total_assets" AS NUMERIC), 0)) * 0.0000000001)) AS NUMERIC), 4) AS DECIMAL(24,4)) AS TEXT) AS "measure_value",
  CAST(CAST(round(CAST(CAST($2 AS DOUBLE PRECISION) AS NUMERIC), 4) AS DECIMAL(24,4)) AS TEXT) AS "threshold",
  CAST(("f"."total_liabilities" - (CAST(("f"."total_assets" * CAST($2 AS DOUBLE PRECISION)) AS DOUBLE PRECISION) / NULLIF(CAST(100 AS DOUBLE PRECISION), 0))) AS DECIMAL(18,2)) AS "amount",
  CAST(coalesce((SELECT coalesce(jsonb_agg(jsonb_build_object('table', 'assets.soe_financials', 'key', CAST(__ek.k AS TEXT)) ORDER BY __ek.o), CAST('[]' AS JSONB)) FROM unnest(ARRAY[CAST("f"."enterprise_code" AS TEXT) || '|' || CAST("f"."period" AS TEXT)]) WITH ORDINALITY AS __ek(k, o)), CAST('[]' AS JSONB)) AS TEXT) AS "evidence",
  CAST(NULL AS VARCHAR) AS "evidence_query",
  CAST(json_build_object('enterprise_name', CAST(("f"."enterprise_name") AS VARCHAR), 'period', CAST(("f"."period") AS VARCHAR), 'ratio', CAST(CAST(round(CAST(((div(CAST("f"."total_liabilities" AS NUMERIC) * 1000000000000, NULLIF(CAST("f"."total_assets" AS NUMERIC), 0)) * 0.0000000001)) AS NUMERIC), 2) AS DECIMAL(24,2)) AS TEXT)) AS TEXT) AS "vars",
  CAST("f"."enterprise_code" AS TEXT) AS "delta_key"
FROM "assets"."soe_financials" AS "f"
WHERE "f"."period" <= to_char(CAST($3 AS DATE), 'YYYY-MM')
  AND "f"."enterprise_code" IN (SELECT CAST(__dk.k0 AS VARCHAR) FROM fiscus_touched AS __dk)
  AND (("f"."period" = (SELECT max(t0."period") FROM "assets"."soe_financials" AS t0 WHERE t0."period" <= to_char(CAST($3 AS DATE), 'YYYY-MM') AND (t0."enterprise_code" = "f"."enterprise_code"))) AND (("f"."total_liabilities" * 100) > (CAST($2 AS DOUBLE PRECISION) * "f"."total_assets")));
