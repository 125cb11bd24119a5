/**
 * `fiscus serve --watch DIR`: a real listening server (locked down, as deployed) with the
 * watcher inside; an SSE client subscribed with ?from=now gets the alert of a file dropped
 * into DIR, and not the events from before it subscribed (which a client without a cursor
 * replays); the webhook (from now) gets the same alert. Also `fiscus watch DIR --once` through the CLI.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { buildServer } from '../../api/server.ts';
import { openStore, type Store } from '../../engine/db.ts';
import { DONE_DIR, startWatcher, type WatchEvent } from '../../watch/index.ts';
import { runCli } from '../helpers/cli.ts';
import { testDbLocation } from '../helpers/postgres.ts';
import { T, TOKENS } from '../api/helpers.ts';
import { ofType, paymentsCsv, RULES, waitFor } from './helpers.ts';

interface SseEvent {
  id?: string;
  event?: string;
  data?: { flag_id: string; rule_id: string; evidence: { key: string }[]; event: { seq: number; type: string } };
}

/** A minimal SSE client over fetch: every message parsed, in order. */
function subscribe(url: string, token: string): { events: SseEvent[]; close: () => void; opened: Promise<void> } {
  const events: SseEvent[] = [];
  const abort = new AbortController();
  let openedResolve!: () => void;
  const opened = new Promise<void>((r) => (openedResolve = r));
  void (async () => {
    const res = await fetch(url, { headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream' }, signal: abort.signal });
    openedResolve();
    const reader = res.body!.getReader();
    const dec = new TextDecoder();
    let buf = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buf += dec.decode(value, { stream: true });
      let i;
      while ((i = buf.indexOf('\n\n')) >= 0) {
        const block = buf.slice(0, i);
        buf = buf.slice(i + 2);
        const ev: SseEvent = {};
        for (const line of block.split('\n')) {
          const m = /^(\w+): ?(.*)$/.exec(line);
          if (!m) continue;
          if (m[1] === 'id') ev.id = m[2];
          else if (m[1] === 'event') ev.event = m[2];
          else if (m[1] === 'data') ev.data = JSON.parse(m[2]!);
        }
        if (ev.data && ev.event === undefined) events.push(ev); // alerts only, not `event: checkpoint`
      }
    }
  })().catch(() => undefined);
  return { events, opened, close: () => abort.abort() };
}

let root: string;
let dir: string;
let store: Store;
let app: FastifyInstance;
let base: string;
const watchEvents: WatchEvent[] = [];
/** Webhook deliveries received (a real receiver on loopback, allow-listed). */
const hooks: { flag_id: string; evidence: { key: string }[]; event: { type: string } }[] = [];
let receiver: Server;
const SECRET = `whsec_${Buffer.from('a-test-secret-of-32-bytes-length!').toString('base64')}`;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'fiscus-serve-watch-'));
  dir = join(root, 'in');
  mkdirSync(dir);
  store = await openStore(testDbLocation(join(root, 'db.duckdb')));
  // Events from before the subscription: one flag already in the log.
  writeFileSync(join(dir, 'treasury.payments_old.csv'), paymentsCsv('OLD', 2, 1));
  const first = await startWatcher({ store, dir, settleMs: 50, rules: RULES });
  await first.idle();
  await first.stop();
  receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const parsed = JSON.parse(body) as { type: string; data: unknown };
      if (parsed.type.startsWith('flag.')) hooks.push(parsed.data as (typeof hooks)[number]); // not the log checkpoints
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  const hookPort = (receiver.address() as AddressInfo).port;
  app = await buildServer({
    store,
    tokens: TOKENS,
    logger: false,
    webhookAllowTargets: ['127.0.0.1/32'],
    webhooks: [{ id: 'portal', url: `http://127.0.0.1:${hookPort}/hook`, secret: SECRET, from: 'now' }],
    closeStore: true,
    pollIntervalMs: 200,
    watch: { dir, settleMs: 100, rescanMs: 300, rules: RULES, onEvent: (e) => watchEvents.push(e) },
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await app?.close();
  receiver?.close();
  rmSync(root, { recursive: true, force: true });
});

describe('fiscus serve --watch', () => {
  it('delivers the alert of an arriving file on SSE (from now), and stops the watcher on close', async () => {
    const fromNow = subscribe(`${base}/v1/alerts/stream?from=now`, T.portal);
    const fromStart = subscribe(`${base}/v1/alerts/stream`, T.portal);
    await Promise.all([fromNow.opened, fromStart.opened]);
    // The stream without a cursor replays the log; the one from now does not.
    await waitFor('the replayed event', () => fromStart.events[0]);
    expect(fromStart.events[0]!.data!.evidence[0]!.key).toBe('OLD-S0');
    const t0 = Date.now();
    writeFileSync(join(dir, 'treasury.payments_new.csv'), paymentsCsv('NEW', 3, 1));
    const ev = await waitFor('the new alert on SSE', () => fromNow.events[0], 30_000);
    const latency = Date.now() - t0;
    expect(ev.data!.rule_id).toBe('treasury.nonworking_day');
    expect(ev.data!.event.type).toBe('flag.discovered');
    expect(ev.data!.evidence[0]!.key).toBe('NEW-S0');
    expect(ev.id).toMatch(/^[A-Za-z0-9_-]+$/); // a cursor to resume with
    expect(fromNow.events.every((e) => e.data!.evidence[0]!.key !== 'OLD-S0')).toBe(true);
    expect(latency).toBeLessThan(30_000);
    await waitFor('the second stream', () => fromStart.events[1]);
    expect(fromStart.events.map((e) => e.data!.evidence[0]!.key)).toEqual(['OLD-S0', 'NEW-S0']);
    expect(readdirSync(join(dir, DONE_DIR)).sort()).toEqual(['treasury.payments_new.csv', 'treasury.payments_old.csv']);
    // Findings are published as they are found, so the alert can reach SSE before the run's own
    // 'rules' event (emitted when runRules returns): wait for it rather than expect it already.
    await waitFor('the watcher\'s rules event', () => ofType(watchEvents, 'rules')[0]);
    expect(ofType(watchEvents, 'rules')).toHaveLength(1);
    // The same alert reaches the webhook (subscribed from now: not the old one).
    await waitFor('the webhook delivery', () => hooks[0]);
    expect(hooks.map((h) => h.evidence[0]!.key)).toEqual(['NEW-S0']);
    fromNow.close();
    fromStart.close();
    await app.close();
    // Closed: a file arriving now is not read.
    writeFileSync(join(dir, 'treasury.payments_late.csv'), paymentsCsv('LATE', 1, 1));
    await new Promise((r) => setTimeout(r, 500));
    expect(ofType(watchEvents, 'ingested').map((e) => e.rel)).toEqual(['treasury.payments_new.csv']);
  });
});

describe('fiscus watch --once (CLI)', () => {
  it('processes what is there, prints a line per event in English, and exits 1 when a file failed', async () => {
    const r2 = mkdtempSync(join(tmpdir(), 'fiscus-watch-cli-'));
    try {
      const d = join(r2, 'in');
      mkdirSync(d);
      writeFileSync(join(d, 'treasury.payments_2025-06.csv'), paymentsCsv('C', 3, 2));
      const db = testDbLocation(join(r2, 'db.duckdb'));
      const args = ['--db', db, 'watch', d, '--once', '--settle', '50', '--rule', 'treasury.nonworking_day', '--as-of', '2025-12-31', '--lang', 'en'];
      const ok = await runCli(args);
      expect(ok.stderr).toBe('');
      expect(ok.code).toBe(0);
      expect(ok.stdout).toMatch(/^received treasury\.payments_2025-06\.csv → treasury\.payments: 5 rows accepted, 0 rejected .*moved to \.fiscus-done\/treasury\.payments_2025-06\.csv$/m);
      expect(ok.stdout).toMatch(/^rule run after 1 file\(s\), \d+ ms: 2 new alert\(s\)$/m);
      writeFileSync(join(d, 'who-knows.csv'), 'a\n1\n');
      const bad = await runCli([...args.slice(0, -2)]); // default language: zh-CN
      expect(bad.code).toBe(1);
      expect(bad.stdout).toMatch(/^收到 who-knows\.csv：未能导入：cannot tell the table/m);
      expect(bad.stderr).toMatch(/1 个文件未导入/);
      const usage = await runCli(['--db', db, 'watch', join(r2, 'missing'), '--once']);
      expect(usage.code).toBe(2);
      expect(usage.stderr).toMatch(/not a folder/);
      // Zero days would delete what was just archived: refused before anything is watched.
      for (const days of ['0', '1.5', 'a week']) {
        const prune = await runCli(['--db', db, 'watch', d, '--once', '--prune-done', days]);
        expect(prune.code, days).toBe(2);
        expect(prune.stderr).toMatch(/--prune-done must be a whole number of days, at least 1/);
      }
      expect(readFileSync(join(d, '.fiscus-done', 'treasury.payments_2025-06.csv'), 'utf8')).toBe(paymentsCsv('C', 3, 2));
    } finally {
      rmSync(r2, { recursive: true, force: true });
    }
  });

  it('serve --watch with a folder that is not one stops the start with exit 2, not 0', () => {
    const r2 = mkdtempSync(join(tmpdir(), 'fiscus-serve-watch-bad-'));
    try {
      writeFileSync(join(r2, 'tokens.json'), JSON.stringify(TOKENS));
      const bin = join(import.meta.dirname, '../../cli/bin.js');
      const r = spawnSync(process.execPath, [bin, '--db', testDbLocation(join(r2, 'db.duckdb')), 'serve', '--tokens', join(r2, 'tokens.json'), '--port', '0', '--watch', join(r2, 'missing')], {
        encoding: 'utf8',
        timeout: 60_000,
      });
      expect(r.status).toBe(2);
      expect(r.stderr).toMatch(/cannot watch .*missing: not a folder/);
    } finally {
      rmSync(r2, { recursive: true, force: true });
    }
  });
});
