/**
 * The console's doors over real HTTP: session cookie login, CSRF and origin checks,
 * expiry, logout; document upload/download with scope, size, names and types; the
 * inbox's filters and keyset pages; the working-day endpoint.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import type { FastifyInstance } from 'fastify';
import { SessionStore } from '../../api/session.ts';
import { insertFlags, seedAgencies, startServer, T, tempStore, auth } from '../api/helpers.ts';
import type { Store } from '../../engine/db.ts';

let store: Store;
let cleanup: () => Promise<void>;
let app: FastifyInstance;
let url: string;
let clock = Date.now();
const sessions = new SessionStore({ idleMs: 60_000, absoluteMs: 600_000, now: () => clock });
const docsDir = mkdtempSync(join(tmpdir(), 'fiscus-docs-'));

async function login(token: string, origin?: string) {
  const res = await fetch(`${url}/v1/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: origin ?? url },
    body: JSON.stringify({ token }),
  });
  const body = (await res.json()) as { csrf_token: string; role: string };
  const setCookie = res.headers.get('set-cookie') ?? '';
  return { res, body, setCookie, cookie: setCookie.split(';')[0]! };
}

beforeAll(async () => {
  ({ store, cleanup } = await tempStore());
  await seedAgencies(store);
  await insertFlags(store, [
    { flag_id: 'F-A1', agency_code: 'A0101', status: 'confirmed', first_seen_at: '2026-01-01T00:00:00Z' },
    { flag_id: 'F-A2', agency_code: 'A0102', status: 'discovered', severity: 'low', amount: '10.00', first_seen_at: '2026-01-02T00:00:00Z' },
    { flag_id: 'F-B1', agency_code: 'B0201', region_code: '370812', status: 'discovered', severity: 'medium', first_seen_at: '2026-01-03T00:00:00Z' },
    ...Array.from({ length: 45 }, (_, i) => ({ flag_id: `F-X${String(i).padStart(3, '0')}`, agency_code: 'B0201', amount: `${1000 + i}.00`, first_seen_at: new Date(Date.UTC(2025, 5, 1, 0, i)).toISOString() })),
  ]);
  ({ app, url } = await startServer(store, { sessionStore: sessions, documentsDir: docsDir, documentMaxBytes: 64 * 1024 }));
});
afterAll(async () => {
  await app.close();
  await cleanup();
});

describe('console session', () => {
  it('logs in by token into an httpOnly SameSite=Strict cookie; the session works without a bearer token', async () => {
    const { res, body, setCookie, cookie } = await login(T.supervisor);
    expect(res.status).toBe(200);
    expect(body.role).toBe('supervisor');
    expect(setCookie).toMatch(/HttpOnly/);
    expect(setCookie).toMatch(/SameSite=Strict/);
    expect(setCookie).toMatch(/Path=\//);
    expect(setCookie).not.toContain(T.supervisor);
    const me = await fetch(`${url}/v1/session`, { headers: { cookie } });
    expect(me.status).toBe(200);
    const flags = await fetch(`${url}/v1/flags?limit=5`, { headers: { cookie } });
    expect(flags.status).toBe(200);
  });

  it('refuses a wrong token and a cross-origin login', async () => {
    expect((await login('not-a-token-at-all-xx')).res.status).toBe(401);
    expect((await login(T.supervisor, 'https://evil.example')).res.status).toBe(403);
  });

  it('a write with the cookie but no CSRF token is refused; with it, it passes', async () => {
    const { cookie, body } = await login(T.supervisor);
    const act = (headers: Record<string, string>) =>
      fetch(`${url}/v1/flags/F-A2/actions`, { method: 'POST', headers: { 'content-type': 'application/json', cookie, origin: url, ...headers }, body: JSON.stringify({ action: 'confirm' }) });
    const no = await act({});
    expect(no.status).toBe(403);
    expect(((await no.json()) as { detail: string }).detail).toMatch(/x-csrf-token/);
    expect((await act({ 'x-csrf-token': 'x'.repeat(body.csrf_token.length) })).status).toBe(403);
    const ok = await act({ 'x-csrf-token': body.csrf_token });
    expect(ok.status).toBe(200);
  });

  it('a cross-origin write is refused even with the right CSRF token', async () => {
    const { cookie, body } = await login(T.supervisor);
    const res = await fetch(`${url}/v1/flags/F-A1/actions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', cookie, origin: 'http://evil.example', 'x-csrf-token': body.csrf_token },
      body: JSON.stringify({ action: 'dismiss', note: 'x' }),
    });
    expect(res.status).toBe(403);
    expect(((await res.json()) as { detail: string }).detail).toMatch(/cross-origin/);
  });

  it('an expired session is refused; logout ends a session', async () => {
    const { cookie, body } = await login(T.analyst);
    clock += 61_000; // past the idle expiry
    const res = await fetch(`${url}/v1/flags`, { headers: { cookie } });
    expect(res.status).toBe(401);
    expect(((await res.json()) as { detail: string }).detail).toMatch(/expired/);
    const s2 = await login(T.analyst);
    const out = await fetch(`${url}/v1/session`, { method: 'DELETE', headers: { cookie: s2.cookie, origin: url, 'x-csrf-token': s2.body.csrf_token } });
    expect(out.status).toBe(204);
    expect(out.headers.get('set-cookie')).toMatch(/Max-Age=0/);
    expect((await fetch(`${url}/v1/flags`, { headers: { cookie: s2.cookie } })).status).toBe(401);
    void body;
  });

  it('bearer tokens keep working and need no CSRF token', async () => {
    const res = await fetch(`${url}/v1/flags?limit=1`, { headers: auth(T.analyst) });
    expect(res.status).toBe(200);
  });
});

describe('documents', () => {
  const upload = (token: string, flag: string, name: string, bytes: Buffer | string, type = 'application/octet-stream') => {
    const fd = new FormData();
    fd.append('file', new Blob([typeof bytes === 'string' ? bytes : new Uint8Array(bytes)], { type }), name);
    return fetch(`${url}/v1/flags/${flag}/documents`, { method: 'POST', headers: auth(token), body: fd });
  };

  it('archives by SHA-256 outside the database, ignores path traversal in names, downloads as attachment', async () => {
    const res = await upload(T.unit, 'F-A1', '../../../etc/passwd', 'root:x:0:0\n');
    expect(res.status).toBe(201);
    const meta = (await res.json()) as { sha256: string; name: string; content_type: string };
    expect(meta.name).toBe('passwd');
    expect(meta.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(existsSync(join(docsDir, 'blobs', meta.sha256.slice(0, 2), meta.sha256))).toBe(true);
    expect(readdirSync(docsDir).sort()).toEqual(['blobs', 'links', 'tmp']);
    const dl = await fetch(`${url}/v1/flags/F-A1/documents/${meta.sha256}`, { headers: auth(T.dept) });
    expect(dl.status).toBe(200);
    expect(dl.headers.get('content-disposition')).toMatch(/^attachment; filename="passwd"/);
    expect(await dl.text()).toBe('root:x:0:0\n');
  });

  it("another agency's document answers 404, for download, listing and upload", async () => {
    const res = await upload(T.supervisor, 'F-B1', 'b.pdf', '%PDF-1.4 secret');
    expect(res.status).toBe(201);
    const { sha256 } = (await res.json()) as { sha256: string };
    expect((await fetch(`${url}/v1/flags/F-B1/documents/${sha256}`, { headers: auth(T.unit) })).status).toBe(404);
    expect((await fetch(`${url}/v1/flags/F-B1/documents`, { headers: auth(T.unit) })).status).toBe(404);
    expect((await upload(T.unit, 'F-B1', 'x.txt', 'x')).status).toBe(404);
    // The digest of a document of another flag does not open it through a visible flag.
    expect((await fetch(`${url}/v1/flags/F-A1/documents/${sha256}`, { headers: auth(T.unit) })).status).toBe(404);
    expect((await upload(T.portal, 'F-A1', 'x.txt', 'x')).status).toBe(403);
    expect((await upload(T.analyst, 'F-A1', 'x.txt', 'x')).status).toBe(403);
  });

  it('refuses an oversized upload with 413 and keeps nothing of it', async () => {
    const before = readdirSync(join(docsDir, 'tmp')).length;
    const res = await upload(T.supervisor, 'F-A1', 'big.bin', Buffer.alloc(65 * 1024, 1));
    expect(res.status).toBe(413);
    expect(res.headers.get('content-type')).toMatch(/problem\+json/);
    expect(readdirSync(join(docsDir, 'tmp')).length).toBe(before);
  });

  it('an HTML upload is served as an octet-stream attachment with nosniff and a sandbox CSP', async () => {
    const res = await upload(T.supervisor, 'F-A1', 'report.html', '<html><script>alert(1)</script></html>', 'text/html');
    const { sha256, content_type } = (await res.json()) as { sha256: string; content_type: string };
    expect(content_type).toBe('application/octet-stream');
    const dl = await fetch(`${url}/v1/flags/F-A1/documents/${sha256}`, { headers: auth(T.supervisor) });
    expect(dl.headers.get('content-type')).toBe('application/octet-stream');
    expect(dl.headers.get('x-content-type-options')).toBe('nosniff');
    expect(dl.headers.get('content-disposition')).toMatch(/^attachment/);
    expect(dl.headers.get('content-security-policy')).toMatch(/sandbox/);
  });

  it('sniffs PDFs from their bytes and keeps Chinese file names (RFC 6266)', async () => {
    const res = await upload(T.supervisor, 'F-A1', '整改报告.pdf', '%PDF-1.7\n...', 'text/html');
    const meta = (await res.json()) as { sha256: string; content_type: string };
    expect(meta.content_type).toBe('application/pdf');
    const dl = await fetch(`${url}/v1/flags/F-A1/documents/${meta.sha256}`, { headers: auth(T.supervisor) });
    expect(dl.headers.get('content-disposition')).toContain(`filename*=UTF-8''${encodeURIComponent('整改报告.pdf')}`);
  });
});

describe('inbox and calendar', () => {
  it('keyset pages cover every flag once, in order, with the total', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    let total = 0;
    do {
      const q = new URLSearchParams({ limit: '10', sort: 'amount', ...(cursor ? { cursor } : {}) });
      const res = await fetch(`${url}/v1/console/inbox?${q}`, { headers: auth(T.analyst) });
      const body = (await res.json()) as { items: { flag_id: string; amount: string | null }[]; next_cursor: string | null; total: number };
      total = body.total;
      seen.push(...body.items.map((i) => i.flag_id));
      cursor = body.next_cursor;
    } while (cursor);
    expect(total).toBe(48);
    expect(new Set(seen).size).toBe(48);
    // 612000.00 is the largest amount; equal amounts go by flag id, descending.
    expect(seen.slice(0, 2)).toEqual(['F-B1', 'F-A1']);
    expect(seen.at(-1)).toBe('F-A2');
  });

  it('filters by agency subtree and text; an agency token sees only its subtree', async () => {
    const sub = await (await fetch(`${url}/v1/console/inbox?agency=D01`, { headers: auth(T.analyst) })).json() as { items: { flag_id: string }[] };
    expect(sub.items.map((i) => i.flag_id).sort()).toEqual(['F-A1', 'F-A2']);
    const text = await (await fetch(`${url}/v1/console/inbox?q=${encodeURIComponent('F-X01')}`, { headers: auth(T.analyst) })).json() as { total: number };
    expect(text.total).toBe(10); // F-X010 … F-X019 by title
    const mine = await (await fetch(`${url}/v1/console/inbox?limit=100`, { headers: auth(T.unit) })).json() as { items: { flag_id: string }[] };
    expect(mine.items.map((i) => i.flag_id)).toEqual(['F-A1']);
    const pct = await (await fetch(`${url}/v1/console/inbox?q=%25`, { headers: auth(T.analyst) })).json() as { total: number };
    expect(pct.total).toBe(0); // % is a character, not a wildcard
  });

  it('counts PRC working days (2025 National Day holiday and its 调休 Saturday)', async () => {
    const r = await (await fetch(`${url}/v1/calendar/workdays?from=2025-09-30&days=1`, { headers: auth(T.supervisor) })).json() as { date: string };
    expect(r.date).toBe('2025-10-09');
    const between = await (await fetch(`${url}/v1/calendar/workdays?from=2025-09-26&to=2025-10-13`, { headers: auth(T.supervisor) })).json() as { workdays: number };
    // 9-28 (调休 Sunday), 9-29, 9-30, then 10-1…10-8 off, 10-9, 10-10, 10-11 (调休 Saturday), 10-13.
    expect(between.workdays).toBe(7);
  });

  it('a date that is not a real calendar date is a 400 problem naming the field', async () => {
    for (const path of ['/v1/calendar/workdays?from=2025-02-30&days=1', '/v1/console/inbox?period_from=2026-13-01']) {
      const res = await fetch(`${url}${path}`, { headers: auth(T.supervisor) });
      expect(res.status, path).toBe(400);
      expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      const body = (await res.json()) as { detail?: string };
      expect(JSON.stringify(body)).toMatch(/from|period_from/);
    }
    const ok = await fetch(`${url}/v1/console/inbox?period_from=2024-02-29`, { headers: auth(T.supervisor) });
    expect(ok.status).toBe(200);
  });
});
