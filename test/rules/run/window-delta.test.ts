/**
 * A window rule's delta run is bounded by dates as well as keys (passes/delta.ts windowDates,
 * rules/run/fingerprint.ts): after a batch, only the windows starting within one span of the
 * dates it touched are evaluated again; a flag of the same partition months away is left as it
 * was (its last run stays the earlier one), and the flags equal those of a full run.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Store } from '../../../engine/db.ts';
import { compileRule, parseRuleText } from '../../../rules/language/index.ts';
import { runRules } from '../../../rules/run/runner.ts';
import type { CompiledRule } from '../../../rules/types.ts';
import { addPayments, correctPayment, tempStore, type Pay } from './helpers.ts';

/** Three or more payments to one account within 7 days (first and last at most 6 days apart). */
function rule(engine: Store['engine'], period = '{ start: window_start, end: window_end }'): CompiledRule {
  const text = `id: local.split
version: 1
status: test
severity: medium
title: { zh: "拆分 {n} 笔", en: "Split into {n}" }
params:
  window_days: { type: days, default: 7 }
reads: [treasury.payments]
window:
  from: treasury.payments as p
  where: p.amount > 0
  partition_by: [agency_code, payee_account]
  date: pay_date
  within: $window_days days
  compute: { n: count(), total: sum(amount) }
  having: n >= 3
entity: { type: payee, id: "agency_code || '|' || payee_account || '|' || text(window_start)" }
agency_code: agency_code
period: ${period}
measure: { name: payments, value: n, threshold: 3 }
amount: total
`;
  return compileRule(parseRuleText(text, 'rules/local/split.rule.yaml'), { dialect: engine });
}

const pay = (id: string, date: string, account = 'ACC1', amount = '1000.00'): Pay => ({ id, agency: 'A01', amount, date, account });

type FlagRow = { entity_id: string; measure_value: string; amount: string; reproduced: boolean; last_run_id: string; evidence: unknown };
const FLAGS = `SELECT entity_id, CAST(measure_value AS VARCHAR) AS measure_value, CAST(amount AS VARCHAR) AS amount, reproduced,
  last_run_id, evidence FROM fiscus.flags WHERE rule_id = 'local.split' ORDER BY entity_id`;

describe('a window rule after a batch', () => {
  let store: Store;
  let split: CompiledRule;
  beforeAll(async () => {
    store = await tempStore('fiscus-window-delta-');
    split = rule(store.engine);
    // One account, two bursts months apart; a second account with one burst.
    await addPayments(store, 'B1', [
      pay('P01', '2025-03-03'), pay('P02', '2025-03-05'), pay('P03', '2025-03-07'),
      pay('P11', '2025-10-13'), pay('P12', '2025-10-14'), pay('P13', '2025-10-18'),
      pay('P21', '2025-10-14', 'ACC2'), pay('P22', '2025-10-15', 'ACC2'), pay('P23', '2025-10-16', 'ACC2'),
    ]);
  });
  afterAll(async () => {
    await store.close();
  });

  const run = async (full = false) => {
    const s = await runRules(store, [split], { asOf: '2025-12-31', full, actor: 'test' });
    expect(s.rules[0]!.outcome, s.rules[0]!.reason ?? '').toBe('evaluated');
    return s;
  };
  const flags = () => store.all<FlagRow>(FLAGS);
  const sameAsFull = async () => {
    const before = (await flags()).map(({ last_run_id: _r, ...f }) => f);
    await run(true);
    expect((await flags()).map(({ last_run_id: _r, ...f }) => f)).toEqual(before);
  };

  it('is compiled with the window dates', () => {
    expect(split.delta?.window).toEqual({ table: 'treasury.payments', column: 'pay_date', within: { param: 'p_window_days' } });
    expect(split.delta?.parameters?.map((x) => x.name)).toContain('delta_dates');
    // A period that is not the window's start leaves the dates unbounded: flags could not be told apart by them.
    expect(rule(store.engine, '{ year: 2025 }').delta?.window).toBeUndefined();
  });

  it('re-evaluates only the windows near the dates a batch touched', async () => {
    const first = await run(true);
    const initial = await flags();
    expect(initial.map((f) => [f.entity_id, f.measure_value])).toEqual([
      ['A01|ACC1|2025-03-03', '3'], ['A01|ACC1|2025-10-13', '3'], ['A01|ACC2|2025-10-14', '3'],
    ]);
    // A fourth October payment to ACC1: its March burst is the same key, months away.
    await addPayments(store, 'B2', [pay('P14', '2025-10-16')]);
    const delta = await run();
    expect(delta.rules[0]!.mode).toBe('delta');
    const after = await flags();
    const byId = new Map(after.map((f) => [f.entity_id, f]));
    expect(byId.get('A01|ACC1|2025-10-13')).toMatchObject({ measure_value: '4', amount: '4000.00', reproduced: true, last_run_id: delta.run_id });
    // Same key, outside the touched dates: not evaluated, so not touched.
    expect(byId.get('A01|ACC1|2025-03-03')).toMatchObject({ reproduced: true, last_run_id: first.run_id });
    // Another key: not evaluated either.
    expect(byId.get('A01|ACC2|2025-10-14')).toMatchObject({ reproduced: true, last_run_id: first.run_id });
    await sameAsFull();
  });

  it('follows a correction to both of its dates', async () => {
    await run(true);
    // P02 moves from March into October's burst: the March burst is gone, October's grows.
    await correctPayment(store, 'B3', 'P02', '1000.00');
    await store.run(`UPDATE treasury.payments SET pay_date = DATE '2025-10-17' WHERE payment_id = 'P02'`);
    const delta = await run();
    expect(delta.rules[0]!.mode).toBe('delta');
    const after = await flags();
    expect(after.find((f) => f.entity_id === 'A01|ACC1|2025-03-03')).toMatchObject({ reproduced: false });
    expect(after.find((f) => f.entity_id === 'A01|ACC1|2025-10-13')).toMatchObject({ measure_value: '5', reproduced: true });
    await sameAsFull();
  });

  it('leaves the flags of a touched key alone when the batch is dated far from them', async () => {
    const full = await run(true);
    await addPayments(store, 'B4', [pay('P30', '2025-07-01')]);
    const delta = await run();
    expect(delta.rules[0]!.mode).toBe('delta');
    const standing = (await flags()).filter((f) => f.reproduced);
    expect(standing.length).toBe(2);
    expect(standing.every((f) => f.last_run_id === full.run_id)).toBe(true);
    await sameAsFull();
  });
});
