/**
 * Lock the DuckDB instance down before serving untrusted SQL (STACK-NOTES.md).
 *
 * A second instance on the same file is not possible in one process, so the
 * server's own instance is restricted, right after opening and for its whole life:
 * no file system access outside `ingestDir` (none when unset), no external access,
 * and no configuration changes afterwards. The time zone is set globally first,
 * because every later connection would otherwise start in UTC and could not change it.
 */
import { resolve } from 'node:path';
import type { Store } from '../engine/db.ts';
import { sqlString } from '../engine/sql-quote.ts';

export async function isLockedDown(store: Store): Promise<boolean> {
  // PostgreSQL: nothing to lock in the server's own session; analyst SQL runs as the
  // read-only role of engine/pg-analyst.ts, which has no file functions and no write grants.
  if (store.engine !== 'duckdb') return true;
  const r = await store.one<{ v: string | boolean }>("SELECT current_setting('lock_configuration') AS v");
  return r?.v === true || r?.v === 'true';
}

export interface LockDownOptions {
  /** The server's ingest directory. */
  ingestDir?: string;
  /** More directories DuckDB may read (`fiscus query --allow-files DIR`). */
  allowedDirs?: readonly string[];
}

/**
 * Used by `fiscus serve` and, for the same sandbox, by `fiscus query` before it runs
 * an analyst's SQL. DuckDB adds its own temp_directory (default ./.tmp) to `allowed_directories`.
 */
export async function lockDown(store: Store, opts: LockDownOptions = {}): Promise<void> {
  if (await isLockedDown(store)) return;
  await store.run("SET GLOBAL TimeZone = 'Asia/Shanghai'");
  // DuckDB stores each as "dir/" and resolves "..", so /data/in admits neither /data/inbox nor /data/in/../x.
  const dirs = [...(opts.ingestDir ? [opts.ingestDir] : []), ...(opts.allowedDirs ?? [])].map((d) => resolve(d));
  await store.run(`SET allowed_directories = [${dirs.map(sqlString).join(', ')}]`);
  await store.run('SET enable_external_access = false');
  await store.run('SET lock_configuration = true');
}
