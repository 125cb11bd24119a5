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

function sqlString(s: string): string {
  return `'${s.replaceAll("'", "''")}'`;
}

export async function isLockedDown(store: Store): Promise<boolean> {
  const r = await store.one<{ v: string | boolean }>("SELECT current_setting('lock_configuration') AS v");
  return r?.v === true || r?.v === 'true';
}

export async function lockDown(store: Store, opts: { ingestDir?: string } = {}): Promise<void> {
  if (await isLockedDown(store)) return;
  await store.run("SET GLOBAL TimeZone = 'Asia/Shanghai'");
  const dirs = opts.ingestDir ? [resolve(opts.ingestDir)] : [];
  await store.run(`SET allowed_directories = [${dirs.map(sqlString).join(', ')}]`);
  await store.run('SET enable_external_access = false');
  await store.run('SET lock_configuration = true');
}
