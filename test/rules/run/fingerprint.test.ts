/**
 * The run's table states (rules/run/fingerprint.ts TableStateCache): read for all input tables
 * in one query ahead of the rules, they must say exactly what one query per table says, since
 * the fingerprints that decide "unchanged" and "delta" are built from them.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Store } from '../../../engine/db.ts';
import { TableStateCache } from '../../../rules/run/fingerprint.ts';
import { addAgency, addPayments, tempStore } from './helpers.ts';

let store: Store | undefined;
afterEach(async () => {
  await store?.close();
  store = undefined;
});

describe('TableStateCache', () => {
  it('prefetched states equal the states read table by table, batches in order', async () => {
    store = await tempStore();
    await addPayments(store, 'b2', [{ id: 'P1', agency: 'A01', amount: '10.00', date: '2025-03-03' }]);
    await addPayments(store, 'b1', [
      { id: 'P2', agency: 'A01', amount: '11.00', date: '2025-03-04' },
      { id: 'P3', agency: 'A02', amount: '12.00', date: '2025-03-05' },
    ]);
    await addAgency(store, 'A01', '市教育局');
    const names = ['treasury.payments', 'ref.agencies', 'treasury.budget_indicators', 'no.such_table', 'treasury.payments'];

    const ahead = new TableStateCache(store);
    await ahead.prefetch(names);
    const fetched = await ahead.states(names);
    const alone = await new TableStateCache(store).states(names);

    expect(fetched).toEqual(alone);
    expect(fetched['treasury.payments']).toEqual({ batches: { b1: 2, b2: 1 } });
    expect(Object.keys((fetched['treasury.payments'] as { batches: object }).batches)).toEqual(['b1', 'b2']);
    expect(fetched['treasury.budget_indicators']).toEqual({ batches: {} });
    expect(fetched['no.such_table']).toEqual({ missing: true });
  });

  it('knows which tables exist and which carry batch ids from the table names alone', async () => {
    store = await tempStore();
    const t = new TableStateCache(store);
    expect(await t.exists('treasury.payments')).toBe(true);
    expect(await t.batched('treasury.payments')).toBe(true);
    // An engine table exists but has no batches: its state is a count and a hash of its rows.
    expect(await t.exists('fiscus.calendar_days')).toBe(true);
    expect(await t.batched('fiscus.calendar_days')).toBe(false);
    expect(await t.get('fiscus.calendar_days')).toEqual({ rows: expect.any(Number), hash: expect.any(String) });
    expect(await t.exists('no.such_table')).toBe(false);
    expect(await t.batched('no.such_table')).toBe(false);
    await store.run('DROP TABLE ref.agencies');
    // Read once per run: a new cache sees the table gone.
    expect(await t.exists('ref.agencies')).toBe(true);
    expect(await new TableStateCache(store).exists('ref.agencies')).toBe(false);
    expect(await new TableStateCache(store).get('ref.agencies')).toEqual({ missing: true });
  });

  it('answers "is the table empty" from the states', async () => {
    store = await tempStore();
    await addPayments(store, 'b1', [{ id: 'P1', agency: 'A01', amount: '10.00', date: '2025-03-03' }]);
    const t = new TableStateCache(store);
    await t.prefetch(['treasury.payments', 'treasury.budget_indicators']);
    expect(await t.nonEmpty('treasury.payments')).toBe(true);
    expect(await t.nonEmpty('treasury.budget_indicators')).toBe(false);
    expect(await t.nonEmpty('no.such_table')).toBe(false);
  });
});
