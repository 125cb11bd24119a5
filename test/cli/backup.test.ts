/**
 * `fiscus backup DIR` / `fiscus restore DIR`: the database, the log key and the checkpoints,
 * with a SHA-256 manifest; also while `fiscus serve` owns the file (through the API into the
 * server's backup root). verify-log passes on a restored copy and fails on a restored copy
 * whose log a forger rewrote with the public algorithm.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openStore } from '../../engine/db.ts';
import { performAction, type Actor } from '../../tracker/index.ts';
import { appendEvent, getJson, insertFlags, startServer, T } from '../api/helpers.ts';
import { runCli } from '../helpers/cli.ts';
import { freshDatabase } from '../helpers/postgres.ts';
import { forgeEditNote } from '../tracker/forger.ts';

const sup: Actor = { name: '王秘书', role: 'supervisor' };
const root = path.resolve(import.meta.dirname, '../..');
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

function tmp(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'fiscus-backup-'));
  dirs.push(d);
  return d;
}

const sha = (p: string) => createHash('sha256').update(fs.readFileSync(p)).digest('hex');

/** A deployment: data/fiscus.duckdb with its key and checkpoints beside it, a few tracker actions. */
async function deployment(): Promise<{ dir: string; db: string }> {
  const dir = tmp();
  const db = path.join(dir, 'data', 'fiscus.duckdb');
  const s = await openStore(db);
  try {
    await insertFlags(s, [{ flag_id: 'B1' }, { flag_id: 'B2' }]);
    await performAction(s, 'B1', { action: 'confirm', note: '确认' }, sup);
    await performAction(s, 'B1', { action: 'assign', due: '2030-06-28' }, sup);
    await performAction(s, 'B1', { action: 'explain', note: '原始说明' }, sup);
  } finally {
    await s.close();
  }
  return { dir, db };
}

describe('fiscus backup / restore (CLI, database closed)', () => {
  it('backs up the database, the key and the checkpoints with a manifest; the directory is owner-only', async () => {
    const d = await deployment();
    const out = path.join(d.dir, 'backups', 'b1');
    const r = await runCli(['--db', d.db, 'backup', out]);
    expect(r.code, r.stderr).toBe(0);
    const manifest = JSON.parse(r.stdout);
    expect(manifest.files.map((f: { role: string; name: string }) => [f.role, f.name])).toEqual([
      ['database', 'fiscus.duckdb'],
      ['log-key', 'fiscus.log-key'],
      ['checkpoints', 'fiscus.checkpoints.jsonl'],
    ]);
    for (const f of manifest.files) expect(sha(path.join(out, f.name))).toBe(f.sha256);
    expect(manifest.log).toMatchObject({ events: 5, head_seq: 5 });
    expect(JSON.parse(fs.readFileSync(path.join(out, 'manifest.json'), 'utf8'))).toEqual(manifest);
    expect(fs.statSync(out).mode & 0o777).toBe(0o700);
    expect(fs.statSync(path.join(out, 'fiscus.log-key')).mode & 0o777).toBe(0o600);
    // Not into a directory that has files in it.
    const again = await runCli(['--db', d.db, 'backup', out]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('is not empty');
  });

  it('restore brings it back elsewhere and verify-log passes on the restored copy', async () => {
    const d = await deployment();
    const out = path.join(d.dir, 'bk');
    expect((await runCli(['--db', d.db, 'backup', out])).code).toBe(0);
    const target = path.join(tmp(), 'restored', 'fiscus.duckdb');
    const r = await runCli(['--db', target, 'restore', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('restored and verified: 5 event(s), newest checkpoint #5');
    expect(fs.statSync(path.join(path.dirname(target), 'fiscus.log-key')).mode & 0o777).toBe(0o600);
    const v = await runCli(['--db', target, 'track', 'verify-log']);
    expect(v.code).toBe(0);
    // The restored deployment keeps working: a new action is keyed with the restored key.
    expect((await runCli(['--db', target, 'track', 'accept-explanation', 'B1', '--note', '认可'])).code).toBe(0);
    expect((await runCli(['--db', target, 'track', 'verify-log'])).code).toBe(0);
  });

  it('a restored copy whose log was forged with the public algorithm (manifest recomputed) fails verify-log', async () => {
    const d = await deployment();
    const out = path.join(d.dir, 'bk');
    expect((await runCli(['--db', d.db, 'backup', out])).code).toBe(0);
    // The forger edits the backup's database file and fixes up the manifest (SHA-256 is public too).
    await forgeEditNote(path.join(out, 'fiscus.duckdb'), 5, '篡改后的说明', 'legacy');
    const m = JSON.parse(fs.readFileSync(path.join(out, 'manifest.json'), 'utf8'));
    m.files.find((f: { role: string }) => f.role === 'database').sha256 = sha(path.join(out, 'fiscus.duckdb'));
    fs.writeFileSync(path.join(out, 'manifest.json'), JSON.stringify(m));
    const target = path.join(tmp(), 'fiscus.duckdb');
    const r = await runCli(['--db', target, 'restore', out]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('restored, but the event log does not verify');
    expect(r.stdout).toContain('event #5');
    const v = await runCli(['--db', target, 'track', 'verify-log']);
    expect(v.code).toBe(1);
    expect(v.stdout).toContain('event #5');
  });

  it('refuses a backup whose files do not match the manifest, and restores nothing', async () => {
    const d = await deployment();
    const out = path.join(d.dir, 'bk');
    expect((await runCli(['--db', d.db, 'backup', out])).code).toBe(0);
    fs.appendFileSync(path.join(out, 'fiscus.checkpoints.jsonl'), '{"v":1}\n');
    const target = path.join(tmp(), 'fiscus.duckdb');
    const r = await runCli(['--db', target, 'restore', out]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('fiscus.checkpoints.jsonl: SHA-256 does not match the manifest');
    expect(fs.readdirSync(path.dirname(target))).toEqual([]);
    // A manifest naming a file outside the backup is refused too.
    const m = JSON.parse(fs.readFileSync(path.join(out, 'manifest.json'), 'utf8'));
    m.files[0].name = '../../etc/passwd';
    fs.writeFileSync(path.join(out, 'manifest.json'), JSON.stringify(m));
    expect((await runCli(['--db', target, 'restore', out])).stderr).toContain('not a plain file name');
  });

  it('refuses to overwrite an existing deployment without --force, and one another process holds even with it', async () => {
    const d = await deployment();
    const out = path.join(d.dir, 'bk');
    expect((await runCli(['--db', d.db, 'backup', out])).code).toBe(0);
    const r = await runCli(['--db', d.db, 'restore', out]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('restore would overwrite');
    expect(r.stderr).toContain('--force');
    // Another process holds the database read-write (as fiscus serve would). The instance is kept on
    // globalThis: a module-local one is garbage once the module has run, and a GC closes it and drops
    // the lock (CI once restored over the 'held' database that way).
    const holder = spawn(
      process.execPath,
      ['--input-type=module', '-e', `const m = await import('@duckdb/node-api'); const i = await m.DuckDBInstance.create(${JSON.stringify(d.db)}); const c = await i.connect(); await c.run('SELECT 1'); globalThis.held = [i, c]; console.log('ready'); setInterval(() => {}, 1000);`],
      { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    try {
      await new Promise<void>((resolve, reject) => {
        holder.stdout!.on('data', (b: Buffer) => b.toString().includes('ready') && resolve());
        holder.on('exit', (c) => reject(new Error(`holder exited ${c}`)));
      });
      const before = sha(d.db);
      const forced = await runCli(['--db', d.db, 'restore', out, '--force']);
      expect(forced.code).toBe(1);
      expect(forced.stderr).toContain(`in use by another process (PID ${holder.pid}`);
      expect(sha(d.db)).toBe(before);
    } finally {
      holder.kill();
    }
    await new Promise((r) => holder.once('exit', r));
    const ok = await runCli(['--db', d.db, 'restore', out, '--force']);
    expect(ok.code, ok.stderr).toBe(0);
  });
});

describe('fiscus backup --api (while fiscus serve owns the database)', () => {
  it('the server writes a consistent backup under its backup root while writes go on; the copy restores and verifies', async () => {
    const d = await deployment();
    const backupRoot = path.join(d.dir, 'server-backups');
    fs.mkdirSync(backupRoot, { mode: 0o700 });
    const store = await openStore(d.db);
    const { app, url } = await startServer(store, { backupDir: backupRoot });
    try {
      // The CLI cannot open the file now (one process owns it) ...
      const direct = spawnSync(process.execPath, [path.join(root, 'cli/bin.js'), '--db', d.db, 'backup', path.join(d.dir, 'x')], { encoding: 'utf8', cwd: root });
      expect(direct.status).toBe(1);
      expect(direct.stderr).toContain('in use by another process');
      // ... so it asks the server, with writes running meanwhile.
      let stop = false;
      const writer = (async () => {
        for (let i = 0; !stop && i < 200; i++) await appendEvent(store, i % 2 ? 'B1' : 'B2', 'flag.due_soon');
      })();
      const r = await runCli(['backup', 'nightly/2026-12-02', '--api', url, '--token', T.admin]);
      stop = true;
      await writer;
      expect(r.code, r.stderr).toBe(0);
      const manifest = JSON.parse(r.stdout);
      const dir = path.join(backupRoot, 'nightly', '2026-12-02');
      expect(fs.readdirSync(dir).sort()).toEqual(['fiscus.checkpoints.jsonl', 'fiscus.duckdb', 'fiscus.log-key', 'manifest.json']);
      const target = path.join(tmp(), 'fiscus.duckdb');
      const restored = await runCli(['--db', target, 'restore', dir]);
      expect(restored.code, restored.stderr + restored.stdout).toBe(0);
      expect(restored.stdout).toContain(`restored and verified: ${manifest.log.events} event(s)`);
    } finally {
      await app.close();
      await store.close();
    }
  });

  it('refuses paths outside the backup root (../, absolute, through a symlink), existing directories, and non-admin tokens', async () => {
    const d = await deployment();
    const backupRoot = path.join(d.dir, 'server-backups');
    fs.mkdirSync(backupRoot);
    fs.symlinkSync(d.dir, path.join(backupRoot, 'link-out'));
    const store = await openStore(d.db);
    const { app, url } = await startServer(store, { backupDir: backupRoot });
    const post = (body: unknown, token = T.admin) =>
      getJson(`${url}/v1/admin/backup`, token, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    try {
      for (const dir of ['../escape', '../../tmp/x', 'a/../../escape', path.join(d.dir, 'abs'), '.', 'link-out/inside-link']) {
        const r = await post({ dir });
        expect(r.status, dir).toBe(403);
        expect(r.type).toContain('application/problem+json');
      }
      expect(fs.existsSync(path.join(d.dir, 'escape'))).toBe(false);
      expect(fs.existsSync(path.join(d.dir, 'inside-link'))).toBe(false);
      expect((await post({ dir: 'ok' })).status).toBe(200);
      expect((await post({ dir: 'ok' })).status).toBe(409);
      for (const token of [T.analyst, T.supervisor, T.portal]) expect((await post({ dir: 'ok2' }, token)).status).toBe(403);
      const cli = await runCli(['backup', '../escape', '--api', url, '--token', T.admin]);
      expect(cli.code).toBe(1);
      expect(cli.stderr).toContain('inside the server backup root');
    } finally {
      await app.close();
    }
    // Without --backup-dir the route is off; a backup root overlapping the ingest directory is refused at start.
    const off = await startServer(store, {});
    try {
      const r = await getJson(`${off.url}/v1/admin/backup`, T.admin, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"dir":"x"}' });
      expect(r.status).toBe(403);
      expect(r.body.detail).toContain('--backup-dir');
    } finally {
      await off.app.close();
    }
    await expect(startServer(store, { backupDir: backupRoot, ingestDir: d.dir, lockdown: false })).rejects.toThrow('overlap');
    // Nor may DuckDB's readable ingest directory hold the log key (beside the database by default).
    await expect(startServer(store, { ingestDir: path.dirname(d.db), lockdown: false })).rejects.toThrow(/log key .* is inside --ingest-dir/);
    await store.close();
  });
});

describe.skipIf(!process.env.FISCUS_TEST_PG_URL)('fiscus backup / restore on PostgreSQL', () => {
  it('say it is a DuckDB file copy, point at pg_dump and the log key, and write nothing', async () => {
    const url = await freshDatabase('backup');
    const store = await openStore(url);
    await insertFlags(store, [{ flag_id: 'PB1' }]);
    await store.close();
    const target = path.join(tmp(), 'bk');
    const b = await runCli(['--db', url, 'backup', target]);
    expect(b.code).toBe(1);
    expect(b.stderr).toMatch(/copies a DuckDB database file; .* is PostgreSQL: back it up with pg_dump .*log key .*\.log-key/);
    expect(fs.existsSync(target)).toBe(false);
    const r = await runCli(['--db', url, 'restore', target]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/restore it with pg_restore/);
  });
});
