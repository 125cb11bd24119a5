-- rule
-- parameters: $p_min_amount=p_min_amount:money, $as_of=as_of:date, $scope=scope:list, $p_allowed_econ_prefixes=p_allowed_econ_prefixes:list
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
  CAST(CAST("p"."amount" AS DECIMAL(18,2)) AS VARCHAR) AS "measure_value",
  CAST(CAST(CAST($p_min_amount AS DECIMAL(18,2)) AS DECIMAL(18,2)) AS VARCHAR) AS "threshold",
  CAST("p"."amount" AS DECIMAL(18,2)) AS "amount",
  CAST(to_json(CAST(list_transform([CAST("p"."payment_id" AS VARCHAR)], k -> struct_pack("table" := 'treasury.payments', "key" := CAST(k AS VARCHAR))) AS STRUCT("table" VARCHAR, "key" VARCHAR)[])) AS VARCHAR) AS "evidence",
  CAST(NULL AS VARCHAR) AS "evidence_query",
  json_object('agency_name', CAST((coalesce("ag"."agency_name", "p"."agency_code")) AS VARCHAR), 'payee_name', CAST(("p"."payee_name") AS VARCHAR), 'amount', CAST(CAST(("p"."amount") AS DECIMAL(18,2)) AS VARCHAR), 'econ_code', CAST(("p"."econ_code") AS VARCHAR)) AS "vars",
  CAST("p"."payment_id" AS VARCHAR) AS "delta_key"
FROM "treasury"."payments" AS "p" LEFT JOIN "ref"."agencies" AS "ag" ON ("ag"."agency_code" = "p"."agency_code")
WHERE "p"."pay_date" <= CAST($as_of AS DATE)
  AND (CAST($scope AS VARCHAR[]) IS NULL OR list_contains(CAST($scope AS VARCHAR[]), "p"."agency_code"))
  AND ((("p"."payee_type" = 'individual') AND ("p"."amount" >= CAST($p_min_amount AS DECIMAL(18,2)))) AND (NOT list_contains(CAST($p_allowed_econ_prefixes AS VARCHAR[]), CAST((left("p"."econ_code", 3)) AS VARCHAR))));

-- precondition 1 (treasury.payments 为空 / treasury.payments is empty)
-- parameters: none
SELECT EXISTS (SELECT 1 FROM "treasury"."payments") AS ok;

-- input 1 (treasury.payments)
-- parameters: $as_of=as_of:date
SELECT count(*) AS "rows" FROM "treasury"."payments" AS __in WHERE __in."pay_date" <= CAST($as_of AS DATE);

-- delta (payment_id)
-- parameters: $p_min_amount=p_min_amount:money, $as_of=as_of:date, $scope=scope:list, $delta_batches=delta_batches:string, $p_allowed_econ_prefixes=p_allowed_econ_prefixes:list
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
  CAST(CAST("p"."amount" AS DECIMAL(18,2)) AS VARCHAR) AS "measure_value",
  CAST(CAST(CAST($p_min_amount AS DECIMAL(18,2)) AS DECIMAL(18,2)) AS VARCHAR) AS "threshold",
  CAST("p"."amount" AS DECIMAL(18,2)) AS "amount",
  CAST(to_json(CAST(list_transform([CAST("p"."payment_id" AS VARCHAR)], k -> struct_pack("table" := 'treasury.payments', "key" := CAST(k AS VARCHAR))) AS STRUCT("table" VARCHAR, "key" VARCHAR)[])) AS VARCHAR) AS "evidence",
  CAST(NULL AS VARCHAR) AS "evidence_query",
  json_object('agency_name', CAST((coalesce("ag"."agency_name", "p"."agency_code")) AS VARCHAR), 'payee_name', CAST(("p"."payee_name") AS VARCHAR), 'amount', CAST(CAST(("p"."amount") AS DECIMAL(18,2)) AS VARCHAR), 'econ_code', CAST(("p"."econ_code") AS VARCHAR)) AS "vars",
  CAST("p"."payment_id" AS VARCHAR) AS "delta_key"
FROM "treasury"."payments" AS "p" LEFT JOIN "ref"."agencies" AS "ag" ON ("ag"."agency_code" = "p"."agency_code")
WHERE "p"."pay_date" <= CAST($as_of AS DATE)
  AND (CAST($scope AS VARCHAR[]) IS NULL OR list_contains(CAST($scope AS VARCHAR[]), "p"."agency_code"))
  AND "p"."_batch_id" IN (SELECT unnest(from_json(CAST($delta_batches AS VARCHAR), '["VARCHAR"]')))
  AND ((("p"."payee_type" = 'individual') AND ("p"."amount" >= CAST($p_min_amount AS DECIMAL(18,2)))) AND (NOT list_contains(CAST($p_allowed_econ_prefixes AS VARCHAR[]), CAST((left("p"."econ_code", 3)) AS VARCHAR))));
