-- rule
-- parameters: $1=as_of:date
SELECT 'enterprise' AS "entity_type",
  CAST("f"."enterprise_code" AS VARCHAR) AS "entity_id",
  CAST("f"."enterprise_name" AS VARCHAR) AS "entity_name",
  CAST("f"."region_code" AS VARCHAR) AS "region_code",
  CAST(NULL AS VARCHAR) AS "agency_code",
  CAST(CAST(EXTRACT(YEAR FROM to_date("f"."period" || '-01', 'YYYY-MM-DD')) AS INTEGER) AS INTEGER) AS "fiscal_year",
  CAST(to_date("f"."period" || '-01', 'YYYY-MM-DD') AS DATE) AS "period_start",
  CAST(CAST(date_trunc('month', CAST(to_date("f"."period" || '-01', 'YYYY-MM-DD') AS TIMESTAMP)) + INTERVAL '1 month' - INTERVAL '1 day' AS DATE) AS DATE) AS "period_end",
  CAST(NULL AS VARCHAR) AS "severity",
  'net_profit' AS "measure_name",
  CAST(CAST("f"."net_profit" AS DECIMAL(18,2)) AS TEXT) AS "measure_value",
  CAST(CAST(0 AS BIGINT) AS TEXT) AS "threshold",
  CAST((-"f"."net_profit") AS DECIMAL(18,2)) AS "amount",
  CAST(coalesce((SELECT coalesce(jsonb_agg(jsonb_build_object('table', 'assets.soe_financials', 'key', CAST(__ek.k AS TEXT)) ORDER BY __ek.o), CAST('[]' AS JSONB)) FROM unnest(ARRAY[CAST("f"."enterprise_code" AS TEXT) || '|' || CAST("f"."period" AS TEXT)]) WITH ORDINALITY AS __ek(k, o)), CAST('[]' AS JSONB)) AS TEXT) AS "evidence",
  CAST(NULL AS VARCHAR) AS "evidence_query",
  CAST(json_build_object('enterprise_name', CAST(("f"."enterprise_name") AS VARCHAR), 'year', CAST((CAST(EXTRACT(YEAR FROM to_date("f"."period" || '-01', 'YYYY-MM-DD')) AS INTEGER)) AS BIGINT), 'net_profit', CAST(CAST(("f"."net_profit") AS DECIMAL(18,2)) AS VARCHAR)) AS TEXT) AS "vars",
  CAST("f"."enterprise_code" AS TEXT) || '' || CAST("f"."period" AS TEXT) AS "delta_key"
FROM "assets"."soe_financials" AS "f"
WHERE "f"."period" <= to_char(CAST($1 AS DATE), 'YYYY-MM')
  AND ((right("f"."period", length('-12')) = '-12') AND ("f"."net_profit" < 0));

-- precondition 1 (assets.soe_financials 为空 / assets.soe_financials is empty)
-- parameters: none
SELECT EXISTS (SELECT 1 FROM "assets"."soe_financials") AS ok;

-- input 1 (assets.soe_financials)
-- parameters: $1=as_of:date
SELECT count(*) AS "rows" FROM "assets"."soe_financials" AS __in WHERE __in."period" <= to_char(CAST($1 AS DATE), 'YYYY-MM');

-- delta (enterprise_code, period)
-- parameters: $1=as_of:date, $2=delta_batches:list
SELECT 'enterprise' AS "entity_type",
  CAST("f"."enterprise_code" AS VARCHAR) AS "entity_id",
  CAST("f"."enterprise_name" AS VARCHAR) AS "entity_name",
  CAST("f"."region_code" AS VARCHAR) AS "region_code",
  CAST(NULL AS VARCHAR) AS "agency_code",
  CAST(CAST(EXTRACT(YEAR FROM to_date("f"."period" || '-01', 'YYYY-MM-DD')) AS INTEGER) AS INTEGER) AS "fiscal_year",
  CAST(to_date("f"."period" || '-01', 'YYYY-MM-DD') AS DATE) AS "period_start",
  CAST(CAST(date_trunc('month', CAST(to_date("f"."period" || '-01', 'YYYY-MM-DD') AS TIMESTAMP)) + INTERVAL '1 month' - INTERVAL '1 day' AS DATE) AS DATE) AS "period_end",
  CAST(NULL AS VARCHAR) AS "severity",
  'net_profit' AS "measure_name",
  CAST(CAST("f"."net_profit" AS DECIMAL(18,2)) AS TEXT) AS "measure_value",
  CAST(CAST(0 AS BIGINT) AS TEXT) AS "threshold",
  CAST((-"f"."net_profit") AS DECIMAL(18,2)) AS "amount",
  CAST(coalesce((SELECT coalesce(jsonb_agg(jsonb_build_object('table', 'assets.soe_financials', 'key', CAST(__ek.k AS TEXT)) ORDER BY __ek.o), CAST('[]' AS JSONB)) FROM unnest(ARRAY[CAST("f"."enterprise_code" AS TEXT) || '|' || CAST("f"."period" AS TEXT)]) WITH ORDINALITY AS __ek(k, o)), CAST('[]' AS JSONB)) AS TEXT) AS "evidence",
  CAST(NULL AS VARCHAR) AS "evidence_query",
  CAST(json_build_object('enterprise_name', CAST(("f"."enterprise_name") AS VARCHAR), 'year', CAST((CAST(EXTRACT(YEAR FROM to_date("f"."period" || '-01', 'YYYY-MM-DD')) AS INTEGER)) AS BIGINT), 'net_profit', CAST(CAST(("f"."net_profit") AS DECIMAL(18,2)) AS VARCHAR)) AS TEXT) AS "vars",
  CAST("f"."enterprise_code" AS TEXT) || '' || CAST("f"."period" AS TEXT) AS "delta_key"
FROM "assets"."soe_financials" AS "f"
WHERE "f"."period" <= to_char(CAST($1 AS DATE), 'YYYY-MM')
  AND "f"."_batch_id" = ANY(CAST($2 AS TEXT[]))
  AND ((right("f"."period", length('-12')) = '-12') AND ("f"."net_profit" < 0));
