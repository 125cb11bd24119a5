/**
 * A second process that opens a database file read-write and holds it until stopped,
 * for the tests of "another process owns the file".
 *
 * The holder must keep its DuckDBInstance (and connection) reachable: node-api closes an
 * instance in its garbage-collection finalizer, which releases DuckDB's file lock while the
 * process lives on. A holder whose `db` is only a top-level binding nobody reads after the
 * module finished loses the lock whenever V8 collects it (seen after ~30 s idle, sooner under
 * load): the test then saw the CLI open the "held" file and exit 0. So the holder references
 * both from a live timer and forces two full collections before it says it is ready: if the
 * lock did not survive a GC, the test would fail every time, not once in a while.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '../..');

export interface Holder {
  pid: number;
  /** Kill the holder and wait until it has exited (its lock is released then). */
  stop: () => Promise<void>;
}

export function holdDatabase(path: string): Promise<Holder> {
  const script = `
    import { DuckDBInstance } from '@duckdb/node-api';
    const db = await DuckDBInstance.create(${JSON.stringify(path)});
    const conn = await db.connect();
    await conn.run('SELECT 1');
    // Keep the instance and its connection reachable for as long as the process runs.
    setInterval(() => { if (!db || !conn) process.exit(3); }, 1000);
    // Collect garbage once this module has finished evaluating (its frame no longer holds db),
    // then say ready: a holder that lost its lock to GC fails the test at once, not now and then.
    setTimeout(async () => {
      const settle = () => new Promise((r) => setTimeout(r, 50));
      globalThis.gc(); await settle(); globalThis.gc(); await settle();
      process.stdout.write('ready\\n');
    }, 0);
  `;
  const child = spawn(process.execPath, ['--expose-gc', '--input-type=module', '-e', script], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      if (!d.toString().includes('ready')) return;
      resolve({
        pid: child.pid!,
        stop: async () => {
          if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
          await exited;
        },
      });
    });
    child.on('error', reject);
    child.on('exit', (code) => reject(new Error(`holder exited early (${code}): ${err}`)));
  });
}
