/**
 * The one owner of the DuckDB database file.
 *
 * DuckDB allows one read-write process per file, and one DuckDBInstance per
 * file per process (STACK-NOTES.md). `openStore` enforces both: it caches the
 * instance per path within the process and turns the lock conflict raised by
 * another process into an error that says who holds the file and what to do.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
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
  /**
   * Set inside `transaction(fn)`: statements of `fn` run in the transaction without waiting.
   * It carries the work registered with `afterCommit`.
   */
  private readonly inTransaction = new AsyncLocalStorage<{ afterCommit: (() => void | Promise<void>)[] }>();
  /** Tail of the queue of work on the main connection. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    readonly path: string,
    readonly instance: DuckDBInstance,
    /** The main connection. Streams must use their own (see `connect`). */
    readonly conn: DuckDBConnection,
  ) {}

  /** A fresh connection, e.g. for a stream that must not be interrupted by other queries. */
  async connect(): Promise<DuckDBConnection> {
    const conn = await this.instance.connect();
    await prepareConnection(conn, this.path);
    return conn;
  }

  /**
   * Work on the main connection is serialised: a transaction must not see
   * statements of unrelated callers (a server handles requests concurrently,
   * and a DuckDB connection has one transaction at a time). Statements issued
   * from inside a transaction's own `fn` run at once.
   */
  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    if (this.inTransaction.getStore()) return fn();
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  async run(sql: string, params?: Params): Promise<void> {
    await this.exclusive(() => this.conn.run(sql, params as Record<string, DuckDBValue> | undefined));
  }

  /** Rows as JSON-safe objects (money and big integers as strings). */
  async all<T extends JsonRow = JsonRow>(sql: string, params?: Params): Promise<T[]> {
    const reader = await this.exclusive(() => this.conn.runAndReadAll(sql, params as Record<string, DuckDBValue> | undefined));
    return reader.getRowObjectsJson() as T[];
  }

  async one<T extends JsonRow = JsonRow>(sql: string, params?: Params): Promise<T | undefined> {
    const rows = await this.all<T>(sql, params);
    return rows[0];
  }

  /** Run `fn` in one transaction: all of it lands, or none of it. A nested call joins the outer one. */
  async transaction<T>(fn: () => Promise<T>): Promise<T> {
    if (this.inTransaction.getStore()) return fn();
    const tx = { afterCommit: [] as (() => void | Promise<void>)[] };
    return this.exclusive(() =>
      this.inTransaction.run(tx, async () => {
        await this.conn.run('BEGIN TRANSACTION');
        let out: T;
        try {
          out = await fn();
          await this.conn.run('COMMIT');
        } catch (err) {
          await this.conn.run('ROLLBACK').catch(() => undefined);
          throw err;
        }
        // Still inside the queue slot: the next writer starts after these ran (commit order).
        for (const hook of tx.afterCommit) await hook();
        return out;
      }),
    );
  }

  /**
   * Run `fn` once the current transaction has committed, before the next work on the
   * connection starts; never after a rollback. Only inside `transaction(fn)`.
   * (engine/checkpoints.ts signs the log head here: a rolled-back append must not be signed.)
   */
  afterCommit(fn: () => void | Promise<void>): void {
    const tx = this.inTransaction.getStore();
    if (!tx) throw new Error('Store.afterCommit outside a transaction');
    tx.afterCommit.push(fn);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    OPEN.delete(this.path);
    await this.queue;
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

/**
 * The database file is attached under a fixed catalog name. DuckDB would
 * otherwise name the catalog after the file (`fiscus.duckdb` → `fiscus`),
 * which collides with our `fiscus` schema and makes every `fiscus.x`
 * reference ambiguous.
 */
export const CATALOG = 'fiscus_store';

function sqlString(s: string): string {
  return `'${s.replaceAll("'", "''")}'`;
}

async function prepareConnection(conn: DuckDBConnection, abs: string): Promise<void> {
  if (abs !== ':memory:') await conn.run(`USE ${CATALOG}`);
  // Users read dates in Asia/Shanghai; timestamps are stored as UTC instants.
  // Only when not already so: `fiscus serve` sets it globally and then locks the
  // configuration (api/lockdown.ts), after which any SET fails.
  const tz = (await conn.runAndReadAll("SELECT current_setting('TimeZone') AS tz")).getRowObjectsJson()[0]?.tz;
  if (tz !== 'Asia/Shanghai') await conn.run("SET TimeZone = 'Asia/Shanghai'");
}

async function openFresh(abs: string, opts: OpenOptions): Promise<Store> {
  if (abs !== ':memory:' && !opts.readOnly) mkdirSync(dirname(abs), { recursive: true });
  // FISCUS_MEMORY_LIMIT (e.g. 2GB) caps DuckDB's buffer memory; beyond it DuckDB spills to disk.
  // Unset, DuckDB takes up to 80% of RAM, which the benchmark shows it uses on 10M payments.
  const limit = process.env.FISCUS_MEMORY_LIMIT;
  if (limit !== undefined && !/^\d+(\.\d+)?\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)$/i.test(limit)) {
    throw new FiscusError(`FISCUS_MEMORY_LIMIT must be a size such as 2GB or 512MB (got "${limit}")`, { code: 'USAGE', exitCode: 2 });
  }
  const instance = await DuckDBInstance.create(':memory:', limit ? { memory_limit: limit } : {});
  const conn = await instance.connect();
  if (abs !== ':memory:') {
    try {
      await conn.run(`ATTACH ${sqlString(abs)} AS ${CATALOG}${opts.readOnly ? ' (READ_ONLY)' : ''}`);
    } catch (err) {
      conn.closeSync();
      instance.closeSync();
      throw describeOpenError(abs, err);
    }
  }
  await prepareConnection(conn, abs);
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
