/**
 * The server's writers share the Store's one exclusive section: an admin ingest over HTTP and a
 * tracker action over HTTP sent while it runs do not overlap (issue 10: the API mutex, the tracker
 * lock and the Store queue were three locks, so they did).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import type { Store } from '../../engine/db.ts';
import { testEngine } from '../helpers/postgres.ts';
import { PAYMENT_HEADER, payment, toCsv } from '../ingest/helpers.ts';
import { auth, insertFlags, seedAgencies, startServer, T, tempStore } from './helpers.ts';

let store: Store;
let app: FastifyInstance;
let url: string;
let cleanup: () => Promise<void>;

beforeAll(async () => {
  let dir: string;
  ({ store, dir, cleanup } = await tempStore());
  await seedAgencies(store);
  await insertFlags(store, [{ flag_id: 'W-1', agency_code: 'A0101' }]);
  const ingestDir = join(dir, 'ingest');
  mkdirSync(ingestDir);
  // Rejected rows send the batch down the full path: many statements to interleave with.
  const rows = Array.from({ length: 8_000 }, (_, i) => payment(`P${i}`, i % 499 === 0 ? { amount: 'n/a' } : {}));
  writeFileSync(join(ingestDir, 'treasury.payments.csv'), toCsv(PAYMENT_HEADER, rows));
  ({ app, url } = await startServer(store, { ingestDir }));
});
afterAll(async () => {
  await app.close();
  await cleanup();
});

const post = (path: string, token: string, body: unknown) =>
  fetch(`${url}${path}`, { method: 'POST', headers: { ...auth(token), 'content-type': 'application/json' }, body: JSON.stringify(body) });

// DuckDB only: the test sees the batch under way by its temp tables, which on PostgreSQL live in
// ingest's private DuckDB staging database. The lock itself is engine/store-core.ts, the same code on both.
describe.skipIf(testEngine() === 'postgres')('one write lock in the server', () => {
  it('a tracker action sent during an admin ingest waits for the batch to commit', async () => {
    const ingest = post('/v1/ingest', T.admin, { source: 'treasury.payments.csv' });
    // Wait until the batch is under way (its row exists only at the end, so watch the temp tables).
    let underWay = false;
    for (let i = 0; i < 400 && !underWay; i++) {
      const t = await store.one<{ n: string }>("SELECT count(*) AS n FROM duckdb_tables() WHERE temporary AND table_name LIKE 'fiscus_%'");
      underWay = Number(t?.n) > 0;
      if (!underWay) await new Promise((r) => setTimeout(r, 5));
    }
    expect(underWay).toBe(true);
    const action = post('/v1/flags/W-1/actions', T.supervisor, { action: 'confirm' });
    const [ir, ar] = await Promise.all([ingest, action]);
    expect(ir.status).toBe(200);
    expect(ar.status).toBe(200);
    const report = ((await ir.json()) as { reports: { status: string; rejected: number; finished_at: string }[] }).reports[0]!;
    const acted = (await ar.json()) as { event: { at: string } };
    expect(report.status).toBe('committed');
    expect(report.rejected).toBeGreaterThan(0);
    expect(Date.parse(acted.event.at)).toBeGreaterThanOrEqual(Date.parse(report.finished_at));
  });
});
