-- rule
-- parameters: $1=p_high_pct:percent, $2=p_warn_pct:percent, $3=as_of:date
SELECT 'region' AS "entity_type",
  CAST("d"."region_code" AS VARCHAR) AS "entity_id",
  CAST("r"."region_name" AS VARCHAR) AS "entity_name",
  CAST("d"."region_code" AS VARCHAR) AS "region_code",
  CAST(NULL AS VARCHAR) AS "agency_code",
  CAST("d"."fiscal_year" AS INTEGER) AS "fiscal_year",
  CAST(make_date(CAST("d"."fiscal_year" AS INTEGER), CAST(1 AS INTEGER), CAST(1 AS INTEGER)) AS DATE) AS "period_start",
  CAST(make_date(CAST("d"."fiscal_year" AS INTEGER), CAST(12 AS INTEGER), CAST(31 AS INTEGER)) AS DATE) AS "period_end",
  CASE WHEN (("d"."debt_balance" * 100) > (CAST($1 AS DOUBLE PRECISION) * "d"."fiscal_capacity")) THEN 'high' END AS "severity",
  'debt_ratio_pct' AS "measure_name",
  CAST(CAST(round(CAST(((div(CAST("d"."debt_balance" AS NUMERIC) * 1000000000000, NULLIF(CAST("d"."fiscal_capacity" AS NUMERIC), 0)) * 0.0000000001)) AS NUMERIC), 4) AS DECIMAL(24,4)) AS TEXT) AS "measure_value",
  CAST(CAST(round(CAST(CAST($2 AS DOUBLE PRECISION) AS NUMERIC), 4) AS DECIMAL(24,4)) AS TEXT) AS "threshold",
  CAST(("d"."debt_balance" - (CAST(("d"."fiscal_capacity" * CAST($2 AS DOUBLE PRECISION)) AS DOUBLE PRECISION) / NULLIF(CAST(100 AS DOUBLE PRECISION), 0))) AS DECIMAL(18,2)) AS "amount",
  CAST(coalesce((SELECT coalesce(jsonb_agg(jsonb_build_object('table', 'debt.positions', 'key', CAST(__ek.k AS TEXT)) ORDER BY __ek.o), CAST('[]' AS JSONB)) FROM unnest(ARRAY[CAST("d"."region_code" AS TEXT) || '|' || CAST("d"."fiscal_year" AS TEXT)]) WITH ORDINALITY AS __ek(k, o)), CAST('[]' AS JSONB)) AS TEXT) AS "evidence",
  CAST(NULL AS VARCHAR) AS "evidence_query",
  CAST(json_build_object('region_name', CAST((coalesce("r"."region_name", "d"."region_code")) AS VARCHAR), 'ratio', CAST(CAST(round(CAST(((div(CAST("d"."debt_balance" AS NUMERIC) * 1000000000000, NULLIF(CAST("d"."fiscal_capacity" AS NUMERIC), 0)) * 0.0000000001)) AS NUMERIC), 2) AS DECIMAL(24,2)) AS TEXT), 'debt_balance', CAST(CAST("d"."debt_balance" AS DECIMAL(18,2)) AS VARCHAR), 'fiscal_capacity', CAST(CAST("d"."fiscal_capacity" AS DECIMAL(18,2)) AS VARCHAR)) AS TEXT) AS "vars",
  CAST("d"."region_code" AS TEXT) || '' || CAST("d"."fiscal_year" AS TEXT) AS "delta_key"
FROM "debt"."positions" AS "d" LEFT JOIN "ref"."regions" AS "r" ON ("r"."region_code" = "d"."region_code")
WHERE "d"."fiscal_year" <= CAST(EXTRACT(YEAR FROM CAST($3 AS DATE)) AS INTEGER)
  AND "d"."fiscal_capacity" IS NOT NULL
  AND (("d"."debt_balance" * 100) > (CAST($2 AS DOUBLE PRECISION) * "d"."fiscal_capacity"));

-- precondition 1 (debt.positions 为空 / debt.positions is empty)
-- parameters: none
SELECT EXISTS (SELECT 1 FROM "debt"."positions") AS ok;

-- input 1 (debt.positions)
-- parameters: $1=as_of:date
SELECT count(*) AS "rows", count(*) FILTER (WHERE __in."fiscal_capacity" IS NULL) AS "not_judged", count(*) FILTER (WHERE __in."fiscal_capacity" IS NULL) AS "missing_fiscal_capacity" FROM "debt"."positions" AS __in WHERE __in."fiscal_year" <= CAST(EXTRACT(YEAR FROM CAST($1 AS DATE)) AS INTEGER);

-- delta (region_code, fiscal_year)
-- parameters: $1=p_high_pct:percent, $2=p_warn_pct:percent, $3=as_of:date, $4=delta_batches:list
SELECT 'region' AS "entity_type",
  CAST("d"."region_code" AS VARCHAR) AS "entity_id",
  CAST("r"."region_name" AS VARCHAR) AS "entity_name",
  CAST("d"."region_code" AS VARCHAR) AS "region_code",
  CAST(NULL AS VARCHAR) AS "agency_code",
  CAST("d"."fiscal_year" AS INTEGER) AS "fiscal_year",
  CAST(make_date(CAST("d"."fiscal_year" AS INTEGER), CAST(1 AS INTEGER), CAST(1 AS INTEGER)) AS DATE) AS "period_start",
  CAST(make_date(CAST("d"."fiscal_year" AS INTEGER), CAST(12 AS INTEGER), CAST(31 AS INTEGER)) AS DATE) AS "period_end",
  CASE WHEN (("d"."debt_balance" * 100) > (CAST($1 AS DOUBLE PRECISION) * "d"."fiscal_capacity")) THEN 'high' END AS "severity",
  'debt_ratio_pct' AS "measure_name",
  CAST(CAST(round(CAST(((div(CAST("d"."debt_balance" AS NUMERIC) * 1000000000000, NULLIF(CAST("d"."fiscal_capacity" AS NUMERIC), 0)) * 0.0000000001)) AS NUMERIC), 4) AS DECIMAL(24,4)) AS TEXT) AS "measure_value",
  CAST(CAST(round(CAST(CAST($2 AS DOUBLE PRECISION) AS NUMERIC), 4) AS DECIMAL(24,4)) AS TEXT) AS "threshold",
  CAST(("d"."debt_balance" - (CAST(("d"."fiscal_capacity" * CAST($2 AS DOUBLE PRECISION)) AS DOUBLE PRECISION) / NULLIF(CAST(100 AS DOUBLE PRECISION), 0))) AS DECIMAL(18,2)) AS "amount",
  CAST(coalesce((SELECT coalesce(jsonb_agg(jsonb_build_object('table', 'debt.positions', 'key', CAST(__ek.k AS TEXT)) ORDER BY __ek.o), CAST('[]' AS JSONB)) FROM unnest(ARRAY[CAST("d"."region_code" AS TEXT) || '|' || CAST("d"."fiscal_year" AS TEXT)]) WITH ORDINALITY AS __ek(k, o)), CAST('[]' AS JSONB)) AS TEXT) AS "evidence",
  CAST(NULL AS VARCHAR) AS "evidence_query",
  CAST(json_build_object('region_name', CAST((coalesce("r"."region_name", "d"."region_code")) AS VARCHAR), 'ratio', CAST(CAST(round(CAST(((div(CAST("d"."debt_balance" AS NUMERIC) * 1000000000000, NULLIF(CAST("d"."fiscal_capacity" AS NUMERIC), 0)) * 0.0000000001)) AS NUMERIC), 2) AS DECIMAL(24,2)) AS TEXT), 'debt_balance', CAST(CAST("d"."debt_balance" AS DECIMAL(18,2)) AS VARCHAR), 'fiscal_capacity', CAST(CAST("d"."fiscal_capacity" AS DECIMAL(18,2)) AS VARCHAR)) AS TEXT) AS "vars",
  CAST("d"."region_code" AS TEXT) || '' || CAST("d"."fiscal_year" AS TEXT) AS "delta_key"
FROM "debt"."positions" AS "d" LEFT JOIN "ref"."regions" AS "r" ON ("r"."region_code" = "d"."region_code")
WHERE "d"."fiscal_year" <= CAST(EXTRACT(YEAR FROM CAST($3 AS DATE)) AS INTEGER)
  AND "d"."_batch_id" = ANY(CAST($4 AS TEXT[]))
  AND "d"."fiscal_capacity" IS NOT NULL
  AND (("d"."debt_balance" * 100) > (CAST($2 AS DOUBLE PRECISION) * "d"."fiscal_capacity"));
