/**
 * Shared fixtures for the runner tests: a fresh database (a DuckDB file, or a PostgreSQL
 * database under FISCUS_TEST_ENGINE=postgres) and a small rule written in the rule language,
 * compiled for the Store's engine, so the runner is tested on the SQL the compiler really writes.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore, type JsonRow, type Store } from '../../../engine/db.ts';
import type { Engine } from '../../../engine/sql-dialect.ts';
import { compileRule, parseRuleText } from '../../../rules/language/index.ts';
import type { CompiledRule, RuleMeta } from '../../../rules/types.ts';
import { testDbLocation } from '../../helpers/postgres.ts';
import { expect } from 'vitest';
import { runRules } from '../../../rules/run/runner.ts';

export async function tempStore(prefix = 'fiscus-run-'): Promise<Store> {
  return openStore(testDbLocation(join(mkdtempSync(join(tmpdir(), prefix)), 'f.duckdb')));
}

export interface Pay {
  id: string;
  agency: string;
  amount: string;
  date: string;
  payee?: string;
  account?: string;
}

/** Insert payments as one batch (the way ingest would: same _batch_id for all rows). SQL both engines accept. */
export async function addPayments(store: Store, batch: string, rows: Pay[]): Promise<void> {
  for (const r of rows) {
    await store.run(
      `INSERT INTO treasury.payments VALUES ($id, 2025, '370811', $agency, NULL, '2050201', '30201', 'general', NULL,
        $payee, $acct, 'org', CAST($amount AS DECIMAL(18,2)), CAST($date AS DATE), 'direct', '材料费', false, NULL, $batch,
        ${store.dialect.rowHash('CAST($hashed AS VARCHAR)')}, now())`,
      { id: r.id, agency: r.agency, payee: r.payee ?? '某某公司', acct: r.account ?? '6222000011112222', amount: r.amount, date: r.date, batch, hashed: r.id + r.amount },
    );
  }
}

/** A correction, as ingest records it: the old row goes to row_history, the new one carries the new batch. */
export async function correctPayment(store: Store, batch: string, id: string, amount: string): Promise<void> {
  await store.transaction(async () => {
    await store.run(
      `INSERT INTO fiscus.row_history SELECT 'treasury.payments', payment_id, to_json(p), _batch_id, CAST($batch AS VARCHAR), now()
       FROM treasury.payments p WHERE payment_id = $id`,
      { id, batch },
    );
    await store.run(
      `UPDATE treasury.payments SET amount = CAST($amount AS DECIMAL(18,2)), _batch_id = $batch, _row_hash = ${store.dialect.rowHash("CAST($hashed AS VARCHAR)")}
       WHERE payment_id = $id`,
      { id, amount, batch, hashed: id + amount },
    );
  });
}

export async function addAgency(store: Store, code: string, name: string): Promise<void> {
  await store.run(`INSERT INTO ref.agencies VALUES ($c, $n, $c, '370811', NULL, 'ref1', '1', now())`, { c: code, n: name });
}

/**
 * Payments of at least $min, one flag per payment, scoped by agency_code; a payment of a
 * million or more is high. The payee account is a title value, so an allow entry naming
 * an account reaches these flags (rules/run/config.ts reads it from `vars`).
 */
export const BIG_PAYMENT_RULE = `id: test.big_payment
version: 1
status: stable
severity: medium
severity_if:
  high: p.amount >= 1000000
name: { zh: 大额支付, en: Large payment }
title:
  zh: "大额支付：{entity_name} 向 {payee_name}（账户{payee_account}）支付 {total} 元"
  en: "Large payment: {entity_name} paid {total} yuan to {payee_name} (account {payee_account})"
params:
  min: { type: money, default: "100000.00" }
reads: [treasury.payments, ref.agencies]
scope: agency_code

match:
  from: treasury.payments as p
  lookup:
    a: { table: ref.agencies, on: a.agency_code = p.agency_code }
  where: p.amount >= $min

let:
  payee_name: p.payee_name
  payee_account: p.payee_account
  total: p.amount
entity: { type: payment, id: p.payment_id, name: a.agency_name }
region_code: p.region_code
agency_code: p.agency_code
fiscal_year: p.fiscal_year
period: { start: p.pay_date, end: p.pay_date }
measure: { name: amount, value: p.amount, threshold: $min }
amount: p.amount
`;

/**
 * A rule text compiled for `engine`, without its delta variant: these tests exercise the
 * full and the scoped (incremental) evaluation; delta evaluation has its own (delta.test.ts).
 * `over`/`metaOver` replace fields of the result (e.g. a hand-made `sql`, which must then
 * give its own `parameters`: PostgreSQL binds positionally).
 */
export function compileTestRule(text: string, engine: Engine = 'duckdb', over: Partial<CompiledRule> = {}, metaOver: Partial<RuleMeta> = {}): CompiledRule {
  const { delta: _delta, ...compiled } = compileRule(parseRuleText(text, 'test/rules/run/test.rule.yaml'), { dialect: engine });
  return { ...compiled, ...over, meta: { ...compiled.meta, ...metaOver } };
}

/** The big-payment rule for `engine` (the Store's; DuckDB by default, as the rule-test runner uses). */
export function bigPaymentRule(engine: Engine = 'duckdb', over: Partial<CompiledRule> = {}, metaOver: Partial<RuleMeta> = {}): CompiledRule {
  return compileTestRule(BIG_PAYMENT_RULE, engine, over, metaOver);
}

/**
 * Run `rule` alone, in full, as of `asOf` (it must be evaluated), then read `columns` (a SELECT
 * list over fiscus.flags) of its standing flags, by entity id.
 */
export async function standingFlags<T extends JsonRow>(store: Store, rule: CompiledRule, asOf: string, columns: string): Promise<T[]> {
  const s = await runRules(store, [rule], { asOf, full: true, actor: 'test' });
  expect(s.rules[0]!.outcome, s.rules[0]!.reason ?? '').toBe('evaluated');
  return store.all<T>(`SELECT ${columns} FROM fiscus.flags WHERE rule_id = $r AND reproduced ORDER BY entity_id`, { r: rule.meta.id });
}
