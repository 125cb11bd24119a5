/**
 * The response cache of the alert feed and the flag list: repeated polls are
 * answered from cache, and no cached answer survives a write or crosses scopes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import type { Store } from '../../engine/db.ts';
import { appendEvent, auth, insertFlags, seedAgencies, startServer, T, tempStore } from './helpers.ts';

let store: Store;
let app: FastifyInstance;
let url: string;
let cleanup: () => Promise<void>;

beforeAll(async () => {
  ({ store, cleanup } = await tempStore());
  await seedAgencies(store);
  await insertFlags(store, [
    { flag_id: 'A1-1', agency_code: 'A0101' },
    { flag_id: 'B-1', agency_code: 'B0201', region_code: '370812' },
  ]);
  ({ app, url } = await startServer(store));
});
afterAll(async () => {
  await app.close();
  await cleanup();
});

async function get(path: string, token: string) {
  const res = await fetch(`${url}${path}`, { headers: auth(token) });
  return { status: res.status, cache: res.headers.get('fiscus-cache'), body: (await res.json()) as any };
}

describe('response cache', () => {
  it('answers a repeated poll from cache with the same body', async () => {
    const first = await get('/v1/flags?limit=10', T.analyst);
    const second = await get('/v1/flags?limit=10', T.analyst);
    expect(first.cache).toBeNull();
    expect(second.cache).toBe('hit');
    expect(second.body).toEqual(first.body);
  });

  it('never serves a cached answer across scopes', async () => {
    await get('/v1/flags?limit=10', T.analyst);
    const unit = await get('/v1/flags?limit=10', T.unit);
    expect(unit.body.items.map((f: { flag_id: string }) => f.flag_id)).toEqual(['A1-1']);
  });

  it('drops cached answers after a tracker action through the server', async () => {
    const before = await get('/v1/flags?limit=10', T.supervisor);
    expect(before.body.items.find((f: { flag_id: string }) => f.flag_id === 'A1-1').status).toBe('discovered');
    const act = await fetch(`${url}/v1/flags/A1-1/actions`, {
      method: 'POST',
      headers: { ...auth(T.supervisor), 'content-type': 'application/json' },
      body: JSON.stringify({ action: 'confirm' }),
    });
    expect(act.status).toBe(200);
    const after = await get('/v1/flags?limit=10', T.supervisor);
    expect(after.cache).toBeNull();
    expect(after.body.items.find((f: { flag_id: string }) => f.flag_id === 'A1-1').status).toBe('confirmed');
  });

  it('drops cached feed pages when another writer appends an event', async () => {
    const before = await get('/v1/alerts?limit=100', T.portal);
    await appendEvent(store, 'B-1', 'flag.overdue');
    const after = await get('/v1/alerts?limit=100', T.portal);
    expect(after.cache).toBeNull();
    expect(after.body.items.length).toBe(before.body.items.length + 1);
  });
});
