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
import { DuckDBConnection, DuckDBDataChunkWriter, DuckDBInstance, StatementType, type DuckDBType, type DuckDBValue } from '@duckdb/node-api';
import { FiscusError } from './errors.ts';
import { migrate } from './migrations.ts';

export type Params = Record<string, DuckDBValue | string | number | boolean | null | bigint>;
/** Explicit types for `Params` values that DuckDB cannot infer (JS `Date`, arrays). */
export type ParamTypes = Record<string, DuckDBType | undefined>;
/** A row as JSON-safe values: DECIMAL and BIGINT arrive as strings, never lossy floats. */
export type JsonRow = Record<string, unknown>;

export interface OpenOptions {
  /** Skip schema creation/migration (read-only tools on an existing file). */
  readOnly?: boolean;
}

/** Where `Store.append` / `Store.withAppender` write: a table, its schema, and `catalog: 'temp'` for TEMP tables. */
export interface AppendTarget {
  table: string;
  schema?: string;
  catalog?: string;
}

export const DEFAULT_DB_PATH = './data/fiscus.duckdb';

/** The caller's own transaction on the main connection (AsyncLocalStorage). */
interface TxState {
  /**
   * `open`: BEGIN..COMMIT; statements of the transaction's `fn` run at once, inside it.
   * `hooks`: committed, `afterCommit` work runs, still in the transaction's queue slot.
   * `done`: the slot is released; work begun from a leftover async context queues like anyone's.
   */
  phase: 'open' | 'hooks' | 'done';
  /** Something was written: the commit moves the generation. */
  dirty: boolean;
  afterCommit: (() => void | Promise<void>)[];
}

/** The caller's exclusive section (AsyncLocalStorage); `active` is false once it ended. */
interface SectionState {
  active: boolean;
}

/**
 * The one owner of the main connection. Everything that touches it goes through
 * these methods, which join one serialisation, so no caller's statement, appender
 * or prepared statement can land inside another caller's transaction:
 *
 * - `run` / `all` / `one`: one statement, queued on the connection.
 * - `transaction(fn)`: BEGIN..COMMIT holding the connection; nested calls join it.
 * - `append` / `withAppender`: the chunked Appender, atomically (in the caller's
 *   transaction, or in one of its own).
 * - `withConnection(fn)`: prepared and extracted statements on the main connection.
 * - `exclusive(fn)`: the one lock for read-decide-write sequences (tracker actions,
 *   deadline scans, rule runs, ingests), re-entrant; `transaction` and appends take it.
 *
 * Lock order is always exclusive section → connection, so nesting cannot deadlock.
 * `generation` counts committed writes; the API's response cache keys on it.
 */
export class Store {
  #closed = false;
  readonly #instance: DuckDBInstance;
  /** The main connection. Streams and parallel readers use their own (`connect`). */
  readonly #conn: DuckDBConnection;
  readonly #tx = new AsyncLocalStorage<TxState>();
  /** Tail of the queue of work on the main connection. */
  #connTail: Promise<unknown> = Promise.resolve();
  readonly #section = new AsyncLocalStorage<SectionState>();
  /** Tail of the queue of exclusive sections. */
  #sectionTail: Promise<unknown> = Promise.resolve();
  #generation = 0;
  readonly #writeListeners = new Set<(generation: number) => void>();

  constructor(
    readonly path: string,
    instance: DuckDBInstance,
    conn: DuckDBConnection,
  ) {
    this.#instance = instance;
    this.#conn = conn;
  }

  /**
   * A fresh connection, for a stream that must not be interrupted by other queries or
   * for reads in parallel (the API's read pool). It sees committed data only. Writes
   * belong on the main connection (the Store's methods), where they are serialised and
   * counted in `generation`.
   */
  async connect(): Promise<DuckDBConnection> {
    const conn = await this.#instance.connect();
    await prepareConnection(conn, this.path);
    return conn;
  }

  /** Counts committed writes made through this Store (statements, transactions, appends). */
  get generation(): number {
    return this.#generation;
  }

  /**
   * Call `listener` after every committed write (with the new generation). It runs
   * outside the writer's transaction and section. Returns the unsubscribe function.
   */
  onWrite(listener: (generation: number) => void): () => void {
    this.#writeListeners.add(listener);
    return () => this.#writeListeners.delete(listener);
  }

  #bump(): void {
    this.#generation++;
    const g = this.#generation;
    for (const l of this.#writeListeners) {
      this.#tx.exit(() =>
        this.#section.exit(() => {
          try {
            l(g);
          } catch {
            // A listener's failure is its own; the write has committed.
          }
        }),
      );
    }
  }

  /** A write happened on the main connection: counted now, or at the commit of the caller's transaction. */
  #wrote(): void {
    const tx = this.#tx.getStore();
    if (tx?.phase === 'open') tx.dirty = true;
    else this.#bump();
  }

  /** Is the caller inside its own transaction's queue slot (statements run at once)? */
  #holdsConnection(): boolean {
    const tx = this.#tx.getStore();
    return tx !== undefined && tx.phase !== 'done';
  }

  /**
   * Work on the main connection is serialised: a transaction must not see
   * statements of unrelated callers (a server handles requests concurrently,
   * and a DuckDB connection has one transaction at a time). Statements issued
   * from inside a transaction's own `fn` run at once.
   */
  #onConn<T>(fn: () => Promise<T>): Promise<T> {
    if (this.#holdsConnection()) return fn();
    const run = this.#connTail.then(fn, fn);
    this.#connTail = run.catch(() => undefined);
    return run;
  }

  /**
   * The one lock for read-decide-write sequences, in the CLI and the server alike:
   * tracker actions and bulk assigns, deadline scans, rule runs and ingests run `fn`
   * inside it, one at a time per Store, so none of them decides on data another is
   * about to change. Re-entrant: a nested call (same async context) runs at once.
   * `transaction` and appends take it too; single statements (`run`/`all`) and the
   * API's read connections do not wait for it.
   */
  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    if (this.#section.getStore()?.active) return fn();
    const token: SectionState = { active: false };
    const enter = () => {
      token.active = true;
      return this.#section.run(token, fn);
    };
    const run = this.#sectionTail.then(enter, enter).finally(() => {
      token.active = false;
    });
    this.#sectionTail = run.catch(() => undefined);
    return run;
  }

  /** Whether the caller runs inside `exclusive` (for assertions in callers that require it). */
  get inExclusive(): boolean {
    return this.#section.getStore()?.active === true;
  }

  async run(sql: string, params?: Params, types?: ParamTypes): Promise<void> {
    const result = await this.#onConn(() => this.#conn.run(sql, params as Record<string, DuckDBValue> | undefined, types));
    if (isWrite(sql, result.statementType)) this.#wrote();
  }

  /** Rows as JSON-safe objects (money and big integers as strings). */
  async all<T extends JsonRow = JsonRow>(sql: string, params?: Params, types?: ParamTypes): Promise<T[]> {
    const reader = await this.#onConn(() => this.#conn.runAndReadAll(sql, params as Record<string, DuckDBValue> | undefined, types));
    if (isWrite(sql, reader.statementType)) this.#wrote();
    return reader.getRowObjectsJson() as T[];
  }

  async one<T extends JsonRow = JsonRow>(sql: string, params?: Params, types?: ParamTypes): Promise<T | undefined> {
    const rows = await this.all<T>(sql, params, types);
    return rows[0];
  }

  /**
   * Run `fn` with the main connection, in the Store's serialisation: after any other
   * caller's transaction, at once inside the caller's own. For prepared statements
   * (`conn.prepare`, `prepareReadOnly`), extracted statements and typed binds. `fn`
   * must be done with the connection (and anything made from it) when it resolves, and
   * must not call other Store methods (it holds the connection they would wait for).
   * Say `{ writes: false }` when `fn` only reads, so cached API answers stay valid.
   */
  async withConnection<T>(fn: (conn: DuckDBConnection) => Promise<T>, opts: { writes?: boolean } = {}): Promise<T> {
    const out = await this.#onConn(() => fn(this.#conn));
    if (opts.writes !== false) this.#wrote();
    return out;
  }

  /**
   * Append rows with DuckDB's Appender, chunk-wise (DuckDBDataChunkWriter.forAppender,
   * several times faster than row by row). `fn` gets the writer; every row lands or
   * none does: inside the caller's transaction, or in one of its own. Values follow the
   * column types (BIGINT wants a bigint, TIMESTAMPTZ a DuckDBTimestampTZValue, …).
   */
  async withAppender<T>(target: AppendTarget, fn: (writer: DuckDBDataChunkWriter) => T | Promise<T>): Promise<T> {
    return this.transaction(async () => {
      const app = await this.#conn.createAppender(target.table, target.schema ?? null, target.catalog ?? null);
      let ok = false;
      try {
        const writer = DuckDBDataChunkWriter.forAppender(app);
        const out = await fn(writer);
        writer.flush();
        app.flushSync();
        ok = true;
        this.#wrote();
        return out;
      } finally {
        // A failed append must not leave its rows behind for a caller that catches and commits.
        if (!ok) {
          try {
            app.clear();
          } catch {
            /* nothing buffered */
          }
        }
        try {
          app.closeSync();
        } catch (err) {
          if (ok) throw err;
        }
      }
    });
  }

  /** `withAppender` for rows already at hand. Returns how many were appended. */
  async append(target: AppendTarget, rows: Iterable<readonly (DuckDBValue | null)[]>): Promise<number> {
    return this.withAppender(target, (w) => {
      let n = 0;
      for (const r of rows) {
        w.appendRow(r);
        n++;
      }
      return n;
    });
  }

  /**
   * Run `fn` in one transaction: all of it lands, or none of it. A nested call joins the
   * outer one. It takes the exclusive section (see `exclusive`) and then the connection.
   */
  async transaction<T>(fn: () => Promise<T>): Promise<T> {
    if (this.#tx.getStore()?.phase === 'open') return fn();
    const tx: TxState = { phase: 'open', dirty: false, afterCommit: [] };
    return this.exclusive(() =>
      this.#onConn(() =>
        this.#tx.run(tx, async () => {
          try {
            await this.#conn.run('BEGIN TRANSACTION');
            let out: T;
            try {
              out = await fn();
              await this.#conn.run('COMMIT');
            } catch (err) {
              await this.#conn.run('ROLLBACK').catch(() => undefined);
              throw err;
            }
            tx.phase = 'hooks';
            try {
              // Still inside the queue slot: the next writer starts after these ran (commit order).
              for (const hook of tx.afterCommit) await hook();
            } finally {
              // After the hooks: what they publish (the signed log checkpoint in the alert feed) is
              // part of the new generation, so no page cached under it can lack it.
              if (tx.dirty) this.#bump();
            }
            return out;
          } finally {
            tx.phase = 'done';
          }
        }),
      ),
    );
  }

  /**
   * Run `fn` once the current transaction has committed, before the next work on the
   * connection starts; never after a rollback. Only inside `transaction(fn)`.
   * (engine/checkpoints.ts signs the log head here: a rolled-back append must not be signed.)
   */
  afterCommit(fn: () => void | Promise<void>): void {
    const tx = this.#tx.getStore();
    if (!tx || tx.phase !== 'open') throw new Error('Store.afterCommit outside a transaction');
    tx.afterCommit.push(fn);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    OPEN.delete(this.path);
    await this.#sectionTail;
    await this.#connTail;
    this.#conn.closeSync();
    this.#instance.closeSync();
  }
}

/**
 * Whether a statement may have changed data: anything but one plain SELECT
 * (EXPLAIN ANALYZE executes its statement; several statements report the last).
 * Counting too many writes only costs a cache miss.
 */
function isWrite(sql: string, type: StatementType): boolean {
  return type !== StatementType.SELECT || /;\s*\S/.test(sql);
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
