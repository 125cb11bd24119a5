/**
 * GET /v1/alerts/stream?from=now: a new listener gets only events committed after it
 * subscribed; without it the stream replays the log; a cursor (or Last-Event-ID) wins
 * over `from`, so a reconnect still resumes where it stopped; a bad value is a 400 problem.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import type { Store } from '../../engine/db.ts';
import { getJson, insertFlags, openSse, seedAgencies, startServer, T, tempStore } from './helpers.ts';

let store: Store;
let app: FastifyInstance;
let url: string;
let cleanup: () => Promise<void>;

beforeAll(async () => {
  const t = await tempStore();
  store = t.store;
  cleanup = t.cleanup;
  await seedAgencies(store);
  await insertFlags(store, [{ flag_id: 'OLD1', agency_code: 'A0101' }, { flag_id: 'OLD2', agency_code: 'A0101' }]);
  ({ app, url } = await startServer(store));
});

afterAll(async () => {
  await app.close();
  await cleanup();
});

describe('SSE from now', () => {
  it('delivers only what is committed after the subscription; a cursor still resumes', async () => {
    const now = openSse(`${url}/v1/alerts/stream?from=now`, T.portal);
    const all = openSse(`${url}/v1/alerts/stream`, T.portal);
    const a1 = await all.next();
    expect(JSON.parse(a1!.data).flag_id).toBe('OLD1');
    // Subscribed (the replaying stream is live, so the server answers): nothing old arrives on the other.
    expect(await now.next(400)).toBeUndefined();
    expect(now.status).toBe(200);
    await insertFlags(store, [{ flag_id: 'NEW1', agency_code: 'A0101' }]);
    const n1 = await now.next();
    expect(JSON.parse(n1!.data).flag_id).toBe('NEW1');
    expect(JSON.parse((await all.next())!.data).flag_id).toBe('OLD2');
    expect(JSON.parse((await all.next())!.data).flag_id).toBe('NEW1');
    await now.close();
    await all.close();
    // A reconnect with the first event's cursor and from=now resumes after that event, not at the head.
    const resumed = openSse(`${url}/v1/alerts/stream?from=now`, T.portal, { 'last-event-id': a1!.id! });
    expect(JSON.parse((await resumed.next())!.data).flag_id).toBe('OLD2');
    await resumed.close();
  });

  it('refuses an unknown value with a problem', async () => {
    const r = await getJson(`${url}/v1/alerts/stream?from=yesterday`, T.portal, { headers: { accept: 'text/event-stream' } });
    expect(r.status).toBe(400);
    expect(r.type).toContain('application/problem+json');
  });
});
