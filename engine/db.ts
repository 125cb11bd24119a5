/**
 * The one owner of the DuckDB database file.
 *
 * DuckDB allows one read-write process per file, and one DuckDBInstance per
 * file per process (STACK-NOTES.md). `openStore` enforces both: it caches the
 * instance per path within the process and turns the lock conflict raised by
 * another process into an error that says who holds the file and what to do.
 */
import { mkdirSync } from 'node:fs';
import { totalmem } from 'node:os';
import { dirname, resolve } from 'node:path';
import { DuckDBConnection, DuckDBDataChunkWriter, DuckDBInstance, StatementType, type DuckDBType, type DuckDBValue } from '@duckdb/node-api';
import { FiscusError } from './errors.ts';
import { migrate } from './migrations.ts';
import { DUCKDB_SQL, type Engine, type EngineSql } from './sql-dialect.ts';
import { sqlString } from './sql-quote.ts';
import { SerializedStore } from './store-core.ts';
import { isPostgresUrl, openPostgresStore } from './pg-store.ts';

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

/**
 * The one owner of the main connection, whatever the engine. Everything that touches it
 * goes through these methods, which join one serialisation, so no caller's statement,
 * append or prepared statement can land inside another caller's transaction:
 *
 * - `run` / `all` / `one`: one statement, queued on the connection.
 * - `transaction(fn)`: BEGIN..COMMIT holding the connection; nested calls join it.
 * - `append`: bulk rows (DuckDB's chunked Appender; PostgreSQL's COPY FROM STDIN),
 *   atomically (in the caller's transaction, or in one of its own).
 * - `exclusive(fn)`: the one lock for read-decide-write sequences (tracker actions,
 *   deadline scans, rule runs, ingests), re-entrant; `transaction` and appends take it.
 *
 * Lock order is always exclusive section → connection, so nesting cannot deadlock.
 * `generation` counts committed writes; the API's response cache keys on it.
 * Rows come back JSON-safe on both engines: DECIMAL/NUMERIC and BIGINT as strings,
 * DATE as 'YYYY-MM-DD', TIMESTAMPTZ as UTC text ('2026-01-02 03:04:05.678+00'), JSON as text.
 *
 * `engine` says which engine; `dialect` holds the SQL that differs between them
 * (engine/sql-dialect.ts). `connect`, `withConnection` and `withAppender` hand out
 * DuckDB objects and exist on the DuckDB engine only (`duckdbOnly` narrows).
 */
export interface Store {
  readonly engine: Engine;
  readonly dialect: EngineSql;
  /** The DuckDB file's absolute path, `:memory:`, or the PostgreSQL URL without its password. */
  readonly path: string;
  readonly generation: number;
  readonly inExclusive: boolean;
  onWrite(listener: (generation: number) => void): () => void;
  exclusive<T>(fn: () => Promise<T>): Promise<T>;
  run(sql: string, params?: Params, types?: ParamTypes): Promise<void>;
  all<T extends JsonRow = JsonRow>(sql: string, params?: Params, types?: ParamTypes): Promise<T[]>;
  one<T extends JsonRow = JsonRow>(sql: string, params?: Params, types?: ParamTypes): Promise<T | undefined>;
  transaction<T>(fn: () => Promise<T>): Promise<T>;
  afterCommit(fn: () => void | Promise<void>): void;
  /** Append whole rows in the table's column order. Returns how many were appended. */
  append(target: AppendTarget, rows: Iterable<readonly (DuckDBValue | AppendValue)[]>): Promise<number>;
  /**
   * Rows read on a connection of their own, which sees committed data only (the API's
   * reads must never see a writer's open transaction). DuckDB: a fresh connection per
   * call; pools live in api/read-pool.ts. PostgreSQL: the Store's read pool.
   */
  readCommitted<T extends JsonRow = JsonRow>(sql: string, params?: Params): Promise<T[]>;
  close(): Promise<void>;
  /** DuckDB only. */
  connect(): Promise<DuckDBConnection>;
  /** DuckDB only. */
  withConnection<T>(fn: (conn: DuckDBConnection) => Promise<T>, opts?: { writes?: boolean }): Promise<T>;
  /** DuckDB only. */
  withAppender<T>(target: AppendTarget, fn: (writer: DuckDBDataChunkWriter) => T | Promise<T>): Promise<T>;
}

/** Plain JS values `append` takes on every engine (DuckDB value objects are DuckDB's). */
export type AppendValue = string | number | bigint | boolean | Date | null;

/** The DuckDB engine's Store, for code that needs its connection (prepared statements, streams). */
export function duckdbOnly(store: Store, what: string): DuckDBStore {
  if (store instanceof DuckDBStore) return store;
  throw new FiscusError(`${what} runs on the DuckDB engine only; this database is ${store.engine} (${store.path})`, {
    code: 'ENGINE_UNSUPPORTED',
  });
}

export class DuckDBStore extends SerializedStore implements Store {
  readonly engine = 'duckdb' as const;
  readonly dialect = DUCKDB_SQL;
  readonly #instance: DuckDBInstance;
  /** The main connection. Streams and parallel readers use their own (`connect`). */
  readonly #conn: DuckDBConnection;

  readonly #zoned: boolean;

  constructor(
    readonly path: string,
    instance: DuckDBInstance,
    conn: DuckDBConnection,
    /** The instance's global TimeZone is Asia/Shanghai (new connections need not check it). */
    zoned = false,
  ) {
    super();
    this.#instance = instance;
    this.#conn = conn;
    this.#zoned = zoned;
  }

  protected async control(statement: 'BEGIN TRANSACTION' | 'COMMIT' | 'ROLLBACK'): Promise<void> {
    await this.#conn.run(statement);
  }

  /**
   * A fresh connection, for a stream that must not be interrupted by other queries or
   * for reads in parallel (the API's read pool). It sees committed data only. Writes
   * belong on the main connection (the Store's methods), where they are serialised and
   * counted in `generation`.
   */
  async connect(): Promise<DuckDBConnection> {
    const conn = await this.#instance.connect();
    await prepareConnection(conn, this.path, this.#zoned);
    return conn;
  }

  async readCommitted<T extends JsonRow = JsonRow>(sql: string, params?: Params): Promise<T[]> {
    const conn = await this.connect();
    try {
      return (await conn.runAndReadAll(sql, params as Record<string, DuckDBValue> | undefined)).getRowObjectsJson() as T[];
    } finally {
      conn.closeSync();
    }
  }

  async run(sql: string, params?: Params, types?: ParamTypes): Promise<void> {
    const result = await this.onConn(() => this.#conn.run(sql, params as Record<string, DuckDBValue> | undefined, types));
    if (isWrite(sql, result.statementType)) this.wrote();
  }

  /** Rows as JSON-safe objects (money and big integers as strings). */
  async all<T extends JsonRow = JsonRow>(sql: string, params?: Params, types?: ParamTypes): Promise<T[]> {
    const reader = await this.onConn(() => this.#conn.runAndReadAll(sql, params as Record<string, DuckDBValue> | undefined, types));
    if (isWrite(sql, reader.statementType)) this.wrote();
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
    const out = await this.onConn(() => fn(this.#conn));
    if (opts.writes !== false) this.wrote();
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
        this.wrote();
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
  async append(target: AppendTarget, rows: Iterable<readonly (DuckDBValue | AppendValue)[]>): Promise<number> {
    return this.withAppender(target, (w) => {
      let n = 0;
      for (const r of rows) {
        w.appendRow(r as readonly DuckDBValue[]);
        n++;
      }
      return n;
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    OPEN.delete(this.path);
    await this.drain();
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

/** The engine a database location names: a postgres:// URL is PostgreSQL, anything else a DuckDB file. */
export function engineOf(path: string): Engine {
  return isPostgresUrl(path) ? 'postgres' : 'duckdb';
}

/** Open (and create or migrate) the database at `path` (a DuckDB file, `:memory:`, or a postgres:// URL). */
export async function openStore(path: string = DEFAULT_DB_PATH, opts: OpenOptions = {}): Promise<Store> {
  // postgres://… or postgresql://…: the PostgreSQL engine (engine/pg-store.ts).
  if (isPostgresUrl(path)) return openPostgresStore(path, migrate, opts);
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

/**
 * `zoned`: the instance's global TimeZone is Asia/Shanghai already (set when it was opened), so a
 * new connection has it and needs no query: the check cost a rule run's readers up to 7 ms each
 * while the run's first reads kept both cores busy.
 */
async function prepareConnection(conn: DuckDBConnection, abs: string, zoned = false): Promise<void> {
  if (abs !== ':memory:') await conn.run(`USE ${CATALOG}`);
  if (zoned) return;
  // Users read dates in Asia/Shanghai; timestamps are stored as UTC instants.
  // Only when not already so: `fiscus serve` sets it globally and then locks the
  // configuration (api/lockdown.ts), after which any SET fails.
  const tz = (await conn.runAndReadAll("SELECT current_setting('TimeZone') AS tz")).getRowObjectsJson()[0]?.tz;
  if (tz !== 'Asia/Shanghai') await conn.run("SET TimeZone = 'Asia/Shanghai'");
}

/** A size as DuckDB reads it (`1536MiB`, `2GB`, `1.5 GiB`): KB is 1000 bytes, KiB 1024; undefined when it is none. */
export function sizeBytes(text: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)\s*(K|M|G|T)(i?)B$/i.exec(text);
  if (!m) return undefined;
  const power = 'KMGT'.indexOf(m[2]!.toUpperCase()) + 1;
  return Number(m[1]) * (m[3] ? 1024 : 1000) ** power;
}

/** The default cap: at most 1.5 GiB, and at most 40% of this machine's memory. */
export function defaultMemoryLimit(totalBytes = totalmem()): string {
  return `${Math.max(256, Math.min(1536, Math.floor((totalBytes / 2 ** 20) * 0.4)))}MiB`;
}

/**
 * DuckDB's buffer memory cap: FISCUS_MEMORY_LIMIT (e.g. 2GB) or the default, beyond which
 * DuckDB spills to disk. Uncapped, DuckDB takes up to 80% of RAM and did: 2.7 GB peak RSS for
 * the rule pack at 10M payments. The default keeps a process (with Node's heap) under 2 GB.
 */
export function duckdbMemoryLimit(): string {
  const limit = process.env.FISCUS_MEMORY_LIMIT;
  if (limit === undefined || limit === '') return defaultMemoryLimit();
  if (sizeBytes(limit) === undefined) {
    throw new FiscusError(`FISCUS_MEMORY_LIMIT must be a size such as 2GB or 512MB (got "${limit}")`, { code: 'USAGE', exitCode: 2 });
  }
  return limit;
}

async function openFresh(abs: string, opts: OpenOptions): Promise<Store> {
  if (abs !== ':memory:' && !opts.readOnly) mkdirSync(dirname(abs), { recursive: true });
  const config: Record<string, string> = { memory_limit: duckdbMemoryLimit() };
  // Spills go beside the database file (DuckDB's own default for a file it opens itself), not
  // into `.tmp` under whatever directory the process was started from.
  if (abs !== ':memory:') config.temp_directory = `${abs}.tmp`;
  const instance = await DuckDBInstance.create(':memory:', config);
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
  // Every later connection starts in Asia/Shanghai too (the session SET above loaded ICU, which
  // the instance's config could not: DuckDB refuses TimeZone before the extension is loaded).
  await conn.run("SET GLOBAL TimeZone = 'Asia/Shanghai'");
  const store = new DuckDBStore(abs, instance, conn, true);
  if (!opts.readOnly) await migrate(store);
  return store;
}

/**
 * Refuse a database file another process holds, by taking DuckDB's write lock
 * for a moment: it is refused beside a reader as well as a writer, where a
 * read-only open's shared lock would be granted beside another reader. Opens
 * nothing else: no migration, no writes. (A CI run once saw a "held" file pass
 * this; the test's holder had let its instance be garbage-collected, which
 * closes it and drops the lock.)
 */
export async function assertNotHeld(path: string): Promise<void> {
  const abs = resolve(path);
  const instance = await DuckDBInstance.create(':memory:');
  const conn = await instance.connect();
  try {
    await conn.run(`ATTACH ${sqlString(abs)} AS probe`);
    await conn.run('DETACH probe');
  } catch (err) {
    throw describeOpenError(abs, err);
  } finally {
    conn.closeSync();
    instance.closeSync();
  }
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
