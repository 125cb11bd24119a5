import { afterAll, beforeAll, expect, test } from 'vitest';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { performAction, type Actor } from '../../tracker/index.ts';
import { cli, insertFlags, tempDb, withStore } from './helpers.ts';

const sup: Actor = { name: '王秘书', role: 'supervisor' };
const root = path.resolve(import.meta.dirname, '../..');
let db: string;
let dir: string;

/** Events, by seq, of a small loop: 1–2 discovered, then confirm/assign/explain on T1 and confirm on T2. */
async function build(file: string): Promise<void> {
  await withStore(file, async (s) => {
    await insertFlags(s, [{ flag_id: 'T1' }, { flag_id: 'T2' }]);
    await performAction(s, 'T1', { action: 'confirm', note: '确认' }, sup); // #3
    await performAction(s, 'T1', { action: 'assign', due: '2030-06-28' }, sup); // #4
    await performAction(s, 'T1', { action: 'explain', note: '原始说明' }, sup); // #5
    await performAction(s, 'T2', { action: 'confirm' }, sup); // #6
  });
}

async function sql(file: string, statement: string): Promise<void> {
  await withStore(file, (s) => s.run(statement));
}

async function eventId(file: string, seq: number): Promise<string> {
  return withStore(file, async (s) => String((await s.one<{ id: string }>('SELECT event_id AS id FROM fiscus.flag_events WHERE seq = $q', { q: seq }))!.id));
}

beforeAll(async () => {
  ({ db, dir } = tempDb());
  await build(db);
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

test('an intact log verifies', async () => {
  const r = await cli(db, 'track', 'verify-log');
  expect(r.code).toBe(0);
  expect(r.out).toContain('6 event(s)');
});

test('editing a stored note is detected and the edited event is named; restoring it verifies again', async () => {
  const id = await eventId(db, 5);
  await sql(db, "UPDATE fiscus.flag_events SET note = '篡改后的说明' WHERE seq = 5");
  const r = await cli(db, 'track', 'verify-log');
  expect(r.code).toBe(1);
  expect(r.out).toContain(`event #5 (${id}) is broken: content does not match its hash`);
  expect(r.err).toContain('#5');
  const json = await cli(db, 'track', 'verify-log', '--format', 'json');
  expect(json.code).toBe(1);
  expect(JSON.parse(json.out)).toMatchObject({ ok: false, broken: { seq: 5, event_id: id } });
  await sql(db, "UPDATE fiscus.flag_events SET note = '原始说明' WHERE seq = 5");
  expect((await cli(db, 'track', 'verify-log')).code).toBe(0);
});

test('editing the actor, the time or the data is detected too', async () => {
  for (const [set, restore] of [
    ["actor = '别人'", "actor = '王秘书'"],
    ["occurred_at = occurred_at + INTERVAL 1 DAY", "occurred_at = occurred_at - INTERVAL 1 DAY"],
    [`data = '{"assigned_to":"A02","due_date":"2030-06-28","due_default":false}'`, null],
  ] as const) {
    await sql(db, `UPDATE fiscus.flag_events SET ${set} WHERE seq = 4`);
    const r = await cli(db, 'track', 'verify-log');
    expect(r.code).toBe(1);
    expect(r.out).toContain('event #4');
    if (restore) {
      await sql(db, `UPDATE fiscus.flag_events SET ${restore} WHERE seq = 4`);
      expect((await cli(db, 'track', 'verify-log')).code).toBe(0);
    }
  }
});

test('deleting an event is detected at the event after the gap (fresh database)', async () => {
  const t = tempDb();
  try {
    await build(t.db);
    const next = await eventId(t.db, 4);
    await sql(t.db, 'DELETE FROM fiscus.flag_events WHERE seq = 3');
    const r = await cli(t.db, 'track', 'verify-log');
    expect(r.code).toBe(1);
    expect(r.out).toContain(`event #4 (${next}) is broken: sequence gap: expected event #3`);
  } finally {
    fs.rmSync(t.dir, { recursive: true, force: true });
  }
});

test('deleting the LAST event, or editing a flag status behind the log’s back, is caught by the state check', async () => {
  const t = tempDb();
  try {
    await build(t.db);
    // #6 is T2's confirm: without it the chain is still a valid prefix, but T2 says confirmed while its log says discovered.
    await sql(t.db, 'DELETE FROM fiscus.flag_events WHERE seq = 6');
    const r = await cli(t.db, 'track', 'verify-log');
    expect(r.code).toBe(1);
    expect(r.out).toContain('flag T2 is confirmed but its last state event #2 says discovered');

    const t2 = tempDb();
    try {
      await build(t2.db);
      await sql(t2.db, "UPDATE fiscus.flags SET status = 'verified' WHERE flag_id = 'T1'");
      const r2 = await cli(t2.db, 'track', 'verify-log');
      expect(r2.code).toBe(1);
      expect(r2.out).toContain('flag T1 is verified but its last state event #5 says explained');
    } finally {
      fs.rmSync(t2.dir, { recursive: true, force: true });
    }
  } finally {
    fs.rmSync(t.dir, { recursive: true, force: true });
  }
});

test('the real executable exits 1 on a broken log', async () => {
  await sql(db, "UPDATE fiscus.flag_events SET note = 'x' WHERE seq = 3");
  const p = spawnSync(process.execPath, [path.join(root, 'cli/bin.js'), '--db', db, 'track', 'verify-log'], { encoding: 'utf8', cwd: root });
  expect(p.status).toBe(1);
  expect(p.stdout).toContain('event #3');
  expect(p.stderr).toContain('the event log does not verify');
});
