/**
 * When a delta run over a key of several columns is worth it (rules/run/fingerprint.ts with
 * touched-share.ts): a batch whose rows pile onto most of the table's tuples runs in full, and
 * says why; a batch of a few agencies' rows, though its rows pile onto few tuples too, stays a
 * delta, because the agencies the table holds show it has many more tuples. Either way the
 * flags equal a full run's. On the test engine (DuckDB, or PostgreSQL under FISCUS_TEST_ENGINE).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Store } from '../../../engine/db.ts';
import { compileRule, parseRuleText } from '../../../rules/language/index.ts';
import { runRules } from '../../../rules/run/runner.ts';
import type { CompiledRule } from '../../../rules/types.ts';
import { addPayments, tempStore, type Pay } from './helpers.ts';

/** An agency-year total over 1,000 yuan: the delta key is (agency_code, fiscal_year). */
const RULE = `id: local.agency_year_total
version: 1
status: test
severity: low
title: { zh: "年度支出 {agency_code}", en: "Yearly spending {agency_code}" }
reads: [treasury.payments]
aggregate:
  from: treasury.payments as p
  group_by: [agency_code, fiscal_year]
  compute:
    total: sum(amount)
  having: total > 1000
entity: { type: agency, id: agency_code }
fiscal_year: fiscal_year
measure: { name: total, value: total, threshold: 1000 }
`;

/** `n` payments of `amount` to each agency, ids numbered from `from`. */
function payments(agencies: string[], n: number, amount: string, from: number): Pay[] {
  const out: Pay[] = [];
  for (const a of agencies) for (let i = 0; i < n; i++) out.push({ id: `P${from + out.length}`, agency: a, amount, date: '2025-05-06' });
  return out;
}

const AGENCIES = Array.from({ length: 12 }, (_, i) => `A${String(i).padStart(2, '0')}`);

describe('delta or full, for a key of two columns', () => {
  let inc: Store;
  let full: Store;
  let rule: CompiledRule;
  beforeAll(async () => {
    [inc, full] = [await tempStore('fiscus-share-'), await tempStore('fiscus-share-full-')];
    rule = compileRule(parseRuleText(RULE, 'test/rules/run/share.rule.yaml'), { dialect: inc.engine });
    expect(rule.delta?.keys).toEqual(['agency_code', 'fiscal_year']);
    for (const s of [inc, full]) {
      await addPayments(s, 'B0', payments(AGENCIES, 3, '300.00', 0));
      await runRules(s, [rule], { asOf: '2025-12-31', full: true, actor: 'test' });
    }
  });
  afterAll(async () => {
    await inc?.close();
    await full?.close();
  });

  /** Add the batch to both databases, run `inc` as it decides and `full` in full; flags must agree. */
  async function batch(name: string, rows: Pay[]) {
    for (const s of [inc, full]) await addPayments(s, name, rows);
    const i = await runRules(inc, [rule], { asOf: '2025-12-31', actor: 'test' });
    await runRules(full, [rule], { asOf: '2025-12-31', full: true, actor: 'test' });
    const flags = (s: Store) => s.all('SELECT flag_id, measure_value, reproduced FROM fiscus.flags ORDER BY flag_id');
    expect(await flags(inc)).toEqual(await flags(full));
    return i.rules[0]!;
  }

  it('runs a batch of two agencies as a delta', async () => {
    // 20 rows on 2 of 12 agency-years: by the rows alone nearly every tuple (the estimate), but
    // the table holds 12 agencies.
    const o = await batch('B1', payments(['A00', 'A01'], 10, '50.00', 1000));
    expect(o.mode, o.reason ?? '').toBe('delta');
    expect(o.scope_size).toBe(2);
  });

  it('runs a batch reaching every agency-year in full, and says why', async () => {
    const o = await batch('B2', payments(AGENCIES, 4, '60.00', 2000));
    expect(o.mode).toBe('full');
    expect(o.reason).toMatch(/new batches' 48 rows touch 12 \(agency_code, fiscal_year\) tuples: about 98% of the table's \(estimated\)/);
  });
});
