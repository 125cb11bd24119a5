/**
 * The deployment's log key: the secret that makes the flag event log hold
 * against someone who can write the database file but not this file.
 *
 * It lives OUTSIDE the database (default beside it: `data/fiscus.duckdb` →
 * `data/fiscus.log-key`; `--log-key FILE` / env FISCUS_LOG_KEY), is created on
 * the first append with mode 0600 (its directory 0700 when we create it), and
 * is refused when group or others can read it. It holds versioned keys; each
 * version has an HMAC-SHA256 secret (chains the events) and an Ed25519 key pair
 * (signs checkpoints of the chain head, engine/checkpoints.ts). Rotation adds a
 * version and makes it current; old versions stay so old events still verify.
 *
 * `:memory:` stores get an ephemeral in-process key unless a path is configured.
 */
import { closeSync, fsyncSync, linkSync, mkdirSync, openSync, readFileSync, renameSync, statSync, unlinkSync, writeSync, existsSync } from 'node:fs';
import { createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import { basename, dirname, extname, join, resolve } from 'node:path';
import type { Store } from './db.ts';
import { isPostgresUrl } from './pg-store.ts';
import { FiscusError } from './errors.ts';

export interface LogConfig {
  /** The key file (default: beside the database). */
  keyFile?: string;
  /** The checkpoint log (default: beside the key file). */
  checkpointsFile?: string;
}

export interface LogKeyVersion {
  /** 1, 2, …: rotation only goes up. */
  version: number;
  /** Stored in every event (`key_id`) and checkpoint. */
  id: string;
  created_at: string;
  hmac: Buffer;
  privateKey: KeyObject;
  publicKey: KeyObject;
}

export interface LogKeyring {
  /** null: ephemeral (in-process) key of a `:memory:` store. */
  path: string | null;
  versions: LogKeyVersion[];
  current: LogKeyVersion;
  /**
   * The unkeyed (legacy) prefix the log had when the key was created: exactly
   * that many events may be unkeyed, ending in that hash. Kept in the key file,
   * which the attacker cannot write, so a chain recomputed with the public
   * algorithm cannot pass itself off as legacy.
   */
  legacy: { events: number; head_hash: string };
}

const CONFIG = new WeakMap<Store, LogConfig>();
const KEYRINGS = new WeakMap<Store, LogKeyring>();

/** Set where this store's key and checkpoints live (the CLI's `--log-key` / `--checkpoints`). */
export function configureLog(store: Store, cfg: LogConfig): void {
  CONFIG.set(store, { ...CONFIG.get(store), ...stripUndefined(cfg) });
  // A new key path means another keyring; otherwise keep what is loaded (an in-memory store's ephemeral key).
  if (cfg.keyFile !== undefined) KEYRINGS.delete(store);
}

function stripUndefined(cfg: LogConfig): LogConfig {
  return Object.fromEntries(Object.entries(cfg).filter(([, v]) => v !== undefined)) as LogConfig;
}

/** `data/fiscus.duckdb` → `data/fiscus.log-key`. */
export function defaultKeyPath(dbPath: string): string {
  const ext = extname(dbPath);
  return join(dirname(dbPath), `${basename(dbPath, ext)}.log-key`);
}

/**
 * A PostgreSQL database has no file to sit beside: its key defaults to
 * `$FISCUS_PG_KEY_DIR` (else `./data`) / `HOST_PORT_DBNAME.log-key`, on the machine that
 * runs fiscus, outside the database as the threat model wants (tracker/README.md).
 */
export function postgresKeyPath(url: string, env: NodeJS.ProcessEnv = process.env): string {
  let stem = 'postgres';
  try {
    const u = new URL(url);
    stem = `${u.hostname || 'local'}_${u.port || '5432'}_${decodeURIComponent(u.pathname.replace(/^\//, '')) || 'postgres'}`;
  } catch {
    /* unparsable: the fixed stem */
  }
  return resolve(env.FISCUS_PG_KEY_DIR || 'data', `${stem.replace(/[^A-Za-z0-9._-]/g, '_')}.log-key`);
}

/** `data/fiscus.log-key` → `data/fiscus.checkpoints.jsonl`. */
export function defaultCheckpointsPath(keyPath: string): string {
  const base = basename(keyPath);
  const stem = base.endsWith('.log-key') ? base.slice(0, -'.log-key'.length) : base;
  return join(dirname(keyPath), `${stem}.checkpoints.jsonl`);
}

export interface LogPaths {
  keyFile: string | null;
  checkpointsFile: string | null;
}

/** Where this store's key and checkpoints are: configured, else env, else beside the database (null: in memory). */
export function logPaths(store: Store, env: NodeJS.ProcessEnv = process.env): LogPaths {
  return logPathsFor(store.path, CONFIG.get(store) ?? {}, env);
}

/** `logPaths` for a database path that is not open (restore). */
export function logPathsFor(dbPath: string, cfg: LogConfig = {}, env: NodeJS.ProcessEnv = process.env): LogPaths {
  const keyRaw =
    cfg.keyFile ??
    (env.FISCUS_LOG_KEY || undefined) ??
    (dbPath === ':memory:' ? undefined : isPostgresUrl(dbPath) ? postgresKeyPath(dbPath, env) : defaultKeyPath(resolve(dbPath)));
  const keyFile = keyRaw === undefined ? null : resolve(keyRaw);
  const cpRaw = cfg.checkpointsFile ?? (env.FISCUS_CHECKPOINTS || undefined) ?? (keyFile ? defaultCheckpointsPath(keyFile) : undefined);
  return { keyFile, checkpointsFile: cpRaw === undefined ? null : resolve(cpRaw) };
}

interface KeyFileJson {
  fiscus_log_key: 1;
  current: string;
  legacy: { events: number; head_hash: string };
  keys: {
    version: number;
    id: string;
    created_at: string;
    hmac_sha256: string;
    ed25519_private_pkcs8: string;
    ed25519_public_spki: string;
  }[];
}

export function newKeyVersion(version: number, now = new Date()): LogKeyVersion {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return {
    version,
    id: `v${version}-${randomBytes(4).toString('hex')}`,
    created_at: now.toISOString(),
    hmac: randomBytes(32),
    privateKey,
    publicKey,
  };
}

function toJson(ring: Omit<LogKeyring, 'path'>): string {
  const body: KeyFileJson = {
    fiscus_log_key: 1,
    current: ring.current.id,
    legacy: ring.legacy,
    keys: ring.versions.map((k) => ({
      version: k.version,
      id: k.id,
      created_at: k.created_at,
      hmac_sha256: k.hmac.toString('base64'),
      ed25519_private_pkcs8: k.privateKey.export({ format: 'der', type: 'pkcs8' }).toString('base64'),
      ed25519_public_spki: k.publicKey.export({ format: 'der', type: 'spki' }).toString('base64'),
    })),
  };
  return `${JSON.stringify(body, null, 2)}\n`;
}

function keyError(message: string, code = 'LOG_KEY'): FiscusError {
  return new FiscusError(message, { code, exitCode: 1 });
}

/** Refuse a key file others can read: the log is only as strong as this file's secrecy. */
export function checkKeyFileMode(path: string): void {
  const st = statSync(path);
  if (!st.isFile()) throw keyError(`log key ${path} is not a regular file`);
  if (process.platform !== 'win32' && (st.mode & 0o077) !== 0) {
    throw keyError(
      `log key ${path} is readable or writable by group/others (mode ${(st.mode & 0o777).toString(8)}); ` +
        `anyone who can read it can forge the event log. Fix: chmod 600 ${path}`,
      'LOG_KEY_MODE',
    );
  }
}

export function parseKeyFile(path: string, text: string): LogKeyring {
  let raw: KeyFileJson;
  try {
    raw = JSON.parse(text) as KeyFileJson;
  } catch (err) {
    throw keyError(`log key ${path} is not valid JSON: ${(err as Error).message}`);
  }
  if (raw?.fiscus_log_key !== 1 || !Array.isArray(raw.keys) || raw.keys.length === 0) {
    throw keyError(`log key ${path} is not a fiscus log key file (expected {"fiscus_log_key": 1, "keys": [...]})`);
  }
  const versions = raw.keys.map((k, i): LogKeyVersion => {
    try {
      const hmac = Buffer.from(k.hmac_sha256, 'base64');
      if (hmac.length !== 32) throw new Error('HMAC secret is not 32 bytes');
      if (k.version !== i + 1) throw new Error(`versions must be 1, 2, … in order (found ${k.version} at position ${i + 1})`);
      return {
        version: k.version,
        id: String(k.id),
        created_at: String(k.created_at),
        hmac,
        privateKey: createPrivateKey({ key: Buffer.from(k.ed25519_private_pkcs8, 'base64'), format: 'der', type: 'pkcs8' }),
        publicKey: createPublicKey({ key: Buffer.from(k.ed25519_public_spki, 'base64'), format: 'der', type: 'spki' }),
      };
    } catch (err) {
      throw keyError(`log key ${path}: key #${i + 1} is invalid: ${(err as Error).message}`);
    }
  });
  const current = versions.find((v) => v.id === raw.current);
  if (!current) throw keyError(`log key ${path}: current key ${raw.current} is not in the file`);
  if (current !== versions.at(-1)) throw keyError(`log key ${path}: the current key must be the newest version`);
  const legacy = raw.legacy;
  if (!legacy || !Number.isSafeInteger(legacy.events) || legacy.events < 0 || typeof legacy.head_hash !== 'string') {
    throw keyError(`log key ${path}: "legacy" must be {events, head_hash}`);
  }
  return { path, versions, current, legacy: { events: legacy.events, head_hash: legacy.head_hash } };
}

/** Read the key file (never creates it). */
export function readKeyFile(path: string): LogKeyring {
  checkKeyFileMode(path);
  return parseKeyFile(path, readFileSync(path, 'utf8'));
}

/** Write atomically with mode 0600; `exclusive` refuses to replace an existing file. */
function writeKeyFile(path: string, ring: Omit<LogKeyring, 'path'>, exclusive: boolean): void {
  const dir = dirname(path);
  if (!existsSync(dir)) mkdirSync(dir, { recursive: true, mode: 0o700 });
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  const fd = openSync(tmp, 'wx', 0o600);
  try {
    writeSync(fd, toJson(ring));
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    if (exclusive) {
      linkSync(tmp, path); // fails if the file appeared meanwhile: never clobber a key
      unlinkSync(tmp);
    } else {
      renameSync(tmp, path);
    }
  } catch (err) {
    try {
      unlinkSync(tmp);
    } catch {
      /* already gone */
    }
    throw keyError(`cannot write log key ${path}: ${(err as Error).message}`);
  }
  fsyncDir(dir);
}

export function fsyncDir(dir: string): void {
  try {
    const fd = openSync(dir, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    /* not supported everywhere; the data itself is fsync'd */
  }
}

/** The keyring for verification: never created. A missing key says where it looked. */
export function loadKeyring(store: Store): LogKeyring {
  const cached = KEYRINGS.get(store);
  if (cached) return cached;
  const { keyFile } = logPaths(store);
  if (keyFile === null) {
    throw keyError('no log key: this in-memory store has not written any keyed event yet (and no --log-key / FISCUS_LOG_KEY is set)', 'LOG_KEY_MISSING');
  }
  if (!existsSync(keyFile)) {
    throw keyError(
      `no log key at ${keyFile} (looked there because of ${keySource(store)}). ` +
        'verify-log never creates a key: pass --log-key FILE (or env FISCUS_LOG_KEY) with the deployment\'s key, or restore it from a backup.',
      'LOG_KEY_MISSING',
    );
  }
  const ring = readKeyFile(keyFile);
  KEYRINGS.set(store, ring);
  return ring;
}

function keySource(store: Store): string {
  if (CONFIG.get(store)?.keyFile) return '--log-key';
  if (process.env.FISCUS_LOG_KEY) return 'FISCUS_LOG_KEY';
  return `the default beside the database ${store.path}`;
}

/**
 * The keyring for appending: created on first use. Creation is refused when the
 * log already has keyed events: their key was lost or moved, and a new key would
 * hide that (the operator must restore it, or point --log-key at it).
 */
export async function keyringForAppend(store: Store): Promise<LogKeyring> {
  const cached = KEYRINGS.get(store);
  if (cached) return cached;
  const { keyFile } = logPaths(store);
  if (keyFile !== null && existsSync(keyFile)) return loadKeyring(store);
  const keyed = await store.one<{ key_id: string }>('SELECT key_id FROM fiscus.flag_events WHERE key_id IS NOT NULL LIMIT 1');
  if (keyed) {
    throw keyError(
      `the event log was written with log key ${keyed.key_id}, but there is no key at ${keyFile ?? '(in memory)'}. ` +
        'Restore the key file from the backup (or pass --log-key FILE / FISCUS_LOG_KEY); a new key is not created over a keyed log.',
      'LOG_KEY_MISSING',
    );
  }
  // No keyed event yet: whatever the log holds now is its legacy prefix.
  const tail = await store.one<{ n: string | number; hash: string | null }>(
    `SELECT count(*) AS n, ${store.dialect.argMax('hash', 'seq')} AS hash FROM fiscus.flag_events`,
  );
  const legacyEvents = Number(tail?.n ?? 0);
  const first = newKeyVersion(1);
  const ring: LogKeyring = {
    path: keyFile,
    versions: [first],
    current: first,
    legacy: { events: legacyEvents, head_hash: legacyEvents > 0 ? String(tail!.hash) : '0'.repeat(64) },
  };
  if (keyFile !== null) writeKeyFile(keyFile, ring, true);
  KEYRINGS.set(store, ring);
  return ring;
}

/**
 * Add a key version and make it current. The caller (engine/checkpoints.ts
 * rotateLogKey) writes the checkpoint signed by both. Returns [old, new].
 */
export function addKeyVersion(store: Store, ring: LogKeyring): [LogKeyVersion, LogKeyVersion] {
  const old = ring.current;
  const next = newKeyVersion(old.version + 1);
  const updated: LogKeyring = { path: ring.path, versions: [...ring.versions, next], current: next, legacy: ring.legacy };
  if (ring.path !== null) writeKeyFile(ring.path, updated, false);
  KEYRINGS.set(store, updated);
  return [old, next];
}

export function keyById(ring: LogKeyring, id: string): LogKeyVersion | undefined {
  return ring.versions.find((v) => v.id === id);
}

/** The public half, for the portal (GET /v1/log/public-key) and `fiscus log public-key`. */
export function publicKeys(ring: LogKeyring): { current: string; keys: { key_id: string; version: number; created_at: string; algorithm: 'Ed25519'; public_key_pem: string }[] } {
  return {
    current: ring.current.id,
    keys: ring.versions.map((v) => ({
      key_id: v.id,
      version: v.version,
      created_at: v.created_at,
      algorithm: 'Ed25519',
      public_key_pem: v.publicKey.export({ format: 'pem', type: 'spki' }).toString(),
    })),
  };
}
