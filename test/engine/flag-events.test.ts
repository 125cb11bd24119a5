import { describe, expect, it } from 'vitest';
import { openStore } from '../../engine/db.ts';
import { appendFlagEvents, readFlagEvents, verifyEventChain } from '../../engine/flag-events.ts';

async function seeded() {
  const store = await openStore(':memory:');
  await store.transaction(() =>
    appendFlagEvents(store, [
      { flag_id: 'F1', event_type: 'flag.discovered', to_status: 'discovered', actor: 'rules', role: 'system' },
      { flag_id: 'F1', event_type: 'flag.confirmed', from_status: 'discovered', to_status: 'confirmed', actor: '王芳', role: 'supervisor', note: '值得跟进' },
    ]),
  );
  await appendFlagEvents(store, [
    { flag_id: 'F2', event_type: 'flag.discovered', to_status: 'discovered', actor: 'rules', role: 'system', data: { b: 1, a: '2.50' } },
  ]);
  return store;
}

describe('flag event log', () => {
  it('appends with increasing seq and a verifiable hash chain', async () => {
    const store = await seeded();
    try {
      const events = await readFlagEvents(store);
      expect(events.map((e) => e.seq)).toEqual([1, 2, 3]);
      expect(events[1]!.prev_hash).toBe(events[0]!.hash);
      expect(events[2]!.data).toBe('{"a":"2.50","b":1}');
      expect(await verifyEventChain(store)).toEqual({ ok: true, events: 3 });
      expect((await readFlagEvents(store, { afterSeq: 1, limit: 1 })).map((e) => e.seq)).toEqual([2]);
    } finally {
      await store.close();
    }
  });

  it('names the first event that was edited', async () => {
    const store = await seeded();
    try {
      await store.run("UPDATE fiscus.flag_events SET note = '改过' WHERE seq = 2");
      const check = await verifyEventChain(store);
      expect(check.ok).toBe(false);
      expect(check.broken?.seq).toBe(2);
      expect(check.broken?.reason).toMatch(/edited/);
    } finally {
      await store.close();
    }
  });

  it('names the event after a deleted one', async () => {
    const store = await seeded();
    try {
      await store.run('DELETE FROM fiscus.flag_events WHERE seq = 2');
      const check = await verifyEventChain(store);
      expect(check.ok).toBe(false);
      expect(check.broken?.seq).toBe(3);
      expect(check.broken?.reason).toMatch(/deleted/);
    } finally {
      await store.close();
    }
  });
});
