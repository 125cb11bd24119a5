/** OpenAPI and docs, rate limits per token, graceful close with an open SSE stream and an in-flight query. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Store } from '../../engine/db.ts';
import { getJson, insertFlags, openSse, seedAgencies, startServer, T, tempStore } from './helpers.ts';

let store: Store;
let cleanup: () => Promise<void>;

beforeAll(async () => {
  ({ store, cleanup } = await tempStore());
  await seedAgencies(store);
  await insertFlags(store, [{ flag_id: 'O1' }]);
});
afterAll(async () => cleanup());

describe('operations', () => {
  it('logs requests as JSON without the token; problem titles follow Accept-Language', async () => {
    const lines: string[] = [];
    const { app, url } = await startServer(store, { logger: { level: 'info', stream: { write: (l: string) => lines.push(l) } } });
    try {
      await getJson(`${url}/v1/flags`, T.analyst);
      await getJson(`${url}/v1/flags/none`, T.analyst, { headers: { 'accept-language': 'en-US' } }).then((r) => {
        expect(r.body.title).toBe('Not found');
      });
      await getJson(`${url}/v1/query`, T.analyst, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ sql: 'SELECT 1' }),
      });
      await getJson(`${url}/v1/flags`, 'wrong-token-but-long-enough');
    } finally {
      await app.close();
    }
    const all = lines.join('');
    expect(lines.length).toBeGreaterThan(4);
    for (const l of lines) JSON.parse(l);
    expect(all).toContain('/v1/flags');
    expect(all).not.toContain(T.analyst);
    expect(all).not.toContain('wrong-token-but-long-enough');
  });

  it('serves OpenAPI 3 generated from the zod schemas, and the docs UI', async () => {
    const { app, url } = await startServer(store);
    try {
      const spec = (await getJson(`${url}/openapi.json`, undefined)).body;
      expect(spec.openapi).toMatch(/^3\./);
      for (const p of ['/v1/flags', '/v1/flags/{id}', '/v1/flags/{id}/actions', '/v1/alerts', '/v1/alerts/stream', '/v1/query', '/v1/queries', '/v1/queries/{name}', '/v1/stats', '/healthz', '/readyz']) {
        expect(Object.keys(spec.paths)).toContain(p);
      }
      const body = spec.paths['/v1/query'].post.requestBody.content['application/json'].schema;
      expect(body.properties.format.enum).toEqual(['json', 'csv', 'arrow']);
      expect(spec.components.schemas.Flag.properties.amount).toBeDefined();
      const docs = await fetch(`${url}/docs`, { redirect: 'follow' });
      expect(docs.status).toBe(200);
      expect(await docs.text()).toContain('swagger');
    } finally {
      await app.close();
    }
  });

  it('rate limits per token with a 429 problem; other tokens are unaffected', async () => {
    const { app, url } = await startServer(store, { rateLimitPerMinute: 5 });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 7; i++) statuses.push((await getJson(`${url}/v1/flags`, T.analyst)).status);
      expect(statuses.slice(0, 5)).toEqual([200, 200, 200, 200, 200]);
      const limited = await getJson(`${url}/v1/flags`, T.analyst);
      expect(limited.status).toBe(429);
      expect(limited.type).toContain('application/problem+json');
      expect(limited.body.code).toBe('RATE_LIMITED');
      expect((await getJson(`${url}/v1/flags`, T.supervisor)).status).toBe(200);
      expect((await getJson(`${url}/healthz`, undefined)).status).toBe(200);
    } finally {
      await app.close();
    }
  });

  it('close() ends SSE streams, lets an in-flight request finish, then refuses new connections', async () => {
    const { app, url } = await startServer(store, { queryTimeoutMs: 5000 });
    // A query that runs for a while (about a second) on each engine.
    const [series, n] = store.engine === 'postgres' ? ['generate_series(1, 3000000)', '3000000'] : ['range(300000000)', '300000000'];
    const s = openSse(`${url}/v1/alerts/stream`, T.portal);
    expect(await s.next(5000)).toBeDefined();
    const inflight = getJson(`${url}/v1/query`, T.analyst, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ sql: `SELECT count(*) AS n FROM ${series}` }),
    });
    await new Promise((r) => setTimeout(r, 100));
    const t0 = Date.now();
    await app.close();
    expect(Date.now() - t0).toBeLessThan(5000);
    const r = await inflight;
    expect(r.status).toBe(200);
    expect(r.body.rows).toEqual([{ n }]);
    await s.done;
    expect(s.ended).toBe(true);
    await expect(fetch(`${url}/healthz`)).rejects.toThrow();
  });
});
