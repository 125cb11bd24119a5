/**
 * What ingest leaves PostgreSQL's planner: the agency indexes of migration 9 and fresh
 * statistics after a bulk load (without them the rules' evidence lists scan the whole
 * table once per finding). Runs on the run's private PostgreSQL 15.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openStore } from '../../engine/db.ts';
import { ingestPath } from '../../ingest/index.ts';
import { freshDatabase } from '../helpers/postgres.ts';
import { payment, table, tempDir, writeCsv } from './helpers.ts';

const havePg = !!process.env.FISCUS_TEST_PG_URL;
const PAYMENTS = table('treasury.payments');
const header = PAYMENTS.columns.map((c) => c.name);

describe.skipIf(!havePg)('ingest into PostgreSQL', () => {
  it('indexes agency_code and analyses a table a batch grew by a tenth or more, not one it barely changed', async () => {
    const store = await openStore(await freshDatabase('ingest_stats'));
    try {
      const indexes = await store.all<{ indexname: string }>(
        `SELECT indexname FROM pg_indexes WHERE schemaname = 'treasury' AND tablename = 'payments' ORDER BY indexname`,
      );
      expect(indexes.map((r) => r.indexname)).toEqual(['payments_agency_code', 'payments_pkey']);

      const analyses = async () =>
        Number((await store.one<{ n: string }>(`SELECT analyze_count AS n FROM pg_stat_user_tables WHERE schemaname = 'treasury' AND relname = 'payments'`))?.n ?? 0);
      const dir = tempDir();
      const first = Array.from({ length: 200 }, (_, i) => payment(`P${String(i).padStart(4, '0')}`));
      const [r1] = await ingestPath(store, writeCsv(join(dir, 'treasury.payments.csv'), header, first));
      expect(r1!.status).toBe('committed');
      // pg_stat counters arrive asynchronously: wait for the ANALYZE to show.
      for (let i = 0; i < 50 && (await analyses()) === 0; i++) await new Promise((r) => setTimeout(r, 100));
      expect(await analyses()).toBe(1);
      const tuples = await store.one<{ n: string }>(`SELECT reltuples AS n FROM pg_class WHERE oid = 'treasury.payments'::regclass`);
      expect(Number(tuples!.n)).toBe(200);

      // 5 more rows (2.5%): left to autovacuum.
      const more = Array.from({ length: 5 }, (_, i) => payment(`Q${i}`));
      const [r2] = await ingestPath(store, writeCsv(join(tempDir(), 'treasury.payments.csv'), header, more));
      expect(r2!.status, r2!.message).toBe('committed');
      expect(r2!.inserted).toBe(5);
      await new Promise((r) => setTimeout(r, 700));
      expect(await analyses()).toBe(1);
    } finally {
      await store.close();
    }
  });

  it('warns about codes the reference tables do not know, with counts and the first five codes in order', async () => {
    const store = await openStore(await freshDatabase('ingest_refs'));
    try {
      await store.run(`INSERT INTO ref.agencies (agency_code, agency_name, dept_code, region_code, _batch_id, _row_hash, _ingested_at)
        VALUES ('0101', '某局', '01', '370882', 'seed', '1', now())`);
      const rows = [
        ...Array.from({ length: 3 }, (_, i) => payment(`K${i}`)),
        ...['0907', '0902', '0906', '0901', '0905', '0903', '0904'].map((a, i) => payment(`U${i}`, { agency_code: a })),
        payment('U9', { agency_code: '0901' }),
      ];
      const [r] = await ingestPath(store, writeCsv(join(tempDir(), 'treasury.payments.csv'), header, rows));
      expect(r!.status, r!.message).toBe('committed');
      expect(r!.warnings).toContainEqual(
        expect.stringMatching(/^warning: 8 rows with 7 agency_code values unknown to ref\.agencies: 0901, 0902, 0903, 0904, 0905, … — 8行的单位代码/),
      );
    } finally {
      await store.close();
    }
  });
});
