/**
 * Every error response is RFC 9457 application/problem+json — also the ones fastify and
 * Node produce before our handlers run: over-long path parameters, malformed
 * percent-encoding, 431 header overflow, @fastify/sse's 406, parser errors on the request
 * line and chunked encoding, a missing Host, `Expect`, CONNECT. Each is sent as raw bytes
 * over a real socket to a real listening server, and the server must still answer a normal
 * request afterwards.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect } from 'node:net';
import Fastify, { type FastifyInstance } from 'fastify';
import type { Store } from '../../engine/db.ts';
import { installProblemHandlers, problemServerOptions } from '../../api/problem.ts';
import { buildServer } from '../../api/server.ts';
import { insertFlags, T, tempStore, TOKENS } from './helpers.ts';

let store: Store;
let app: FastifyInstance;
let port: number;
let cleanup: () => Promise<void>;

const SECRET_MESSAGE = 'connection to /srv/secret/fiscus.duckdb failed at engine/db.ts:42';

beforeAll(async () => {
  ({ store, cleanup } = await tempStore());
  await insertFlags(store, [{ flag_id: 'F1' }]);
  app = await buildServer({ store, tokens: TOKENS, logger: false, pollIntervalMs: 50 });
  // Routes that fail the way a bug or a careless plugin would, to show what reaches the client.
  app.get('/test/throws', { config: { public: true } }, async () => {
    throw new Error(SECRET_MESSAGE);
  });
  app.get('/test/raw-500', { config: { public: true } }, async (_req, reply) => reply.code(500).send({ message: SECRET_MESSAGE, stack: 'at x' }));
  app.get('/test/raw-409', { config: { public: true } }, async (_req, reply) => reply.code(409).send({ statusCode: 409, message: 'already there' }));
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  port = Number(new URL(url).port);
});
afterAll(async () => {
  await app.close();
  await cleanup();
});

interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
  closed: boolean;
}

/**
 * Send raw bytes; read one response (by Content-Length, or until the server closes).
 * `untilClose`: also wait for the server to close the connection (`closed` says it did).
 */
function raw(data: string | Buffer, { untilClose = false } = {}): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1');
    let buf = Buffer.alloc(0);
    let done = false;
    const finish = (closed: boolean) => {
      if (done) return;
      const text = buf.toString('latin1');
      const end = text.indexOf('\r\n\r\n');
      if (end < 0) {
        if (closed) {
          done = true;
          reject(new Error(`no HTTP response (got ${JSON.stringify(text.slice(0, 200))})`));
        }
        return;
      }
      const [statusLine, ...lines] = text.slice(0, end).split('\r\n');
      const headers: Record<string, string> = {};
      for (const l of lines) {
        const i = l.indexOf(':');
        headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
      }
      const len = headers['content-length'] === undefined ? undefined : Number(headers['content-length']);
      const bodyBytes = buf.subarray(end + 4);
      if (len === undefined ? !closed : bodyBytes.length < len) return;
      if (untilClose && !closed) return;
      done = true;
      clearTimeout(timer);
      s.destroy();
      resolve({
        status: Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine!)?.[1]),
        headers,
        body: bodyBytes.subarray(0, len ?? bodyBytes.length).toString('utf8'),
        closed,
      });
    };
    const timer = setTimeout(() => {
      s.destroy();
      if (!done) reject(new Error(`timed out; got ${JSON.stringify(buf.toString('latin1').slice(0, 300))}`));
    }, 5000);
    s.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      finish(false);
    });
    s.on('close', () => finish(true));
    s.on('error', () => finish(true));
    s.write(data);
  });
}

const get = (path: string, headers: Record<string, string> = {}) =>
  `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n${Object.entries(headers)
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('')}Connection: close\r\n\r\n`;
const AUTH = { Authorization: `Bearer ${T.admin}` };
const post = (path: string, headers: Record<string, string>, body: string) =>
  `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${T.admin}\r\n${Object.entries(headers)
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('')}Connection: close\r\n\r\n${body}`;

/** The response is a problem with this status; returns the parsed body. */
function expectProblem(res: RawResponse, status: number, code?: string): Record<string, unknown> {
  expect(res.status, res.body).toBe(status);
  expect(res.headers['content-type']).toMatch(/^application\/problem\+json\b/);
  const body = JSON.parse(res.body) as Record<string, unknown>;
  expect(body).toMatchObject({ status });
  expect(typeof body.type).toBe('string');
  expect(String(body.type)).toMatch(/^https:\/\//);
  expect(typeof body.title).toBe('string');
  expect((body.title as string).length).toBeGreaterThan(0);
  if (code) expect(body.code).toBe(code);
  return body;
}

/** The server survived: a normal request on a new connection gets its normal answer. */
async function expectAlive() {
  const res = await raw(get('/healthz'));
  expect(res.status).toBe(200);
  expect(JSON.parse(res.body)).toEqual({ status: 'ok' });
}

describe('path parameters of any length', () => {
  it.each([1, 99, 100, 101, 150, 200])('a flag id of %i characters is a problem 404 (not fastify’s 414)', async (n) => {
    const res = await raw(get(`/v1/flags/${'x'.repeat(n)}`, AUTH));
    expectProblem(res, 404, 'NOT_FOUND');
  });
  it('an existing flag is still found', async () => {
    const res = await raw(get('/v1/flags/F1', AUTH));
    expect(res.status).toBe(200);
  });
  it.each([201, 1000, 2048])('a flag id of %i characters is a problem 400 from the params schema', async (n) => {
    const res = await raw(get(`/v1/flags/${'x'.repeat(n)}`, AUTH));
    const body = expectProblem(res, 400, 'VALIDATION');
    expect(String(body.detail)).toContain('params/id');
  });
  it.each([2049, 10_000])('a flag id of %i characters is a problem 414', async (n) => {
    expectProblem(await raw(get(`/v1/flags/${'x'.repeat(n)}`, AUTH)), 414, 'URI_TOO_LONG');
    await expectAlive();
  });
  it('a request line beyond Node’s header limit is a problem 431', async () => {
    const res = await raw(get(`/v1/flags/${'x'.repeat(20_000)}`, AUTH), { untilClose: true });
    expectProblem(res, 431, 'HEADERS_TOO_LARGE');
    expect(res.closed).toBe(true);
    await expectAlive();
  });
});

describe('framework- and parser-level errors', () => {
  it('431: headers larger than the server accepts', async () => {
    const res = await raw(get('/healthz', { 'X-Big': 'a'.repeat(20_000) }));
    const body = expectProblem(res, 431, 'HEADERS_TOO_LARGE');
    expect(body.title_en).toBe('Request header fields too large');
    await expectAlive();
  });

  it('406: the SSE route asked for text/html', async () => {
    const res = await raw(get('/v1/alerts/stream', { ...AUTH, Accept: 'text/html' }));
    const body = expectProblem(res, 406, 'NOT_ACCEPTABLE');
    expect(body.instance).toBe('/v1/alerts/stream');
    await expectAlive();
  });

  it('406 in English with Accept-Language: en', async () => {
    const res = await raw(get('/v1/alerts/stream', { ...AUTH, Accept: 'text/html', 'Accept-Language': 'en' }));
    expect(expectProblem(res, 406).title).toBe('Not acceptable');
  });

  it.each(['/v1/flags/%E0%A4%A', '/v1/flags/%ZZ', '/v1/alerts/%'])('FST_ERR_BAD_URL %s is a problem 400', async (path) => {
    // With and without a token: fastify rejects the URL before any hook runs.
    expectProblem(await raw(get(path, AUTH)), 400, 'BAD_URL');
    expectProblem(await raw(get(path)), 400, 'BAD_URL');
    await expectAlive();
  });

  it('invalid JSON, an empty JSON body and __proto__ are problems 400', async () => {
    expectProblem(await raw(post('/v1/query', { 'Content-Type': 'application/json', 'Content-Length': '5' }, '{bad}')), 400, 'BAD_JSON');
    expectProblem(await raw(post('/v1/query', { 'Content-Type': 'application/json', 'Content-Length': '0' }, '')), 400, 'BAD_JSON');
    const proto = '{"__proto__":{"admin":true},"sql":"SELECT 1"}';
    expectProblem(await raw(post('/v1/query', { 'Content-Type': 'application/json', 'Content-Length': String(proto.length) }, proto)), 400);
    await expectAlive();
  });

  it('415: a body of an unsupported media type', async () => {
    expectProblem(await raw(post('/v1/query', { 'Content-Type': 'text/xml', 'Content-Length': '4' }, '<a/>')), 415, 'UNSUPPORTED_MEDIA_TYPE');
  });

  it('413: a body over the limit, declared or streamed', async () => {
    expectProblem(await raw(post('/v1/query', { 'Content-Type': 'application/json', 'Content-Length': String(2 * 1024 * 1024) }, '{}')), 413, 'BODY_TOO_LARGE');
    // Chunked, no Content-Length: the limit applies while reading.
    const chunk = 'a'.repeat(64 * 1024);
    const body = `${Array.from({ length: 20 }, () => `${chunk.length.toString(16)}\r\n${chunk}\r\n`).join('')}0\r\n\r\n`;
    expectProblem(await raw(post('/v1/query', { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' }, body)), 413, 'BODY_TOO_LARGE');
    await expectAlive();
  });

  it.each([
    ['a garbage request line', 'GARBAGE\r\n\r\n'],
    ['an unknown method', 'FOO /healthz HTTP/1.1\r\nHost: x\r\n\r\n'],
    ['an unsupported HTTP version', 'GET /healthz HTTP/3.0\r\nHost: x\r\n\r\n'],
    ['an HTTP/2 preface', 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'],
    ['a space in the URL', 'GET /health z HTTP/1.1\r\nHost: x\r\n\r\n'],
    ['a header without a colon', 'GET /healthz HTTP/1.1\r\nHost: x\r\nBroken header\r\n\r\n'],
    [
      'bad chunked encoding',
      `POST /v1/query HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${T.admin}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nZZ\r\nabc\r\n0\r\n\r\n`,
    ],
    [
      'Content-Length with Transfer-Encoding (smuggling)',
      `POST /v1/query HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`,
    ],
    ['two Content-Length headers', 'POST /v1/query HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}'],
  ])('Node’s parser rejects %s: a problem 400, then the socket closes', async (_name, bytes) => {
    const res = await raw(bytes, { untilClose: true });
    const body = expectProblem(res, 400, 'BAD_REQUEST');
    expect(String(body.detail)).toMatch(/HPE_/);
    expect(res.closed).toBe(true);
    await expectAlive();
  });

  it('a garbage request after a good one on the same connection: the good one is answered first, then the problem', async () => {
    const res = await raw(`GET /healthz HTTP/1.1\r\nHost: x\r\n\r\nGARBAGE\r\n\r\n`, { untilClose: true });
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toEqual({ status: 'ok' });
    expect(res.closed).toBe(true);
    // Read everything the server wrote: the 200, then the problem for the second request.
    const all = await new Promise<string>((resolve) => {
      const s = connect(port, '127.0.0.1');
      let out = '';
      s.on('data', (d) => (out += d.toString('utf8')));
      s.on('close', () => resolve(out));
      s.write(`GET /healthz HTTP/1.1\r\nHost: x\r\n\r\nGARBAGE\r\n\r\n`);
    });
    const second = all.indexOf('HTTP/1.1 400');
    expect(all.indexOf('HTTP/1.1 200')).toBe(0);
    expect(second).toBeGreaterThan(0);
    expect(all.slice(second)).toContain('application/problem+json');
    await expectAlive();
  });

  it('an HTTP/1.1 request without Host is a problem 400 (not Node’s empty 400)', async () => {
    const res = await raw('GET /healthz HTTP/1.1\r\nConnection: close\r\n\r\n');
    expectProblem(res, 400, 'BAD_REQUEST');
    // HTTP/1.0 needs no Host.
    expect((await raw('GET /healthz HTTP/1.0\r\n\r\n')).status).toBe(200);
  });

  it('Expect other than 100-continue is a problem 417; 100-continue works', async () => {
    expectProblem(await raw(post('/v1/query', { Expect: 'teapot', 'Content-Type': 'application/json', 'Content-Length': '2' }, '{}')), 417, 'EXPECTATION_FAILED');
    const sql = JSON.stringify({ sql: 'SELECT 1 AS one' });
    const res = await raw(post('/v1/query', { Expect: '100-continue', 'Content-Type': 'application/json', 'Content-Length': String(sql.length) }, sql));
    expect(res.status).toBe(100); // Node's interim response; the real one follows on the same connection
    expect(res.body).toMatch(/^HTTP\/1\.1 200 /);
  });

  it('CONNECT is a problem 405 rather than a silently dropped socket', async () => {
    expectProblem(await raw('CONNECT 169.254.169.254:80 HTTP/1.1\r\nHost: 169.254.169.254:80\r\n\r\n'), 405, 'METHOD_NOT_ALLOWED');
    await expectAlive();
  });
});

describe('404, 405 and errors from our own routes', () => {
  it('an unknown route is a problem 404 (authenticated) or 401 (not)', async () => {
    expectProblem(await raw(get('/v2/nothing', AUTH)), 404, 'NOT_FOUND');
    expectProblem(await raw(get('/v2/nothing')), 401, 'UNAUTHORIZED');
  });

  it('a known path with the wrong method is a problem 405 with Allow', async () => {
    const res = await raw(`DELETE /v1/flags HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${T.admin}\r\nConnection: close\r\n\r\n`);
    expectProblem(res, 405, 'METHOD_NOT_ALLOWED');
    expect(res.headers.allow).toContain('GET');
    const put = await raw(`PUT /v1/flags/F1/actions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${T.admin}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`);
    expectProblem(put, 405, 'METHOD_NOT_ALLOWED');
    expect(put.headers.allow).toBe('POST');
    // A route of this method that itself answers "not found" (swagger-ui's static files) stays a 404.
    expectProblem(await raw(get('/docs/static/no-such-file.js')), 404, 'NOT_FOUND');
  });

  it('an exception in a handler is a 500 problem without the message', async () => {
    const res = await raw(get('/test/throws'));
    const body = expectProblem(res, 500, 'INTERNAL');
    expect(res.body).not.toContain('secret');
    expect(res.body).not.toContain('engine/db.ts');
    expect(body.detail).toBeUndefined();
    await expectAlive();
  });

  it('a 5xx a plugin sends itself is rewritten as a problem and loses its internals', async () => {
    const res = await raw(get('/test/raw-500'));
    expectProblem(res, 500, 'INTERNAL');
    expect(res.body).not.toContain('secret');
    expect(res.body).not.toContain('stack');
  });

  it('a 4xx a plugin sends itself is rewritten as a problem and keeps its message', async () => {
    const body = expectProblem(await raw(get('/test/raw-409')), 409);
    expect(body.detail).toBe('already there');
  });

  it('an action out of order is a 409 titled as a conflict of state, not as an invalid request', async () => {
    const act = (body: string, lang = 'zh-CN') =>
      raw(`POST /v1/flags/F1/actions HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${T.supervisor}\r\nAccept-Language: ${lang}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
    const zh = expectProblem(await act(JSON.stringify({ action: 'verify' })), 409, 'ILLEGAL_TRANSITION');
    expect(zh.title).toBe('当前状态不允许此操作');
    expect(String(zh.detail)).toContain('discovered');
    const en = expectProblem(await act(JSON.stringify({ action: 'verify' }), 'en'), 409, 'ILLEGAL_TRANSITION');
    expect(en.title).toBe('Action not allowed in the current state');
    // A request that is invalid keeps the validation title.
    const bad = expectProblem(await act(JSON.stringify({ action: 'no-such-action' })), 400);
    expect(bad.title).toBe('请求参数无效');
    // A 409 a plugin sends without a code of ours is titled by its status too.
    expect(expectProblem(await raw(get('/test/raw-409')), 409).title).toBe('与当前状态冲突');
  });

  it('401 and 403 are problems', async () => {
    expectProblem(await raw(get('/v1/flags')), 401, 'UNAUTHORIZED');
    expectProblem(await raw(get('/v1/flags', { Authorization: 'Bearer not-a-token-at-all-xx' })), 401, 'UNAUTHORIZED');
    expectProblem(await raw(get('/v1/flags', { Authorization: `Bearer ${T.portal}` })), 403, 'FORBIDDEN');
  });
});

describe('a request that never finishes its headers', () => {
  it('gets a problem 408 when the header timeout passes (same handlers, short timeouts)', async () => {
    // buildServer waits 120 s; the same problem options on a server with a 300 ms header timeout.
    const o = problemServerOptions();
    const quick = Fastify({ ...o, http: { ...o.http, connectionsCheckingInterval: 50, headersTimeout: 300, requestTimeout: 300 }, requestTimeout: 300 });
    installProblemHandlers(quick);
    quick.get('/', async () => 'hi');
    const url = await quick.listen({ host: '127.0.0.1', port: 0 });
    try {
      const text = await new Promise<string>((resolve) => {
        const s = connect(Number(new URL(url).port), '127.0.0.1');
        let out = '';
        s.on('data', (d) => (out += d.toString('utf8')));
        s.on('close', () => resolve(out));
        s.write('GET / HTTP/1.1\r\nHost: x\r\n'); // and nothing more
      });
      expect(text).toMatch(/^HTTP\/1\.1 408 /);
      expect(text).toMatch(/content-type: application\/problem\+json/i);
      expect(JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4))).toMatchObject({ status: 408, code: 'REQUEST_TIMEOUT', title: '请求超时' });
    } finally {
      await quick.close();
    }
  });
});
