/**
 * vitest globalSetup: one private PostgreSQL 15 for the whole run, when it is installed
 * (or required: FISCUS_TEST_ENGINE=postgres fails the run without it). Test files reach it
 * through FISCUS_TEST_PG_URL and make a fresh database each (test/helpers/postgres.ts).
 * A URL already in FISCUS_TEST_PG_URL is used as it is (a server started by .ci/run or by hand).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { postgresInstalled, startPostgres, type PrivatePostgres } from './postgres.ts';

let server: PrivatePostgres | undefined;
let keyDir: string | undefined;

export async function setup(): Promise<void> {
  // A PostgreSQL database's log key defaults to ./data (engine/log-key.ts): keep the tests' keys out of the tree.
  if (!process.env.FISCUS_PG_KEY_DIR) {
    keyDir = mkdtempSync(join(tmpdir(), 'fiscus-pg-keys-'));
    process.env.FISCUS_PG_KEY_DIR = keyDir;
  }
  if (process.env.FISCUS_TEST_PG_URL) return;
  if (!postgresInstalled()) {
    if (process.env.FISCUS_TEST_ENGINE === 'postgres') {
      throw new Error('FISCUS_TEST_ENGINE=postgres but PostgreSQL 15 is not installed: apt-get install -y postgresql-15');
    }
    return;
  }
  server = await startPostgres();
  process.env.FISCUS_TEST_PG_URL = server.url;
}

export async function teardown(): Promise<void> {
  await server?.stop();
  server = undefined;
  if (keyDir) rmSync(keyDir, { recursive: true, force: true });
}
