import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openStore } from '../../engine/db.ts';
import { runCli } from '../helpers/cli.ts';
import { PAYMENT_HEADER, freshStore, payment, toCsv } from './helpers.ts';

const ROOT = join(import.meta.dirname, '../..');

/** A separate process that opens the database read-write and keeps it open. */
function holdDatabase(dbPath: string): Promise<ChildProcess> {
  const child = spawn(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      `import { DuckDBInstance } from '@duckdb/node-api';
       const db = await DuckDBInstance.create(${JSON.stringify(dbPath)});
       await db.connect();
       process.stdout.write('ready\\n');
       setInterval(() => {}, 1000);`,
    ],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  return new Promise((res, rej) => {
    let err = '';
    child.stderr!.on('data', (d) => (err += d));
    child.stdout!.on('data', (d) => String(d).includes('ready') && res(child));
    child.on('exit', (code) => rej(new Error(`holder exited ${code}: ${err}`)));
  });
}

describe('database locked by another process', () => {
  let holder: ChildProcess | undefined;
  afterEach(() => {
    holder?.kill();
  });

  it('names the PID, says what to do, exits 1 and changes nothing', async () => {
    const { store, dir, dbPath } = await freshStore();
    await store.close();
    const file = join(dir, 'treasury.payments.csv');
    writeFileSync(file, toCsv(PAYMENT_HEADER, [payment('L1'), payment('L2')]));
    const fileHash = createHash('sha256').update(readFileSync(file)).digest('hex');

    holder = await holdDatabase(dbPath);
    const res = await runCli(['--db', dbPath, 'ingest', file]);
    expect(res.code).toBe(1);
    expect(res.stderr).toContain(`PID ${holder.pid}`);
    expect(res.stderr).toMatch(/in use by another process/);
    expect(res.stderr).toMatch(/stop that process|--api/);
    expect(res.stdout).toBe('');

    holder.kill();
    await new Promise((r) => holder!.once('exit', r));
    holder = undefined;
    expect(createHash('sha256').update(readFileSync(file)).digest('hex')).toBe(fileHash);
    const s = await openStore(dbPath);
    try {
      expect(await s.one('SELECT count(*) AS n FROM fiscus.batches')).toEqual({ n: '0' });
      expect(await s.one('SELECT count(*) AS n FROM treasury.payments')).toEqual({ n: '0' });
    } finally {
      await s.close();
    }
  });
});
