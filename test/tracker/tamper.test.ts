/**
 * Issue 10: a forger who can write the database file but does not hold the log key.
 * Each forgery is made by opening the DuckDB file directly (test/tracker/forger.ts) and
 * recomputing the chain with the public algorithm; verify-log must catch it, through the
 * library and the CLI, with the default configuration (key and checkpoints beside the database).
 */
import { afterAll, describe, expect, test } from 'vitest';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { createHmac } from 'node:crypto';
import { canonicalJson } from '../../engine/flag-events.ts';
import { signCheckpoint } from '../../engine/checkpoints.ts';
import { logPathsFor, parseKeyFile } from '../../engine/log-key.ts';
import { performAction, verifyLog, type Actor } from '../../tracker/index.ts';
import { cli, insertFlags, tempDb, withStore } from './helpers.ts';
import { forgeAppendAccepted, forgeDeleteRenumber, forgeEditNote, forgeSql, forgeTruncateTail, rehashAllLegacy, type Recompute } from './forger.ts';

const sup: Actor = { name: '王秘书', role: 'supervisor' };
const root = path.resolve(import.meta.dirname, '../..');
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

/** Events, by seq, of a small loop: 1–2 discovered, then confirm/assign/explain on T1 and confirm on T2. */
async function build(): Promise<{ db: string; dir: string; key: string; checkpoints: string }> {
  const t = tempDb();
  dirs.push(t.dir);
  await withStore(t.db, async (s) => {
    await insertFlags(s, [{ flag_id: 'T1' }, { flag_id: 'T2' }]);
    await performAction(s, 'T1', { action: 'confirm', note: '确认' }, sup); // #3
    await performAction(s, 'T1', { action: 'assign', due: '2030-06-28' }, sup); // #4
    await performAction(s, 'T1', { action: 'explain', note: '原始说明' }, sup); // #5
    await performAction(s, 'T2', { action: 'confirm' }, sup); // #6
  });
  // Beside the DuckDB file; for a PostgreSQL database under FISCUS_PG_KEY_DIR (engine/log-key.ts).
  const paths = logPathsFor(t.db);
  return { ...t, key: paths.keyFile!, checkpoints: paths.checkpointsFile! };
}

async function libCheck(db: string, witnesses: string[] = []) {
  return withStore(db, (s) => verifyLog(s, { witnesses }));
}

async function eventId(db: string, seq: number): Promise<string> {
  return withStore(db, async (s) => String((await s.one<{ id: string }>('SELECT event_id AS id FROM fiscus.flag_events WHERE seq = $q', { q: seq }))!.id));
}

test('the default configuration keeps a 0600 key and a checkpoint per commit beside the database; an intact log verifies', async () => {
  const b = await build();
  expect(fs.statSync(b.key).mode & 0o777).toBe(0o600);
  const lines = fs.readFileSync(b.checkpoints, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  // insertFlags (one transaction) + 4 actions = 5 commits that appended events.
  expect(lines.map((l) => l.seq)).toEqual([2, 3, 4, 5, 6]);
  const lib = await libCheck(b.db);
  expect(lib).toMatchObject({ ok: true, events: 6, legacy_events: 0, problems: [] });
  expect(lib.checkpoints.newest?.seq).toBe(6);
  const r = await cli(b.db, 'track', 'verify-log');
  expect(r.code).toBe(0);
  expect(r.out).toContain('6 event(s)');
  expect(r.out).toContain('newest checkpoint #6');
});

describe.each<Recompute>(['legacy', 'guessed-key'])('forgeries recomputed with %s hashes', (how) => {
  test('edit a note and recompute the chain: the edited event is named', async () => {
    const b = await build();
    const id = await eventId(b.db, 5);
    await forgeEditNote(b.db, 5, '篡改后的说明', how);
    const lib = await libCheck(b.db);
    expect(lib.ok).toBe(false);
    expect(lib.broken).toMatchObject({ seq: 5, event_id: id });
    expect(lib.broken!.reason).toMatch(how === 'legacy' ? /unkeyed event after keyed ones/ : /HMAC does not match/);
    const r = await cli(b.db, 'track', 'verify-log');
    expect(r.code).toBe(1);
    expect(r.out.split('\n')[0]).toContain(`event #5 (${id}) is broken`);
    expect(r.err).toContain('the event log does not verify');
  });

  test('delete an event, renumber and recompute: caught at the renumbered event', async () => {
    const b = await build();
    const next = await eventId(b.db, 4);
    await forgeDeleteRenumber(b.db, 3, how);
    const lib = await libCheck(b.db);
    expect(lib.ok).toBe(false);
    expect(lib.broken).toMatchObject({ seq: 3, event_id: next });
    // The checkpoints see it too: #6 no longer exists.
    expect(lib.checkpoints.problems.some((p) => /truncated/.test(p.reason))).toBe(true);
    const r = await cli(b.db, 'track', 'verify-log');
    expect(r.code).toBe(1);
    expect(r.out).toContain(`event #3 (${next}) is broken`);
  });

  test('append a forged "explanation accepted" (and close the flag): the appended event is named', async () => {
    const b = await build();
    // T1 is explained (#5); the forger closes it as accepted.
    await forgeAppendAccepted(b.db, 'T1', how);
    const lib = await libCheck(b.db);
    expect(lib.ok).toBe(false);
    expect(lib.broken?.seq).toBe(7);
    const r = await cli(b.db, 'track', 'verify-log', '--format', 'json');
    expect(r.code).toBe(1);
    expect(JSON.parse(r.out)).toMatchObject({ ok: false, broken: { seq: 7, event_id: '00000000-0000-4000-8000-000000000001' } });
  });
});

test('recompute the WHOLE chain with the public algorithm (pass it off as legacy): caught at event #1 by the key file’s legacy record', async () => {
  const b = await build();
  await forgeEditNote(b.db, 5, '篡改', 'legacy', { wholeChain: true });
  const lib = await libCheck(b.db);
  expect(lib.ok).toBe(false);
  expect(lib.broken?.seq).toBe(1);
  expect(lib.broken?.reason).toMatch(/log key was created when the log had 0 unkeyed event/);
  // Every checkpoint disagrees as well.
  expect(lib.checkpoints.problems.filter((p) => /rewritten/.test(p.reason)).length).toBe(5);
});

test('delete the last event and reset the flag’s status: the chain and the states agree, the checkpoint does not', async () => {
  const b = await build();
  await forgeTruncateTail(b.db); // #6 was T2's confirm; T2 goes back to discovered
  const lib = await libCheck(b.db);
  expect(lib.broken).toBeUndefined();
  expect(lib.state_mismatches).toEqual([]);
  expect(lib.ok).toBe(false);
  expect(lib.checkpoints.problems[0]).toMatchObject({ seq: 6, source: b.checkpoints, line: 5 });
  expect(lib.checkpoints.problems[0]!.reason).toContain('the log ends at #5');
  const r = await cli(b.db, 'track', 'verify-log');
  expect(r.code).toBe(1);
  expect(r.out).toContain('checkpoint #6');
  expect(r.out).toContain('the tail was truncated');
});

test('truncating the tail AND the checkpoint log: the portal’s witness copy still catches it', async () => {
  const b = await build();
  const witness = path.join(b.dir, 'portal-witness.jsonl');
  fs.copyFileSync(b.checkpoints, witness);
  await forgeTruncateTail(b.db);
  const lines = fs.readFileSync(b.checkpoints, 'utf8').trim().split('\n');
  fs.writeFileSync(b.checkpoints, `${lines.slice(0, -1).join('\n')}\n`); // drop the #6 checkpoint
  expect((await libCheck(b.db)).ok).toBe(true); // without the witness: undetectable (the threat model says so)
  const r = await cli(b.db, 'track', 'verify-log', '--witness', witness);
  expect(r.code).toBe(1);
  expect(r.out).toContain(`${witness}:5`);
  expect(r.out).toContain('the log ends at #5');
  // The portal may keep the messages as it received them: webhook bodies and pull-feed responses.
  const asReceived = path.join(b.dir, 'portal-received.jsonl');
  const cps = fs.readFileSync(witness, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  fs.writeFileSync(asReceived, `${JSON.stringify({ type: 'log.checkpoint', timestamp: cps[3].at, data: cps[3] })}\n${JSON.stringify({ items: [], next_cursor: 'x', checkpoint: cps[4] })}\n`);
  const r2 = await cli(b.db, 'track', 'verify-log', '--witness', asReceived);
  expect(r2.code).toBe(1);
  expect(r2.out).toContain(`${asReceived}:2`);
  expect(r2.out).not.toContain(`${asReceived}:1`);
});

test('deleting the checkpoint log is reported: truncation could no longer be ruled out', async () => {
  const b = await build();
  fs.rmSync(b.checkpoints);
  const r = await cli(b.db, 'track', 'verify-log');
  expect(r.code).toBe(1);
  expect(r.out).toContain('no checkpoint found');
});

test('an edited checkpoint (bad signature) is named by file and line', async () => {
  const b = await build();
  const lines = fs.readFileSync(b.checkpoints, 'utf8').trim().split('\n');
  const cp = JSON.parse(lines[2]!);
  cp.seq = 3;
  cp.hash = 'f'.repeat(64);
  lines[2] = JSON.stringify(cp);
  fs.writeFileSync(b.checkpoints, `${lines.join('\n')}\n`);
  const r = await cli(b.db, 'track', 'verify-log');
  expect(r.code).toBe(1);
  expect(r.out).toContain(`(${b.checkpoints}:3): bad signature`);
});

test('editing without recomputing, the actor, the time, or a status behind the log’s back are caught', async () => {
  const b = await build();
  for (const [stmt, seq] of [
    ["UPDATE fiscus.flag_events SET note = 'x' WHERE seq = 3", 3],
    ["UPDATE fiscus.flag_events SET actor = '别人' WHERE seq = 4", 4],
    ["UPDATE fiscus.flag_events SET occurred_at = occurred_at + INTERVAL '1 day' WHERE seq = 2", 2],
  ] as const) {
    const t = await build();
    await forgeSql(t.db, stmt);
    const lib = await libCheck(t.db);
    expect(lib.broken?.seq).toBe(seq);
  }
  await forgeSql(b.db, "UPDATE fiscus.flags SET status = 'verified' WHERE flag_id = 'T1'");
  const r = await cli(b.db, 'track', 'verify-log');
  expect(r.code).toBe(1);
  expect(r.out).toContain('flag T1 is verified but its last state event #5 says explained');
});

test('verify-log never creates a key: a missing key is an error that says where it looked', async () => {
  const b = await build();
  fs.renameSync(b.key, `${b.key}.away`);
  const r = await cli(b.db, 'track', 'verify-log');
  expect(r.code).toBe(1);
  expect(r.err).toContain(`no log key at ${b.key}`);
  expect(fs.existsSync(b.key)).toBe(false);
  // Nor does an append create a new key over a keyed log.
  const a = await cli(b.db, 'track', 'dismiss', 'T2', '--note', '不是问题');
  expect(a.code).toBe(1);
  expect(a.err).toContain('a new key is not created over a keyed log');
  expect(fs.existsSync(b.key)).toBe(false);
  // With --log-key pointing at it, it verifies.
  const ok = await cli(b.db, '--log-key', `${b.key}.away`, '--checkpoints', b.checkpoints, 'track', 'verify-log');
  expect(ok.code).toBe(0);
});

test('a key file others can read is refused, saying how to fix it', async () => {
  const b = await build();
  fs.chmodSync(b.key, 0o644);
  const r = await cli(b.db, 'track', 'verify-log');
  expect(r.code).toBe(1);
  expect(r.err).toContain(`chmod 600 ${b.key}`);
  const a = await cli(b.db, 'track', 'dismiss', 'T2', '--note', '不是问题');
  expect(a.code).toBe(1);
  expect(a.err).toContain('chmod 600');
  fs.chmodSync(b.key, 0o600);
  expect((await cli(b.db, 'track', 'verify-log')).code).toBe(0);
});

test('key and checkpoints can live elsewhere (env FISCUS_LOG_KEY, --log-key / --checkpoints); a created key directory is 0700', async () => {
  const t = tempDb();
  dirs.push(t.dir);
  const keyDir = path.join(t.dir, 'secret', 'keys');
  const key = path.join(keyDir, 'prod.log-key');
  const prev = process.env.FISCUS_LOG_KEY;
  process.env.FISCUS_LOG_KEY = key;
  try {
    await withStore(t.db, (s) => insertFlags(s, [{ flag_id: 'E1' }]));
  } finally {
    if (prev === undefined) delete process.env.FISCUS_LOG_KEY;
    else process.env.FISCUS_LOG_KEY = prev;
  }
  expect(fs.statSync(keyDir).mode & 0o777).toBe(0o700);
  expect(fs.statSync(key).mode & 0o777).toBe(0o600);
  expect(fs.existsSync(path.join(keyDir, 'prod.checkpoints.jsonl'))).toBe(true); // beside the key
  expect(fs.existsSync(path.join(t.dir, 'track.log-key'))).toBe(false);
  expect((await cli(t.db, '--log-key', key, 'track', 'verify-log')).code).toBe(0);

  const cps = path.join(t.dir, 'published', 'cps.jsonl');
  expect((await cli(t.db, '--log-key', key, '--checkpoints', cps, 'track', 'confirm', 'E1')).code).toBe(0);
  expect(fs.readFileSync(cps, 'utf8').trim().split('\n')).toHaveLength(1);
  expect((await cli(t.db, '--log-key', key, '--checkpoints', cps, 'track', 'verify-log')).code).toBe(0);
  expect((await cli(t.db, '--log-key', key, '--checkpoints', cps, 'track', 'verify-log', '--witness', path.join(keyDir, 'prod.checkpoints.jsonl'))).code).toBe(0);
});

test('rotate-key: a new current version, a checkpoint signed by both, old events still verify; an old key cannot append after the rotation', async () => {
  const b = await build();
  const oldKeyFile = JSON.parse(fs.readFileSync(b.key, 'utf8'));
  const rot = await cli(b.db, 'log', 'rotate-key');
  expect(rot.code).toBe(0);
  const out = JSON.parse(rot.out);
  expect(out.from).toMatch(/^v1-/);
  expect(out.to).toMatch(/^v2-/);
  expect(out.checkpoint).toMatchObject({ seq: 6, key_id: out.to, rotated_from: out.from });
  const ring = JSON.parse(fs.readFileSync(b.key, 'utf8'));
  expect(ring.keys.map((k: { id: string }) => k.id)).toEqual([out.from, out.to]);
  expect(ring.current).toBe(out.to);
  expect(fs.statSync(b.key).mode & 0o777).toBe(0o600);
  await withStore(b.db, (s) => performAction(s, 'T2', { action: 'dismiss', note: '不是问题' }, sup)); // #7, keyed v2
  const lib = await libCheck(b.db);
  expect(lib).toMatchObject({ ok: true, events: 7 });
  expect(lib.key_versions).toEqual([out.from, out.to]);
  const newest = await cli(b.db, 'log', 'checkpoint');
  expect(JSON.parse(newest.out)).toMatchObject({ seq: 7, key_id: out.to });
  const where = JSON.parse((await cli(b.db, 'log', 'where')).out);
  expect(where).toEqual({ database: b.db, key_file: b.key, checkpoints: b.checkpoints });
  const keys = await cli(b.db, 'log', 'public-key');
  expect(JSON.parse(keys.out).keys.map((k: { key_id: string }) => k.key_id)).toEqual([out.from, out.to]);

  // Someone who kept the OLD key (v1) rewrites #7 with it: key ids never go back.
  const v1 = Buffer.from(oldKeyFile.keys[0].hmac_sha256, 'base64');
  await withStore(b.db, async (s) => {
    const e = (await s.one<Record<string, unknown>>(
      `SELECT seq, event_id, flag_id, event_type, from_status, to_status, actor, role, ${s.dialect.epochMs('occurred_at')} AS at_ms, note, CAST(data AS VARCHAR) AS data, prev_hash
       FROM fiscus.flag_events WHERE seq = 7`,
    ))!;
    const body = canonicalJson([
      'fiscus.flag_event.hmac-sha256.v1', Number(e.seq), e.event_id, e.flag_id, e.event_type, e.from_status, e.to_status, e.actor, e.role,
      Number(e.at_ms), '旧密钥伪造', e.data, e.prev_hash, out.from,
    ]);
    await s.run("UPDATE fiscus.flag_events SET note = '旧密钥伪造', key_id = $k, hash = $h WHERE seq = 7", {
      k: out.from,
      h: createHmac('sha256', v1).update(body).digest('hex'),
    });
  });
  const bad = await libCheck(b.db);
  expect(bad.ok).toBe(false);
  // The chain alone cannot tell (v1 then v1); the rotation checkpoint at #6, signed by v2, can.
  expect(bad.checkpoints.problems.find((p) => p.seq === 6)?.reason).toMatch(/event #7 comes after this checkpoint signed by key v2 but is keyed with v1-.*key ids never go back/);
  const r = await cli(b.db, 'track', 'verify-log');
  expect(r.code).toBe(1);
  expect(r.out).toContain('event #7 comes after this checkpoint');
  // ... nor sign a checkpoint with it after the rotation.
  const old = parseKeyFile('old', JSON.stringify(oldKeyFile)).versions[0]!;
  const head = await withStore(b.db, (s) => s.one<{ seq: string; hash: string }>('SELECT seq, hash FROM fiscus.flag_events ORDER BY seq DESC LIMIT 1'));
  fs.appendFileSync(b.checkpoints, `${JSON.stringify(signCheckpoint(old, { seq: Number(head!.seq), hash: head!.hash }))}\n`);
  const c = await libCheck(b.db);
  expect(c.checkpoints.problems.some((p) => /signed by key v1 after a checkpoint signed by v2 \(key ids never go back/.test(p.reason))).toBe(true);
});

test('log checkpoint --write signs the head after a crash lost its checkpoint, and only for a log that verifies', async () => {
  const b = await build();
  const lines = fs.readFileSync(b.checkpoints, 'utf8').trim().split('\n');
  fs.writeFileSync(b.checkpoints, `${lines.slice(0, -1).join('\n')}\n`); // as if the process died between commit #6 and its checkpoint
  const before = await libCheck(b.db);
  expect(before.ok).toBe(true);
  expect(before.checkpoints.events_after_newest).toBe(1);
  const w = await cli(b.db, 'log', 'checkpoint', '--write');
  expect(w.code).toBe(0);
  expect(JSON.parse(w.out)).toMatchObject({ seq: 6 });
  expect((await libCheck(b.db)).checkpoints.events_after_newest).toBe(0);
  await forgeEditNote(b.db, 6, '伪造', 'legacy');
  const refused = await cli(b.db, 'log', 'checkpoint', '--write');
  expect(refused.code).toBe(1);
  expect(refused.err).toContain('its head is not signed');
  const rot = await cli(b.db, 'log', 'rotate-key');
  expect(rot.code).toBe(1);
  expect(rot.err).toContain('it is not re-signed');
});

test('an upgraded deployment whose log was never keyed: verify-log says so; log checkpoint --write keys it', async () => {
  const b = await build();
  // What an older fiscus left: the same events with plain SHA-256 hashes, no key, no checkpoints.
  await rehashAllLegacy(b.db);
  fs.rmSync(b.key);
  fs.rmSync(b.checkpoints);
  const r = await cli(b.db, 'track', 'verify-log');
  expect(r.code).toBe(1);
  expect(r.err).toContain('6 unkeyed (legacy) event(s) and has never been keyed');
  const w = await cli(b.db, 'log', 'checkpoint', '--write');
  expect(w.code, w.err).toBe(0);
  expect(JSON.parse(fs.readFileSync(b.key, 'utf8')).legacy.events).toBe(6);
  const ok = await cli(b.db, 'track', 'verify-log');
  expect(ok.code).toBe(0);
  expect(ok.out).toContain('6 legacy (unkeyed) event(s)');
  // From now on the legacy prefix is pinned: one more unkeyed event is a forgery.
  await forgeAppendAccepted(b.db, 'T1', 'legacy');
  expect((await libCheck(b.db)).broken?.seq).toBe(7);
});

test('the real executable exits 1 on a forged log', async () => {
  const b = await build();
  await forgeEditNote(b.db, 3, 'x', 'legacy');
  const p = spawnSync(process.execPath, [path.join(root, 'cli/bin.js'), '--db', b.db, 'track', 'verify-log'], { encoding: 'utf8', cwd: root });
  expect(p.status).toBe(1);
  expect(p.stdout).toContain('event #3');
  expect(p.stderr).toContain('the event log does not verify');
});
