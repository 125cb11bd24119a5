-- rule
-- parameters: $1=as_of:date
SELECT 'debt_service' AS "entity_type",
  CAST("v"."service_id" AS VARCHAR) AS "entity_id",
  CAST("b"."bond_name" AS VARCHAR) AS "entity_name",
  CAST("b"."region_code" AS VARCHAR) AS "region_code",
  CAST(NULL AS VARCHAR) AS "agency_code",
  CAST(CAST(EXTRACT(YEAR FROM "v"."due_date") AS INTEGER) AS INTEGER) AS "fiscal_year",
  CAST("v"."due_date" AS DATE) AS "period_start",
  CAST("v"."due_date" AS DATE) AS "period_end",
  CAST(NULL AS VARCHAR) AS "severity",
  'paid' AS "measure_name",
  CAST(CAST((CASE WHEN ("v"."paid_date" <= CAST($1 AS DATE)) THEN coalesce("v"."paid_amount", 0) ELSE 0 END) AS DECIMAL(18,2)) AS TEXT) AS "measure_value",
  CAST(CAST((("v"."principal_due" + "v"."interest_due")) AS DECIMAL(18,2)) AS TEXT) AS "threshold",
  CAST(((("v"."principal_due" + "v"."interest_due")) - (CASE WHEN ("v"."paid_date" <= CAST($1 AS DATE)) THEN coalesce("v"."paid_amount", 0) ELSE 0 END)) AS DECIMAL(18,2)) AS "amount",
  CAST(coalesce((SELECT coalesce(jsonb_agg(jsonb_build_object('table', 'debt.service', 'key', CAST(__ek.k AS TEXT)) ORDER BY __ek.o), CAST('[]' AS JSONB)) FROM unnest(ARRAY[CAST("v"."service_id" AS TEXT)]) WITH ORDINALITY AS __ek(k, o)), CAST('[]' AS JSONB)) AS TEXT) AS "evidence",
  CAST(NULL AS VARCHAR) AS "evidence_query",
  CAST(json_build_object('bond_name', CAST((coalesce("b"."bond_name", "v"."bond_code")) AS VARCHAR), 'due_date', CAST(("v"."due_date") AS VARCHAR), 'due_total', CAST(CAST((("v"."principal_due" + "v"."interest_due")) AS DECIMAL(18,2)) AS VARCHAR), 'paid', CAST(CAST((CASE WHEN ("v"."paid_date" <= CAST($1 AS DATE)) THEN coalesce("v"."paid_amount", 0) ELSE 0 END) AS DECIMAL(18,2)) AS VARCHAR)) AS TEXT) AS "vars",
  CAST("v"."service_id" AS TEXT) AS "delta_key"
FROM "debt"."service" AS "v" LEFT JOIN "debt"."bonds" AS "b" ON ("b"."bond_code" = "v"."bond_code") AND "b"."issue_date" <= CAST($1 AS DATE)
WHERE (("v"."due_date" + CAST(1 AS INTEGER)) <= CAST($1 AS DATE) AND NOT coalesce(((CASE WHEN ("v"."paid_date" <= CAST($1 AS DATE)) THEN coalesce("v"."paid_amount", 0) ELSE 0 END) >= (("v"."principal_due" + "v"."interest_due"))), FALSE));

-- precondition 1 (debt.service 为空 / debt.service is empty)
-- parameters: none
SELECT EXISTS (SELECT 1 FROM "debt"."service") AS ok;

-- precondition 2 (debt.bonds 为空 / debt.bonds is empty)
-- parameters: none
SELECT EXISTS (SELECT 1 FROM "debt"."bonds") AS ok;

-- input 1 (debt.service)
-- parameters: none
SELECT count(*) AS "rows" FROM "debt"."service" AS __in;

-- delta (service_id)
-- parameters: $1=as_of:date, $2=delta_batches:list
SELECT 'debt_service' AS "entity_type",
  CAST("v"."service_id" AS VARCHAR) AS "entity_id",
  CAST("b"."bond_name" AS VARCHAR) AS "entity_name",
  CAST("b"."region_code" AS VARCHAR) AS "region_code",
  CAST(NULL AS VARCHAR) AS "agency_code",
  CAST(CAST(EXTRACT(YEAR FROM "v"."due_date") AS INTEGER) AS INTEGER) AS "fiscal_year",
  CAST("v"."due_date" AS DATE) AS "period_start",
  CAST("v"."due_date" AS DATE) AS "period_end",
  CAST(NULL AS VARCHAR) AS "severity",
  'paid' AS "measure_name",
  CAST(CAST((CASE WHEN ("v"."paid_date" <= CAST($1 AS DATE)) THEN coalesce("v"."paid_amount", 0) ELSE 0 END) AS DECIMAL(18,2)) AS TEXT) AS "measure_value",
  CAST(CAST((("v"."principal_due" + "v"."interest_due")) AS DECIMAL(18,2)) AS TEXT) AS "threshold",
  CAST(((("v"."principal_due" + "v"."interest_due")) - (CASE WHEN ("v"."paid_date" <= CAST($1 AS DATE)) THEN coalesce("v"."paid_amount", 0) ELSE 0 END)) AS DECIMAL(18,2)) AS "amount",
  CAST(coalesce((SELECT coalesce(jsonb_agg(jsonb_build_object('table', 'debt.service', 'key', CAST(__ek.k AS TEXT)) ORDER BY __ek.o), CAST('[]' AS JSONB)) FROM unnest(ARRAY[CAST("v"."service_id" AS TEXT)]) WITH ORDINALITY AS __ek(k, o)), CAST('[]' AS JSONB)) AS TEXT) AS "evidence",
  CAST(NULL AS VARCHAR) AS "evidence_query",
  CAST(json_build_object('bond_name', CAST((coalesce("b"."bond_name", "v"."bond_code")) AS VARCHAR), 'due_date', CAST(("v"."due_date") AS VARCHAR), 'due_total', CAST(CAST((("v"."principal_due" + "v"."interest_due")) AS DECIMAL(18,2)) AS VARCHAR), 'paid', CAST(CAST((CASE WHEN ("v"."paid_date" <= CAST($1 AS DATE)) THEN coalesce("v"."paid_amount", 0) ELSE 0 END) AS DECIMAL(18,2)) AS VARCHAR)) AS TEXT) AS "vars",
  CAST("v"."service_id" AS TEXT) AS "delta_key"
FROM "debt"."service" AS "v" LEFT JOIN "debt"."bonds" AS "b" ON ("b"."bond_code" = "v"."bond_code") AND "b"."issue_date" <= CAST($1 AS DATE)
WHERE "v"."_batch_id" = ANY(CAST($2 AS TEXT[]))
  AND (("v"."due_date" + CAST(1 AS INTEGER)) <= CAST($1 AS DATE) AND NOT coalesce(((CASE WHEN ("v"."paid_date" <= CAST($1 AS DATE)) THEN coalesce("v"."paid_amount", 0) ELSE 0 END) >= (("v"."principal_due" + "v"."interest_due"))), FALSE));
