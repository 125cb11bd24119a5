/**
 * Keys stay unique without a primary-key index (DuckDB feed tables have none since
 * migration 10): a file that is clean but for a repeated key, or that re-sends keys already
 * stored, must not leave two rows of one key, whichever path loads it.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Store } from '../../engine/db.ts';
import { ingestPath } from '../../ingest/index.ts';
import { keysClash } from '../../ingest/fast-path.ts';
import { PAYMENT_HEADER, freshStoreForEachTest, payment, sampleRows, table, toCsv, type Row } from './helpers.ts';

describe('ingest: one row per key', () => {
  let store: Store;
  let dir: string;
  freshStoreForEachTest((s) => ({ store, dir } = s));

  const rows = (n: number, from = 1): Row[] =>
    Array.from({ length: n }, (_, i) => payment(`P${String(from + i).padStart(4, '0')}`, { amount: `${(from + i) * 10}.00` }));

  async function load(name: string, content: Row[], header = PAYMENT_HEADER, tableName = 'treasury.payments') {
    const file = join(dir, name);
    writeFileSync(file, toCsv(header, content));
    const [r] = await ingestPath(store, file, { table: tableName });
    return r!;
  }

  async function keyCounts(t: string, key: string): Promise<{ n: string; k: string }> {
    return (await store.one<{ n: string; k: string }>(`SELECT count(*) AS n, count(DISTINCT ${key}) AS k FROM ${t}`))!;
  }

  it('a clean file that repeats one key (a first load): the second is quarantined, every other row is in', async () => {
    const file = rows(20);
    file[14] = payment('P0003', { amount: '1.00' }); // line 16 repeats line 4's key
    const r = await load('dup.csv', file);
    expect(r).toMatchObject({ status: 'committed', rows_read: 20, accepted: 19, rejected: 1, inserted: 19 });
    expect(await keyCounts('treasury.payments', 'payment_id')).toEqual({ n: '19', k: '19' });
    const q = await store.all<{ line: string; reason: string }>('SELECT line, reason FROM fiscus.quarantine WHERE batch_id = $b', { b: r.batch_id });
    expect(q).toHaveLength(1);
    expect(q[0]!.line).toBe('16');
    expect(q[0]!.reason).toMatch(/^payment_id: duplicate key P0003, first at line 4/);
    // The stored row is the first one, not the repeat.
    expect(await store.one("SELECT CAST(amount AS VARCHAR) AS a FROM treasury.payments WHERE payment_id = 'P0003'")).toEqual({ a: '30.00' });
  });

  it('a clean file that re-sends stored keys with new values corrects them instead of adding rows', async () => {
    await load('first.csv', rows(10));
    const again = [...rows(5, 6).map((p) => ({ ...p, amount: '999.00' })), ...rows(3, 11)]; // P0006-P0010 changed, P0011-P0013 new
    const r = await load('second.csv', again);
    expect(r).toMatchObject({ status: 'committed', inserted: 3, corrected: 5, unchanged: 0 });
    expect(await keyCounts('treasury.payments', 'payment_id')).toEqual({ n: '13', k: '13' });
    expect(await store.one("SELECT count(*) AS n FROM treasury.payments WHERE amount = 999")).toEqual({ n: '5' });
  });

  it('a composite key (region_code, fiscal_year) is checked as a whole', async () => {
    const t = table('ref.budget_sessions');
    const header = t.columns.map((c) => c.name);
    // 40 regions: one bad row of 41 stays under the batch's reject threshold.
    const base = sampleRows(t, 40).map((x, i) => ({ ...x, region_code: `3700${String(i).padStart(2, '0')}`, fiscal_year: '2025' }));
    const first = await load('sessions.csv', base, header, t.name);
    expect(first).toMatchObject({ status: 'committed', inserted: 40 });
    // The same regions in another year are new keys; one repeated (region, year) is not.
    const next = [...base.map((x) => ({ ...x, fiscal_year: '2026' })), { ...base[0]!, fiscal_year: '2026' }];
    const r = await load('sessions-2026.csv', next, header, t.name);
    expect(r).toMatchObject({ status: 'committed', inserted: 40, rejected: 1 });
    expect(await store.one("SELECT count(*) AS n, count(DISTINCT (region_code, fiscal_year)) AS k FROM ref.budget_sessions")).toEqual({ n: '80', k: '80' });
    // The first-load form hashes the key as a whole: 40 regions in two years repeat each column, not the key.
    expect(await keysClash(store, t, r.batch_id, true)).toBe(false);
    await store.run(`INSERT INTO ref.budget_sessions SELECT * REPLACE ('other' AS _batch_id) FROM ref.budget_sessions
      WHERE region_code = '370007' AND fiscal_year = 2026`);
    expect(await keysClash(store, t, r.batch_id, true)).toBe(true);
  });

  it('keysClash tells a batch that repeats a key from one that does not', async () => {
    const r = await load('ok.csv', rows(5));
    expect(await keysClash(store, table('treasury.payments'), r.batch_id)).toBe(false);
    // What the check guards against: a row of the same key written beside it.
    await store.run(`INSERT INTO treasury.payments SELECT * REPLACE ('other' AS _batch_id) FROM treasury.payments WHERE payment_id = 'P0002'`);
    expect(await keysClash(store, table('treasury.payments'), r.batch_id)).toBe(true);
    // The first-load form (the batch is the whole table) sees it too.
    expect(await keysClash(store, table('treasury.payments'), r.batch_id, true)).toBe(true);
    await store.run("DELETE FROM treasury.payments WHERE _batch_id = 'other'");
    expect(await keysClash(store, table('treasury.payments'), r.batch_id, true)).toBe(false);
  });
});
