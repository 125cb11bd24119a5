/**
 * The one-pass load reads a CSV without DuckDB's rejects table (`strictSelect`): it relies on
 * DuckDB raising on exactly the lines the full path's read records as rejects, so that a broken
 * file always falls back to the full path and nothing broken is loaded silently.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Store } from '../../engine/db.ts';
import { ingestPath } from '../../ingest/index.ts';
import { openSource } from '../../ingest/source.ts';
import { PAYMENT_HEADER, freshStoreForEachTest, payment, type Row } from './helpers.ts';

const lines = (rows: Row[]) => rows.map((x) => PAYMENT_HEADER.map((h) => x[h]).join(','));
const good = (n: number) =>
  Array.from({ length: n }, (_, i) => payment(`P${String(i + 1).padStart(4, '0')}`, { amount: `${i + 1}00.00` }));

/**
 * Broken lines, each inserted as the file's 5th data line (physical line 6), and what the load
 * of 30 good rows around it ends as: an unterminated quote swallows the rest of the file into
 * one broken record, so only 4 rows read well and the batch is over its reject threshold.
 */
const BROKEN: Record<string, { line: string; status: string }> = {
  'too few fields': { line: 'P9999,2025,too,few', status: 'committed' },
  'too many fields': { line: `${lines(good(1))[0]!.replace('P0001', 'P9999')},surplus`, status: 'committed' },
  'an unterminated quote': { line: lines(good(1))[0]!.replace('P0001', 'P9999').replace('办公用品', '"办公用品'), status: 'rolled_back' },
};

describe.runIf((process.env.FISCUS_TEST_ENGINE ?? 'duckdb') === 'duckdb')('ingest: the one-pass read raises where the full read records a reject', () => {
  let store: Store;
  let dir: string;
  freshStoreForEachTest((s) => ({ store, dir } = s));

  function fileWith(name: string, broken: string | null): string {
    const rows = lines(good(30));
    if (broken !== null) rows.splice(4, 0, broken);
    const file = join(dir, `treasury.payments.${name.replaceAll(' ', '-')}.csv`);
    writeFileSync(file, `${PAYMENT_HEADER.join(',')}\n${rows.join('\n')}\n`);
    return file;
  }

  for (const [kind, { line: broken, status }] of Object.entries(BROKEN)) {
    it(`${kind}: the strict read raises, the full read records it, the load quarantines it`, async () => {
      const file = fileWith(kind, broken);
      const src = await openSource(store, 'csv', file, { skipRows: 0, tag: 'fp', staged: false, totals: [], tmp: dir, source: file });
      expect(src.strictSelect).toBeDefined();
      await expect(store.all(src.strictSelect!)).rejects.toThrow(/CSV Error on Line/);
      const recorded = await store.all(src.select);
      const rejects = await store.all(`SELECT line FROM ${src.rejectsTable}`);
      expect(rejects.length).toBeGreaterThan(0);
      expect(recorded.length).toBeLessThan(31);
      for (const t of src.temps) await store.run(`DROP TABLE IF EXISTS ${t}`);

      const [r] = await ingestPath(store, file, { maxReject: 0.1 });
      expect(r).toMatchObject({ status, rows_read: recorded.length + 1, rejected: 1 });
      const q = await store.all<{ line: string; column_name: string | null }>(
        'SELECT line, column_name FROM fiscus.quarantine WHERE batch_id = $b ORDER BY line',
        { b: r!.batch_id },
      );
      expect(q[0]).toEqual({ line: '6', column_name: null });
      // Nothing of the aborted one-pass attempt is left: each accepted row is in the table once.
      expect(await store.one('SELECT count(*) AS n, count(DISTINCT payment_id) AS d FROM treasury.payments')).toEqual({
        n: String(r!.accepted),
        d: String(r!.accepted),
      });
      expect(await store.one("SELECT count(*) AS n FROM treasury.payments WHERE payment_id = 'P9999'")).toEqual({ n: '0' });
    });
  }

  it('a clean file reads the same rows through either select', async () => {
    const file = fileWith('clean', null);
    const src = await openSource(store, 'csv', file, { skipRows: 0, tag: 'fp2', staged: false, totals: [], tmp: dir, source: file });
    expect(await store.all(`${src.strictSelect!} ORDER BY r0`)).toEqual(await store.all(`${src.select} ORDER BY r0`));
    expect(await store.all(`SELECT * FROM ${src.rejectsTable}`)).toEqual([]);
    const [r] = await ingestPath(store, file);
    expect(r).toMatchObject({ status: 'committed', accepted: 30, rejected: 0, inserted: 30 });
  });
});
