-- rule
-- parameters: $as_of=as_of:date
SELECT 'debt_service' AS "entity_type",
  CAST("v"."service_id" AS VARCHAR) AS "entity_id",
  CAST("b"."bond_name" AS VARCHAR) AS "entity_name",
  CAST("b"."region_code" AS VARCHAR) AS "region_code",
  CAST(NULL AS VARCHAR) AS "agency_code",
  CAST(year("v"."due_date") AS INTEGER) AS "fiscal_year",
  CAST("v"."due_date" AS DATE) AS "period_start",
  CAST("v"."due_date" AS DATE) AS "period_end",
  CAST(NULL AS VARCHAR) AS "severity",
  'paid' AS "measure_name",
  CAST(CAST((CASE WHEN ("v"."paid_date" <= CAST($as_of AS DATE)) THEN coalesce("v"."paid_amount", 0) ELSE 0 END) AS DECIMAL(18,2)) AS VARCHAR) AS "measure_value",
  CAST(CAST((("v"."principal_due" + "v"."interest_due")) AS DECIMAL(18,2)) AS VARCHAR) AS "threshold",
  CAST(((("v"."principal_due" + "v"."interest_due")) - (CASE WHEN ("v"."paid_date" <= CAST($as_of AS DATE)) THEN coalesce("v"."paid_amount", 0) ELSE 0 END)) AS DECIMAL(18,2)) AS "amount",
  CAST(to_json(CAST(list_transform([CAST("v"."service_id" AS VARCHAR)], k -> struct_pack("table" := 'debt.service', "key" := CAST(k AS VARCHAR))) AS STRUCT("table" VARCHAR, "key" VARCHAR)[])) AS VARCHAR) AS "evidence",
  CAST(NULL AS VARCHAR) AS "evidence_query",
  json_object('bond_name', CAST((coalesce("b"."bond_name", "v"."bond_code")) AS VARCHAR), 'due_date', CAST(("v"."due_date") AS VARCHAR), 'due_total', CAST(CAST((("v"."principal_due" + "v"."interest_due")) AS DECIMAL(18,2)) AS VARCHAR), 'paid', CAST(CAST((CASE WHEN ("v"."paid_date" <= CAST($as_of AS DATE)) THEN coalesce("v"."paid_amount", 0) ELSE 0 END) AS DECIMAL(18,2)) AS VARCHAR)) AS "vars",
  CAST("v"."service_id" AS VARCHAR) AS "delta_key"
FROM "debt"."service" AS "v" LEFT JOIN "debt"."bonds" AS "b" ON ("b"."bond_code" = "v"."bond_code") AND "b"."issue_date" <= CAST($as_of AS DATE)
WHERE (("v"."due_date" + CAST(1 AS INTEGER)) <= CAST($as_of AS DATE) AND NOT coalesce(((CASE WHEN ("v"."paid_date" <= CAST($as_of AS DATE)) THEN coalesce("v"."paid_amount", 0) ELSE 0 END) >= (("v"."principal_due" + "v"."interest_due"))), FALSE));

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
-- parameters: $as_of=as_of:date, $delta_batches=delta_batches:string
SELECT 'debt_service' AS "entity_type",
  CAST("v"."service_id" AS VARCHAR) AS "entity_id",
  CAST("b"."bond_name" AS VARCHAR) AS "entity_name",
  CAST("b"."region_code" AS VARCHAR) AS "region_code",
  CAST(NULL AS VARCHAR) AS "agency_code",
  CAST(year("v"."due_date") AS INTEGER) AS "fiscal_year",
  CAST("v"."due_date" AS DATE) AS "period_start",
  CAST("v"."due_date" AS DATE) AS "period_end",
  CAST(NULL AS VARCHAR) AS "severity",
  'paid' AS "measure_name",
  CAST(CAST((CASE WHEN ("v"."paid_date" <= CAST($as_of AS DATE)) THEN coalesce("v"."paid_amount", 0) ELSE 0 END) AS DECIMAL(18,2)) AS VARCHAR) AS "measure_value",
  CAST(CAST((("v"."principal_due" + "v"."interest_due")) AS DECIMAL(18,2)) AS VARCHAR) AS "threshold",
  CAST(((("v"."principal_due" + "v"."interest_due")) - (CASE WHEN ("v"."paid_date" <= CAST($as_of AS DATE)) THEN coalesce("v"."paid_amount", 0) ELSE 0 END)) AS DECIMAL(18,2)) AS "amount",
  CAST(to_json(CAST(list_transform([CAST("v"."service_id" AS VARCHAR)], k -> struct_pack("table" := 'debt.service', "key" := CAST(k AS VARCHAR))) AS STRUCT("table" VARCHAR, "key" VARCHAR)[])) AS VARCHAR) AS "evidence",
  CAST(NULL AS VARCHAR) AS "evidence_query",
  json_object('bond_name', CAST((coalesce("b"."bond_name", "v"."bond_code")) AS VARCHAR), 'due_date', CAST(("v"."due_date") AS VARCHAR), 'due_total', CAST(CAST((("v"."principal_due" + "v"."interest_due")) AS DECIMAL(18,2)) AS VARCHAR), 'paid', CAST(CAST((CASE WHEN ("v"."paid_date" <= CAST($as_of AS DATE)) THEN coalesce("v"."paid_amount", 0) ELSE 0 END) AS DECIMAL(18,2)) AS VARCHAR)) AS "vars",
  CAST("v"."service_id" AS VARCHAR) AS "delta_key"
FROM "debt"."service" AS "v" LEFT JOIN "debt"."bonds" AS "b" ON ("b"."bond_code" = "v"."bond_code") AND "b"."issue_date" <= CAST($as_of AS DATE)
WHERE "v"."_batch_id" IN (SELECT unnest(from_json(CAST($delta_batches AS VARCHAR), '["VARCHAR"]')))
  AND (("v"."due_date" + CAST(1 AS INTEGER)) <= CAST($as_of AS DATE) AND NOT coalesce(((CASE WHEN ("v"."paid_date" <= CAST($as_of AS DATE)) THEN coalesce("v"."paid_amount", 0) ELSE 0 END) >= (("v"."principal_due" + "v"."interest_due"))), FALSE));
