import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../../engine/db.ts';
import { ingestUrl } from '../../ingest/index.ts';
import { runCli } from '../helpers/cli.ts';
import { PAYMENT_HEADER, freshStore, payment, table, toCsv, sampleRows } from './helpers.ts';

describe('ingest over HTTP', () => {
  let server: Server;
  let base: string;
  let store: Store;
  let dbPath: string;
  const seen: { url: string; headers: IncomingHttpHeaders; status: number }[] = [];
  let version = 1;
  const body = () =>
    toCsv(PAYMENT_HEADER, [payment('H1'), payment('H2', { amount: version === 1 ? '20.00' : '25.00' }), ...(version > 1 ? [payment('H3')] : [])]);
  const bonds = table('debt.bonds');
  const bondsCsv = toCsv(bonds.columns.map((c) => c.name), sampleRows(bonds, 3));
  const grants = table('transfers.grants');
  const grantsCsv = toCsv(grants.columns.map((c) => c.name), sampleRows(grants, 4));

  beforeAll(async () => {
    server = createServer((req, res) => {
      const reply = (status: number, headers: Record<string, string>, text = '') => {
        seen.push({ url: req.url ?? '', headers: req.headers, status });
        res.writeHead(status, headers);
        res.end(text);
      };
      if (req.url === '/feeds/treasury.payments.csv') {
        const etag = `"v${version}"`;
        if (req.headers['if-none-match'] === etag) return reply(304, { etag });
        return reply(200, { etag, 'last-modified': 'Mon, 03 Mar 2025 08:00:00 GMT', 'content-type': 'text/csv; charset=utf-8' }, body());
      }
      if (req.url === '/export?id=7') {
        // A download endpoint: the name (and so the table) only comes with Content-Disposition; no ETag at all.
        return reply(200, { 'content-disposition': `attachment; filename*=UTF-8''debt.bonds.2025.csv` }, bondsCsv);
      }
      if (req.url === '/download/42') {
        if (req.headers['if-none-match'] === '"r42"') return reply(304, { etag: '"r42"' });
        return reply(200, { etag: '"r42"', 'content-disposition': 'attachment; filename="transfers.grants.csv"' }, grantsCsv);
      }
      if (req.url === '/broken/treasury.payments.csv') return reply(500, { 'content-type': 'text/plain' }, 'database is down');
      return reply(404, {}, 'no such feed');
    });
    await new Promise<void>((res) => server.listen(0, '127.0.0.1', () => res()));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    ({ store, dbPath } = await freshStore());
  });
  afterAll(async () => {
    await store.close();
    await new Promise<void>((res) => server.close(() => res()));
  });

  it('pulls with 200, then sends If-None-Match and gets a 304 no-op, then loads the changed feed', async () => {
    const url = `${base}/feeds/treasury.payments.csv`;
    const [r1] = await ingestUrl(store, url);
    expect(r1).toMatchObject({ table: 'treasury.payments', source: url, source_kind: 'http', status: 'committed', inserted: 2 });
    expect(await store.one('SELECT etag, last_modified, sha256, last_batch_id FROM fiscus.http_sources WHERE url = $u', { u: url })).toEqual({
      etag: '"v1"',
      last_modified: 'Mon, 03 Mar 2025 08:00:00 GMT',
      sha256: r1.sha256,
      last_batch_id: r1.batch_id,
    });

    const [r2] = await ingestUrl(store, url);
    const last = seen.at(-1)!;
    expect(last.headers['if-none-match']).toBe('"v1"');
    expect(last.headers['if-modified-since']).toBe('Mon, 03 Mar 2025 08:00:00 GMT');
    expect(last.status).toBe(304);
    expect(r2).toMatchObject({ status: 'noop', inserted: 0 });
    expect(r2.message).toMatch(/304/);

    version = 2;
    const [r3] = await ingestUrl(store, url);
    expect(r3).toMatchObject({ status: 'committed', inserted: 1, corrected: 1, unchanged: 1 });
    expect(await store.one('SELECT etag FROM fiscus.http_sources WHERE url = $u', { u: url })).toEqual({ etag: '"v2"' });
  });

  it('names the table from Content-Disposition, and treats the same body again as a no-op', async () => {
    const url = `${base}/export?id=7`;
    const [r1] = await ingestUrl(store, url);
    expect(r1).toMatchObject({ table: 'debt.bonds', status: 'committed', inserted: 3 });
    const [r2] = await ingestUrl(store, url);
    expect(seen.at(-1)!.headers['if-none-match']).toBeUndefined();
    expect(r2).toMatchObject({ status: 'noop', sha256: r1.sha256 });
  });

  it('remembers the table of a Content-Disposition download for its 304', async () => {
    const url = `${base}/download/42`;
    const [r1] = await ingestUrl(store, url);
    expect(r1).toMatchObject({ table: 'transfers.grants', status: 'committed', inserted: 4 });
    const [r2] = await ingestUrl(store, url);
    expect(seen.at(-1)!.status).toBe(304);
    expect(r2).toMatchObject({ table: 'transfers.grants', status: 'noop' });
  });

  it('reports a server error clearly and touches no data (CLI exits 1)', async () => {
    const before = await store.all('SELECT payment_id, CAST(amount AS VARCHAR) AS a, _batch_id FROM treasury.payments ORDER BY 1');
    const sources = await store.all('SELECT * FROM fiscus.http_sources ORDER BY url');
    await store.close();
    const url = `${base}/broken/treasury.payments.csv`;
    const res = await runCli(['--db', dbPath, 'ingest', url, '--format', 'json']);
    expect(res.code).toBe(1);
    const [r] = JSON.parse(res.stdout);
    expect(r).toMatchObject({ status: 'failed', source: url, table: 'treasury.payments', rows_read: 0 });
    expect(r.message).toMatch(/HTTP 500 Internal Server Error from .*nothing was loaded/);
    store = await openStore(dbPath);
    expect(await store.all('SELECT payment_id, CAST(amount AS VARCHAR) AS a, _batch_id FROM treasury.payments ORDER BY 1')).toEqual(before);
    expect(await store.all('SELECT * FROM fiscus.http_sources ORDER BY url')).toEqual(sources);
  });

  it('reports an unreachable server as a failed batch', async () => {
    const dead = createServer();
    await new Promise<void>((res) => dead.listen(0, '127.0.0.1', () => res()));
    const port = (dead.address() as AddressInfo).port;
    await new Promise<void>((res) => dead.close(() => res()));
    const [r] = await ingestUrl(store, `http://127.0.0.1:${port}/treasury.payments.csv`);
    expect(r.status).toBe('failed');
    expect(r.message).toMatch(/cannot fetch .*ECONNREFUSED/);
  });
});
