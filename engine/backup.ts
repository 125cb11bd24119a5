/**
 * Backup and restore of a deployment: the database file, the event log key and
 * the checkpoint log (engine/log-key.ts, engine/checkpoints.ts), with a
 * manifest of each file's SHA-256.
 *
 * Consistency: inside the Store's transaction (which holds the Store's one
 * lock, so no writer of this process runs and no checkpoint line is written),
 * `CHECKPOINT` folds the WAL into the database file, then the file is copied.
 * DuckDB's `ATTACH … ; COPY FROM DATABASE` also gives a consistent copy, but
 * not in a server that is locked down (api/lockdown.ts: no file access for
 * SQL), and allowing the backup directory there would let analyst SQL read the
 * backed-up key. A copy during which the file changed anyway (another
 * connection's large write triggered DuckDB's automatic checkpoint) is retried.
 */
import { createHash } from 'node:crypto';
import { closeSync, copyFileSync, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, renameSync, rmSync, statSync, writeFileSync, chmodSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { assertNotHeld, type Store } from './db.ts';
import { FiscusError } from './errors.ts';
import { logHead } from './checkpoints.ts';
import { fsyncDir, logPaths, type LogPaths } from './log-key.ts';
import { isPostgresUrl, redactUrl } from './pg-store.ts';

export const MANIFEST = 'manifest.json';

export type BackupRole = 'database' | 'log-key' | 'checkpoints' | 'wal';

export interface BackupFile {
  role: BackupRole;
  /** File name inside the backup directory. */
  name: string;
  /** Where it was copied from. */
  source: string;
  bytes: number;
  sha256: string;
}

export interface BackupManifest {
  fiscus_backup: 1;
  created_at: string;
  files: BackupFile[];
  log: { events: number; head_seq: number; head_hash: string };
  schema_version: number;
}

function sha256File(path: string): string {
  const h = createHash('sha256');
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(1 << 20);
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      h.update(buf.subarray(0, n));
    }
  } finally {
    closeSync(fd);
  }
  return h.digest('hex');
}

function fsyncFile(path: string): void {
  const fd = openSync(path, 'r+');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Copy, fsync, and describe one file. */
function copyInto(dir: string, role: BackupRole, source: string, name: string, mode?: number): BackupFile {
  const dest = join(dir, name);
  copyFileSync(source, dest);
  if (mode !== undefined) chmodSync(dest, mode);
  fsyncFile(dest);
  return { role, name, source, bytes: statSync(dest).size, sha256: sha256File(dest) };
}

function prepareDir(dir: string): void {
  if (existsSync(dir)) {
    if (!statSync(dir).isDirectory()) throw new FiscusError(`backup target ${dir} exists and is not a directory`, { code: 'BACKUP_TARGET' });
    if (readdirSync(dir).length > 0) throw new FiscusError(`backup target ${dir} is not empty: choose a new directory`, { code: 'BACKUP_TARGET' });
  } else {
    // It holds the log key: owner only.
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  }
  chmodSync(dir, 0o700);
}

/** Write a consistent backup of `store` (database, log key, checkpoints, manifest) into the new or empty `dir`. */
/** Backup and restore copy a DuckDB file; a PostgreSQL database has its own tools. */
function postgresRefused(what: 'backup' | 'restore', db: string, paths: LogPaths): FiscusError {
  return new FiscusError(
    `fiscus ${what} copies a DuckDB database file; ${db} is PostgreSQL: ${what === 'backup' ? 'back it up with pg_dump' : 'restore it with pg_restore'} ` +
      `(or the server's own backups) and keep the log key ${paths.keyFile ?? '(none)'} and the checkpoints ${paths.checkpointsFile ?? '(none)'} with the dump`,
    { code: 'ENGINE_UNSUPPORTED' },
  );
}

export async function backupTo(store: Store, dir: string): Promise<BackupManifest> {
  if (store.path === ':memory:') throw new FiscusError('an in-memory database cannot be backed up', { code: 'BACKUP_SOURCE' });
  if (store.engine !== 'duckdb') throw postgresRefused('backup', store.path, logPaths(store));
  const target = resolve(dir);
  const db = store.path;
  prepareDir(target);
  const paths: LogPaths = logPaths(store);
  const manifest = await store.transaction(async () => {
    const files: BackupFile[] = [];
    for (let attempt = 1; ; attempt++) {
      await store.run('CHECKPOINT');
      const before = statSync(db);
      const copied: BackupFile[] = [copyInto(target, 'database', db, basename(db))];
      // After CHECKPOINT the WAL is normally gone; if one is there, it belongs with the file.
      const wal = `${db}.wal`;
      if (existsSync(wal) && statSync(wal).size > 0) copied.push(copyInto(target, 'wal', wal, `${basename(db)}.wal`));
      const after = statSync(db);
      if (before.mtimeMs === after.mtimeMs && before.size === after.size) {
        files.push(...copied);
        break;
      }
      if (attempt >= 5) throw new FiscusError(`the database ${db} kept changing during the copy; try again`, { code: 'BACKUP_BUSY' });
    }
    if (paths.keyFile && existsSync(paths.keyFile)) files.push(copyInto(target, 'log-key', paths.keyFile, basename(paths.keyFile), 0o600));
    if (paths.checkpointsFile && existsSync(paths.checkpointsFile)) {
      files.push(copyInto(target, 'checkpoints', paths.checkpointsFile, basename(paths.checkpointsFile), 0o600));
    }
    const head = await logHead(store);
    const n = await store.one<{ n: string | number }>('SELECT count(*) AS n FROM fiscus.flag_events');
    const v = await store.one<{ v: number | null }>('SELECT max(version) AS v FROM fiscus.schema_version');
    const m: BackupManifest = {
      fiscus_backup: 1,
      created_at: new Date().toISOString(),
      files,
      log: { events: Number(n?.n ?? 0), head_seq: head.seq, head_hash: head.hash },
      schema_version: Number(v?.v ?? 0),
    };
    return m;
  });
  writeFileSync(join(target, MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`, { mode: 0o600 });
  fsyncFile(join(target, MANIFEST));
  fsyncDir(target);
  return manifest;
}

/** Read a backup's manifest and check every file against its SHA-256 (throws, naming each mismatch). */
export function checkBackup(dir: string): BackupManifest {
  const path = join(resolve(dir), MANIFEST);
  if (!existsSync(path)) throw new FiscusError(`${dir} is not a fiscus backup (no ${MANIFEST})`, { code: 'BACKUP_INVALID' });
  let m: BackupManifest;
  try {
    m = JSON.parse(readFileSync(path, 'utf8')) as BackupManifest;
  } catch (err) {
    throw new FiscusError(`${path} is not valid JSON: ${(err as Error).message}`, { code: 'BACKUP_INVALID' });
  }
  if (m?.fiscus_backup !== 1 || !Array.isArray(m.files) || !m.files.some((f) => f.role === 'database')) {
    throw new FiscusError(`${path} is not a fiscus backup manifest`, { code: 'BACKUP_INVALID' });
  }
  const bad: string[] = [];
  for (const f of m.files) {
    if (basename(f.name) !== f.name) {
      bad.push(`${f.name}: not a plain file name`);
      continue;
    }
    const p = join(resolve(dir), f.name);
    if (!existsSync(p)) bad.push(`${f.name}: missing`);
    else if (sha256File(p) !== f.sha256) bad.push(`${f.name}: SHA-256 does not match the manifest`);
  }
  if (bad.length) {
    throw new FiscusError(`backup ${dir} does not match its manifest, nothing was restored: ${bad.join('; ')}`, { code: 'BACKUP_CORRUPT' });
  }
  return m;
}

export interface RestoreTarget {
  db: string;
  paths: LogPaths;
}

/**
 * Bring a backup back: the database to `target.db`, the key and checkpoints to
 * the deployment's configured places. Refuses a backup that does not match its
 * manifest, a database another process holds, and (without `force`) existing files.
 */
export async function restoreFrom(dir: string, target: RestoreTarget, opts: { force?: boolean } = {}): Promise<{ manifest: BackupManifest; written: string[] }> {
  if (isPostgresUrl(target.db)) throw postgresRefused('restore', redactUrl(target.db), target.paths);
  const manifest = checkBackup(dir);
  const db = resolve(target.db);
  const dest = (role: BackupRole): string | null => {
    if (role === 'database') return db;
    if (role === 'wal') return `${db}.wal`;
    if (role === 'log-key') return target.paths.keyFile;
    return target.paths.checkpointsFile;
  };
  const plan = manifest.files.map((f) => ({ f, to: dest(f.role) }));
  for (const p of plan) {
    if (p.to === null) throw new FiscusError(`no place to restore the ${p.f.role} to (configure --log-key / --checkpoints)`, { code: 'USAGE', exitCode: 2 });
  }
  if (existsSync(db)) {
    // Taking DuckDB's write lock for a moment: a database another process holds (fiscus serve) is refused here.
    await assertNotHeld(db);
  }
  const existing = [db, `${db}.wal`, target.paths.keyFile, target.paths.checkpointsFile].filter((p): p is string => p !== null && existsSync(p));
  if (existing.length > 0 && !opts.force) {
    throw new FiscusError(`restore would overwrite ${existing.join(', ')}: move them away or pass --force`, { code: 'RESTORE_EXISTS' });
  }
  const written: string[] = [];
  // Stage every file beside its destination, then rename: a failed copy leaves the old files in place.
  const staged = plan.map(({ f, to }) => {
    const dirOf = dirname(to!);
    if (!existsSync(dirOf)) mkdirSync(dirOf, { recursive: true, mode: 0o700 });
    const tmp = `${to}.restore-${process.pid}.tmp`;
    copyFileSync(join(resolve(dir), f.name), tmp);
    if (f.role === 'log-key' || f.role === 'checkpoints') chmodSync(tmp, 0o600);
    fsyncFile(tmp);
    if (sha256File(tmp) !== f.sha256) throw new FiscusError(`copy of ${f.name} does not match the manifest`, { code: 'BACKUP_CORRUPT' });
    return { tmp, to: to! };
  });
  // A WAL left from the old database would be replayed onto the restored one.
  if (!manifest.files.some((f) => f.role === 'wal')) rmSync(`${db}.wal`, { force: true });
  for (const s of staged) {
    renameSync(s.tmp, s.to);
    fsyncDir(dirname(s.to));
    written.push(s.to);
  }
  return { manifest, written };
}
