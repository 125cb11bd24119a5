/**
 * Webhooks: Standard Webhooks signatures, retries with backoff while the receiver fails,
 * at-least-once in seq order (receivers de-duplicate on webhook-id), scoped endpoints,
 * and a delivery log row per attempt.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import { Webhook } from 'standardwebhooks';
import type { FastifyInstance } from 'fastify';
import type { Store } from '../../engine/db.ts';
import { appendEvent, insertFlags, seedAgencies, startServer, tempStore } from './helpers.ts';

const SECRET = `whsec_${Buffer.from('a-test-secret-of-32-bytes-length!').toString('base64')}`;
let store: Store;
let app: FastifyInstance;
let cleanup: () => Promise<void>;
let receiver: Server;
let received: { id: string; seq: number; flag: string; type: string }[] = [];
let attempts = 0;
let failFirst = 3;
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
    const log = await store.all<{ ok: boolean; attempt: number; status_code: number | null }>(
      "SELECT ok, attempt, status_code FROM fiscus.webhook_deliveries WHERE endpoint_id = 'portal' ORDER BY attempted_at",
    );
    expect(log.filter((l) => !l.ok).length).toBe(3);
    expect(log.filter((l) => l.ok).length).toBe(3);
    expect(log[3]).toMatchObject({ ok: true, attempt: 4, status_code: 204 });
  });

  it('a dead scoped endpoint keeps retrying its own first event and never advances past it', async () => {
    await until(async () => Number((await store.one<{ n: string }>("SELECT count(*) AS n FROM fiscus.webhook_deliveries WHERE endpoint_id = 'b-dead'"))?.n) >= 3);
    const rows = await store.all<{ message_id: string; ok: boolean }>("SELECT DISTINCT message_id, ok FROM fiscus.webhook_deliveries WHERE endpoint_id = 'b-dead'");
    expect(rows.length).toBe(1);
    expect(rows[0]!.ok).toBe(false);
    const n2 = await store.one<{ event_id: string; seq: string }>("SELECT event_id, seq FROM fiscus.flag_events WHERE flag_id = 'N2'");
    expect(rows[0]!.message_id).toBe(n2!.event_id);
    const cur = await store.one<{ last_seq: string }>("SELECT last_seq FROM fiscus.webhook_cursors WHERE endpoint_id = 'b-dead'");
    expect(Number(cur!.last_seq)).toBeLessThan(Number(n2!.seq));
  });
});
