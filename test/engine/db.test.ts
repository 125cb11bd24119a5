import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openStore } from '../../engine/db.ts';
import { runCli } from '../helpers/cli.ts';

/** A second process that opens the database read-write and holds it until killed. */
function holdDatabase(path: string): Promise<{ pid: number; stop: () => void }> {
  const script = `
    import { DuckDBInstance } from '@duckdb/node-api';
    const db = await DuckDBInstance.create(${JSON.stringify(path)});
    await (await db.connect()).run('SELECT 1');
    process.stdout.write('ready\\n');
    setInterval(() => {}, 1000);
  `;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { cwd: process.cwd(), stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      if (d.toString().includes('ready')) resolve({ pid: child.pid!, stop: () => child.kill('SIGKILL') });
    });
    child.on('error', reject);
    child.on('exit', (code) => reject(new Error(`holder exited early (${code})`)));
  });
}

describe('database ownership', () => {
  it('says which process holds the file and what to do, and leaves it intact', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'fiscus-lock-')), 'locked.duckdb');
    const store = await openStore(path);
    await store.run("INSERT INTO ref.regions VALUES ('370800', '济宁市', '370000', 'city', NULL, 'b1', 'h', now())");
    await store.close();

    const holder = await holdDatabase(path);
    try {
      const res = await runCli(['--db', path, 'query', 'SELECT count(*) AS n FROM ref.regions']);
      expect(res.code).toBe(1);
      expect(res.stderr).toContain(`PID ${holder.pid}`);
      expect(res.stderr).toMatch(/--api/);
      expect(res.stderr).toMatch(/Nothing was changed/);
    } finally {
      holder.stop();
    }
    await new Promise((r) => setTimeout(r, 300));
    const res = await runCli(['--db', path, 'query', 'SELECT region_name FROM ref.regions', '--format', 'csv']);
    expect(res.stdout).toBe('region_name\n济宁市\n');
  });
});
