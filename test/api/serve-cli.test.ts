/**
 * `fiscus serve` as a real process: the CLI reaches it with --api/--token while the server
 * owns the database, the plain CLI gets the lock message naming the server's PID, and
 * SIGTERM shuts down gracefully (exit 0, database released).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openStore } from '../../engine/db.ts';
import { testEngine } from '../helpers/postgres.ts';
import { insertFlags, seedAgencies, T, tempStore, TOKENS } from './helpers.ts';

const BIN = join(import.meta.dirname, '../../cli/bin.js');
// Two flag ids sharing their first 7 characters: "c0ffee0" is ambiguous, "c0ffee00" is not.
const HEX_A = 'c0ffee0011223344556677889900aabb';
const HEX_B = 'c0ffee0f11223344556677889900aabb';
let dir: string;
let db: string;
let server: ChildProcess;
let base: string;
let stderr = '';
let cleanup: () => Promise<void>;

function cli(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [BIN, '--db', db, ...args], { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 60_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

beforeAll(async () => {
  const t = await tempStore();
  dir = t.dir;
  cleanup = t.cleanup;
  db = t.store.path;
  await seedAgencies(t.store);
  await insertFlags(t.store, [{ flag_id: 'S1', agency_code: 'A0101' }, { flag_id: 'S2', agency_code: 'B0201' }, { flag_id: HEX_A, agency_code: 'A0102' }, { flag_id: HEX_B, agency_code: 'A0102' }]);
  await t.store.close();
  writeFileSync(join(dir, 'tokens.json'), JSON.stringify(TOKENS));
  server = spawn(process.execPath, [BIN, '--db', db, 'serve', '--port', '0', '--tokens', join(dir, 'tokens.json'), '--log-level', 'warn'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  base = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start: ${stderr}`)), 45_000);
    server.stderr!.on('data', (b: Buffer) => {
      stderr += b.toString();
      const m = /listening on (http:\/\/[^\s]+)/.exec(stderr);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    server.on('exit', (code) => reject(new Error(`server exited ${code}: ${stderr}`)));
  });
});

afterAll(async () => {
  if (server.exitCode === null) server.kill('SIGKILL');
  await cleanup();
});

describe('fiscus serve + CLI over --api', () => {
  it.skipIf(testEngine() === 'postgres')('the plain CLI is told who holds the database and what to do', () => {
    const r = cli(['query', 'SELECT 1']);
    expect(r.code).toBe(1);
    expect(r.err).toContain(`PID ${server.pid}`);
    expect(r.err).toContain('--api');
  });

  it.skipIf(testEngine() !== 'postgres')('on PostgreSQL the plain CLI works beside the server: the database has no single-writer lock', () => {
    const r = cli(['query', 'SELECT flag_id FROM fiscus.flags WHERE agency_code = $a ORDER BY 1', '--param', 'a=A0101', '--format', 'csv']);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toBe('flag_id\nS1\n');
  });

  it('fiscus query / flags / track go through the server', () => {
    const q = cli(['query', '--api', base, '--token', T.analyst, '--format', 'json', 'SELECT flag_id FROM fiscus.flags WHERE agency_code = $a', '--param', 'a=A0101']);
    expect(q.err).toBe('');
    expect(JSON.parse(q.out)).toEqual([{ flag_id: 'S1' }]);

    const f = cli(['flags', '--format', 'jsonl'], { FISCUS_API: base, FISCUS_TOKEN: T.unit });
    expect(f.code).toBe(0);
    const lines = f.out.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((l) => l.flag_id)).toEqual(['S1']);
    expect(Object.keys(lines[0])).not.toContain('assigned_to');

    const c = cli(['track', 'confirm', 'S1', '--api', base, '--token', T.supervisor, '--format', 'json']);
    expect(c.code).toBe(0);
    const res = JSON.parse(c.out);
    expect(res.flag.status).toBe('confirmed');
    expect(res.events[0]).toMatchObject({ type: 'flag.confirmed', actor: 'sup', role: 'supervisor' });

    // Server-side refusal comes back as a CLI error with the problem's detail.
    const bad = cli(['track', 'confirm', 'S2', '--api', base, '--token', T.unit]);
    expect(bad.code).not.toBe(0);
    expect(bad.err).toMatch(/server 404/);
  });

  it('track actions over --api take a unique prefix of the flag id; an ambiguous one is a usage error', () => {
    const c = cli(['track', 'confirm', HEX_A.slice(0, 8), '--api', base, '--token', T.supervisor, '--format', 'json']);
    expect(c.code, c.err).toBe(0);
    expect(JSON.parse(c.out).flag).toMatchObject({ flag_id: HEX_A, status: 'confirmed' });
    const amb = cli(['track', 'confirm', 'C0FFEE0', '--api', base, '--token', T.supervisor]);
    expect(amb.code).toBe(2);
    expect(amb.err).toContain('flag id "C0FFEE0" is ambiguous: 2 flags start with it');
    expect(amb.err).toContain(HEX_A);
    expect(amb.err).toContain(HEX_B);
    // An agency token sees only its unit's flags (A0101): another unit's flag is unknown to it, as the API would say.
    const unit = cli(['track', 'explain', 'c0ffee0f', '--note', 'x', '--api', base, '--token', T.unit]);
    expect(unit.code).toBe(2);
    expect(unit.err).toContain('no flag c0ffee0f');
  });

  it('SIGTERM closes gracefully and releases the database', async () => {
    const exited = new Promise<number | null>((resolve) => server.on('exit', (code) => resolve(code)));
    server.kill('SIGTERM');
    expect(await exited).toBe(0);
    const store = await openStore(db);
    const row = await store.one<{ status: string }>("SELECT status FROM fiscus.flags WHERE flag_id = 'S1'");
    expect(row?.status).toBe('confirmed');
    await store.close();
  });
});
