/** Shared fixtures for the runner tests: a real DuckDB file and hand-made compiled rules. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore, type Store } from '../../../engine/db.ts';
import type { CompiledRule, RuleMeta } from '../../../rules/types.ts';

export async function tempStore(prefix = 'fiscus-run-'): Promise<Store> {
  return openStore(join(mkdtempSync(join(tmpdir(), prefix)), 'f.duckdb'));
}

export interface Pay {
  id: string;
  agency: string;
  amount: string;
  date: string;
  payee?: string;
  account?: string;
}

/** Insert payments as one batch (the way ingest would: same _batch_id for all rows). */
export async function addPayments(store: Store, batch: string, rows: Pay[]): Promise<void> {
  for (const r of rows) {
    await store.run(
      `INSERT INTO treasury.payments VALUES ($id, 2025, '370811', $agency, NULL, '2050201', '30201', 'general', NULL,
        $payee, $acct, 'org', $amount::DECIMAL(18,2), $date::DATE, 'direct', '材料费', false, NULL, $batch, md5($id || $amount), now())`,
      { id: r.id, agency: r.agency, payee: r.payee ?? '某某公司', acct: r.account ?? '6222000011112222', amount: r.amount, date: r.date, batch },
    );
  }
}

/** A correction, as ingest records it: the old row goes to row_history, the new one carries the new batch. */
export async function correctPayment(store: Store, batch: string, id: string, amount: string): Promise<void> {
  await store.transaction(async () => {
    await store.run(
      `INSERT INTO fiscus.row_history SELECT 'treasury.payments', payment_id, to_json(p), _batch_id, $batch, now()
       FROM treasury.payments p WHERE payment_id = $id`,
      { id, batch },
    );
    await store.run(
      `UPDATE treasury.payments SET amount = $amount::DECIMAL(18,2), _batch_id = $batch, _row_hash = md5($id || $amount) WHERE payment_id = $id`,
      { id, amount, batch },
    );
  });
}

export async function addAgency(store: Store, code: string, name: string): Promise<void> {
  await store.run(`INSERT INTO ref.agencies VALUES ($c, $n, $c, '370811', NULL, 'ref1', 'h', now())`, { c: code, n: name });
}

export function meta(over: Partial<RuleMeta> = {}): RuleMeta {
  return {
    id: 'test.big_payment',
    version: 1,
    status: 'stable',
    severity: 'medium',
    title: { zh: '大额支付', en: 'Large payment' },
    titleTemplate: { zh: '大额支付：{entity_name} 向 {payee_name} 支付 {total} 元', en: 'Large payment: {entity_name} paid {total} yuan to {payee_name}' },
    description: {},
    references: [],
    params: [{ name: 'min', type: 'money', default: '100000.00' }],
    reads: ['treasury.payments', 'ref.agencies'],
    entityType: 'payment',
    source: { file: 'test', builtin: false },
    ...over,
  };
}

/** Payments of at least $p_min, one flag per payment; scoped by agency_code. */
export const BIG_PAYMENT_SQL = `
SELECT 'payment' AS entity_type, p.payment_id AS entity_id, a.agency_name AS entity_name, p.region_code, p.agency_code,
  p.fiscal_year, p.pay_date AS period_start, p.pay_date AS period_end,
  CASE WHEN p.amount >= 1000000 THEN 'high' END AS severity,
  'amount' AS measure_name, p.amount::VARCHAR AS measure_value, $p_min::VARCHAR AS threshold, p.amount AS amount,
  [{'table': 'treasury.payments', 'key': p.payment_id}] AS evidence, NULL AS evidence_query,
  {'payee_name': p.payee_name, 'total': p.amount::VARCHAR, 'payee_account': p.payee_account} AS vars
FROM treasury.payments p LEFT JOIN ref.agencies a USING (agency_code)
WHERE p.pay_date <= $as_of AND p.amount >= $p_min AND ($scope IS NULL OR list_contains($scope, p.agency_code))`;

export function bigPaymentRule(over: Partial<CompiledRule> = {}, metaOver: Partial<RuleMeta> = {}): CompiledRule {
  return {
    meta: meta(metaOver),
    sql: BIG_PAYMENT_SQL,
    params: { p_min: '100000.00' },
    preconditions: [{ sql: 'SELECT count(*) > 0 AS ok FROM treasury.payments', reason: 'treasury.payments 为空 / treasury.payments is empty' }],
    scope: { table: 'treasury.payments', column: 'agency_code' },
    ...over,
  };
}
