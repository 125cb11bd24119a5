/**
 * Authorisation and scope: no token → 401, wrong role → 403, and an agency token never
 * sees another agency's flag in any endpoint (list, detail, alerts, SSE, stats, actions).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import type { Store } from '../../engine/db.ts';
import { performAction } from '../../tracker/index.ts';
import { getJson, insertFlags, openSse, seedAgencies, startServer, T, tempStore } from './helpers.ts';

let store: Store;
let app: FastifyInstance;
let url: string;
let cleanup: () => Promise<void>;

// D01 is a department with units A0101 and A0102; B0201 is another agency.
const FLAGS = [
  { flag_id: 'D-OWN', agency_code: 'D01' },
  { flag_id: 'A1-1', agency_code: 'A0101' },
  { flag_id: 'A1-2', agency_code: 'A0101', severity: 'low' },
  { flag_id: 'A2-1', agency_code: 'A0102' },
  { flag_id: 'B-1', agency_code: 'B0201', region_code: '370812' },
  { flag_id: 'B-2', agency_code: 'B0201', region_code: '370812' },
  { flag_id: 'REGION', agency_code: null },
];

beforeAll(async () => {
  ({ store, cleanup } = await tempStore());
  await seedAgencies(store);
  await insertFlags(store, FLAGS);
  // A flag of B0201 assigned (by the tracker) to A0101: A0101 must answer it, so it sees it.
  // Through the tracker, so the assignment is in the event log the figures are rebuilt from.
  await insertFlags(store, [{ flag_id: 'B-ASSIGNED-A1', agency_code: 'B0201' }]);
  const sup = { name: '王秘书', role: 'supervisor' as const };
  await performAction(store, 'B-ASSIGNED-A1', { action: 'confirm' }, sup);
  await performAction(store, 'B-ASSIGNED-A1', { action: 'assign', to: 'A0101', due: '2030-06-28' }, sup);
  ({ app, url } = await startServer(store));
});
afterAll(async () => {
  await app.close();
  await cleanup();
});

const visible: Record<string, string[]> = {
  [T.dept]: ['D-OWN', 'A1-1', 'A1-2', 'A2-1', 'B-ASSIGNED-A1'],
  [T.unit]: ['A1-1', 'A1-2', 'B-ASSIGNED-A1'],
  [T.other]: ['B-1', 'B-2', 'B-ASSIGNED-A1'],
};
const allIds = [...FLAGS.map((f) => f.flag_id), 'B-ASSIGNED-A1'];

async function listIds(token: string, qs = ''): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | null = null;
  do {
    const { status, body } = await getJson(`${url}/v1/flags?limit=2${qs}${cursor ? `&cursor=${cursor}` : ''}`, token);
    expect(status).toBe(200);
    ids.push(...body.items.map((f: any) => f.flag_id));
    cursor = body.next_cursor;
  } while (cursor);
  return ids.sort();
}

describe('authentication and roles', () => {
  it('no or unknown token → 401 problem; wrong role → 403 problem', async () => {
    for (const token of [undefined, 'nope-nope-nope-nope']) {
      const r = await getJson(`${url}/v1/flags`, token);
      expect(r.status).toBe(401);
      expect(r.type).toContain('application/problem+json');
      expect(r.body).toMatchObject({ status: 401, code: 'UNAUTHORIZED' });
    }
    const portal = await getJson(`${url}/v1/flags`, T.portal);
    expect(portal.status).toBe(403);
    expect(portal.type).toContain('application/problem+json');
    const q = await getJson(`${url}/v1/query`, T.unit, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ sql: 'SELECT 1' }) });
    expect(q.status).toBe(403);
    const unknown = await getJson(`${url}/v1/nothing`, T.analyst);
    expect(unknown.status).toBe(404);
    expect(unknown.type).toContain('application/problem+json');
  });

  it('health endpoints need no token', async () => {
    expect((await getJson(`${url}/healthz`, undefined)).body).toEqual({ status: 'ok' });
    expect((await getJson(`${url}/readyz`, undefined)).body.status).toBe('ready');
  });
});

describe('agency scope', () => {
  it('flag list: analysts see all; agency tokens see their own, their units and what is assigned to them', async () => {
    expect(await listIds(T.analyst)).toEqual([...allIds].sort());
    for (const [token, ids] of Object.entries(visible)) {
      expect(await listIds(token)).toEqual([...ids].sort());
      // Filtering by another agency cannot widen the scope.
      expect(await listIds(token, '&agency=B0201,A0102,D01,A0101')).toEqual([...ids].sort());
    }
  });

  it('flag detail: another agency\'s flag is a 404, same as a flag that does not exist', async () => {
    for (const [token, ids] of Object.entries(visible)) {
      for (const id of allIds) {
        const r = await getJson(`${url}/v1/flags/${id}`, token);
        if (ids.includes(id)) {
          expect(r.status).toBe(200);
          expect(r.body.flag_id).toBe(id);
        } else {
          expect(r.status).toBe(404);
          expect(r.type).toContain('application/problem+json');
          expect(JSON.stringify(r.body)).not.toContain('treasury.split_payment');
        }
      }
    }
  });

  it('alerts (pull and SSE) only carry the token\'s flags', async () => {
    for (const [token, ids] of Object.entries(visible)) {
      const { body } = await getJson(`${url}/v1/alerts?limit=1000`, token);
      expect([...new Set(body.items.map((i: any) => i.flag_id))].sort()).toEqual([...ids].sort());
      const s = openSse(`${url}/v1/alerts/stream`, token);
      const seen = new Set<string>();
      for (;;) {
        const ev = await s.next(1000);
        if (!ev) break;
        seen.add(JSON.parse(ev.data).flag_id);
      }
      await s.close();
      expect([...seen].sort()).toEqual([...ids].sort());
    }
  });

  it('actions on another agency\'s flag → 404; stats cover only the agency\'s own flags', async () => {
    const r = await getJson(`${url}/v1/flags/B-1/actions`, T.unit, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ action: 'explain', note: '情况说明' }),
    });
    expect(r.status).toBe(404);
    expect(r.type).toContain('application/problem+json');
    for (const token of [T.unit, T.dept, T.other]) {
      const st = await getJson(`${url}/v1/stats`, token);
      expect(st.status).toBe(200);
      expect(st.body.totals.discovered).toBe(visible[token]!.length);
      const agencies = st.body.by_agency.map((a: { agency: string }) => a.agency);
      expect(agencies.every((a: string) => !a.startsWith('B') || token === T.other || a === 'A0101')).toBe(true);
    }
    const ana = await getJson(`${url}/v1/stats`, T.analyst);
    expect(ana.status).toBe(200);
    expect(ana.body.totals.discovered).toBe(allIds.length);
    // As of a day before any flag was raised there was nothing to count; a bad day is a 400 problem.
    const before = await getJson(`${url}/v1/stats?as_of=2000-01-01`, T.analyst);
    expect(before.status).toBe(200);
    expect(before.body.scope.as_of).toBe('2000-01-01');
    expect(before.body.totals.discovered).toBe(0);
    const bad = await getJson(`${url}/v1/stats?as_of=2025-02-30`, T.analyst);
    expect(bad.status).toBe(400);
    expect(bad.type).toContain('application/problem+json');
    expect(JSON.stringify(bad.body)).toContain('as_of');
    // Nothing changed on B-1.
    const b1 = await store.one<{ status: string }>("SELECT status FROM fiscus.flags WHERE flag_id = 'B-1'");
    expect(b1?.status).toBe('discovered');
  });

  it('an agency token takes its own unit step through the tracker; the event reaches the feed', async () => {
    // Supervisor confirms and assigns A1-1 to A0101; the unit explains.
    const post = (token: string, body: unknown) =>
      getJson(`${url}/v1/flags/A1-1/actions`, token, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect((await post(T.supervisor, { action: 'confirm' })).status).toBe(200);
    const assign = await post(T.supervisor, { action: 'assign', to: 'A0101' });
    expect(assign.status).toBe(200);
    expect(assign.body.flag.status).toBe('assigned');
    // A unit may not take the committee's decisions (tracker role rules).
    const verify = await post(T.unit, { action: 'verify' });
    expect(verify.status).toBeGreaterThanOrEqual(400);
    expect(verify.status).toBeLessThan(500);
    expect(verify.type).toContain('application/problem+json');
    const explain = await post(T.unit, { action: 'explain', note: '系正常分批采购，附合同' });
    expect(explain.status).toBe(200);
    expect(explain.body.event).toMatchObject({ type: 'flag.explained', actor: 'unit-a0101', role: 'agency' });
    // Bad body: validated by trackActionSchema.
    const bad = await post(T.unit, { action: 'explain' });
    expect(bad.status).toBe(400);
    expect(bad.type).toContain('application/problem+json');
    const feed = await getJson(`${url}/v1/alerts?limit=1000`, T.unit);
    const types = feed.body.items.filter((i: any) => i.flag_id === 'A1-1').map((i: any) => i.event.type);
    expect(types).toEqual(['flag.discovered', 'flag.confirmed', 'flag.assigned', 'flag.explained']);
    const other = await getJson(`${url}/v1/alerts?limit=1000`, T.other);
    expect(other.body.items.some((i: any) => i.flag_id === 'A1-1')).toBe(false);
  });
});
