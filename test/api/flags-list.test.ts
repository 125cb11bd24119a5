/**
 * GET /v1/flags through the one filter encoding and listing query (flags/): every
 * filter by its querystring name, keyset pages, and the doors — a filter that tries to
 * widen a token's scope, unknown values, forged cursors — over real HTTP.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import type { Store } from '../../engine/db.ts';
import { flagRecordSchema } from '../../flags/schema.ts';
import { performAction } from '../../tracker/index.ts';
import { getJson, insertFlags, seedAgencies, startServer, T, tempStore } from './helpers.ts';

let store: Store;
let cleanup: () => Promise<void>;
let app: FastifyInstance;
let base: string;

beforeAll(async () => {
  ({ store, cleanup } = await tempStore());
  await seedAgencies(store);
  await insertFlags(store, [
    { flag_id: 'L1', agency_code: 'A0101', severity: 'high', amount: '100.00', first_seen_at: '2026-01-01T00:00:00Z' },
    { flag_id: 'L2', agency_code: 'A0102', severity: 'medium', amount: '5000.00', first_seen_at: '2026-01-02T00:00:00Z' },
    { flag_id: 'L3', agency_code: 'B0201', region_code: '370812', severity: 'low', amount: null, rule_id: 'debt.ratio', first_seen_at: '2026-01-03T00:00:00Z' },
    { flag_id: 'L4', agency_code: 'A0101', severity: 'low', amount: '7.50', first_seen_at: '2026-01-04T00:00:00Z' },
  ]);
  const sup = { name: 'sup', role: 'supervisor' as const };
  await performAction(store, 'L1', { action: 'confirm' }, sup);
  // Due long ago: overdue today.
  await performAction(store, 'L1', { action: 'assign', to: 'A0101', due: '2026-01-09' }, sup, { at: new Date('2026-01-05T02:00:00Z') });
  ({ app, url: base } = await startServer(store));
});

afterAll(async () => {
  await app?.close();
  await cleanup();
});

const ids = async (query: string, token = T.analyst) => {
  const r = await getJson(`${base}/v1/flags?${query}`, token);
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  for (const f of r.body.items) flagRecordSchema.strict().parse(f);
  return (r.body.items as { flag_id: string }[]).map((f) => f.flag_id);
};

describe('GET /v1/flags filters', () => {
  it('lists, subtrees, overdue, text and sorts by their querystring names', async () => {
    expect(await ids('')).toEqual(['L4', 'L3', 'L2', 'L1']);
    expect(await ids('sort=oldest')).toEqual(['L1', 'L2', 'L3', 'L4']);
    expect(await ids('severity=high,low&sort=oldest')).toEqual(['L1', 'L3', 'L4']);
    expect(await ids('status=assigned,rectifying')).toEqual(['L1']);
    expect(await ids('agency=D01&sort=oldest')).toEqual(['L1', 'L2', 'L4']);
    expect(await ids('region=370812')).toEqual(['L3']);
    expect(await ids('rule=debt.ratio')).toEqual(['L3']);
    expect(await ids('overdue=true')).toEqual(['L1']);
    expect(await ids('sort=amount')).toEqual(['L2', 'L1', 'L4', 'L3']);
    expect(await ids(`q=${encodeURIComponent('L3')}`)).toEqual(['L3']);
    expect(await ids(`q=${encodeURIComponent('%')}`)).toEqual([]);
  });

  it('pages by keyset cursor until next_cursor is null', async () => {
    const seen: string[] = [];
    let cursor = '';
    for (let i = 0; i < 5; i++) {
      const r = await getJson(`${base}/v1/flags?sort=severity&limit=1${cursor ? `&cursor=${cursor}` : ''}`, T.analyst);
      expect(r.status).toBe(200);
      seen.push(...r.body.items.map((f: { flag_id: string }) => f.flag_id));
      if (!r.body.next_cursor) break;
      cursor = r.body.next_cursor;
    }
    expect(seen).toEqual(['L1', 'L2', 'L4', 'L3']);
  });

  it('a filter never widens a token’s scope', async () => {
    expect(await ids('agency=B0201', T.unit)).toEqual([]);
    expect(await ids('agency=D01', T.unit)).toEqual(['L4', 'L1']);
    expect(await ids('', T.other)).toEqual(['L3']);
    expect(await ids(`q=${encodeURIComponent("' OR 1=1 --")}`, T.other)).toEqual([]);
  });

  it('unknown values and forged cursors are 400 problems that say what is wrong', async () => {
    const bad = await getJson(`${base}/v1/flags?status=asigned`, T.analyst);
    expect(bad.status).toBe(400);
    expect(bad.type).toContain('application/problem+json');
    expect(JSON.stringify(bad.body)).toMatch(/did you mean \\"assigned\\"/);
    expect((await getJson(`${base}/v1/flags?severity=urgent`, T.analyst)).status).toBe(400);
    expect((await getJson(`${base}/v1/flags?period_from=2026-02-30`, T.analyst)).status).toBe(400);
    expect((await getJson(`${base}/v1/flags?sort=hash`, T.analyst)).status).toBe(400);
    const page = await getJson(`${base}/v1/flags?sort=amount&limit=1`, T.analyst);
    const other = await getJson(`${base}/v1/flags?sort=newest&cursor=${page.body.next_cursor}`, T.analyst);
    expect(other.status).toBe(400);
    expect(other.type).toContain('application/problem+json');
    const forged = Buffer.from(JSON.stringify(['k1', 'newest', "x'; DROP TABLE fiscus.flags; --", 'L1'])).toString('base64url');
    const f = await getJson(`${base}/v1/flags?cursor=${forged}`, T.analyst);
    expect(f.status, JSON.stringify(f.body)).toBe(400);
    expect(await ids('')).toHaveLength(4);
  });
});
