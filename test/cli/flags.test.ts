/**
 * `fiscus flags` reads the one filter encoding (flags/filter.ts): the same names and
 * text form locally and through `--api`, with the same answer; mistakes are usage errors.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { openStore, type Store } from '../../engine/db.ts';
import { performAction } from '../../tracker/index.ts';
import { cli } from '../tracker/helpers.ts';
import { insertFlags, seedAgencies, startServer, T, tempStore } from '../api/helpers.ts';

let dir: string;
let db: string;
let cleanup: () => Promise<void>;

beforeAll(async () => {
  const t = await tempStore();
  ({ dir, cleanup } = t);
  db = `${dir}/db.duckdb`;
  await seedAgencies(t.store);
  await t.store.run("INSERT INTO ref.regions VALUES ('370800', '济宁市', NULL, 'city', NULL, 'b', '1', now()), ('370811', '任城区', '370800', 'county', NULL, 'b', '1', now()), ('370812', '兖州区', '370800', 'county', NULL, 'b', '1', now())");
  await insertFlags(t.store, [
    { flag_id: 'K1', agency_code: 'A0101', amount: '100.00', first_seen_at: '2026-01-01T00:00:00Z' },
    { flag_id: 'K2', agency_code: 'B0201', region_code: '370812', amount: '900.00', fiscal_year: 2024, first_seen_at: '2026-01-02T00:00:00Z' },
    { flag_id: 'K3', agency_code: 'A0102', amount: '50.00', first_seen_at: '2026-01-03T00:00:00Z' },
  ]);
  const sup = { name: 'sup', role: 'supervisor' as const };
  await performAction(t.store, 'K3', { action: 'confirm' }, sup);
  await performAction(t.store, 'K3', { action: 'assign', to: 'A0102', due: '2026-01-09' }, sup, { at: new Date('2026-01-05T02:00:00Z') });
  await t.store.close();
});

afterAll(async () => {
  await cleanup();
});

const ids = async (...args: string[]) => {
  const r = await cli(db, 'flags', ...args, '--format', 'json');
  expect(r.code, r.err).toBe(0);
  return (JSON.parse(r.out) as { flag_id: string }[]).map((f) => f.flag_id);
};

describe('fiscus flags filters', () => {
  it('region subtree, year, text, overdue and sort', async () => {
    expect(await ids('--region', '370800')).toEqual(['K1', 'K2', 'K3']);
    expect(await ids('--region', '370812')).toEqual(['K2']);
    expect(await ids('--fiscal-year', '2024')).toEqual(['K2']);
    expect(await ids('--text', 'K3')).toEqual(['K3']);
    expect(await ids('--overdue')).toEqual(['K3']);
    expect(await ids('--sort', 'amount')).toEqual(['K2', 'K1', 'K3']);
    expect(await ids('--sort', 'newest', '--period-to', '2025-03-03')).toEqual(['K3', 'K2', 'K1']);
    expect(await ids('--period-from', '2025-04-01')).toEqual([]);
  });

  it('mistakes are usage errors naming the option', async () => {
    const day = await cli(db, 'flags', '--period-to', '2026-02-30');
    expect(day.code).toBe(2);
    expect(day.err).toMatch(/--period-to/);
    const year = await cli(db, 'flags', '--fiscal-year', 'abc');
    expect(year.code).toBe(2);
    expect(year.err).toMatch(/--fiscal-year/);
    expect((await cli(db, 'flags', '--sort', 'hash')).code).toBe(2);
    const region = await cli(db, 'flags', '--region', '370813');
    expect(region.code).toBe(2);
    expect(region.err).toMatch(/did you mean "37081[12]"/);
  });

  it('fiscus track list reads the same filter names and lists', async () => {
    const list = async (...args: string[]) => {
      const r = await cli(db, 'track', 'list', ...args, '--format', 'json');
      expect(r.code, r.err).toBe(0);
      return (JSON.parse(r.out) as { flag_id: string }[]).map((f) => f.flag_id).sort();
    };
    expect(await list('--agency', 'A0101,B0201')).toEqual(['K1', 'K2']);
    expect(await list('--region', '370812')).toEqual(['K2']);
    expect(await list('--text', 'K3', '--status', 'assigned')).toEqual(['K3']);
    expect(await list('--severity', 'high,low')).toEqual(['K1', 'K2', 'K3']);
    const bad = await cli(db, 'track', 'list', '--severity', 'hgih');
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/did you mean "high"/);
  });

  it('--api gives the same answer by the same names', async () => {
    const cases = [['--region', '370800', '--sort', 'amount'], ['--overdue'], ['--text', 'K1'], ['--fiscal-year', '2024'], ['--status', 'assigned']];
    // Locally first: in one process the CLI would share (and close) the server's Store.
    const locals = [];
    for (const args of cases) locals.push(await ids(...args));
    const store: Store = await openStore(db);
    let app: FastifyInstance | undefined;
    try {
      const s = await startServer(store);
      app = s.app;
      for (const [i, args] of cases.entries()) {
        const local = locals[i];
        const viaApi = await cli(db, 'flags', ...args, '--format', 'json', '--api', s.url, '--token', T.analyst);
        expect(viaApi.code, viaApi.err).toBe(0);
        expect((JSON.parse(viaApi.out) as { flag_id: string }[]).map((f) => f.flag_id), args.join(' ')).toEqual(local);
      }
    } finally {
      await app?.close();
      await store.close();
    }
  });
});
