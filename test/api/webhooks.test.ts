/**
 * Webhooks: Standard Webhooks signatures, retries with backoff while the receiver fails,
 * at-least-once in seq order (receivers de-duplicate on webhook-id), scoped endpoints,
 * and a delivery log row per attempt. And the doors a webhook URL could open: internal
 * targets (literal, oddly spelled, or behind a name), credentials in the URL, redirects,
 * weak secrets. The receivers live on 127.0.0.1, which the servers here allow-list
 * explicitly (nothing else is ever contacted).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { createServer, request, type Server } from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LookupAddress } from 'node:dns';
import { Webhook } from 'standardwebhooks';
import type { FastifyInstance } from 'fastify';
import type { Store } from '../../engine/db.ts';
import { buildServer } from '../../api/server.ts';
import { checkWebhookUrl, guardedLookup, TargetAllowList } from '../../api/webhook-target.ts';
import { generateWebhookSecret, loadWebhooksFile, webhookEndpointSchema } from '../../api/webhooks.ts';
import { appendEvent, insertFlags, seedAgencies, startServer, tempStore, TOKENS } from './helpers.ts';

const SECRET = `whsec_${Buffer.from('a-test-secret-of-32-bytes-length!').toString('base64')}`;
let store: Store;
let app: FastifyInstance;
let cleanup: () => Promise<void>;
let receiver: Server;
let received: { id: string; seq: number; flag: string; type: string }[] = [];
/** `log.checkpoint` messages: the portal's witness copy of the signed log head. */
let checkpoints: { id: string; cp: any }[] = [];
let attempts = 0;
/** Armed by the first test once the workers started (their first message is the newest checkpoint). */
let failFirst = 0;
let badSignatures = 0;

beforeAll(async () => {
  ({ store, cleanup } = await tempStore());
  await seedAgencies(store);
  await insertFlags(store, [{ flag_id: 'OLD', agency_code: 'A0101' }]);
  const wh = new Webhook(SECRET);
  receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      attempts++;
      if (failFirst > 0) {
        failFirst--;
        res.writeHead(503).end();
        return;
      }
      try {
        const msg = wh.verify(body, req.headers as Record<string, string>) as { type: string; data: any };
        if (msg.type === 'log.checkpoint') {
          checkpoints.push({ id: String(req.headers['webhook-id']), cp: msg.data });
          res.writeHead(204).end();
          return;
        }
        received.push({ id: String(req.headers['webhook-id']), seq: msg.data.event.seq, flag: msg.data.flag_id, type: msg.type });
        res.writeHead(204).end();
      } catch {
        badSignatures++;
        res.writeHead(400).end();
      }
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', () => r()));
  const port = (receiver.address() as { port: number }).port;
  ({ app } = await startServer(store, {
    webhookAllowTargets: ['127.0.0.1/32'],
    webhooks: [
      { id: 'portal', url: `http://127.0.0.1:${port}/hook`, secret: SECRET, from: 'now', base_backoff_ms: 20, max_backoff_ms: 200 },
      // Scoped to B0201 and pointing at a dead port: retries forever, never skips.
      { id: 'b-dead', url: 'http://127.0.0.1:9/hook', secret: SECRET, agency_code: 'B0201', base_backoff_ms: 20, max_backoff_ms: 50, timeout_ms: 500 },
    ],
  }));
});
afterAll(async () => {
  await app.close();
  receiver.close();
  await cleanup();
});

async function until(cond: () => boolean | Promise<boolean>, ms = 20_000) {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('webhooks', () => {
  it('delivers new events signed, in order, after retrying a failing receiver', async () => {
    // Give the workers time to take their starting cursor ("now": OLD's event is not sent).
    await until(async () => Number((await store.one<{ n: string }>('SELECT count(*) AS n FROM fiscus.webhook_cursors'))?.n) === 2);
    // A starting worker sends the newest checkpoint (OLD's #1) even though no event is due.
    await until(() => checkpoints.length >= 1);
    expect(checkpoints[0]!.cp).toMatchObject({ v: 1, seq: 1 });
    failFirst = 3;
    attempts = 0;
    await insertFlags(store, [{ flag_id: 'N1', agency_code: 'A0101' }, { flag_id: 'N2', agency_code: 'B0201' }]);
    await appendEvent(store, 'N1', 'flag.overdue');
    await until(() => received.length >= 3);
    expect(badSignatures).toBe(0);
    const unique = [...new Map(received.map((r) => [r.id, r])).values()];
    expect(unique.map((r) => [r.flag, r.type])).toEqual([
      ['N1', 'flag.discovered'],
      ['N2', 'flag.discovered'],
      ['N1', 'flag.overdue'],
    ]);
    expect(unique.map((r) => r.seq)).toEqual([...unique.map((r) => r.seq)].sort((a, b) => a - b));
    expect(attempts).toBeGreaterThanOrEqual(6); // 3 failures + 3 successes
    const deliveries = () => store.all<{ ok: boolean; attempt: number; status_code: number | null }>(
      "SELECT ok, attempt, status_code FROM fiscus.webhook_deliveries WHERE endpoint_id = 'portal' AND message_id NOT LIKE 'log.checkpoint.%' ORDER BY attempted_at",
    );
    // The worker logs a delivery after its response arrives: the receiver can be ahead of the log.
    await until(async () => (await deliveries()).filter((l) => l.ok).length >= 3);
    const log = await deliveries();
    expect(log.filter((l) => !l.ok).length).toBe(3);
    expect(log.filter((l) => l.ok).length).toBe(3);
    expect(log[3]).toMatchObject({ ok: true, attempt: 4, status_code: 204 });
  });

  it('delivers the signed log checkpoint as its own log.checkpoint message after the events it covers', async () => {
    const head = await store.one<{ seq: string; hash: string }>('SELECT seq, hash FROM fiscus.flag_events ORDER BY seq DESC LIMIT 1');
    await until(() => checkpoints.some((c) => c.cp.seq === Number(head!.seq)));
    const cp = checkpoints.find((c) => c.cp.seq === Number(head!.seq))!;
    expect(cp.cp).toMatchObject({ v: 1, hash: head!.hash, key_id: expect.stringMatching(/^v1-/), signature: expect.any(String) });
    expect(cp.id).toMatch(/^log\.checkpoint\.\d+\./);
    // It came after the alert it covers.
    const last = await store.one<{ event_id: string }>('SELECT event_id FROM fiscus.flag_events WHERE seq = $s', { s: Number(head!.seq) });
    const rows = await store.all<{ message_id: string }>(
      "SELECT message_id FROM fiscus.webhook_deliveries WHERE endpoint_id = 'portal' AND ok ORDER BY attempted_at",
    );
    const ids = rows.map((r) => r.message_id);
    expect(ids.indexOf(cp.id)).toBeGreaterThan(ids.indexOf(last!.event_id));
  });

  it('a dead scoped endpoint keeps retrying its own first event and never advances past it', async () => {
    await until(async () => Number((await store.one<{ n: string }>("SELECT count(*) AS n FROM fiscus.webhook_deliveries WHERE endpoint_id = 'b-dead'"))?.n) >= 3);
    const rows = await store.all<{ message_id: string; ok: boolean }>("SELECT DISTINCT message_id, ok FROM fiscus.webhook_deliveries WHERE endpoint_id = 'b-dead'");
    expect(rows.length).toBe(1);
    expect(rows[0]!.ok).toBe(false);
    const n2 = await store.one<{ event_id: string; seq: string }>("SELECT event_id, seq FROM fiscus.flag_events WHERE flag_id = 'N2'");
    // Its first message due was the newest checkpoint at start (#1): retried, never skipped, so N2 is not sent either.
    expect(rows[0]!.message_id).toMatch(/^log\.checkpoint\.1\./);
    const cur = await store.one<{ last_seq: string }>("SELECT last_seq FROM fiscus.webhook_cursors WHERE endpoint_id = 'b-dead'");
    expect(Number(cur!.last_seq)).toBeLessThan(Number(n2!.seq));
  });
});

/** A receiver on 127.0.0.1 that counts requests and answers with `answer`. */
async function receiverOn(answer: (res: import('node:http').ServerResponse) => void): Promise<{ server: Server; port: number; hits: () => number }> {
  let hits = 0;
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      hits++;
      answer(res);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return { server, port: (server.address() as { port: number }).port, hits: () => hits };
}

const none = new TargetAllowList();

describe('webhook targets: internal addresses are refused', () => {
  it.each([
    ['http://127.0.0.1:8080/hook', 'loopback'],
    ['http://2130706433/hook', 'loopback'], // decimal
    ['http://0177.0.0.1/hook', 'loopback'], // octal
    ['http://0x7f.1/hook', 'loopback'], // hex, short form
    ['http://0x7f000001/hook', 'loopback'],
    ['http://127.1/hook', 'loopback'],
    ['http://127.0.0.1./hook', 'loopback'], // trailing dot
    ['http://%31%32%37.0.0.1/hook', 'loopback'], // percent-encoded host
    ['http://169.254.169.254/latest/meta-data/', 'link-local'],
    ['http://10.0.0.1/', 'private'],
    ['http://172.16.5.4/', 'private'],
    ['http://172.31.255.255/', 'private'],
    ['http://192.168.1.1/', 'private'],
    ['http://100.64.0.1/', 'CGNAT'],
    ['http://0.0.0.0/', 'unspecified'],
    ['http://0/', 'unspecified'],
    ['http://224.0.0.1/', 'multicast'],
    ['http://255.255.255.255/', 'broadcast'],
    ['http://[::1]/', 'loopback'],
    ['http://[::]/', 'unspecified'],
    ['http://[::ffff:127.0.0.1]/', 'loopback, as IPv4 embedded in IPv6'],
    ['http://[::ffff:a9fe:a9fe]/', 'link-local'],
    ['http://[0:0:0:0:0:ffff:10.0.0.1]/', 'private'],
    ['http://[::127.0.0.1]/', 'reserved'], // IPv4-compatible (deprecated)
    ['http://[fe80::1]/', 'link-local'],
    ['http://[fd12:3456::1]/', 'unique local'],
    ['http://[ff02::1]/', 'multicast'],
    ['http://[64:ff9b::a9fe:a9fe]/', 'link-local'], // NAT64 of 169.254.169.254
    ['http://[2002:7f00:1::]/', 'loopback'], // 6to4 of 127.0.0.1
  ])('%s is refused (%s)', (url, why) => {
    expect(() => checkWebhookUrl(url, none)).toThrow(why);
  });

  it('public addresses and host names pass the static check (names are checked when connecting)', () => {
    for (const url of ['https://8.8.8.8/h', 'https://[2606:4700::1111]/h', 'http://172.32.0.1/', 'http://100.128.0.1/', 'https://portal.example.com/h']) {
      expect(() => checkWebhookUrl(url, none), url).not.toThrow();
    }
  });

  it('the allow-list admits exactly its ranges, also as IPv4-mapped IPv6', () => {
    const allow = new TargetAllowList(['127.0.0.1/32', '10.1.2.0/24']);
    expect(() => checkWebhookUrl('http://127.0.0.1:9/h', allow)).not.toThrow();
    expect(() => checkWebhookUrl('http://[::ffff:127.0.0.1]:9/h', allow)).not.toThrow();
    expect(() => checkWebhookUrl('http://10.1.2.200/h', allow)).not.toThrow();
    expect(() => checkWebhookUrl('http://127.0.0.2/h', allow)).toThrow('loopback');
    expect(() => checkWebhookUrl('http://10.1.3.1/h', allow)).toThrow('private');
    expect(() => checkWebhookUrl('http://[::1]/h', allow)).toThrow('loopback');
    expect(() => new TargetAllowList(['10.0.0.0/33'])).toThrow('not a CIDR');
    expect(() => new TargetAllowList(['not a host'])).toThrow('neither a CIDR nor a host name');
  });

  it('user:pass@ URLs are refused, in the webhooks file and at delivery', () => {
    const dir = mkdtempSync(join(tmpdir(), 'fiscus-wh-'));
    const file = join(dir, 'webhooks.json');
    writeFileSync(file, JSON.stringify([{ id: 'p', url: 'https://user:pass@portal.example.com/hook', secret: SECRET }]));
    expect(() => loadWebhooksFile(file)).toThrow(/0\.url: must not carry credentials/);
    rmSync(dir, { recursive: true, force: true });
    expect(() => checkWebhookUrl('http://user:pass@127.0.0.1/', new TargetAllowList(['127.0.0.1/32']))).toThrow('credentials');
    expect(() => checkWebhookUrl('http://127.0.0.1:80@evil.example/', none)).toThrow('credentials');
  });

  it('a server configured with an internal literal target refuses to start', async () => {
    const t = await tempStore();
    try {
      await expect(
        buildServer({ store: t.store, tokens: TOKENS, logger: false, webhooks: [{ id: 'meta', url: 'http://0x7f.1:8080/hook', secret: SECRET }] }),
      ).rejects.toThrow(/127\.0\.0\.1:8080 is loopback.*--webhook-allow/);
      // Refused before anything was opened or locked down: the same store then serves normally.
      const ok = await buildServer({ store: t.store, tokens: TOKENS, logger: false });
      expect((await ok.inject({ url: '/healthz' })).statusCode).toBe(200);
      await ok.close();
      await expect(
        buildServer({ store: t.store, tokens: TOKENS, logger: false, lockdown: false, webhooks: [{ id: 'weak', url: 'https://portal.example.com/h', secret: 'whsec_c2VjcmV0' }] }),
      ).rejects.toThrow(/webhook endpoint weak is invalid: secret: must carry at least 24 random bytes/);
    } finally {
      await t.cleanup();
    }
  });
});


describe('webhook secrets', () => {
  const parse = (secret: string) => webhookEndpointSchema.safeParse({ id: 'p', url: 'https://portal.example.com/h', secret });
  it('a 6-byte secret is refused with a clear message', () => {
    const r = parse(`whsec_${Buffer.from('secret').toString('base64')}`);
    expect(r.success).toBe(false);
    expect(r.error!.issues[0]!.message).toContain('at least 24 random bytes');
    expect(r.error!.issues[0]!.message).toContain('fiscus webhooks secret');
  });
  it('23 bytes are refused, 24 accepted; a secret without whsec_ is refused', () => {
    expect(parse(`whsec_${Buffer.alloc(23, 7).toString('base64')}`).success).toBe(false);
    expect(parse(`whsec_${Buffer.alloc(24, 7).toString('base64')}`).success).toBe(true);
    const bare = parse(Buffer.alloc(32, 7).toString('base64'));
    expect(bare.success).toBe(false);
    expect(bare.error!.issues[0]!.message).toContain('whsec_');
  });
  it('generated secrets are whsec_ + 32 random bytes and sign and verify', () => {
    const a = generateWebhookSecret();
    const b = generateWebhookSecret();
    expect(a).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(Buffer.from(a.slice(6), 'base64').length).toBe(32);
    expect(a).not.toBe(b);
    expect(parse(a).success).toBe(true);
    const wh = new Webhook(a);
    const now = new Date();
    const sig = wh.sign('msg_1', now, '{"x":1}');
    expect(wh.verify('{"x":1}', { 'webhook-id': 'msg_1', 'webhook-timestamp': String(Math.floor(now.getTime() / 1000)), 'webhook-signature': sig })).toEqual({ x: 1 });
  });
});

describe('webhook delivery: connect-time checks and redirects', () => {
  it('a host name that resolves to loopback is refused when connecting; nothing reaches the receiver', async () => {
    const t = await tempStore();
    const rcv = await receiverOn((res) => res.writeHead(204).end());
    // No allow-list: `localhost` passes the static check (it is a name) and is refused by the socket's lookup.
    const { app: a } = await startServer(t.store, {
      webhooks: [{ id: 'by-name', url: `http://localhost:${rcv.port}/hook`, secret: SECRET, from: 'start', base_backoff_ms: 20, max_backoff_ms: 50 }],
    });
    try {
      await insertFlags(t.store, [{ flag_id: 'L1' }]);
      await until(async () => Number((await t.store.one<{ n: string }>("SELECT count(*) AS n FROM fiscus.webhook_deliveries WHERE endpoint_id = 'by-name'"))?.n) >= 2);
      const rows = await t.store.all<{ ok: boolean; status_code: number | null; error: string }>(
        "SELECT ok, status_code, error FROM fiscus.webhook_deliveries WHERE endpoint_id = 'by-name'",
      );
      for (const r of rows) {
        expect(r.ok).toBe(false);
        expect(r.status_code).toBeNull();
        expect(r.error).toMatch(/localhost resolves to 127\.0\.0\.1, which is loopback/);
      }
      expect(rcv.hits()).toBe(0);
    } finally {
      await a.close();
      rcv.server.close();
      await t.cleanup();
    }
  });

  it('a redirect is not followed and not delivered: the second receiver gets nothing, the log says so', async () => {
    const t = await tempStore();
    const second = await receiverOn((res) => res.writeHead(204).end());
    const first = await receiverOn((res) => res.writeHead(307, { location: `http://127.0.0.1:${second.port}/internal` }).end());
    const good = await receiverOn((res) => res.writeHead(204).end());
    const { app: a } = await startServer(t.store, {
      webhookAllowTargets: ['127.0.0.1/32'],
      webhooks: [
        { id: 'redir', url: `http://127.0.0.1:${first.port}/hook`, secret: SECRET, from: 'start', base_backoff_ms: 20, max_backoff_ms: 50 },
        // A name is allowed by the address it resolves to: localhost → 127.0.0.1 is inside 127.0.0.1/32.
        { id: 'named-ok', url: `http://localhost:${good.port}/hook`, secret: SECRET, from: 'start', base_backoff_ms: 20, max_backoff_ms: 50 },
      ],
    });
    try {
      await insertFlags(t.store, [{ flag_id: 'R1' }]);
      await until(async () => Number((await t.store.one<{ n: string }>("SELECT count(*) AS n FROM fiscus.webhook_deliveries WHERE endpoint_id = 'redir'"))?.n) >= 3);
      await until(() => good.hits() >= 1);
      const rows = await t.store.all<{ ok: boolean; status_code: number; error: string }>(
        "SELECT ok, status_code, error FROM fiscus.webhook_deliveries WHERE endpoint_id = 'redir'",
      );
      expect(rows.every((r) => !r.ok && r.status_code === 307)).toBe(true);
      expect(rows[0]!.error).toMatch(/HTTP 307 redirect to http:\/\/127\.0\.0\.1:\d+\/internal not followed/);
      expect(first.hits()).toBeGreaterThanOrEqual(3);
      expect(second.hits()).toBe(0);
      const ev = await t.store.one<{ seq: string }>("SELECT seq FROM fiscus.flag_events WHERE flag_id = 'R1'");
      const cur = await t.store.one<{ last_seq: string }>("SELECT last_seq FROM fiscus.webhook_cursors WHERE endpoint_id = 'redir'");
      expect(Number(cur!.last_seq)).toBeLessThan(Number(ev!.seq)); // never counted as delivered
      const okRows = await t.store.all<{ ok: boolean }>("SELECT ok FROM fiscus.webhook_deliveries WHERE endpoint_id = 'named-ok'");
      expect(okRows.some((r) => r.ok)).toBe(true);
    } finally {
      await a.close();
      for (const r of [first, second, good]) r.server.close();
      await t.cleanup();
    }
  });
});

describe('webhook delivery: a receiver that never answers', () => {
  it('is a failed delivery with a clear timeout error, retried', async () => {
    const t = await tempStore();
    let hits = 0;
    const hang = createServer((req) => {
      hits++;
      req.resume(); // and never answer
    });
    await new Promise<void>((r) => hang.listen(0, '127.0.0.1', () => r()));
    const port = (hang.address() as { port: number }).port;
    const { app: a } = await startServer(t.store, {
      webhookAllowTargets: ['127.0.0.1/32'],
      webhooks: [{ id: 'hang', url: `http://127.0.0.1:${port}/hook`, secret: SECRET, from: 'start', timeout_ms: 200, base_backoff_ms: 20, max_backoff_ms: 50 }],
    });
    try {
      await insertFlags(t.store, [{ flag_id: 'H1' }]);
      await until(async () => Number((await t.store.one<{ n: string }>("SELECT count(*) AS n FROM fiscus.webhook_deliveries WHERE endpoint_id = 'hang'"))?.n) >= 2);
      const rows = await t.store.all<{ ok: boolean; error: string }>("SELECT ok, error FROM fiscus.webhook_deliveries WHERE endpoint_id = 'hang'");
      expect(rows.every((r) => !r.ok && r.error === 'no complete answer within 200 ms')).toBe(true);
      expect(hits).toBeGreaterThanOrEqual(2);
    } finally {
      await a.close();
      hang.closeAllConnections();
      hang.close();
      await t.cleanup();
    }
  });
});

describe('guardedLookup: the address checked is the address connected to', () => {
  it('a name whose answer changes between connections (DNS rebinding) is refused when it turns internal', async () => {
    const rcv = await receiverOn((res) => res.writeHead(200).end('ok'));
    const answers: LookupAddress[][] = [
      [{ address: '127.0.0.1', family: 4 }], // allow-listed: connects
      [{ address: '10.0.0.1', family: 4 }], // rebound to a private address
      [{ address: '127.0.0.1', family: 4 }, { address: '10.0.0.1', family: 4 }], // mixed answer
    ];
    let calls = 0;
    const resolver = (_host: string, _o: unknown, cb: (e: NodeJS.ErrnoException | null, a: LookupAddress[]) => void) => cb(null, answers[calls++]!);
    const lookup = guardedLookup(new TargetAllowList(['127.0.0.1/32']), resolver);
    const get = () =>
      new Promise<number>((resolve, reject) => {
        const req = request({ hostname: 'rebind.test', port: rcv.port, path: '/', agent: false, lookup }, (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        });
        req.on('error', reject);
        req.end();
      });
    try {
      expect(await get()).toBe(200);
      await expect(get()).rejects.toThrow(/rebind\.test resolves to 10\.0\.0\.1, which is private/);
      await expect(get()).rejects.toThrow(/10\.0\.0\.1, which is private/);
      expect(calls).toBe(3);
      expect(rcv.hits()).toBe(1);
    } finally {
      rcv.server.close();
    }
  });

  it('answers both lookup shapes Node uses (all: true with autoSelectFamily, all: false)', async () => {
    const lookup = guardedLookup(new TargetAllowList(['127.0.0.1/32']));
    const one = await new Promise<unknown[]>((r) => lookup('localhost', { all: false }, (...a) => r(a)));
    expect(one).toEqual([null, '127.0.0.1', 4]);
    const all = await new Promise<unknown[]>((r) => lookup('localhost', { all: true }, (...a) => r(a)));
    expect(all[0]).toBeNull();
    expect(all[1]).toEqual(expect.arrayContaining([{ address: '127.0.0.1', family: 4 }]));
    const refused = await new Promise<unknown[]>((r) => guardedLookup(none)('localhost', { all: true }, (...a) => r(a)));
    expect(String(refused[0])).toContain('loopback');
  });
});

describe('CLI: fiscus webhooks secret / check, fiscus serve --webhook-allow', () => {
  const BIN = join(import.meta.dirname, '../../cli/bin.js');
  const cli = (args: string[]) => {
    const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 60_000 });
    return { code: r.status, out: r.stdout, err: r.stderr };
  };

  it('webhooks secret prints a fresh whsec_ secret the schema accepts', () => {
    const a = cli(['webhooks', 'secret']);
    const b = cli(['webhooks', 'secret']);
    expect(a.code).toBe(0);
    expect(a.out.trim()).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(a.out).not.toBe(b.out);
  });

  it('webhooks check refuses internal targets unless allow-listed, and weak secrets always', () => {
    const dir = mkdtempSync(join(tmpdir(), 'fiscus-wh-'));
    try {
      const file = join(dir, 'webhooks.json');
      writeFileSync(
        file,
        JSON.stringify([
          { id: 'by-name', url: 'http://localhost:9/hook', secret: SECRET },
          { id: 'metadata', url: 'http://169.254.169.254/latest/meta-data/', secret: SECRET },
        ]),
      );
      const refused = cli(['webhooks', 'check', file]);
      expect(refused.code).toBe(1);
      expect(refused.out).toMatch(/refused\s+by-name\s+webhook target localhost resolves to 127\.0\.0\.1, which is loopback/);
      expect(refused.out).toMatch(/refused\s+metadata\s+webhook target 169\.254\.169\.254 is link-local/);
      const allowed = cli(['webhooks', 'check', file, '--webhook-allow', '127.0.0.1/32', '--webhook-allow', '169.254.169.254']);
      expect(allowed.code, allowed.err).toBe(0);
      expect(allowed.out).toMatch(/ok\s+by-name\s+localhost:9 → 127\.0\.0\.1/);
      writeFileSync(file, JSON.stringify([{ id: 'weak', url: 'https://portal.example.com/h', secret: `whsec_${Buffer.from('secret').toString('base64')}` }]));
      const weak = cli(['webhooks', 'check', file]);
      expect(weak.code).toBe(1);
      expect(weak.err).toContain('0.secret: must carry at least 24 random bytes');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('serve --webhook-allow lets an allow-listed internal receiver through and delivers to it', async () => {
    const t = await tempStore();
    await insertFlags(t.store, [{ flag_id: 'C1' }]);
    const db = t.store.path;
    await t.store.close();
    const rcv = await receiverOn((res) => res.writeHead(204).end());
    writeFileSync(join(t.dir, 'tokens.json'), JSON.stringify(TOKENS));
    writeFileSync(join(t.dir, 'webhooks.json'), JSON.stringify([{ id: 'local', url: `http://127.0.0.1:${rcv.port}/hook`, secret: SECRET, from: 'start' }]));
    const child = spawn(
      process.execPath,
      [BIN, '--db', db, 'serve', '--port', '0', '--tokens', join(t.dir, 'tokens.json'), '--webhooks', join(t.dir, 'webhooks.json'), '--webhook-allow', '127.0.0.1/32', '--log-level', 'warn'],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let err = '';
    child.stderr!.on('data', (b: Buffer) => (err += b.toString()));
    try {
      await until(() => rcv.hits() >= 1 || child.exitCode !== null, 45_000);
      expect(child.exitCode, err).toBeNull();
      expect(rcv.hits()).toBeGreaterThanOrEqual(1);
    } finally {
      const exited = new Promise((r) => child.once('exit', r));
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
      rcv.server.close();
      rmSync(t.dir, { recursive: true, force: true });
    }
  });

  it('serve refuses to start with an internal webhook target and names the way out', async () => {
    const t = await tempStore();
    const db = t.store.path;
    await t.store.close();
    try {
      writeFileSync(join(t.dir, 'tokens.json'), JSON.stringify(TOKENS));
      writeFileSync(join(t.dir, 'webhooks.json'), JSON.stringify([{ id: 'meta', url: 'http://[::ffff:169.254.169.254]/latest', secret: SECRET }]));
      const r = cli(['--db', db, 'serve', '--port', '0', '--tokens', join(t.dir, 'tokens.json'), '--webhooks', join(t.dir, 'webhooks.json')]);
      expect(r.code).toBe(1);
      expect(r.err).toMatch(/link-local.*as IPv4 embedded in IPv6.*--webhook-allow/);
      expect(r.err).not.toMatch(/listening on/);
    } finally {
      rmSync(t.dir, { recursive: true, force: true });
    }
  });
});
