/**
 * emit/hoist.ts: a correlated aggregate a row-level finding reads more than once (a `let:` in
 * the condition, the measure, the amount and the title) is one LATERAL join, each use its
 * column; one read once stays inline, and so does one reading a rule-level lookup (joined
 * after the LATERAL). On the test engine the findings are those of the rule as written,
 * including an agency with no payments at all (the aggregate's one row of NULL keeps it).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Store } from '../../../engine/db.ts';
import type { Engine } from '../../../engine/sql-dialect.ts';
import type { CompiledRule } from '../../../rules/types.ts';
import { addAgency, addPayments, compileTestRule, standingFlags, tempStore } from '../run/helpers.ts';

const PAID = 'coalesce(sum(x.amount for x in treasury.payments where x.agency_code = ag.agency_code), 0)';

/**
 * Agencies that paid less than 1,000 in all: `paid` read by the condition, measure, amount and
 * title, or once. With `extraLookup` its subquery also reads a rule-level lookup and every
 * agency is a finding (a match's condition cannot see rule-level lookups).
 */
function rule(o: { uses: 'many' | 'once'; extraLookup?: boolean }, engine: Engine): CompiledRule {
  // No region is loaded, so the lookup's row is empty and the condition on it holds for every payment.
  const paid = o.extraLookup ? PAID.replace('ag.agency_code)', 'ag.agency_code and (r.region_code is null or x.region_code = r.region_code))') : PAID;
  const many = o.uses === 'many';
  return compileTestRule(`id: local.low_spending
version: 1
status: test
severity: low
title: { zh: "支出偏少 {agency}${many ? ' {paid}' : ''}", en: "Low spending {agency}${many ? ' {paid}' : ''}" }
reads: [ref.agencies, treasury.payments${o.extraLookup ? ', ref.regions' : ''}]
match:
  from: ref.agencies as ag
${o.extraLookup ? '' : `  where: ${many ? 'paid < 1000' : `${PAID} < 1000`}\n`}${o.extraLookup ? 'lookup:\n  r: { table: ref.regions, on: r.region_code = ag.region_code }\n' : ''}let:
  paid: ${paid}
  agency: ag.agency_code
entity: { type: agency, id: ag.agency_code }
measure: { name: paid, value: ${many ? 'paid' : '0'}, threshold: 1000 }
${many ? 'amount: paid\n' : ''}`, engine);
}

const laterals = (c: CompiledRule) => c.sql.match(/CROSS JOIN LATERAL/g)?.length ?? 0;
const paymentScans = (c: CompiledRule) => c.sql.match(/FROM "treasury"\."payments"/g)?.length ?? 0;

describe('a repeated correlated aggregate', () => {
  it('is one LATERAL join that every use reads', () => {
    for (const engine of ['duckdb', 'postgres'] as const) {
      const c = rule({ uses: 'many' }, engine);
      expect(laterals(c), engine).toBe(1);
      expect(paymentScans(c), engine).toBe(1);
    }
  });

  it('read once, stays where it is', () => {
    const c = rule({ uses: 'once' }, 'duckdb');
    expect(laterals(c)).toBe(0);
    expect(paymentScans(c)).toBe(1);
  });

  it('reading a rule-level lookup, stays inline (the LATERAL could not see the lookup)', () => {
    const c = rule({ uses: 'many', extraLookup: true }, 'duckdb');
    expect(laterals(c)).toBe(0);
    expect(paymentScans(c)).toBeGreaterThan(1);
  });
});

describe('on the test engine', () => {
  let store: Store;
  beforeAll(async () => {
    store = await tempStore('fiscus-hoist-');
    await addAgency(store, 'A01', '第一中学');
    await addAgency(store, 'A02', '第二中学');
    await addAgency(store, 'A03', '第三中学');
    await addPayments(store, 'B1', [
      { id: 'P1', agency: 'A01', amount: '300.00', date: '2025-03-01' },
      { id: 'P2', agency: 'A01', amount: '200.50', date: '2025-04-01' },
      { id: 'P3', agency: 'A02', amount: '5000.00', date: '2025-04-01' },
    ]);
  });
  afterAll(async () => {
    await store.close();
  });

  const flags = (c: CompiledRule) =>
    standingFlags<{ entity_id: string; title: string; measure_value: string | null; amount: string | null }>(
      store, c, '2025-12-31', 'entity_id, title, measure_value, CAST(amount AS VARCHAR) AS amount');

  it('finds what the rule says, an agency without payments included', async () => {
    const hoisted = rule({ uses: 'many' }, store.engine);
    expect(laterals(hoisted)).toBe(1);
    expect(await flags(hoisted)).toEqual([
      { entity_id: 'A01', title: '支出偏少 A01 500.50', measure_value: '500.50', amount: '500.50' },
      { entity_id: 'A03', title: '支出偏少 A03 0.00', measure_value: '0.00', amount: '0.00' },
    ]);
  });

  it('finds the same with the aggregate inline', async () => {
    const once = rule({ uses: 'once' }, store.engine);
    expect(laterals(once)).toBe(0);
    expect((await flags(once)).map((f) => f.entity_id)).toEqual(['A01', 'A03']);
    const withLookup = rule({ uses: 'many', extraLookup: true }, store.engine);
    expect(laterals(withLookup)).toBe(0);
    expect((await flags(withLookup)).map((f) => [f.entity_id, f.amount])).toEqual([['A01', '500.50'], ['A02', '5000.00'], ['A03', '0.00']]);
  });
});
