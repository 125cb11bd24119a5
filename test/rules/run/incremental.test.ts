import { afterEach, describe, expect, it } from 'vitest';
import type { Store } from '../../../engine/db.ts';
import { listFlags } from '../../../flags/list.ts';
import { runRules } from '../../../rules/run/runner.ts';
import { refreshCalendar } from '../../../engine/calendar.ts';
import { addAgency, addPayments, bigPaymentRule, BIG_PAYMENT_RULE, compileTestRule, correctPayment, tempStore, type Pay } from './helpers.ts';

let store: Store;
afterEach(async () => {
  await store?.close();
});

async function snapshot(s: Store) {
  return (await listFlags(s, {}, { sort: 'rule' })).items.map((r) => [r.flag_id, r.reproduced, r.measure.value, r.amount, r.title, r.severity]);
}

function agencies(n: number): string[] {
  return Array.from({ length: n }, (_, i) => `A${String(i + 1).padStart(2, '0')}`);
}

describe('incremental re-runs', () => {
  it('after one small batch evaluates only the touched partitions and ends where a full run ends', async () => {
    store = await tempStore();
    const rows: Pay[] = [];
    for (const a of agencies(20)) {
      for (let k = 0; k < 5; k++) rows.push({ id: `${a}-${k}`, agency: a, amount: `${(k + 1) * 60000}.00`, date: `2025-0${k + 1}-10` });
    }
    await addPayments(store, 'b1', rows);
    const rule = bigPaymentRule(store.engine);
    const first = await runRules(store, [rule], { asOf: '2025-12-31' });
    expect(first.rules[0]).toMatchObject({ mode: 'full', flags_raised: 80 });

    // Nothing changed: skipped, flags kept.
    const same = await runRules(store, [rule], { asOf: '2025-12-31' });
    expect(same.rules[0]).toMatchObject({ outcome: 'skipped', mode: 'unchanged', flags_raised: 80 });
    expect(same.rules[0]!.reason).toContain(first.run_id);

    // One small batch: a new big payment in A05 and a correction that removes A07's biggest one.
    await addPayments(store, 'b2', [{ id: 'A05-new', agency: 'A05', amount: '450000.00', date: '2025-06-01' }]);
    await correctPayment(store, 'b2', 'A07-4', '10.00');
    const inc = await runRules(store, [rule], { asOf: '2025-12-31' });
    expect(inc.rules[0]).toMatchObject({ outcome: 'evaluated', mode: 'incremental', scope_size: 2, flags_raised: 8, flags_new: 1, flags_not_reproduced: 1 });
    const afterIncremental = await snapshot(store);

    // A full evaluation of the same data changes nothing.
    const full = await runRules(store, [rule], { asOf: '2025-12-31', full: true });
    expect(full.rules[0]).toMatchObject({ mode: 'full', flags_raised: 80, flags_new: 0, flags_reproduced: 0, flags_not_reproduced: 0 });
    expect(await snapshot(store)).toEqual(afterIncremental);

    // And a fresh database with the same final data raises exactly the reproduced flags.
    const fresh = await tempStore('fiscus-run-fresh-');
    try {
      const data = await store.all(`SELECT payment_id, agency_code, amount, ${store.dialect.dayText('pay_date')} AS d FROM treasury.payments`);
      await addPayments(fresh, 'x', data.map((d) => ({ id: String(d.payment_id), agency: String(d.agency_code), amount: String(d.amount), date: String(d.d) })));
      await runRules(fresh, [rule], { asOf: '2025-12-31' });
      const freshIds = (await listFlags(fresh, {})).items.map((r) => r.flag_id).sort();
      const reproduced = afterIncremental.filter((r) => r[1] === true).map((r) => r[0]).sort();
      expect(freshIds).toEqual(reproduced);
    } finally {
      await fresh.close();
    }
  });

  it('falls back to a full evaluation when a non-scope table changes or the rule changes', async () => {
    store = await tempStore();
    await addPayments(store, 'b1', [{ id: 'P1', agency: 'A01', amount: '612000.00', date: '2025-03-03' }]);
    const rule = bigPaymentRule(store.engine);
    await runRules(store, [rule], { asOf: '2025-12-31' });
    await addAgency(store, 'A01', '市教育局');
    const s = await runRules(store, [rule], { asOf: '2025-12-31' });
    expect(s.rules[0]).toMatchObject({ mode: 'full' });
    expect(s.rules[0]!.reason).toMatch(/ref\.agencies/);
    // The title picked up the agency name.
    expect((await listFlags(store, {}, { sort: 'rule' })).items[0]!.title).toContain('市教育局');

    const changed = bigPaymentRule(store.engine, { params: { p_min: '700000.00' } });
    const s2 = await runRules(store, [changed], { asOf: '2025-12-31' });
    expect(s2.rules[0]).toMatchObject({ mode: 'full', flags_raised: 0, flags_not_reproduced: 1 });
    expect(s2.rules[0]!.reason).toMatch(/parameters/);
  });

  it('sees a working-day calendar change even though no rule lists fiscus.calendar_days in reads', async () => {
    store = await tempStore();
    await addPayments(store, 'b1', [{ id: 'P1', agency: 'A01', amount: '612000.00', date: '2025-03-04' }]); // a Tuesday
    // is_workday reads fiscus.calendar_days; the rule language does not list it in reads.
    const text = BIG_PAYMENT_RULE.replace('id: test.big_payment', 'id: test.holiday_payment')
      .replace('where: p.amount >= $min', 'where: p.amount >= $min and not is_workday(p.pay_date)');
    const rule = compileTestRule(text, store.engine);
    expect((await runRules(store, [rule], { asOf: '2025-12-31' })).rules[0]!.flags_raised).toBe(0);
    await store.run(`INSERT INTO ref.calendar VALUES (DATE '2025-03-04', 'holiday', NULL, 'cal1', '1', now())`);
    await refreshCalendar(store);
    const s = await runRules(store, [rule], { asOf: '2025-12-31' });
    expect(s.rules[0]).toMatchObject({ mode: 'full', flags_new: 1 });
    expect(s.rules[0]!.reason).toMatch(/fiscus\.calendar_days/);
  });
});
