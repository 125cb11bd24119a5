/**
 * The alert feed loses and repeats nothing while new flags and events arrive during the read:
 * pull pagination, SSE with Last-Event-ID resume, and resuming SSE from a pull cursor.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import type { Store } from '../../engine/db.ts';
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
    expect(again.body).toEqual({ items: [], next_cursor: all.cursor });
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
