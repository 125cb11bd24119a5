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

describe('concurrent use of one store', () => {
  it('keeps a transaction free of other callers’ statements', async () => {
    const store = await openStore(':memory:');
    try {
      await store.run('CREATE TABLE main.t (x INTEGER)');
      // A transaction that fails after a slow step, while another caller inserts meanwhile:
      // the outside insert must survive the rollback, and nothing of the transaction may land.
      const failing = store.transaction(async () => {
        await store.run('INSERT INTO main.t VALUES (1)');
        await new Promise((r) => setTimeout(r, 50));
        throw new Error('boom');
      });
      const outside = store.run('INSERT INTO main.t VALUES (2)');
      await expect(failing).rejects.toThrow('boom');
      await outside;
      const nested = store.transaction(async () => {
        await store.transaction(() => store.run('INSERT INTO main.t VALUES (3)'));
      });
      await nested;
      expect(await store.all('SELECT x FROM main.t ORDER BY x')).toEqual([{ x: 2 }, { x: 3 }]);
    } finally {
      await store.close();
    }
  });
});

describe('memory limit', () => {
  it('caps DuckDB memory with FISCUS_MEMORY_LIMIT and refuses a malformed size', async () => {
    process.env.FISCUS_MEMORY_LIMIT = '1GB';
    try {
      const store = await openStore(':memory:');
      const row = await store.one<{ m: string }>("SELECT current_setting('memory_limit') AS m");
      await store.close();
      expect(row?.m).toBe('953.6 MiB');
      process.env.FISCUS_MEMORY_LIMIT = 'lots';
      await expect(openStore(':memory:')).rejects.toThrow(/FISCUS_MEMORY_LIMIT must be a size/);
    } finally {
      delete process.env.FISCUS_MEMORY_LIMIT;
    }
  });
});
