-- rule
-- parameters: $1=as_of:date
SELECT 'region' AS "entity_type",
  CAST("d"."region_code" AS VARCHAR) AS "entity_id",
  CAST("r"."region_name" AS VARCHAR) AS "entity_name",
  CAST("d"."region_code" AS VARCHAR) AS "region_code",
  CAST(NULL AS VARCHAR) AS "agency_code",
  CAST("d"."fiscal_year" AS INTEGER) AS "fiscal_year",
  CAST(make_date(CAST("d"."fiscal_year" AS INTEGER), CAST(1 AS INTEGER), CAST(1 AS INTEGER)) AS DATE) AS "period_start",
  CAST(make_date(CAST("d"."fiscal_year" AS INTEGER), CAST(12 AS INTEGER), CAST(31 AS INTEGER)) AS DATE) AS "period_end",
  CAST(NULL AS VARCHAR) AS "severity",
  'debt_balance' AS "measure_name",
  CAST(CAST("d"."debt_balance" AS DECIMAL(18,2)) AS TEXT) AS "measure_value",
  CAST(CAST("d"."debt_limit" AS DECIMAL(18,2)) AS TEXT) AS "threshold",
  CAST(("d"."debt_balance" - "d"."debt_limit") AS DECIMAL(18,2)) AS "amount",
  CAST(coalesce((SELECT coalesce(jsonb_agg(jsonb_build_object('table', 'debt.positions', 'key', CAST(__ek.k AS TEXT)) ORDER BY __ek.o), CAST('[]' AS JSONB)) FROM unnest(ARRAY[CAST("d"."region_code" AS TEXT) || '|' || CAST("d"."fiscal_year" AS TEXT)]) WITH ORDINALITY AS __ek(k, o)), CAST('[]' AS JSONB)) AS TEXT) AS "evidence",
  CAST(NULL AS VARCHAR) AS "evidence_query",
  CAST(json_build_object('region_name', CAST((coalesce("r"."region_name", "d"."region_code")) AS VARCHAR), 'debt_balance', CAST(CAST("d"."debt_balance" AS DECIMAL(18,2)) AS VARCHAR), 'debt_limit', CAST(CAST("d"."debt_limit" AS DECIMAL(18,2)) AS VARCHAR)) AS TEXT) AS "vars",
  CAST("d"."region_code" AS TEXT) || '' || CAST("d"."fiscal_year" AS TEXT) AS "delta_key"
FROM "debt"."positions" AS "d" LEFT JOIN "ref"."regions" AS "r" ON ("r"."region_code" = "d"."region_code")
WHERE "d"."fiscal_year" <= CAST(EXTRACT(YEAR FROM CAST($1 AS DATE)) AS INTEGER)
  AND ("d"."debt_balance" > "d"."debt_limit");

-- precondition 1 (debt.positions 为空 / debt.positions is empty)
-- parameters: none
SELECT EXISTS (SELECT 1 FROM "debt"."positions") AS ok;

-- input 1 (debt.positions)
-- parameters: $1=as_of:date
SELECT count(*) AS "rows" FROM "debt"."positions" AS __in WHERE __in."fiscal_year" <= CAST(EXTRACT(YEAR FROM CAST($1 AS DATE)) AS INTEGER);

-- delta (region_code, fiscal_year)
-- parameters: $1=as_of:date, $2=delta_batches:list
SELECT 'region' AS "entity_type",
  CAST("d"."region_code" AS VARCHAR) AS "entity_id",
  CAST("r"."region_name" AS VARCHAR) AS "entity_name",
  CAST("d"."region_code" AS VARCHAR) AS "region_code",
  CAST(NULL AS VARCHAR) AS "agency_code",
  CAST("d"."fiscal_year" AS INTEGER) AS "fiscal_year",
  CAST(make_date(CAST("d"."fiscal_year" AS INTEGER), CAST(1 AS INTEGER), CAST(1 AS INTEGER)) AS DATE) AS "period_start",
  CAST(make_date(CAST("d"."fiscal_year" AS INTEGER), CAST(12 AS INTEGER), CAST(31 AS INTEGER)) AS DATE) AS "period_end",
  CAST(NULL AS VARCHAR) AS "severity",
  'debt_balance' AS "measure_name",
  CAST(CAST("d"."debt_balance" AS DECIMAL(18,2)) AS TEXT) AS "measure_value",
  CAST(CAST("d"."debt_limit" AS DECIMAL(18,2)) AS TEXT) AS "threshold",
  CAST(("d"."debt_balance" - "d"."debt_limit") AS DECIMAL(18,2)) AS "amount",
  CAST(coalesce((SELECT coalesce(jsonb_agg(jsonb_build_object('table', 'debt.positions', 'key', CAST(__ek.k AS TEXT)) ORDER BY __ek.o), CAST('[]' AS JSONB)) FROM unnest(ARRAY[CAST("d"."region_code" AS TEXT) || '|' || CAST("d"."fiscal_year" AS TEXT)]) WITH ORDINALITY AS __ek(k, o)), CAST('[]' AS JSONB)) AS TEXT) AS "evidence",
  CAST(NULL AS VARCHAR) AS "evidence_query",
  CAST(json_build_object('region_name', CAST((coalesce("r"."region_name", "d"."region_code")) AS VARCHAR), 'debt_balance', CAST(CAST("d"."debt_balance" AS DECIMAL(18,2)) AS VARCHAR), 'debt_limit', CAST(CAST("d"."debt_limit" AS DECIMAL(18,2)) AS VARCHAR)) AS TEXT) AS "vars",
  CAST("d"."region_code" AS TEXT) || '' || CAST("d"."fiscal_year" AS TEXT) AS "delta_key"
FROM "debt"."positions" AS "d" LEFT JOIN "ref"."regions" AS "r" ON ("r"."region_code" = "d"."region_code")
WHERE "d"."fiscal_year" <= CAST(EXTRACT(YEAR FROM CAST($1 AS DATE)) AS INTEGER)
  AND "d"."_batch_id" = ANY(CAST($2 AS TEXT[]))
  AND ("d"."debt_balance" > "d"."debt_limit");
