/**
 * The response cache of the alert feed and the flag list: repeated polls are
 * answered from cache, and no cached answer survives a write or crosses scopes.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import type { Store } from '../../engine/db.ts';
import { scanDeadlines } from '../../tracker/index.ts';
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
    // The page of the new generation carries the checkpoint signed after that commit, cached or not.
    const newest = after.body.items.at(-1).event.seq;
    expect(after.body.checkpoint.seq).toBe(newest);
    const again = await get('/v1/alerts?limit=100', T.portal);
    expect(again.cache).toBe('hit');
    expect(again.body.checkpoint.seq).toBe(newest);
  });

  it('serves a hit as the very bytes of the miss, with one ETag; If-None-Match gets a bodiless 304', async () => {
    const path = `${url}/v1/alerts?limit=100&h=bytes`;
    const miss = await fetch(path, { headers: auth(T.portal) });
    const missBytes = Buffer.from(await miss.arrayBuffer());
    const hit = await fetch(path, { headers: auth(T.portal) });
    const hitBytes = Buffer.from(await hit.arrayBuffer());
    expect(miss.headers.get('fiscus-cache')).toBeNull();
    expect(hit.headers.get('fiscus-cache')).toBe('hit');
    expect(hitBytes.equals(missBytes)).toBe(true);
    // Chinese titles: the length is the UTF-8 byte count, not the string length.
    expect(Number(hit.headers.get('content-length'))).toBe(hitBytes.length);
    expect(hitBytes.toString('utf8')).toContain('拆分');
    const etag = miss.headers.get('etag');
    expect(etag).toMatch(/^"[A-Za-z0-9_-]{43}"$/);
    expect(hit.headers.get('etag')).toBe(etag);
    expect(hit.headers.get('cache-control')).toBe('private, no-cache');
    for (const inm of [etag!, `W/${etag}`, `"other", ${etag}`]) {
      const again = await fetch(path, { headers: { ...auth(T.portal), 'if-none-match': inm } });
      expect(again.status, inm).toBe(304);
      expect((await again.arrayBuffer()).byteLength).toBe(0);
    }
    const stale = await fetch(path, { headers: { ...auth(T.portal), 'if-none-match': '"not-this-one"' } });
    expect(stale.status).toBe(200);
    expect(Buffer.from(await stale.arrayBuffer()).equals(missBytes)).toBe(true);
  });

  it('an ETag of another scope or of an older generation gets a full answer of the caller’s own page', async () => {
    const all = await fetch(`${url}/v1/flags?limit=10`, { headers: auth(T.analyst) });
    const allTag = all.headers.get('etag')!;
    // The unit sees only its own flag: the analyst's validator is not its page's.
    const unit = await fetch(`${url}/v1/flags?limit=10`, { headers: { ...auth(T.unit), 'if-none-match': allTag } });
    expect(unit.status).toBe(200);
    const unitBody = (await unit.json()) as { items: { flag_id: string }[] };
    expect(unitBody.items.map((f) => f.flag_id)).toEqual(['A1-1']);
    expect(unit.headers.get('etag')).not.toBe(allTag);
    // A write moves the page on: the old validator no longer matches, cached or fresh.
    const feed = await fetch(`${url}/v1/alerts?limit=100`, { headers: auth(T.portal) });
    const feedTag = feed.headers.get('etag')!;
    const before = ((await feed.json()) as { items: unknown[] }).items.length;
    await appendEvent(store, 'A1-1', 'flag.overdue');
    const after = await fetch(`${url}/v1/alerts?limit=100`, { headers: { ...auth(T.portal), 'if-none-match': feedTag } });
    expect(after.status).toBe(200);
    expect(((await after.json()) as { items: unknown[] }).items.length).toBe(before + 1);
  });

  it('a 401 or 403 is never answered from cache or with a 304', async () => {
    const page = await fetch(`${url}/v1/flags?limit=10`, { headers: auth(T.analyst) });
    const tag = page.headers.get('etag')!;
    const anon = await fetch(`${url}/v1/flags?limit=10`, { headers: { 'if-none-match': tag } });
    expect(anon.status).toBe(401);
    // The portal may read alerts only: its role check comes before any cache lookup.
    const portal = await fetch(`${url}/v1/flags?limit=10`, { headers: { ...auth(T.portal), 'if-none-match': tag } });
    expect(portal.status).toBe(403);
    expect(portal.headers.get('fiscus-cache')).toBeNull();
  });
});

describe('stale scope: reference data changes what a token may see', () => {
  let s2: Store;
  let app2: FastifyInstance;
  let url2: string;
  let dir2: string;
  let cleanup2: () => Promise<void>;
  const header = 'agency_code,agency_name,dept_code,region_code';

  beforeAll(async () => {
    ({ store: s2, dir: dir2, cleanup: cleanup2 } = await tempStore());
    const ingestDir = join(dir2, 'ingest');
    mkdirSync(ingestDir);
    // The deployment's agency catalogue as a file: A0101 is a school under the education department D01.
    writeFileSync(join(ingestDir, 'ref.agencies.csv'), `${header}\nD01,市教育局,D01,370811\nA0101,市第一中学,D01,370811\nB0201,市卫健委,B0201,370812\n`);
    ({ app: app2, url: url2 } = await startServer(s2, { ingestDir }));
    const first = await fetch(`${url2}/v1/ingest`, {
      method: 'POST',
      headers: { ...auth(T.admin), 'content-type': 'application/json' },
      body: JSON.stringify({ source: 'ref.agencies.csv' }),
    });
    expect(first.status).toBe(200);
    await insertFlags(s2, [{ flag_id: 'MOVED-1', agency_code: 'A0101' }, { flag_id: 'B-2', agency_code: 'B0201', region_code: '370812' }]);
  });
  afterAll(async () => {
    await app2.close();
    await cleanup2();
  });

  const ids = (body: { items: { flag_id?: string; flag?: { flag_id: string } }[] }) =>
    body.items.map((i) => i.flag_id ?? i.flag?.flag_id).filter(Boolean);
  const get2 = async (path: string, token: string) => {
    const res = await fetch(`${url2}${path}`, { headers: auth(token) });
    return { status: res.status, cache: res.headers.get('fiscus-cache'), body: (await res.json()) as any };
  };

  it('an admin ingest of ref.agencies.csv that moves a unit drops the old department’s cached pages', async () => {
    // The education department polls its flags and feed: the school's flag is its own; the second poll is cached.
    for (const path of ['/v1/flags?limit=50', '/v1/alerts?limit=50']) {
      const before = await get2(path, T.dept);
      expect(before.status).toBe(200);
      expect(JSON.stringify(before.body)).toContain('MOVED-1');
      expect((await get2(path, T.dept)).cache).toBe('hit');
    }

    // The school moves to the health commission (B0201): an admin ingest of the catalogue.
    writeFileSync(join(dir2, 'ingest', 'ref.agencies.csv'), `${header}\nD01,市教育局,D01,370811\nA0101,市第一中学,B0201,370811\nB0201,市卫健委,B0201,370812\n`);
    const ingest = await fetch(`${url2}/v1/ingest`, {
      method: 'POST',
      headers: { ...auth(T.admin), 'content-type': 'application/json' },
      body: JSON.stringify({ source: 'ref.agencies.csv' }),
    });
    const report = (await ingest.json()) as any;
    expect(ingest.status).toBe(200);
    expect(report.reports[0]).toMatchObject({ status: 'committed', corrected: 1 });

    // The old department no longer sees the moved unit's flag or its events — not from cache, not at all.
    for (const path of ['/v1/flags?limit=50', '/v1/alerts?limit=50']) {
      const after = await get2(path, T.dept);
      expect(after.status).toBe(200);
      expect(after.cache, path).toBeNull();
      expect(JSON.stringify(after.body), path).not.toContain('MOVED-1');
    }
    // The new department does.
    const gained = await get2('/v1/flags?limit=50', T.other);
    expect(ids(gained.body).sort()).toEqual(['B-2', 'MOVED-1']);
  });

  it('a rule run and a deadline scan that appends move the generation; a read or an empty scan does not', async () => {
    const g0 = s2.generation;
    await s2.all('SELECT count(*) FROM fiscus.flags');
    expect(s2.generation).toBe(g0);
    const run = await fetch(`${url2}/v1/rules/run`, {
      method: 'POST',
      headers: { ...auth(T.admin), 'content-type': 'application/json' },
      body: JSON.stringify({ as_of: '2025-12-31' }),
    });
    expect(run.status).toBe(200);
    const g1 = s2.generation;
    expect(g1).toBeGreaterThan(g0);

    await s2.run("UPDATE fiscus.flags SET status = 'assigned', assigned_to = 'B0201', due_date = DATE '2025-01-02' WHERE flag_id = 'B-2'");
    const g2 = s2.generation;
    expect(g2).toBeGreaterThan(g1);
    const polled = await get2('/v1/alerts?limit=50', T.other);
    expect((await get2('/v1/alerts?limit=50', T.other)).cache).toBe('hit');
    const scan = await scanDeadlines(s2, { today: '2026-03-02' });
    expect(scan.overdue.map((e) => e.flag_id)).toEqual(['B-2']);
    expect(s2.generation).toBeGreaterThan(g2);
    const after = await get2('/v1/alerts?limit=50', T.other);
    expect(after.cache).toBeNull();
    expect(after.body.items.length).toBe(polled.body.items.length + 1);
    // Nothing new to append: nothing committed, cached pages stay valid.
    const g3 = s2.generation;
    expect((await scanDeadlines(s2, { today: '2026-03-02' })).overdue).toEqual([]);
    expect(s2.generation).toBe(g3);
  });
});
