import { afterAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openStore, type Store } from '../../engine/db.ts';
import { appendFlagEvents, eventHash, GENESIS_HASH, readFlagEvents, verifyEventChain } from '../../engine/flag-events.ts';
import { latestCheckpoint, ownCheckpoints } from '../../engine/checkpoints.ts';
import { configureLog, logPaths, readKeyFile } from '../../engine/log-key.ts';
import { verifyLog } from '../../tracker/verify.ts';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));
function tmp(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'fiscus-events-'));
  dirs.push(d);
  return d;
}

async function seeded(store?: Store) {
  store ??= await openStore(':memory:');
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
  it('appends with increasing seq and a verifiable keyed chain', async () => {
    const store = await seeded();
    try {
      const events = await readFlagEvents(store);
      expect(events.map((e) => e.seq)).toEqual([1, 2, 3]);
      expect(events[1]!.prev_hash).toBe(events[0]!.hash);
      expect(events[2]!.data).toBe('{"a":"2.50","b":1}');
      expect(events.every((e) => e.key_id?.startsWith('v1-'))).toBe(true);
      // Not the public algorithm: the hash is an HMAC under the key.
      const { hash, key_id: _k, ...rest } = events[0]!;
      expect(eventHash(rest)).not.toBe(hash);
      expect(await verifyEventChain(store)).toMatchObject({ ok: true, events: 3, legacy_events: 0 });
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

  it('an in-memory store uses an ephemeral key and in-memory checkpoints; nothing is written to disk', async () => {
    const store = await seeded();
    try {
      expect(logPaths(store)).toEqual({ keyFile: null, checkpointsFile: null });
      expect(ownCheckpoints(store).lines.map((l) => l.checkpoint!.seq)).toEqual([2, 3]);
      expect((await verifyLog(store)).ok).toBe(true);
    } finally {
      await store.close();
    }
  });
});

describe('checkpoints after commit', () => {
  it('a rolled-back append writes no checkpoint; a transaction that appends twice writes one, for its last head', async () => {
    const dir = tmp();
    const store = await openStore(path.join(dir, 'f.duckdb'));
    try {
      await appendFlagEvents(store, [{ flag_id: 'F1', event_type: 'flag.discovered', to_status: 'discovered', actor: 'r', role: 'system' }]);
      const file = path.join(dir, 'f.checkpoints.jsonl');
      const lines = () => fs.readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { seq: number; hash: string });
      expect(lines().map((l) => l.seq)).toEqual([1]);

      await expect(
        store.transaction(async () => {
          await appendFlagEvents(store, [{ flag_id: 'F1', event_type: 'flag.confirmed', from_status: 'discovered', to_status: 'confirmed', actor: 'a', role: 'supervisor' }]);
          // The event is in the transaction (#2) ...
          expect((await readFlagEvents(store)).length).toBe(2);
          throw new Error('the state change failed');
        }),
      ).rejects.toThrow('the state change failed');
      // ... and rolled back with it: no checkpoint for #2 was written.
      expect((await readFlagEvents(store)).length).toBe(1);
      expect(lines().map((l) => l.seq)).toEqual([1]);

      await store.transaction(async () => {
        await appendFlagEvents(store, [{ flag_id: 'F1', event_type: 'a', actor: 'a', role: 'system' }]);
        await appendFlagEvents(store, [{ flag_id: 'F1', event_type: 'b', actor: 'a', role: 'system' }]);
        expect(lines().map((l) => l.seq)).toEqual([1]); // not before the commit
      });
      const events = await readFlagEvents(store);
      expect(lines().map((l) => l.seq)).toEqual([1, 3]);
      expect(lines()[1]!.hash).toBe(events[2]!.hash);
      expect(latestCheckpoint(store)?.seq).toBe(3);
      expect((await verifyLog(store)).ok).toBe(true);
    } finally {
      await store.close();
    }
  });
});

describe('legacy (unkeyed) events', () => {
  it('a log from before the key is a legacy prefix: verified with SHA-256, anchored by the key file, and counted', async () => {
    const dir = tmp();
    const db = path.join(dir, 'old.duckdb');
    // Build what an older fiscus wrote: plain SHA-256 chain, no key_id, no key file.
    let store = await openStore(db);
    let prev = GENESIS_HASH;
    for (let seq = 1; seq <= 2; seq++) {
      const e = {
        seq, event_id: `00000000-0000-4000-8000-00000000000${seq}`, flag_id: 'L1', event_type: 'flag.discovered', from_status: null,
        to_status: 'discovered', actor: 'rules', role: 'system', at_ms: Date.UTC(2025, 0, seq), note: null, data: null, prev_hash: prev,
      };
      const hash = eventHash(e);
      await store.run(
        `INSERT INTO fiscus.flag_events VALUES ($seq, $id, $flag, 'flag.discovered', NULL, 'discovered', 'rules', 'system',
           make_timestamptz($at::BIGINT * 1000), NULL, NULL, $prev, $hash, NULL)`,
        { seq, id: e.event_id, flag: e.flag_id, at: e.at_ms, prev, hash },
      );
      prev = hash;
    }
    const key = path.join(dir, 'old.log-key');
    expect(fs.existsSync(key)).toBe(false);
    await expect(verifyLog(store)).rejects.toThrow(`no log key at ${key}`);
    await expect(verifyLog(store)).rejects.toThrow('2 unkeyed (legacy) event(s) and has never been keyed');
    expect(await verifyLog(store, { allowNeverKeyed: true })).toMatchObject({ ok: true, legacy_events: 2 });
    expect(fs.existsSync(key)).toBe(false);
    await appendFlagEvents(store, [{ flag_id: 'L1', event_type: 'flag.confirmed', from_status: 'discovered', to_status: 'confirmed', actor: 'a', role: 'supervisor' }]);
    expect(readKeyFile(key).legacy).toEqual({ events: 2, head_hash: prev });
    const ok = await verifyLog(store);
    expect(ok).toMatchObject({ ok: true, events: 3, legacy_events: 2 });
    await store.close();

    // Editing a legacy event and recomputing the legacy prefix breaks the first keyed event (its HMAC covers the last legacy hash).
    store = await openStore(db);
    try {
      const events = await readFlagEvents(store);
      const e1 = { ...events[0]!, note: '改' };
      const { hash: _h, key_id: _k, ...r1 } = e1;
      const h1 = eventHash(r1);
      const { hash: _h2, key_id: _k2, ...r2 } = { ...events[1]!, prev_hash: h1 };
      const h2 = eventHash(r2);
      await store.run("UPDATE fiscus.flag_events SET note = '改', hash = $h WHERE seq = 1", { h: h1 });
      await store.run('UPDATE fiscus.flag_events SET prev_hash = $p, hash = $h WHERE seq = 2', { p: h1, h: h2 });
      const bad = await verifyLog(store);
      expect(bad.ok).toBe(false);
      expect(bad.broken?.seq).toBe(2);
      expect(bad.broken?.reason).toMatch(/legacy prefix was rewritten/);
    } finally {
      await store.close();
    }
  });

  it('configureLog points a store at another key; a key is created exactly once', async () => {
    const dir = tmp();
    const store = await openStore(path.join(dir, 'a.duckdb'));
    try {
      configureLog(store, { keyFile: path.join(dir, 'k', 'deploy.log-key') });
      await appendFlagEvents(store, [{ flag_id: 'F', event_type: 'x', actor: 'a', role: 'system' }]);
      const first = fs.readFileSync(path.join(dir, 'k', 'deploy.log-key'), 'utf8');
      await appendFlagEvents(store, [{ flag_id: 'F', event_type: 'y', actor: 'a', role: 'system' }]);
      expect(fs.readFileSync(path.join(dir, 'k', 'deploy.log-key'), 'utf8')).toBe(first);
      expect(fs.existsSync(path.join(dir, 'k', 'deploy.checkpoints.jsonl'))).toBe(true);
      expect(fs.existsSync(path.join(dir, 'a.log-key'))).toBe(false);
    } finally {
      await store.close();
    }
  });
});
