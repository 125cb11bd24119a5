/**
 * The one owner of the DuckDB database file.
 *
 * DuckDB allows one read-write process per file, and one DuckDBInstance per
 * file per process (STACK-NOTES.md). `openStore` enforces both: it caches the
 * instance per path within the process and turns the lock conflict raised by
 * another process into an error that says who holds the file and what to do.
 */
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { DuckDBConnection, DuckDBInstance, type DuckDBValue } from '@duckdb/node-api';
import { FiscusError } from './errors.ts';
import { migrate } from './migrations.ts';

export type Params = Record<string, DuckDBValue | string | number | boolean | null | bigint>;
/** A row as JSON-safe values: DECIMAL and BIGINT arrive as strings, never lossy floats. */
export type JsonRow = Record<string, unknown>;

export interface OpenOptions {
  /** Skip schema creation/migration (read-only tools on an existing file). */
  readOnly?: boolean;
}

export const DEFAULT_DB_PATH = './data/fiscus.duckdb';

export class Store {
  private closed = false;

  constructor(
    readonly path: string,
    readonly instance: DuckDBInstance,
    /** The main connection. Streams must use their own (see `connect`). */
    readonly conn: DuckDBConnection,
  ) {}

  /** A fresh connection, e.g. for a stream that must not be interrupted by other queries. */
  async connect(): Promise<DuckDBConnection> {
    return this.instance.connect();
  }

  async run(sql: string, params?: Params): Promise<void> {
    await this.conn.run(sql, params as Record<string, DuckDBValue> | undefined);
  }

  /** Rows as JSON-safe objects (money and big integers as strings). */
  async all<T extends JsonRow = JsonRow>(sql: string, params?: Params): Promise<T[]> {
    const reader = await this.conn.runAndReadAll(sql, params as Record<string, DuckDBValue> | undefined);
    return reader.getRowObjectsJson() as T[];
  }

  async one<T extends JsonRow = JsonRow>(sql: string, params?: Params): Promise<T | undefined> {
    const rows = await this.all<T>(sql, params);
    return rows[0];
  }

  /** Run `fn` in one transaction: all of it lands, or none of it. */
  async transaction<T>(fn: () => Promise<T>): Promise<T> {
    await this.conn.run('BEGIN TRANSACTION');
    try {
      const out = await fn();
      await this.conn.run('COMMIT');
      return out;
    } catch (err) {
      await this.conn.run('ROLLBACK').catch(() => undefined);
      throw err;
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    OPEN.delete(this.path);
    this.conn.closeSync();
    this.instance.closeSync();
  }
}

const OPEN = new Map<string, Promise<Store>>();

/** Open (and create or migrate) the database at `path`. `:memory:` is allowed for tests. */
export async function openStore(path: string = DEFAULT_DB_PATH, opts: OpenOptions = {}): Promise<Store> {
  const abs = path === ':memory:' ? path : resolve(path);
  const cached = abs === ':memory:' ? undefined : OPEN.get(abs);
  if (cached) return cached;
  const opening = openFresh(abs, opts);
  if (abs !== ':memory:') OPEN.set(abs, opening);
  try {
    return await opening;
  } catch (err) {
    OPEN.delete(abs);
    throw err;
  }
}

async function openFresh(abs: string, opts: OpenOptions): Promise<Store> {
  if (abs !== ':memory:' && !opts.readOnly) mkdirSync(dirname(abs), { recursive: true });
  let instance: DuckDBInstance;
  try {
    instance = await DuckDBInstance.create(abs, opts.readOnly ? { access_mode: 'READ_ONLY' } : {});
  } catch (err) {
    throw describeOpenError(abs, err);
  }
  const conn = await instance.connect();
  // Users read dates in Asia/Shanghai; timestamps are stored as UTC instants.
  await conn.run("SET TimeZone = 'Asia/Shanghai'");
  const store = new Store(abs, instance, conn);
  if (!opts.readOnly) await migrate(store);
  return store;
}

/** Turn DuckDB's lock conflict into an actionable message. */
export function describeOpenError(path: string, err: unknown): Error {
  const msg = err instanceof Error ? err.message : String(err);
  const lock = /Conflicting lock is held in (.*?) \(PID (\d+)\)/.exec(msg);
  if (lock) {
    return new FiscusError(
      `database ${path} is in use by another process (PID ${lock[2]}, ${lock[1]}). ` +
        'DuckDB lets one process own the file: if it is `fiscus serve`, send the command to the server with ' +
        '`--api http://HOST:PORT --token TOKEN`, or stop that process (kill ' +
        lock[2] +
        ') and retry. Nothing was changed.',
      { code: 'DB_LOCKED' },
    );
  }
  return new FiscusError(`cannot open database ${path}: ${msg}`, { code: 'DB_OPEN' });
}
