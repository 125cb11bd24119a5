/**
 * A private PostgreSQL 15 for a test run: `initdb` in a temp dir, the server on a free
 * loopback port with its unix socket in the same dir, torn down at the end.
 *
 * PostgreSQL refuses to run as root, so when the tests run as root (CI, the dev box) the
 * cluster belongs to the `postgres` user that Debian's `postgresql-15` package creates and
 * `initdb`/`pg_ctl` run through `runuser`. Authentication is `trust`: the server listens on
 * 127.0.0.1 only and lives as long as the run.
 */
import { execFile, execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, chown, mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';

const run = promisify(execFile);

export const PG_BIN = process.env.FISCUS_PG_BIN ?? '/usr/lib/postgresql/15/bin';

export function postgresInstalled(): boolean {
  return existsSync(join(PG_BIN, 'initdb')) && existsSync(join(PG_BIN, 'pg_ctl'));
}

export interface PrivatePostgres {
  /** Superuser URL of the cluster's `postgres` database. */
  url: string;
  port: number;
  dir: string;
  stop: () => Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

export async function startPostgres(): Promise<PrivatePostgres> {
  if (!postgresInstalled()) {
    throw new Error(`PostgreSQL 15 is not installed (no ${PG_BIN}/initdb): apt-get install -y postgresql-15`);
  }
  const asRoot = process.getuid?.() === 0;
  const dir = await mkdtemp(join(tmpdir(), 'fiscus-pg-'));
  const data = join(dir, 'data');
  let uid = process.getuid?.() ?? 0;
  let gid = process.getgid?.() ?? 0;
  if (asRoot) {
    const { stdout } = await run('id', ['-u', 'postgres']);
    uid = Number(stdout.trim());
    gid = Number((await run('id', ['-g', 'postgres'])).stdout.trim());
    await chown(dir, uid, gid);
    await chmod(dir, 0o700);
  }
  const as = (cmd: string, args: string[]) =>
    asRoot ? run('runuser', ['-u', 'postgres', '--', join(PG_BIN, cmd), ...args]) : run(join(PG_BIN, cmd), args);
  await as('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '-E', 'UTF8', '--locale=C.UTF-8', '--no-sync']);
  let port = 0;
  for (let attempt = 0; ; attempt++) {
    port = await freePort();
    try {
      // fsync off and small shared buffers: a throwaway cluster on a 2-core machine.
      await as('pg_ctl', [
        '-D', data, '-w', '-t', '60', '-l', join(dir, 'server.log'), '-o',
        `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200 -c shared_buffers=128MB`,
        'start',
      ]);
      break;
    } catch (err) {
      if (attempt >= 3) throw err;
    }
  }
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  return {
    url,
    port,
    dir,
    stop: async () => {
      await as('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']).catch(() => undefined);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

let counter = 0;

/**
 * A fresh, empty database on the run's cluster (FISCUS_TEST_PG_URL, set by the global setup),
 * for one Store. Returns its URL.
 */
export async function freshDatabase(prefix = 't'): Promise<string> {
  const base = process.env.FISCUS_TEST_PG_URL;
  if (!base) throw new Error('FISCUS_TEST_PG_URL is not set: the vitest global setup starts PostgreSQL (test/helpers/pg-global-setup.ts)');
  const name = `${prefix}_${process.pid}_${Date.now().toString(36)}_${++counter}`.toLowerCase().replace(/[^a-z0-9_]/g, '_');
  const c = new pg.Client({ connectionString: base });
  await c.connect();
  try {
    await c.query(`CREATE DATABASE "${name}"`);
  } finally {
    await c.end();
  }
  const u = new URL(base);
  u.pathname = `/${name}`;
  return u.toString();
}

/** `freshDatabase` for synchronous helpers (psql, ~20 ms). */
export function freshDatabaseSync(prefix = 't'): string {
  const base = process.env.FISCUS_TEST_PG_URL;
  if (!base) throw new Error('FISCUS_TEST_PG_URL is not set: the vitest global setup starts PostgreSQL (test/helpers/pg-global-setup.ts)');
  const name = `${prefix}_${process.pid}_${Date.now().toString(36)}_${++counter}`.toLowerCase().replace(/[^a-z0-9_]/g, '_');
  execFileSync(join(PG_BIN, 'psql'), ['-X', '-q', '-d', base, '-c', `CREATE DATABASE "${name}"`], { stdio: ['ignore', 'ignore', 'pipe'] });
  const u = new URL(base);
  u.pathname = `/${name}`;
  return u.toString();
}

/** Which engine the shared test helpers open a Store on (FISCUS_TEST_ENGINE=postgres|duckdb). */
export function testEngine(): 'duckdb' | 'postgres' {
  return process.env.FISCUS_TEST_ENGINE === 'postgres' ? 'postgres' : 'duckdb';
}

/**
 * Where a test's Store lives: the given DuckDB file path on the default engine, a fresh
 * PostgreSQL database when FISCUS_TEST_ENGINE=postgres.
 */
export function testDbLocation(duckdbPath: string): string {
  return testEngine() === 'postgres' ? freshDatabaseSync() : duckdbPath;
}
