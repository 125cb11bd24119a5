/**
 * The alert feed loses and repeats nothing while new flags and events arrive during the read:
 * pull pagination, SSE with Last-Event-ID resume, and resuming SSE from a pull cursor.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPublicKey, verify } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Store } from '../../engine/db.ts';
import { canonicalJson } from '../../engine/flag-events.ts';
import { logPaths } from '../../engine/log-key.ts';
import { verifyLog } from '../../tracker/verify.ts';
import { appendEvent, getJson, insertFlags, openSse, seedAgencies, startServer, T, tempStore } from './helpers.ts';

let store: Store;
let app: FastifyInstance;
let url: string;
let cleanup: () => Promise<void>;
let n = 0;

const agencies = ['A0101', 'A0102', 'B0201', 'D01', null];
function nextFlags(k: number) {
  return Array.from({ length: k }, () => {
    n++;
    return { flag_id: `F${String(n).padStart(5, '0')}`, agency_code: agencies[n % agencies.length] };
  });
}

/** Keep writing flags and events until stopped: the concurrent producer. */
function startWriter(rounds: number) {
  let stop = false;
  const done = (async () => {
    for (let r = 0; r < rounds && !stop; r++) {
      const fl = nextFlags(3);
      await insertFlags(store, fl);
      await appendEvent(store, fl[0]!.flag_id, r % 2 ? 'flag.overdue' : 'flag.escalated');
      await new Promise((res) => setTimeout(res, 3));
    }
  })();
  return { done, stop: () => (stop = true) };
}

async function allSeqs(scopeAgency?: string): Promise<number[]> {
  const rows = scopeAgency
    ? await store.all<{ seq: string }>(
        `SELECT e.seq FROM fiscus.flag_events e JOIN fiscus.flags f USING (flag_id)
         WHERE f.agency_code IN (SELECT $a UNION ALL SELECT agency_code FROM ref.agencies WHERE dept_code = $a) ORDER BY e.seq`,
        { a: scopeAgency },
      )
    : await store.all<{ seq: string }>('SELECT seq FROM fiscus.flag_events ORDER BY seq');
  return rows.map((r) => Number(r.seq));
}

async function pullAll(token: string, limit: number, writerDone: Promise<void>, start?: string) {
  const seqs: number[] = [];
  let cursor = start;
  let finished = false;
  void writerDone.then(() => (finished = true));
  for (;;) {
    const wasFinished = finished;
    const q = new URLSearchParams({ limit: String(limit), ...(cursor ? { cursor } : {}) });
    const { status, body } = await getJson(`${url}/v1/alerts?${q}`, token);
    expect(status).toBe(200);
    for (const it of body.items) seqs.push(it.event.seq);
    expect(typeof body.next_cursor).toBe('string');
    cursor = body.next_cursor;
    // Stop only after an empty page read *after* the writer finished.
    if (body.items.length === 0 && wasFinished) break;
  }
  return { seqs, cursor };
}

beforeAll(async () => {
  ({ store, cleanup } = await tempStore());
  await seedAgencies(store);
  await insertFlags(store, nextFlags(40));
  ({ app, url } = await startServer(store));
});
afterAll(async () => {
  await app.close();
  await cleanup();
});

describe('alert feed', () => {
  it('pull pagination returns every event once, in seq order, while events are appended', async () => {
    const w = startWriter(25);
    const [portal, dept] = await Promise.all([pullAll(T.portal, 7, w.done), pullAll(T.dept, 5, w.done)]);
    await w.done;
    expect(portal.seqs).toEqual(await allSeqs());
    expect(dept.seqs).toEqual(await allSeqs('D01'));
    expect(dept.seqs.length).toBeGreaterThan(0);
    expect(dept.seqs.length).toBeLessThan(portal.seqs.length);
  });

  it('items carry the FLAGS.md flag and the event', async () => {
    const { body } = await getJson(`${url}/v1/alerts?limit=2`, T.analyst);
    const it0 = body.items[0];
    expect(it0.flag_id).toBe('F00001');
    expect(it0.amount).toBe('612000.00');
    expect(it0.evidence).toEqual([]);
    expect(it0.event).toMatchObject({ type: 'flag.discovered', seq: 1, actor: 'rules', to_status: 'discovered' });
    expect(it0.event.at).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
  });

  it('an empty page keeps the cursor usable and a bad cursor is a 400 problem', async () => {
    const all = await pullAll(T.portal, 1000, Promise.resolve());
    const again = await getJson(`${url}/v1/alerts?cursor=${all.cursor}`, T.portal);
    expect(again.body).toEqual({ items: [], next_cursor: all.cursor, checkpoint: expect.objectContaining({ v: 1 }) });
    const bad = await getJson(`${url}/v1/alerts?cursor=not-a-cursor`, T.portal);
    expect(bad.status).toBe(400);
    expect(bad.type).toContain('application/problem+json');
  });

  it('SSE resumes with Last-Event-ID without gaps or duplicates while events are appended', async () => {
    const w = startWriter(30);
    const got: number[] = [];
    let lastId: string | undefined;
    let writerDone = false;
    void w.done.then(() => (writerDone = true));
    // Read in several connections, dropping each after a few events.
    for (;;) {
      const idleBefore = writerDone;
      const s = openSse(`${url}/v1/alerts/stream`, T.analyst, lastId ? { 'last-event-id': lastId } : {});
      let k = 0;
      for (;;) {
        const ev = await s.next(2000);
        if (!ev) break;
        expect(s.contentType).toContain('text/event-stream');
        const item = JSON.parse(ev.data);
        got.push(item.event.seq);
        lastId = ev.id;
        if (++k >= 13) break;
      }
      await s.close();
      // Done after a connection opened once the writer had finished delivered nothing new.
      if (k === 0 && idleBefore) break;
    }
    await w.done;
    expect(got).toEqual(await allSeqs());
  });

  it('SSE resumes from a pull cursor (?cursor=) and scopes agency tokens; heartbeats arrive', async () => {
    const first = await getJson(`${url}/v1/alerts?limit=10`, T.unit);
    const fromPull: number[] = first.body.items.map((i: any) => i.event.seq);
    const s = openSse(`${url}/v1/alerts/stream?cursor=${first.body.next_cursor}`, T.unit);
    const w = startWriter(5);
    await w.done;
    const expected = await allSeqs('A0101');
    for (;;) {
      const ev = await s.next(1500);
      if (!ev) break;
      const item = JSON.parse(ev.data);
      expect(['A0101']).toContain(item.agency_code);
      fromPull.push(item.event.seq);
      if (fromPull.length >= expected.length) break;
    }
    expect(fromPull).toEqual(expected);
    // Heartbeats (SSE comments) every second in the tests.
    await new Promise((r) => setTimeout(r, 1300));
    expect(s.comments).toBeGreaterThan(0);
    await s.close();
  });
});

/** What a portal does with a checkpoint: verify the Ed25519 signature with the published public key. */
function portalVerifies(cp: any, keys: any): boolean {
  const key = keys.keys.find((k: any) => k.key_id === cp.key_id);
  if (!key) return false;
  const payload: Record<string, unknown> = { v: cp.v, seq: cp.seq, hash: cp.hash, at: cp.at, key_id: cp.key_id };
  if (cp.rotated_from !== undefined) payload.rotated_from = cp.rotated_from;
  return verify(null, Buffer.from(canonicalJson(payload)), createPublicKey(key.public_key_pem), Buffer.from(cp.signature, 'base64'));
}

describe('signed log checkpoints for the portal', () => {
  it('the pull feed carries the newest checkpoint beside items and next_cursor; the portal verifies it with GET /v1/log/public-key', async () => {
    await appendEvent(store, 'F00001', 'flag.overdue');
    const maxSeq = Number((await store.one<{ m: string }>('SELECT max(seq) AS m FROM fiscus.flag_events'))!.m);
    const head = (await store.one<{ hash: string }>('SELECT hash FROM fiscus.flag_events WHERE seq = $s', { s: maxSeq }))!.hash;
    const feed = await getJson(`${url}/v1/alerts?limit=1`, T.portal);
    expect(Object.keys(feed.body).sort()).toEqual(['checkpoint', 'items', 'next_cursor']);
    expect(feed.body.checkpoint).toMatchObject({ v: 1, seq: maxSeq, hash: head });
    // The alert item shape of FLAGS.md is unchanged: no checkpoint or hash inside items.
    expect(feed.body.items[0].checkpoint).toBeUndefined();
    const keys = await getJson(`${url}/v1/log/public-key`, T.portal);
    expect(keys.status).toBe(200);
    expect(keys.body.keys[0]).toMatchObject({ algorithm: 'Ed25519', version: 1 });
    expect(JSON.stringify(keys.body)).not.toMatch(/PRIVATE|hmac/i);
    expect(portalVerifies(feed.body.checkpoint, keys.body)).toBe(true);
    expect(portalVerifies({ ...feed.body.checkpoint, seq: maxSeq - 1 }, keys.body)).toBe(false);
    // An agency token sees its own items but the same whole-log checkpoint.
    const agency = await getJson(`${url}/v1/alerts?limit=1`, T.other);
    expect(agency.body.checkpoint).toEqual(feed.body.checkpoint);
  });

  it('GET /v1/log/checkpoint: the newest checkpoint for every feed reader; a token is required', async () => {
    for (const token of [T.portal, T.analyst, T.supervisor, T.admin, T.unit]) {
      const r = await getJson(`${url}/v1/log/checkpoint`, token);
      expect(r.status).toBe(200);
      expect(r.body.v).toBe(1);
    }
    const anon = await getJson(`${url}/v1/log/checkpoint`, undefined);
    expect(anon.status).toBe(401);
    expect(anon.type).toContain('application/problem+json');
    expect((await getJson(`${url}/v1/log/public-key`, undefined)).status).toBe(401);
  });

  it('the SSE stream sends checkpoints as separate `event: checkpoint` messages without an id, and a new one after each commit', async () => {
    const s = openSse(`${url}/v1/alerts/stream`, T.portal);
    try {
      while ((await s.next(1500)) !== undefined) {
        /* drain the history */
      }
      expect(s.checkpoints.length).toBeGreaterThan(0);
      const before = JSON.parse(s.checkpoints.at(-1)!.data);
      expect(s.checkpoints.every((c) => c.id === undefined)).toBe(true);
      await appendEvent(store, 'F00002', 'flag.due_soon');
      const alert = await s.next(3000);
      expect(JSON.parse(alert!.data).event.seq).toBe(before.seq + 1);
      const deadline = Date.now() + 3000;
      while (JSON.parse(s.checkpoints.at(-1)!.data).seq === before.seq && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      const after = JSON.parse(s.checkpoints.at(-1)!.data);
      expect(after.seq).toBe(before.seq + 1);
      expect(portalVerifies(after, (await getJson(`${url}/v1/log/public-key`, T.portal)).body)).toBe(true);
    } finally {
      await s.close();
    }
  });

  it('the portal’s witness copy catches a truncated tail even after the checkpoint log is cut too', async () => {
    const t = await tempStore();
    try {
      await insertFlags(t.store, [{ flag_id: 'W1' }, { flag_id: 'W2' }]);
      const srv = await startServer(t.store);
      const witness = path.join(t.dir, 'portal-witness.jsonl');
      try {
        for (const f of ['W1', 'W2']) {
          await appendEvent(t.store, f, 'flag.overdue');
          // The portal keeps every checkpoint it receives.
          fs.appendFileSync(witness, `${JSON.stringify((await getJson(`${srv.url}/v1/alerts?limit=1`, T.portal)).body.checkpoint)}\n`);
        }
      } finally {
        await srv.app.close();
      }
      expect((await verifyLog(t.store, { witnesses: [witness] })).ok).toBe(true);
      // The forger deletes the newest event and the checkpoints that mention it.
      await t.store.run('DELETE FROM fiscus.flag_events WHERE seq = (SELECT max(seq) FROM fiscus.flag_events)');
      // Beside the database file on DuckDB; under FISCUS_PG_KEY_DIR on PostgreSQL.
      const own = logPaths(t.store).checkpointsFile!;
      const lines = fs.readFileSync(own, 'utf8').trim().split('\n');
      fs.writeFileSync(own, `${lines.slice(0, -1).join('\n')}\n`);
      expect((await verifyLog(t.store)).ok).toBe(true); // the threat model's limit without a witness
      const r = await verifyLog(t.store, { witnesses: [witness] });
      expect(r.ok).toBe(false);
      expect(r.checkpoints.problems[0]).toMatchObject({ source: witness, line: 2 });
      expect(r.checkpoints.problems[0]!.reason).toContain('the tail was truncated');
    } finally {
      await t.cleanup();
    }
  });
});
