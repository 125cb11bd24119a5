-- rule
-- parameters: $1=p_min_amount:money, $2=as_of:date, $3=scope:list
WITH fiscus_workdays AS NOT MATERIALIZED (SELECT day, is_workday, workday_ord AS ord FROM "fiscus"."calendar_days")
SELECT 'payment' AS "entity_type",
  CAST("p"."payment_id" AS VARCHAR) AS "entity_id",
  CAST("p"."payee_name" AS VARCHAR) AS "entity_name",
  CAST("p"."region_code" AS VARCHAR) AS "region_code",
  CAST("p"."agency_code" AS VARCHAR) AS "agency_code",
  CAST("p"."fiscal_year" AS INTEGER) AS "fiscal_year",
  CAST("p"."pay_date" AS DATE) AS "period_start",
  CAST("p"."pay_date" AS DATE) AS "period_end",
  CAST(NULL AS VARCHAR) AS "severity",
  'amount' AS "measure_name",
  CAST(CAST("p"."amount" AS DECIMAL(18,2)) AS TEXT) AS "measure_value",
  CAST(CAST(CAST($1 AS DECIMAL(18,2)) AS DECIMAL(18,2)) AS TEXT) AS "threshold",
  CAST("p"."amount" AS DECIMAL(18,2)) AS "amount",
  CAST(coalesce((SELECT coalesce(jsonb_agg(jsonb_build_object('table', 'treasury.payments', 'key', CAST(__ek.k AS TEXT)) ORDER BY __ek.o), CAST('[]' AS JSONB)) FROM unnest(ARRAY[CAST("p"."payment_id" AS TEXT)]) WITH ORDINALITY AS __ek(k, o)), CAST('[]' AS JSONB)) AS TEXT) AS "evidence",
  CAST(NULL AS VARCHAR) AS "evidence_query",
  CAST(json_build_object('agency_name', CAST((coalesce("ag"."agency_name", "p"."agency_code")) AS VARCHAR), 'pay_date', CAST(("p"."pay_date") AS VARCHAR), 'payee_name', CAST(("p"."payee_name") AS VARCHAR), 'amount', CAST(CAST(("p"."amount") AS DECIMAL(18,2)) AS VARCHAR)) AS TEXT) AS "vars",
  CAST("p"."payment_id" AS TEXT) AS "delta_key"
FROM "treasury"."payments" AS "p" LEFT JOIN "ref"."agencies" AS "ag" ON ("ag"."agency_code" = "p"."agency_code")
WHERE "p"."pay_date" <= CAST($2 AS DATE)
  AND (CAST($3 AS TEXT[]) IS NULL OR "p"."agency_code" = ANY(CAST($3 AS TEXT[])))
  AND (("p"."amount" >= CAST($1 AS DECIMAL(18,2))) AND (NOT (CASE WHEN "p"."pay_date" IN (SELECT w.day FROM fiscus_workdays w WHERE w.is_workday) THEN true WHEN "p"."pay_date" IN (SELECT w.day FROM fiscus_workdays w WHERE NOT w.is_workday) THEN false ELSE CAST(EXTRACT(ISODOW FROM "p"."pay_date") AS INTEGER) <= 5 END)));

-- precondition 1 (treasury.payments 为空 / treasury.payments is empty)
-- parameters: none
SELECT EXISTS (SELECT 1 FROM "treasury"."payments") AS ok;

-- input 1 (treasury.payments)
-- parameters: $1=as_of:date
SELECT count(*) AS "rows" FROM "treasury"."payments" AS __in WHERE __in."pay_date" <= CAST($1 AS DATE);

-- delta (payment_id)
-- parameters: $1=p_min_amount:money, $2=as_of:date, $3=scope:list, $4=delta_batches:list
WITH fiscus_workdays AS NOT MATERIALIZED (SELECT day, is_workday, workday_ord AS ord FROM "fiscus"."calendar_days")
SELECT 'payment' AS "entity_type",
  CAST("p"."payment_id" AS VARCHAR) AS "entity_id",
  CAST("p"."payee_name" AS VARCHAR) AS "entity_name",
  CAST("p"."region_code" AS VARCHAR) AS "region_code",
  CAST("p"."agency_code" AS VARCHAR) AS "agency_code",
  CAST("p"."fiscal_year" AS INTEGER) AS "fiscal_year",
  CAST("p"."pay_date" AS DATE) AS "period_start",
  CAST("p"."pay_date" AS DATE) AS "period_end",
  CAST(NULL AS VARCHAR) AS "severity",
  'amount' AS "measure_name",
  CAST(CAST("p"."amount" AS DECIMAL(18,2)) AS TEXT) AS "measure_value",
  CAST(CAST(CAST($1 AS DECIMAL(18,2)) AS DECIMAL(18,2)) AS TEXT) AS "threshold",
  CAST("p"."amount" AS DECIMAL(18,2)) AS "amount",
  CAST(coalesce((SELECT coalesce(jsonb_agg(jsonb_build_object('table', 'treasury.payments', 'key', CAST(__ek.k AS TEXT)) ORDER BY __ek.o), CAST('[]' AS JSONB)) FROM unnest(ARRAY[CAST("p"."payment_id" AS TEXT)]) WITH ORDINALITY AS __ek(k, o)), CAST('[]' AS JSONB)) AS TEXT) AS "evidence",
  CAST(NULL AS VARCHAR) AS "evidence_query",
  CAST(json_build_object('agency_name', CAST((coalesce("ag"."agency_name", "p"."agency_code")) AS VARCHAR), 'pay_date', CAST(("p"."pay_date") AS VARCHAR), 'payee_name', CAST(("p"."payee_name") AS VARCHAR), 'amount', CAST(CAST(("p"."amount") AS DECIMAL(18,2)) AS VARCHAR)) AS TEXT) AS "vars",
  CAST("p"."payment_id" AS TEXT) AS "delta_key"
FROM "treasury"."payments" AS "p" LEFT JOIN "ref"."agencies" AS "ag" ON ("ag"."agency_code" = "p"."agency_code")
WHERE "p"."pay_date" <= CAST($2 AS DATE)
  AND (CAST($3 AS TEXT[]) IS NULL OR "p"."agency_code" = ANY(CAST($3 AS TEXT[])))
  AND "p"."_batch_id" = ANY(CAST($4 AS TEXT[]))
  AND (("p"."amount" >= CAST($1 AS DECIMAL(18,2))) AND (NOT (CASE WHEN "p"."pay_date" IN (SELECT w.day FROM fiscus_workdays w WHERE w.is_workday) THEN true WHEN "p"."pay_date" IN (SELECT w.day FROM fiscus_workdays w WHERE NOT w.is_workday) THEN false ELSE CAST(EXTRACT(ISODOW FROM "p"."pay_date") AS INTEGER) <= 5 END)));
