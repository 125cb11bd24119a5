/**
 * One flag, one shape: the FLAGS.md objects that `fiscus flags --format jsonl`,
 * `fiscus track show`, GET /v1/flags, GET /v1/flags/{id}, the pull feed, the SSE
 * stream and a webhook delivery carry are validated against the same zod schemas
 * (flags/schema.ts, strict: no field more or less), and the same flag reads the
 * same on every surface. Real DuckDB file, real CLI, real server, real receiver on
 * 127.0.0.1.
 */
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Webhook } from 'standardwebhooks';
import type { FastifyInstance } from 'fastify';
import { openStore, type Store } from '../../engine/db.ts';
import { alertSchema, flagEventSchema, flagRecordSchema, flagSchema, ISO_UTC, type FlagJson } from '../../flags/schema.ts';
import { performAction } from '../../tracker/index.ts';
import { cli } from '../tracker/helpers.ts';
import { getJson, insertFlags, openSse, seedAgencies, startServer, T, tempStore } from '../api/helpers.ts';

const SECRET = `whsec_${Buffer.from('a-test-secret-of-32-bytes-length!').toString('base64')}`;
let dir: string;
let db: string;
let store: Store;
let cleanup: () => Promise<void>;
let app: FastifyInstance;
let base: string;
let receiver: Server;
const hooks: { type: string; data: unknown }[] = [];
let jsonl: FlagJson[] = [];
let shown: { flag: unknown; events: unknown[] };

const CONTRACT_KEYS = Object.keys(flagSchema.shape);
const pickContract = (f: Record<string, unknown>) => Object.fromEntries(CONTRACT_KEYS.map((k) => [k, f[k]]));

beforeAll(async () => {
  const t = await tempStore();
  ({ dir, cleanup, db } = t);
  store = t.store;
  await seedAgencies(store);
  await insertFlags(store, [
    { flag_id: 'C1', agency_code: 'A0101', evidence: [{ table: 'treasury.payments', key: 'P1' }, { table: 'treasury.payments', key: 'P2' }] },
    { flag_id: 'C2', agency_code: null, region_code: null, amount: null, severity: 'low', rule_id: 'debt.ratio' },
  ]);
  const sup = { name: '监督员', role: 'supervisor' as const };
  await performAction(store, 'C1', { action: 'confirm', note: '金额较大' }, sup);
  await performAction(store, 'C1', { action: 'assign', to: 'A0101', due: '2030-06-28' }, sup);
  await store.close();

  // The CLI on the database file, before the server takes it.
  const out = await cli(db, 'flags', '--format', 'jsonl');
  expect(out.code, out.err).toBe(0);
  jsonl = out.out.trim().split('\n').map((l) => JSON.parse(l) as FlagJson);
  const show = await cli(db, 'track', 'show', 'C1', '--format', 'json');
  expect(show.code, show.err).toBe(0);
  shown = JSON.parse(show.out);

  const wh = new Webhook(SECRET);
  receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const msg = wh.verify(body, req.headers as Record<string, string>) as { type: string; data: unknown };
      if (msg.type !== 'log.checkpoint') hooks.push(msg);
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', () => r()));
  const port = (receiver.address() as { port: number }).port;
  store = await openStore(db);
  ({ app, url: base } = await startServer(store, {
    webhookAllowTargets: ['127.0.0.1/32'],
    webhooks: [{ id: 'portal', url: `http://127.0.0.1:${port}/hook`, secret: SECRET, from: 'start', base_backoff_ms: 20, max_backoff_ms: 200 }],
  }));
});

afterAll(async () => {
  await app?.close();
  receiver?.close();
  await store?.close();
  await cleanup();
});

describe('FLAGS.md dates', () => {
  it('period and due_date are real calendar dates YYYY-MM-DD (engine/dates.ts), not just the shape', () => {
    const due = flagRecordSchema.shape.due_date;
    expect(due.safeParse('2030-06-28').success).toBe(true);
    expect(due.safeParse(null).success).toBe(true);
    for (const bad of ['2030-02-30', '2030-13-01', '2030-6-28']) expect(due.safeParse(bad).success, bad).toBe(false);
    expect(flagSchema.shape.period.safeParse({ start: '2026-02-29', end: null }).success).toBe(false);
  });
});

describe('FLAGS.md everywhere', () => {
  it('fiscus flags --format jsonl prints exactly the contract', () => {
    expect(jsonl.map((f) => f.flag_id).sort()).toEqual(['C1', 'C2']);
    for (const f of jsonl) {
      expect(flagSchema.strict().parse(f)).toEqual(f);
      expect(Object.keys(f)).toEqual(CONTRACT_KEYS);
      expect(f.first_seen_at).toMatch(ISO_UTC);
    }
    const c2 = jsonl.find((f) => f.flag_id === 'C2')!;
    expect(c2).toMatchObject({ agency_code: null, region_code: null, amount: null, severity: 'low' });
  });

  it('GET /v1/flags and /v1/flags/{id}: the contract plus the stored fields, the same values', async () => {
    const list = await getJson(`${base}/v1/flags?sort=rule`, T.analyst);
    expect(list.status).toBe(200);
    expect(list.body.items).toHaveLength(2);
    for (const f of list.body.items) {
      expect(flagRecordSchema.strict().parse(f)).toEqual(f);
      expect(pickContract(f)).toEqual(jsonl.find((j) => j.flag_id === f.flag_id));
    }
    const one = await getJson(`${base}/v1/flags/C1`, T.analyst);
    expect(one.status).toBe(200);
    const { evidence_rows: _e, history, tracker: _t, ...flag } = one.body;
    expect(flagRecordSchema.strict().parse(flag)).toEqual(flag);
    expect(flag).toMatchObject({ status: 'assigned', due_date: '2030-06-28', assigned_to: 'A0101' });
    for (const e of history) expect(flagEventSchema.strict().parse(e)).toEqual(e);
    // fiscus track show prints the same events, field for field.
    expect(shown.events).toEqual(history);
  });

  it('fiscus track show: the flag carries the contract fields, the events the alert event fields', () => {
    const f = shown.flag as Record<string, unknown>;
    expect(pickContract(f)).toEqual(jsonl.find((j) => j.flag_id === 'C1'));
    expect(shown.events.map((e) => (e as { type: string }).type)).toEqual(['flag.discovered', 'flag.confirmed', 'flag.assigned']);
    for (const e of shown.events) {
      expect(Object.keys(e as object)).toEqual(['id', 'type', 'seq', 'at', 'actor', 'role', 'from_status', 'to_status', 'note', 'data']);
      expect((e as { at: string }).at).toMatch(ISO_UTC);
    }
    expect(shown.events[1]).toMatchObject({ actor: '监督员', role: 'supervisor', from_status: 'discovered', to_status: 'confirmed', note: '金额较大' });
  });

  it('the pull feed, the SSE stream and webhooks carry the same alert', async () => {
    const pull = await getJson(`${base}/v1/alerts?limit=100`, T.portal);
    expect(pull.status).toBe(200);
    expect(pull.body.items).toHaveLength(4);
    for (const a of pull.body.items) {
      expect(alertSchema.strict().parse(a)).toEqual(a);
      expect(flagEventSchema.strict().parse(a.event)).toEqual(a.event);
    }
    // The C1 events of the feed are the events track show prints.
    expect(pull.body.items.filter((a: { flag_id: string }) => a.flag_id === 'C1').map((a: { event: unknown }) => a.event)).toEqual(shown.events);

    const sse = openSse(`${base}/v1/alerts/stream`, T.portal);
    const got: unknown[] = [];
    for (let i = 0; i < 4; i++) got.push(JSON.parse((await sse.next())!.data));
    await sse.close();
    expect(got).toEqual(pull.body.items);

    const deadline = Date.now() + 30_000;
    while (hooks.length < 4 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(hooks).toHaveLength(4);
    for (const h of hooks) {
      expect(alertSchema.strict().parse(h.data)).toEqual(h.data);
      expect(h.type).toBe((h.data as { event: { type: string } }).event.type);
    }
    // A webhook alert is the feed's alert (the flag's current status plus the event).
    expect(hooks.map((h) => h.data)).toEqual(pull.body.items);
  });
});
