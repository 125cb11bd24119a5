/**
 * `at:` sides rolled up before the evaluation dates join them (rules/language/emit/at-rollup.ts)
 * give what the plain cross join gives. The same aggregate is written twice: with the bound
 * `pay_date <= at`, which the compiler rolls up, and as `not (pay_date > at)`, which it does not
 * recognise and so evaluates row by evaluation date. On the bundled sample, every group at every
 * evaluation date is a finding (`having: n >= 1`), so every value is compared: sums, counts (with
 * and without a condition), minima, maxima, the evidence and the evidence query.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../../../engine/db.ts';
import { ingestPath } from '../../../ingest/index.ts';
import { compileRule, parseRuleText } from '../../../rules/language/index.ts';
import { runRules } from '../../../rules/run/runner.ts';
import { freshDatabase } from '../../helpers/postgres.ts';

const SAMPLE = resolve(import.meta.dirname, '../../../fixtures/sample');
const ENGINES: ('duckdb' | 'postgres')[] = ['duckdb', ...(process.env.FISCUS_TEST_PG_URL ? (['postgres'] as const) : [])];

function ruleText(at: string, bound: string): string {
  return `id: test.at_rollup
version: 1
status: stable
severity: low
name: { zh: 测试, en: Test }
title: { zh: "{agency_code} {econ_code}", en: "{agency_code} {econ_code}" }
reads: [treasury.payments]

aggregate:
  at: ${at}
  from: treasury.payments as p
  where: ${bound} and fiscal_year = year(at) and amount > 0
  group_by: [agency_code, econ_code]
  compute:
    total: sum(amount)
    n: count()
    large: count(payment_id where amount >= 100000)
    smallest: min(amount)
    last_paid: max(pay_date)
    spread: max(amount) - min(amount)
  having: n >= 1

entity: { type: agency, id: "agency_code || '-' || econ_code" }
agency_code: agency_code
fiscal_year: year(at)
period: { start: year_start(year(at)), end: at }
measure: { name: total, value: total, threshold: n }
amount: spread
`;
}

describe.each(ENGINES)('at: rollup (%s)', (engine) => {
  let store: Store;
  beforeAll(async () => {
    store = await openStore(engine === 'duckdb' ? join(mkdtempSync(join(tmpdir(), 'fiscus-at-')), 'f.duckdb') : await freshDatabase('at_rollup'));
    await ingestPath(store, SAMPLE);
  });
  afterAll(async () => {
    await store?.close();
  });

  it.each(['quarter_ends', 'month_ends', 'year_ends'])('%s: the rolled-up side equals the plain one, finding by finding', async (at) => {
    const compile = (bound: string) => compileRule(parseRuleText(ruleText(at, bound), 'test/rules/language/at-rollup.rule.yaml'), { dialect: engine });
    const rolled = compile('pay_date <= at');
    const plain = compile('not (pay_date > at)');
    expect(rolled.sql).toContain('fiscus_g_r AS (');
    expect(plain.sql).not.toContain('fiscus_g_r AS (');
    const run = async (rule: typeof rolled) => {
      const s = await runRules(store, [rule], { asOf: '2025-12-31', dryRun: true, collect: true });
      expect(s.rules[0]).toMatchObject({ outcome: 'evaluated' });
      return (s.rules[0]!.flags ?? []).map((f) => ({ ...f, title: undefined })).sort((a, b) => a.flag_id.localeCompare(b.flag_id));
    };
    const a = await run(rolled);
    const b = await run(plain);
    expect(a.length).toBeGreaterThan(20);
    expect(a).toEqual(b);
  });

  it('a finding\'s evidence is its group\'s rows at its own evaluation date, read without joining every date', async () => {
    const rule = compileRule(parseRuleText(ruleText('quarter_ends', 'pay_date <= at'), 'test/rules/language/at-rollup.rule.yaml'), { dialect: engine });
    // The evidence subquery names the finding's date; only the side's own CTE reads the dates.
    const evidence = rule.sql.slice(rule.sql.lastIndexOf("SELECT 'agency' AS"));
    expect(evidence).not.toMatch(/fiscus_at CROSS JOIN/);
    const s = await runRules(store, [rule], { asOf: '2025-12-31', dryRun: true, collect: true });
    const paid = await store.all<{ id: string; a: string; e: string; d: string; y: number | string }>(
      `SELECT payment_id AS id, agency_code AS a, econ_code AS e, CAST(pay_date AS VARCHAR) AS d, fiscal_year AS y
         FROM treasury.payments WHERE amount > 0 ORDER BY payment_id`,
    );
    let checked = 0;
    for (const f of s.rules[0]!.flags ?? []) {
      const keys = (JSON.parse(f.evidence) as { key: string }[]).map((e) => e.key);
      if (keys.length === 0) continue; // over the evidence cap: an evidence query instead
      const econ = f.entity_id.slice(f.agency_code!.length + 1);
      const at = f.period_end!;
      const expected = paid.filter((p) => p.a === f.agency_code && p.e === econ && p.d.slice(0, 10) <= at && Number(p.y) === Number(at.slice(0, 4)));
      expect(keys, f.flag_id).toEqual(expected.map((p) => p.id));
      checked++;
    }
    expect(checked).toBeGreaterThan(20);
  });
});
