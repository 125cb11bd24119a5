-- rule
-- parameters: $p_pass_through_days=p_pass_through_days:days, $p_general_days=p_general_days:days, $p_special_days=p_special_days:days, $as_of=as_of:date
SELECT 'transfer' AS "entity_type",
  CAST("g"."transfer_id" AS VARCHAR) AS "entity_id",
  CAST("g"."program_name" AS VARCHAR) AS "entity_name",
  CAST("g"."from_region" AS VARCHAR) AS "region_code",
  CAST(NULL AS VARCHAR) AS "agency_code",
  CAST("g"."fiscal_year" AS INTEGER) AS "fiscal_year",
  CAST((coalesce("g"."received_date", "s"."congress_approved_date")) AS DATE) AS "period_start",
  CAST("g"."issued_date" AS DATE) AS "period_end",
  CAST(NULL AS VARCHAR) AS "severity",
  'days' AS "measure_name",
  CAST(CAST(("g"."issued_date" - (coalesce("g"."received_date", "s"."congress_approved_date"))) AS BIGINT) AS VARCHAR) AS "measure_value",
  CAST(CAST((CASE WHEN ("g"."received_date" IS NOT NULL) THEN CAST($p_pass_through_days AS BIGINT) ELSE CASE WHEN ("g"."category" = 'general') THEN CAST($p_general_days AS BIGINT) ELSE CAST($p_special_days AS BIGINT) END END) AS BIGINT) AS VARCHAR) AS "threshold",
  CAST("g"."amount" AS DECIMAL(18,2)) AS "amount",
  CAST(to_json(CAST(list_transform([CAST("g"."transfer_id" AS VARCHAR)], k -> struct_pack("table" := 'transfers.grants', "key" := CAST(k AS VARCHAR))) AS STRUCT("table" VARCHAR, "key" VARCHAR)[])) AS VARCHAR) AS "evidence",
  CAST(NULL AS VARCHAR) AS "evidence_query",
  json_object('program_name', CAST(("g"."program_name") AS VARCHAR), 'doc_no', CAST(("g"."doc_no") AS VARCHAR), 'amount', CAST(CAST(("g"."amount") AS DECIMAL(18,2)) AS VARCHAR), 'issued_date', CAST(("g"."issued_date") AS VARCHAR), 'basis_label', CAST((CASE WHEN ("g"."received_date" IS NOT NULL) THEN '收到上级资金' ELSE '人代会批准预算' END) AS VARCHAR), 'days_taken', CAST((("g"."issued_date" - (coalesce("g"."received_date", "s"."congress_approved_date")))) AS BIGINT), 'limit_days', CAST(((CASE WHEN ("g"."received_date" IS NOT NULL) THEN CAST($p_pass_through_days AS BIGINT) ELSE CASE WHEN ("g"."category" = 'general') THEN CAST($p_general_days AS BIGINT) ELSE CAST($p_special_days AS BIGINT) END END)) AS BIGINT), 'basis_label_en', CAST((CASE WHEN ("g"."received_date" IS NOT NULL) THEN 'the funds arrived' ELSE 'the congress approved the budget' END) AS VARCHAR)) AS "vars",
  CAST("g"."transfer_id" AS VARCHAR) AS "delta_key"
FROM "transfers"."grants" AS "g" LEFT JOIN "ref"."budget_sessions" AS "s" ON (("s"."region_code" = "g"."from_region") AND ("s"."fiscal_year" = "g"."fiscal_year"))
WHERE "g"."issued_date" <= CAST($as_of AS DATE)
  AND ((coalesce("g"."received_date", "s"."congress_approved_date")) IS NOT NULL)
  AND (("g"."issued_date" > ((coalesce("g"."received_date", "s"."congress_approved_date")) + CAST(CASE WHEN ("g"."received_date" IS NOT NULL) THEN CAST($p_pass_through_days AS BIGINT) ELSE CASE WHEN ("g"."category" = 'general') THEN CAST($p_general_days AS BIGINT) ELSE CAST($p_special_days AS BIGINT) END END AS INTEGER))) OR ("g"."issued_date" IS NULL AND ((coalesce("g"."received_date", "s"."congress_approved_date")) + CAST(CASE WHEN ("g"."received_date" IS NOT NULL) THEN CAST($p_pass_through_days AS BIGINT) ELSE CASE WHEN ("g"."category" = 'general') THEN CAST($p_general_days AS BIGINT) ELSE CAST($p_special_days AS BIGINT) END END AS INTEGER)) < CAST($as_of AS DATE)));

-- precondition 1 (transfers.grants 为空 / transfers.grants is empty)
-- parameters: none
SELECT EXISTS (SELECT 1 FROM "transfers"."grants") AS ok;

-- input 1 (transfers.grants)
-- parameters: $as_of=as_of:date
SELECT count(*) AS "rows" FROM "transfers"."grants" AS __in WHERE __in."issued_date" <= CAST($as_of AS DATE);

-- delta (transfer_id)
-- parameters: $p_pass_through_days=p_pass_through_days:days, $p_general_days=p_general_days:days, $p_special_days=p_special_days:days, $as_of=as_of:date, $delta_batches=delta_batches:string
SELECT 'transfer' AS "entity_type",
  CAST("g"."transfer_id" AS VARCHAR) AS "entity_id",
  CAST("g"."program_name" AS VARCHAR) AS "entity_name",
  CAST("g"."from_region" AS VARCHAR) AS "region_code",
  CAST(NULL AS VARCHAR) AS "agency_code",
  CAST("g"."fiscal_year" AS INTEGER) AS "fiscal_year",
  CAST((coalesce("g"."received_date", "s"."congress_approved_date")) AS DATE) AS "period_start",
  CAST("g"."issued_date" AS DATE) AS "period_end",
  CAST(NULL AS VARCHAR) AS "severity",
  'days' AS "measure_name",
  CAST(CAST(("g"."issued_date" - (coalesce("g"."received_date", "s"."congress_approved_date"))) AS BIGINT) AS VARCHAR) AS "measure_value",
  CAST(CAST((CASE WHEN ("g"."received_date" IS NOT NULL) THEN CAST($p_pass_through_days AS BIGINT) ELSE CASE WHEN ("g"."category" = 'general') THEN CAST($p_general_days AS BIGINT) ELSE CAST($p_special_days AS BIGINT) END END) AS BIGINT) AS VARCHAR) AS "threshold",
  CAST("g"."amount" AS DECIMAL(18,2)) AS "amount",
  CAST(to_json(CAST(list_transform([CAST("g"."transfer_id" AS VARCHAR)], k -> struct_pack("table" := 'transfers.grants', "key" := CAST(k AS VARCHAR))) AS STRUCT("table" VARCHAR, "key" VARCHAR)[])) AS VARCHAR) AS "evidence",
  CAST(NULL AS VARCHAR) AS "evidence_query",
  json_object('program_name', CAST(("g"."program_name") AS VARCHAR), 'doc_no', CAST(("g"."doc_no") AS VARCHAR), 'amount', CAST(CAST(("g"."amount") AS DECIMAL(18,2)) AS VARCHAR), 'issued_date', CAST(("g"."issued_date") AS VARCHAR), 'basis_label', CAST((CASE WHEN ("g"."received_date" IS NOT NULL) THEN '收到上级资金' ELSE '人代会批准预算' END) AS VARCHAR), 'days_taken', CAST((("g"."issued_date" - (coalesce("g"."received_date", "s"."congress_approved_date")))) AS BIGINT), 'limit_days', CAST(((CASE WHEN ("g"."received_date" IS NOT NULL) THEN CAST($p_pass_through_days AS BIGINT) ELSE CASE WHEN ("g"."category" = 'general') THEN CAST($p_general_days AS BIGINT) ELSE CAST($p_special_days AS BIGINT) END END)) AS BIGINT), 'basis_label_en', CAST((CASE WHEN ("g"."received_date" IS NOT NULL) THEN 'the funds arrived' ELSE 'the congress approved the budget' END) AS VARCHAR)) AS "vars",
  CAST("g"."transfer_id" AS VARCHAR) AS "delta_key"
FROM "transfers"."grants" AS "g" LEFT JOIN "ref"."budget_sessions" AS "s" ON (("s"."region_code" = "g"."from_region") AND ("s"."fiscal_year" = "g"."fiscal_year"))
WHERE "g"."issued_date" <= CAST($as_of AS DATE)
  AND "g"."_batch_id" IN (SELECT unnest(from_json(CAST($delta_batches AS VARCHAR), '["VARCHAR"]')))
  AND ((coalesce("g"."received_date", "s"."congress_approved_date")) IS NOT NULL)
  AND (("g"."issued_date" > ((coalesce("g"."received_date", "s"."congress_approved_date")) + CAST(CASE WHEN ("g"."received_date" IS NOT NULL) THEN CAST($p_pass_through_days AS BIGINT) ELSE CASE WHEN ("g"."category" = 'general') THEN CAST($p_general_days AS BIGINT) ELSE CAST($p_special_days AS BIGINT) END END AS INTEGER))) OR ("g"."issued_date" IS NULL AND ((coalesce("g"."received_date", "s"."congress_approved_date")) + CAST(CASE WHEN ("g"."received_date" IS NOT NULL) THEN CAST($p_pass_through_days AS BIGINT) ELSE CASE WHEN ("g"."category" = 'general') THEN CAST($p_general_days AS BIGINT) ELSE CAST($p_special_days AS BIGINT) END END AS INTEGER)) < CAST($as_of AS DATE)));
