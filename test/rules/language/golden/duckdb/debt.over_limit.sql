-- rule
-- parameters: $as_of=as_of:date
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
  CAST(CAST("d"."debt_balance" AS DECIMAL(18,2)) AS VARCHAR) AS "measure_value",
  CAST(CAST("d"."debt_limit" AS DECIMAL(18,2)) AS VARCHAR) AS "threshold",
  CAST(("d"."debt_balance" - "d"."debt_limit") AS DECIMAL(18,2)) AS "amount",
  CAST(to_json(CAST(list_transform([CAST("d"."region_code" AS VARCHAR) || '|' || CAST("d"."fiscal_year" AS VARCHAR)], k -> struct_pack("table" := 'debt.positions', "key" := CAST(k AS VARCHAR))) AS STRUCT("table" VARCHAR, "key" VARCHAR)[])) AS VARCHAR) AS "evidence",
  CAST(NULL AS VARCHAR) AS "evidence_query",
  json_object('region_name', CAST((coalesce("r"."region_name", "d"."region_code")) AS VARCHAR), 'debt_balance', CAST(CAST("d"."debt_balance" AS DECIMAL(18,2)) AS VARCHAR), 'debt_limit', CAST(CAST("d"."debt_limit" AS DECIMAL(18,2)) AS VARCHAR)) AS "vars",
  CAST("d"."region_code" AS VARCHAR) || '' || CAST("d"."fiscal_year" AS VARCHAR) AS "delta_key"
FROM "debt"."positions" AS "d" LEFT JOIN "ref"."regions" AS "r" ON ("r"."region_code" = "d"."region_code")
WHERE "d"."fiscal_year" <= year(CAST($as_of AS DATE))
  AND ("d"."debt_balance" > "d"."debt_limit");

-- precondition 1 (debt.positions 为空 / debt.positions is empty)
-- parameters: none
SELECT EXISTS (SELECT 1 FROM "debt"."positions") AS ok;

-- input 1 (debt.positions)
-- parameters: $as_of=as_of:date
SELECT count(*) AS "rows" FROM "debt"."positions" AS __in WHERE __in."fiscal_year" <= year(CAST($as_of AS DATE));

-- delta (region_code, fiscal_year)
-- parameters: $as_of=as_of:date, $delta_batches=delta_batches:string
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
  CAST(CAST("d"."debt_balance" AS DECIMAL(18,2)) AS VARCHAR) AS "measure_value",
  CAST(CAST("d"."debt_limit" AS DECIMAL(18,2)) AS VARCHAR) AS "threshold",
  CAST(("d"."debt_balance" - "d"."debt_limit") AS DECIMAL(18,2)) AS "amount",
  CAST(to_json(CAST(list_transform([CAST("d"."region_code" AS VARCHAR) || '|' || CAST("d"."fiscal_year" AS VARCHAR)], k -> struct_pack("table" := 'debt.positions', "key" := CAST(k AS VARCHAR))) AS STRUCT("table" VARCHAR, "key" VARCHAR)[])) AS VARCHAR) AS "evidence",
  CAST(NULL AS VARCHAR) AS "evidence_query",
  json_object('region_name', CAST((coalesce("r"."region_name", "d"."region_code")) AS VARCHAR), 'debt_balance', CAST(CAST("d"."debt_balance" AS DECIMAL(18,2)) AS VARCHAR), 'debt_limit', CAST(CAST("d"."debt_limit" AS DECIMAL(18,2)) AS VARCHAR)) AS "vars",
  CAST("d"."region_code" AS VARCHAR) || '' || CAST("d"."fiscal_year" AS VARCHAR) AS "delta_key"
FROM "debt"."positions" AS "d" LEFT JOIN "ref"."regions" AS "r" ON ("r"."region_code" = "d"."region_code")
WHERE "d"."fiscal_year" <= year(CAST($as_of AS DATE))
  AND "d"."_batch_id" IN (SELECT unnest(from_json(CAST($delta_batches AS VARCHAR), '["VARCHAR"]')))
  AND ("d"."debt_balance" > "d"."debt_limit");
