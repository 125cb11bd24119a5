/**
 * The PostgreSQL engine's Store (`--db postgres://…`, PostgreSQL 15 through `pg`).
 *
 * One dedicated client is the main connection: the Store's statements, transactions,
 * COPY appends and TEMP tables live on it, serialised exactly as on DuckDB
 * (engine/store-core.ts). A pool serves reads that must see committed data only
 * (`readCommitted`, the API). Every connection gets the session time zone
 * Asia/Shanghai and type parsers that give the same JSON-safe rows as DuckDB:
 * NUMERIC and BIGINT as strings, DATE as 'YYYY-MM-DD', TIMESTAMPTZ as UTC text
 * ('2026-01-02 03:04:05.678+00', DuckDB's format), JSON as its text.
 *
 * Statements are written with DuckDB's `$name` parameters; `namedToPositional`
 * turns them into PostgreSQL's `$1…` (outside strings, identifiers and comments).
 */
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { DuckDBConnection, DuckDBDataChunkWriter, DuckDBValue } from '@duckdb/node-api';
import type { AppendTarget, AppendValue, JsonRow, Params, Store } from './db.ts';
import { FiscusError } from './errors.ts';
import { POSTGRES_SQL } from './sql-dialect.ts';
import { analystUnavailable, analystUrl, setupAnalystRole } from './pg-analyst.ts';
import { SerializedStore } from './store-core.ts';

const OID = { INT8: 20, NUMERIC: 1700, DATE: 1082, TIMESTAMP: 1114, TIMESTAMPTZ: 1184, JSON: 114, JSONB: 3802 } as const;

/** PostgreSQL's TIMESTAMPTZ text (any offset) → DuckDB's UTC text form. */
export function timestamptzToUtcText(s: string): string {
  const m = /^(\d{4})-(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d)(\.\d+)?([+-])(\d\d)(?::(\d\d))?(?::(\d\d))?$/.exec(s);
  if (!m) return s; // infinity, BC dates: as PostgreSQL says them
  const [, y, mo, d, h, mi, sec, frac, sign, oh, om, os] = m;
  const offset = (sign === '-' ? -1 : 1) * ((Number(oh) * 60 + Number(om ?? 0)) * 60 + Number(os ?? 0)) * 1000;
  const t = new Date(Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(sec)) - offset);
  const iso = t.toISOString(); // YYYY-MM-DDTHH:MM:SS.000Z
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}${frac ?? ''}+00`;
}

const identity = (s: string) => s;

/** Type parsers of every connection this Store opens (per pool, not the process-wide defaults). */
export const PG_TYPES = {
  getTypeParser(oid: number, format?: string): (s: string) => unknown {
    switch (oid) {
      case OID.INT8:
      case OID.NUMERIC:
      case OID.DATE:
      case OID.TIMESTAMP:
      case OID.JSON:
      case OID.JSONB:
        return identity;
      case OID.TIMESTAMPTZ:
        return timestamptzToUtcText;
      default:
        return pg.types.getTypeParser(oid, (format ?? 'text') as 'text');
    }
  },
};

/**
 * `$name` parameters → `$1, $2, …` and the values in that order. Skips string literals
 * ('…', E'…'), quoted identifiers, dollar-quoted bodies and comments; `::` casts are not
 * parameters. Positional `$1` in the text is left alone.
 */
export function namedToPositional(sql: string, params?: Params, opts: { split?: boolean } = {}): { text: string; values: unknown[]; repeats: boolean } {
  if (!params || Object.keys(params).length === 0) return { text: sql, values: [], repeats: false };
  let repeats = false;
  const index = new Map<string, number>();
  const values: unknown[] = [];
  let out = '';
  let i = 0;
  const n = sql.length;
  while (i < n) {
    const c = sql[i]!;
    if (c === "'" || c === '"') {
      let j = i + 1;
      while (j < n) {
        if (sql[j] === c) {
          if (sql[j + 1] === c) j += 2;
          else break;
        } else if (c === "'" && sql[j] === '\\' && /[eE]/.test(sql[i - 1] ?? '')) j += 2;
        else j++;
      }
      out += sql.slice(i, j + 1);
      i = j + 1;
    } else if (c === '-' && sql[i + 1] === '-') {
      const j = sql.indexOf('\n', i);
      const end = j < 0 ? n : j;
      out += sql.slice(i, end);
      i = end;
    } else if (c === '/' && sql[i + 1] === '*') {
      const j = sql.indexOf('*/', i + 2);
      const end = j < 0 ? n : j + 2;
      out += sql.slice(i, end);
      i = end;
    } else if (c === '$') {
      const tag = /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.exec(sql.slice(i));
      const name = /^\$([A-Za-z_][A-Za-z0-9_]*)/.exec(sql.slice(i));
      if (tag && (tag[1] === undefined || !(tag[1] in params))) {
        // A dollar-quoted body: copied as it is.
        const close = sql.indexOf(tag[0], i + tag[0].length);
        const end = close < 0 ? n : close + tag[0].length;
        out += sql.slice(i, end);
        i = end;
      } else if (name) {
        const key = name[1]!;
        if (!(key in params)) throw new FiscusError(`SQL parameter $${key} has no value`, { code: 'SQL_PARAM' });
        let k = index.get(key);
        if (k !== undefined) repeats = true;
        if (k === undefined || opts.split) {
          values.push(pgValue(params[key]));
          k = values.length;
          index.set(key, k);
        }
        out += `$${k}`;
        i += name[0].length;
      } else {
        out += c;
        i++;
      }
    } else {
      out += c;
      i++;
    }
  }
  return { text: out, values, repeats };
}

/**
 * How statements whose `$name` occurs more than once bind, by SQL text. PostgreSQL infers one
 * type per positional parameter: `$id` both concatenated (text) and stored in a VARCHAR column
 * is "inconsistent types deduced" (42P08) when shared, while `$b IS NULL OR col = $b` needs the
 * shared one (alone, `$b IS NULL` has no type). Shared is tried first; a 42P08 switches the text
 * to one parameter per occurrence, remembered for the process.
 */
const REPEATED_MODE = new Map<string, 'shared' | 'split'>();

/** A parameter value as pg sends it: DuckDB value objects by their text form. */
function pgValue(v: unknown): unknown {
  if (v === null || v === undefined) return null;
  if (typeof v === 'bigint') return v.toString();
  if (typeof v !== 'object') return v;
  if (v instanceof Date || Buffer.isBuffer(v)) return v;
  if (Array.isArray(v)) return v.map(pgValue);
  const proto = Object.getPrototypeOf(v);
  if (proto === Object.prototype || proto === null) return JSON.stringify(v);
  // DuckDBDateValue, DuckDBDecimalValue, DuckDBListValue, …: their text is SQL's text.
  if ('items' in (v as object) && Array.isArray((v as { items: unknown[] }).items)) return (v as { items: unknown[] }).items.map(pgValue);
  return String(v);
}

/** One value in COPY's text format. */
function copyField(v: unknown): string {
  if (v === null || v === undefined) return '\\N';
  let s: string;
  if (typeof v === 'string') s = v;
  else if (typeof v === 'boolean') s = v ? 't' : 'f';
  else if (typeof v === 'number' || typeof v === 'bigint') s = String(v);
  else if (v instanceof Date) s = v.toISOString();
  else {
    const p = pgValue(v);
    s = typeof p === 'string' ? p : JSON.stringify(p);
  }
  return s.replace(/[\\\n\r\t]/g, (ch) => (ch === '\\' ? '\\\\' : ch === '\n' ? '\\n' : ch === '\r' ? '\\r' : '\\t'));
}

function quoteIdent(s: string): string {
  return `"${s.replaceAll('"', '""')}"`;
}

/** The URL without its password, for messages and `store.path`. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'postgres://(unparsable URL)';
  }
}

export function isPostgresUrl(path: string): boolean {
  return /^postgres(ql)?:\/\//i.test(path);
}

const SESSION_OPTIONS = '-c jit=off -c TimeZone=Asia/Shanghai -c DateStyle=ISO,YMD -c IntervalStyle=iso_8601 -c client_min_messages=warning';

export function pgClientConfig(url: string, extra: pg.ClientConfig = {}): pg.ClientConfig {
  return { connectionString: url, types: PG_TYPES, options: SESSION_OPTIONS, application_name: 'fiscus', ...extra };
}

export class PostgresStore extends SerializedStore implements Store {
  readonly engine = 'postgres' as const;
  readonly dialect = POSTGRES_SQL;
  readonly path: string;
  readonly #client: pg.Client;
  readonly #pool: pg.Pool;
  readonly url: string;

  private constructor(url: string, client: pg.Client, pool: pg.Pool) {
    super();
    this.url = url;
    this.path = redactUrl(url);
    this.#client = client;
    this.#pool = pool;
  }

  static async open(url: string): Promise<PostgresStore> {
    const client = new pg.Client(pgClientConfig(url));
    try {
      await client.connect();
    } catch (err) {
      throw new FiscusError(`cannot connect to PostgreSQL at ${redactUrl(url)}: ${(err as Error).message}`, { code: 'DB_OPEN' });
    }
    // A dropped server connection must fail the next statement, not crash the process.
    client.on('error', () => undefined);
    const pool = new pg.Pool({ ...pgClientConfig(url), max: 8, idleTimeoutMillis: 10_000 });
    pool.on('error', () => undefined);
    return new PostgresStore(url, client, pool);
  }

  protected async control(statement: 'BEGIN TRANSACTION' | 'COMMIT' | 'ROLLBACK'): Promise<void> {
    await this.#client.query(statement);
  }

  async #send(sql: string, params?: Params): Promise<pg.QueryResult | pg.QueryResult[]> {
    const shared = namedToPositional(sql, params);
    const mode = shared.repeats ? REPEATED_MODE.get(sql) : 'shared';
    const send = (q: { text: string; values: unknown[] }) =>
      this.#client.query(q.values.length ? { text: q.text, values: q.values } : q.text) as Promise<pg.QueryResult | pg.QueryResult[]>;
    if (mode === 'shared') return send(shared);
    if (mode === 'split') return send(namedToPositional(sql, params, { split: true }));
    // First time this text runs: inside a transaction, a failed try must not doom the transaction.
    const tx = this.inOpenTransaction;
    if (tx) await this.#client.query('SAVEPOINT fiscus_bind');
    try {
      const r = await send(shared);
      if (tx) await this.#client.query('RELEASE SAVEPOINT fiscus_bind');
      REPEATED_MODE.set(sql, 'shared');
      return r;
    } catch (err) {
      if (tx) await this.#client.query('ROLLBACK TO SAVEPOINT fiscus_bind; RELEASE SAVEPOINT fiscus_bind');
      if ((err as { code?: string }).code !== '42P08') throw err;
      REPEATED_MODE.set(sql, 'split');
      return send(namedToPositional(sql, params, { split: true }));
    }
  }

  async #query(sql: string, params?: Params): Promise<pg.QueryResult> {
    try {
      const r = await this.#send(sql, params);
      if (Array.isArray(r)) {
        // Several statements (simple protocol): they wrote, unless every one was a SELECT.
        if (r.some((x) => x.command !== 'SELECT')) this.wrote();
        else if (r.length > 1) this.wrote();
        return r.at(-1)!;
      }
      if (r.command !== 'SELECT') this.wrote();
      return r;
    } catch (err) {
      throw pgError(err);
    }
  }

  async run(sql: string, params?: Params): Promise<void> {
    await this.onConn(() => this.#query(sql, params));
  }

  async all<T extends JsonRow = JsonRow>(sql: string, params?: Params): Promise<T[]> {
    const r = await this.onConn(() => this.#query(sql, params));
    return (r.rows ?? []) as T[];
  }

  async one<T extends JsonRow = JsonRow>(sql: string, params?: Params): Promise<T | undefined> {
    return (await this.all<T>(sql, params))[0];
  }

  async readCommitted<T extends JsonRow = JsonRow>(sql: string, params?: Params): Promise<T[]> {
    const { text, values } = namedToPositional(sql, params);
    try {
      return (await this.#pool.query(values.length ? { text, values } : text)).rows as T[];
    } catch (err) {
      throw pgError(err);
    }
  }

  /** A pooled client for reads that need several statements on one session (read-only transactions). */
  async withReadClient<T>(fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const c = await this.#pool.connect();
    try {
      return await fn(c);
    } finally {
      c.release();
    }
  }

  #analyst?: Promise<pg.Pool>;

  /**
   * A client of the analyst pool (engine/pg-analyst.ts): logged in as the read-only,
   * non-superuser role, which is created or re-granted on first use.
   */
  async withAnalystClient<T>(fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    this.#analyst ??= (async () => {
      try {
        const db = decodeURIComponent(new URL(this.url).pathname.replace(/^\//, '')) || 'postgres';
        if (!process.env.FISCUS_PG_ANALYST_URL) await this.withReadClient((c) => setupAnalystRole(c, db));
        const pool = new pg.Pool({ ...pgClientConfig(analystUrl(this.url)), max: 4, idleTimeoutMillis: 10_000, application_name: 'fiscus-analyst' });
        pool.on('error', () => undefined);
        this.onClose(() => pool.end());
        return pool;
      } catch (err) {
        this.#analyst = undefined;
        throw analystUnavailable(err);
      }
    })();
    const pool = await this.#analyst;
    let c: pg.PoolClient;
    try {
      c = await pool.connect();
    } catch (err) {
      throw analystUnavailable(err);
    }
    try {
      return await fn(c);
    } finally {
      c.release();
    }
  }

  /**
   * Run `fn` with the main client, in the Store's serialisation (PostgreSQL's
   * counterpart of DuckDB's `withConnection`): same rules, `fn` must not call other
   * Store methods. Say `{ writes: false }` when `fn` only reads.
   */
  async withClient<T>(fn: (client: pg.Client) => Promise<T>, opts: { writes?: boolean } = {}): Promise<T> {
    const out = await this.onConn(() => fn(this.#client));
    if (opts.writes !== false) this.wrote();
    return out;
  }

  /** Bulk rows with COPY FROM STDIN (text format), atomically. `catalog: 'temp'` is a TEMP table. */
  async append(target: AppendTarget, rows: Iterable<readonly (DuckDBValue | AppendValue)[]>): Promise<number> {
    const name =
      target.catalog === 'temp' ? `pg_temp.${quoteIdent(target.table)}` : `${quoteIdent(target.schema ?? 'public')}.${quoteIdent(target.table)}`;
    return this.copyIn(`COPY ${name} FROM STDIN`, rows);
  }

  /** COPY … FROM STDIN with the given statement, rows in its column order. */
  async copyIn(statement: string, rows: Iterable<readonly unknown[]> | AsyncIterable<readonly unknown[]>): Promise<number> {
    return this.transaction(async () => {
      let n = 0;
      async function* lines(): AsyncGenerator<string> {
        let buf = '';
        for await (const r of rows) {
          buf += r.map(copyField).join('\t') + '\n';
          n++;
          if (buf.length > 1 << 16) {
            yield buf;
            buf = '';
          }
        }
        if (buf) yield buf;
      }
      try {
        await pipeline(Readable.from(lines()), this.#client.query(copyFrom(statement)));
      } catch (err) {
        throw pgError(err);
      }
      if (n > 0) this.wrote();
      return n;
    });
  }

  connect(): Promise<DuckDBConnection> {
    return Promise.reject(unsupported('a DuckDB connection', this.path));
  }

  withConnection<T>(): Promise<T> {
    return Promise.reject(unsupported('withConnection (a DuckDB connection)', this.path));
  }

  withAppender<T>(_t: AppendTarget, _fn: (writer: DuckDBDataChunkWriter) => T | Promise<T>): Promise<T> {
    return Promise.reject(unsupported('the DuckDB appender', this.path));
  }

  readonly #onClose: (() => Promise<void>)[] = [];

  /** Work to do when the Store closes (helpers it owns, e.g. ingest's DuckDB staging database). */
  onClose(fn: () => Promise<void>): void {
    this.#onClose.push(fn);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    OPEN_PG.delete(this.url);
    await this.drain();
    for (const fn of this.#onClose.splice(0)) await fn().catch(() => undefined);
    await this.#client.end().catch(() => undefined);
    await this.#pool.end().catch(() => undefined);
  }
}

function unsupported(what: string, path: string): FiscusError {
  return new FiscusError(`${what} exists on the DuckDB engine only; this database is PostgreSQL (${path})`, { code: 'ENGINE_UNSUPPORTED' });
}

/** PostgreSQL's error with its position and detail in the message. */
function pgError(err: unknown): Error {
  if (err instanceof Error && 'code' in err && typeof (err as { severity?: unknown }).severity === 'string') {
    const e = err as pg.DatabaseError;
    const extra = [e.detail, e.hint].filter(Boolean).join('; ');
    if (extra && !e.message.includes(extra)) e.message = `${e.message} (${extra})`;
    return e;
  }
  return err as Error;
}

const OPEN_PG = new Map<string, Promise<PostgresStore>>();

/** One PostgresStore per URL per process, like one DuckDB instance per file. */
export function openPostgresStore(url: string, migrate: (s: Store) => Promise<unknown>, opts: { readOnly?: boolean } = {}): Promise<PostgresStore> {
  const cached = OPEN_PG.get(url);
  if (cached) return cached;
  const opening = (async () => {
    const store = await PostgresStore.open(url);
    try {
      if (!opts.readOnly) await migrate(store);
    } catch (err) {
      await store.close();
      throw err;
    }
    return store;
  })();
  OPEN_PG.set(url, opening);
  opening.catch(() => OPEN_PG.delete(url));
  return opening;
}
