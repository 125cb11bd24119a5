-- rule
-- parameters: $as_of=as_of:date, $scope=scope:list
SELECT 'payment' AS "entity_type",
  CAST("p"."payment_id" AS VARCHAR) AS "entity_id",
  CAST("p"."payee_name" AS VARCHAR) AS "entity_name",
  CAST("p"."region_code" AS VARCHAR) AS "region_code",
  CAST("p"."agency_code" AS VARCHAR) AS "agency_code",
  CAST("p"."fiscal_year" AS INTEGER) AS "fiscal_year",
  CAST("p"."pay_date" AS DATE) AS "period_start",
  CAST("p"."pay_date" AS DATE) AS "period_end",
  CAST(NULL AS VARCHAR) AS "severity",
  'line_budget' AS "measure_name",
  CAST(CAST((coalesce("line"."budget", 0)) AS DECIMAL(18,2)) AS VARCHAR) AS "measure_value",
  CAST(NULL AS VARCHAR) AS "threshold",
  CAST("p"."amount" AS DECIMAL(18,2)) AS "amount",
  CAST(to_json(CAST(list_transform([CAST("p"."payment_id" AS VARCHAR)], k -> struct_pack("table" := 'treasury.payments', "key" := CAST(k AS VARCHAR))) AS STRUCT("table" VARCHAR, "key" VARCHAR)[])) AS VARCHAR) AS "evidence",
  CAST(NULL AS VARCHAR) AS "evidence_query",
  json_object('agency_name', CAST((coalesce("ag"."agency_name", "p"."agency_code")) AS VARCHAR), 'amount', CAST(CAST(("p"."amount") AS DECIMAL(18,2)) AS VARCHAR), 'payee_name', CAST(("p"."payee_name") AS VARCHAR), 'reason', CAST((CASE WHEN (("p"."indicator_id" IS NULL OR trim("p"."indicator_id") = '')) THEN '无指标编号' ELSE CASE WHEN (((NOT ("p"."indicator_id" IS NULL OR trim("p"."indicator_id") = '')) AND (("i"."indicator_id" IS NULL) OR ("i"."agency_code" <> "p"."agency_code")))) THEN '指标编号无对应指标' ELSE '所在预算科目预算为0' END END) AS VARCHAR), 'reason_en', CAST((CASE WHEN (("p"."indicator_id" IS NULL OR trim("p"."indicator_id") = '')) THEN 'no indicator id' ELSE CASE WHEN (((NOT ("p"."indicator_id" IS NULL OR trim("p"."indicator_id") = '')) AND (("i"."indicator_id" IS NULL) OR ("i"."agency_code" <> "p"."agency_code")))) THEN 'indicator id matches no indicator of the agency' ELSE 'the budget line has no budget' END END) AS VARCHAR)) AS "vars",
  CAST("p"."payment_id" AS VARCHAR) AS "delta_key"
FROM "treasury"."payments" AS "p" LEFT JOIN "ref"."agencies" AS "ag" ON ("ag"."agency_code" = "p"."agency_code") LEFT JOIN "treasury"."budget_indicators" AS "i" ON ("i"."indicator_id" = "p"."indicator_id") AND "i"."approved_date" <= CAST($as_of AS DATE) LEFT JOIN (SELECT "line"."fiscal_year" AS "fiscal_year", "line"."agency_code" AS "agency_code", "line"."func_code" AS "func_code", "line"."econ_code" AS "econ_code", sum("line"."amount") AS "budget" FROM "treasury"."budget_indicators" AS "line" WHERE "line"."approved_date" <= CAST($as_of AS DATE) GROUP BY "line"."fiscal_year", "line"."agency_code", "line"."func_code", "line"."econ_code") AS "line" ON (((("line"."fiscal_year" = "p"."fiscal_year") AND ("line"."agency_code" = "p"."agency_code")) AND ("line"."func_code" = "p"."func_code")) AND ("line"."econ_code" = "p"."econ_code"))
WHERE "p"."pay_date" <= CAST($as_of AS DATE)
  AND (CAST($scope AS VARCHAR[]) IS NULL OR list_contains(CAST($scope AS VARCHAR[]), "p"."agency_code"))
  AND (("p"."amount" > 0) AND (((("p"."indicator_id" IS NULL OR trim("p"."indicator_id") = '')) OR (((NOT ("p"."indicator_id" IS NULL OR trim("p"."indicator_id") = '')) AND (("i"."indicator_id" IS NULL) OR ("i"."agency_code" <> "p"."agency_code"))))) OR ((coalesce("line"."budget", 0)) = 0)));

-- precondition 1 (treasury.payments 为空 / treasury.payments is empty)
-- parameters: none
SELECT EXISTS (SELECT 1 FROM "treasury"."payments") AS ok;

-- precondition 2 (treasury.budget_indicators 为空 / treasury.budget_indicators is empty)
-- parameters: none
SELECT EXISTS (SELECT 1 FROM "treasury"."budget_indicators") AS ok;

-- input 1 (treasury.payments)
-- parameters: $as_of=as_of:date
SELECT count(*) AS "rows" FROM "treasury"."payments" AS __in WHERE __in."pay_date" <= CAST($as_of AS DATE);

-- delta (payment_id)
-- parameters: $as_of=as_of:date, $scope=scope:list, $delta_batches=delta_batches:string
SELECT 'payment' AS "entity_type",
  CAST("p"."payment_id" AS VARCHAR) AS "entity_id",
  CAST("p"."payee_name" AS VARCHAR) AS "entity_name",
  CAST("p"."region_code" AS VARCHAR) AS "region_code",
  CAST("p"."agency_code" AS VARCHAR) AS "agency_code",
  CAST("p"."fiscal_year" AS INTEGER) AS "fiscal_year",
  CAST("p"."pay_date" AS DATE) AS "period_start",
  CAST("p"."pay_date" AS DATE) AS "period_end",
  CAST(NULL AS VARCHAR) AS "severity",
  'line_budget' AS "measure_name",
  CAST(CAST((coalesce("line"."budget", 0)) AS DECIMAL(18,2)) AS VARCHAR) AS "measure_value",
  CAST(NULL AS VARCHAR) AS "threshold",
  CAST("p"."amount" AS DECIMAL(18,2)) AS "amount",
  CAST(to_json(CAST(list_transform([CAST("p"."payment_id" AS VARCHAR)], k -> struct_pack("table" := 'treasury.payments', "key" := CAST(k AS VARCHAR))) AS STRUCT("table" VARCHAR, "key" VARCHAR)[])) AS VARCHAR) AS "evidence",
  CAST(NULL AS VARCHAR) AS "evidence_query",
  json_object('agency_name', CAST((coalesce("ag"."agency_name", "p"."agency_code")) AS VARCHAR), 'amount', CAST(CAST(("p"."amount") AS DECIMAL(18,2)) AS VARCHAR), 'payee_name', CAST(("p"."payee_name") AS VARCHAR), 'reason', CAST((CASE WHEN (("p"."indicator_id" IS NULL OR trim("p"."indicator_id") = '')) THEN '无指标编号' ELSE CASE WHEN (((NOT ("p"."indicator_id" IS NULL OR trim("p"."indicator_id") = '')) AND (("i"."indicator_id" IS NULL) OR ("i"."agency_code" <> "p"."agency_code")))) THEN '指标编号无对应指标' ELSE '所在预算科目预算为0' END END) AS VARCHAR), 'reason_en', CAST((CASE WHEN (("p"."indicator_id" IS NULL OR trim("p"."indicator_id") = '')) THEN 'no indicator id' ELSE CASE WHEN (((NOT ("p"."indicator_id" IS NULL OR trim("p"."indicator_id") = '')) AND (("i"."indicator_id" IS NULL) OR ("i"."agency_code" <> "p"."agency_code")))) THEN 'indicator id matches no indicator of the agency' ELSE 'the budget line has no budget' END END) AS VARCHAR)) AS "vars",
  CAST("p"."payment_id" AS VARCHAR) AS "delta_key"
FROM "treasury"."payments" AS "p" LEFT JOIN "ref"."agencies" AS "ag" ON ("ag"."agency_code" = "p"."agency_code") LEFT JOIN "treasury"."budget_indicators" AS "i" ON ("i"."indicator_id" = "p"."indicator_id") AND "i"."approved_date" <= CAST($as_of AS DATE) LEFT JOIN (SELECT "line"."fiscal_year" AS "fiscal_year", "line"."agency_code" AS "agency_code", "line"."func_code" AS "func_code", "line"."econ_code" AS "econ_code", sum("line"."amount") AS "budget" FROM "treasury"."budget_indicators" AS "line" WHERE "line"."approved_date" <= CAST($as_of AS DATE) GROUP BY "line"."fiscal_year", "line"."agency_code", "line"."func_code", "line"."econ_code") AS "line" ON (((("line"."fiscal_year" = "p"."fiscal_year") AND ("line"."agency_code" = "p"."agency_code")) AND ("line"."func_code" = "p"."func_code")) AND ("line"."econ_code" = "p"."econ_code"))
WHERE "p"."pay_date" <= CAST($as_of AS DATE)
  AND (CAST($scope AS VARCHAR[]) IS NULL OR list_contains(CAST($scope AS VARCHAR[]), "p"."agency_code"))
  AND "p"."_batch_id" IN (SELECT unnest(from_json(CAST($delta_batches AS VARCHAR), '["VARCHAR"]')))
  AND (("p"."amount" > 0) AND (((("p"."indicator_id" IS NULL OR trim("p"."indicator_id") = '')) OR (((NOT ("p"."indicator_id" IS NULL OR trim("p"."indicator_id") = '')) AND (("i"."indicator_id" IS NULL) OR ("i"."agency_code" <> "p"."agency_code"))))) OR ((coalesce("line"."budget", 0)) = 0)));
