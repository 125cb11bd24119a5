/**
 * Analysts' SQL over HTTP: one SELECT (engine/sql-guard), in a read-only
 * transaction, on one of a fixed set of connections of its own (QueryPool), under
 * a time limit (conn.interrupt), a row limit and a byte limit, as JSON, CSV or Arrow.
 *
 * Why the pool is small and fixed: every DuckDB call in flight holds one libuv
 * thread-pool thread for as long as it runs (measured: with UV_THREADPOOL_SIZE=4,
 * four `SELECT count(*) FROM range(1e12::BIGINT)` made GET /v1/flags wait 7.5 s,
 * until the queries timed out; with 16 threads it answered in 40 ms). So analyst
 * queries are capped below the thread pool, leaving threads for the API's own
 * reads (api/read-pool.ts) and file I/O (`analystConcurrency`).
 *
 * File access, ATTACH and setting changes are also refused by the instance-wide
 * lockdown applied at server start (api/lockdown.ts).
 */
import { availableParallelism } from 'node:os';
import { JsonDuckDBValueConverter, type DuckDBConnection, type DuckDBPreparedStatement, type DuckDBType } from '@duckdb/node-api';
import type { Store } from '../engine/db.ts';
import { csvCell } from '../engine/format.ts';
import { inReadOnlyTransaction, prepareReadOnly, SqlRejected } from '../engine/sql-guard.ts';
import { ArrowBuilder } from './arrow.ts';
import { HttpProblem } from './problem.ts';
import { requestCollection } from './native-memory.ts';
import { chunkVarBytes } from './result-bytes.ts';
import { runPostgresQuery } from './pg-query.ts';
import type { PostgresStore } from '../engine/pg-store.ts';

export type QueryFormat = 'json' | 'csv' | 'arrow';
export type QueryParamValue = string | number | boolean | null;

export interface QueryLimits {
  timeoutMs: number;
  maxRows: number;
  /** Largest result body in bytes (JSON rows, CSV text or Arrow IPC). */
  maxBytes: number;
}

export const DEFAULT_QUERY_MAX_BYTES = 64 * 1024 * 1024;

export interface QueryOutput {
  format: QueryFormat;
  columns: { name: string; type: string }[];
  rowCount: number;
  truncated: boolean;
  elapsedMs: number;
  /** json: each row already serialised as a JSON object (counted against the byte cap). */
  jsonRows?: string[];
  csv?: string;
  arrow?: Uint8Array;
}

function bindParams(p: DuckDBPreparedStatement, params: Record<string, QueryParamValue>): void {
  for (const [name, value] of Object.entries(params)) {
    let idx: number;
    try {
      idx = p.parameterIndex(name);
    } catch {
      throw new HttpProblem(400, 'VALIDATION', `the query has no parameter $${name}`);
    }
    if (value === null) p.bindNull(idx);
    else if (typeof value === 'boolean') p.bindBoolean(idx, value);
    else if (typeof value === 'number') {
      if (Number.isSafeInteger(value)) p.bindBigInt(idx, BigInt(value));
      else p.bindDouble(idx, value);
    } else p.bindVarchar(idx, value);
  }
}

function cell(v: unknown): string {
  if (v === null || v === undefined) return '';
  return typeof v === 'object' ? JSON.stringify(v) : String(v);
}

function tooLarge(limits: QueryLimits, rows: number): HttpProblem {
  const mib = (limits.maxBytes / 1024 / 1024).toFixed(limits.maxBytes % (1024 * 1024) === 0 ? 0 : 1);
  return new HttpProblem(
    422,
    'QUERY_TOO_LARGE',
    `查询结果超过 ${mib} MiB 上限 / the result is larger than the cap of ${limits.maxBytes} bytes (${mib} MiB) after ${rows} rows; ` +
      'select fewer columns or rows, aggregate, or use LIMIT',
    { max_bytes: limits.maxBytes, rows_before_cap: rows },
  );
}

/** Arrow cells of fixed width are estimated at 16 bytes (the text of a DECIMAL, a timestamp). */
const ARROW_FIXED_CELL = 16;

/** Past this many bytes of strings in DuckDB's chunks, collect garbage afterwards (api/native-memory.ts). */
const COLLECT_AFTER_BYTES = 16 * 1024 * 1024;

/**
 * Run one analyst query on `conn`, which must be a connection of its own
 * (QueryPool). Throws HttpProblem for every refusal, limit and SQL error.
 */
export async function runQuery(
  conn: DuckDBConnection,
  sql: string,
  params: Record<string, QueryParamValue>,
  format: QueryFormat,
  limits: QueryLimits,
): Promise<QueryOutput> {
  const started = performance.now();
  let timedOut = false;
  let nativeBytes = 0;
  const timer = setTimeout(() => {
    timedOut = true;
    conn.interrupt();
  }, limits.timeoutMs);
  try {
    return await inReadOnlyTransaction(conn, async () => {
      const prepared = await prepareReadOnly(conn, sql);
      bindParams(prepared, params);
      const result = await prepared.stream();
      const names = result.deduplicatedColumnNames();
      const types: DuckDBType[] = result.columnTypes();
      const columns = names.map((n, i) => ({ name: n, type: types[i]!.toString() }));
      const jsonRows: string[] = [];
      const csv: string[] = format === 'csv' ? [names.map(csvCell).join(',')] : [];
      const arrow = format === 'arrow' ? new ArrowBuilder(names, types) : undefined;
      let bytes = format === 'csv' ? Buffer.byteLength(csv[0]!) + 1 : 0;
      let rowCount = 0;
      let truncated = false;
      for (;;) {
        const chunk = await result.fetchChunk();
        if (!chunk || chunk.rowCount === 0) break;
        if (rowCount >= limits.maxRows) {
          truncated = true;
          break;
        }
        const take = Math.min(chunk.rowCount, limits.maxRows - rowCount);
        if (take < chunk.rowCount) truncated = true;
        // The strings' own bytes, read before decoding any of them: the output is at least that big.
        const raw = chunkVarBytes(chunk, types, take);
        nativeBytes += raw;
        if (bytes + raw > limits.maxBytes) throw tooLarge(limits, rowCount);
        if (arrow) {
          bytes += raw + take * types.length * ARROW_FIXED_CELL;
          if (bytes > limits.maxBytes) throw tooLarge(limits, rowCount);
          arrow.add(chunk, take);
        } else {
          const rows = chunk.convertRows(JsonDuckDBValueConverter);
          for (let i = 0; i < take; i++) {
            const r = rows[i]!;
            let text: string;
            if (format === 'json') {
              const o: Record<string, unknown> = {};
              for (let c = 0; c < names.length; c++) o[names[c]!] = r[c] ?? null;
              text = JSON.stringify(o);
              jsonRows.push(text);
            } else {
              text = r.map((v) => csvCell(cell(v))).join(',');
              csv.push(text);
            }
            bytes += Buffer.byteLength(text) + 1;
            if (bytes > limits.maxBytes) throw tooLarge(limits, rowCount + i);
          }
        }
        rowCount += take;
        if (truncated) break;
      }
      if (timedOut) throw new Error('interrupted');
      const out: QueryOutput = { format, columns, rowCount, truncated, elapsedMs: Math.round(performance.now() - started) };
      if (format === 'json') out.jsonRows = jsonRows;
      else if (format === 'csv') out.csv = `${csv.join('\n')}\n`;
      else {
        out.arrow = arrow!.toIPC();
        if (out.arrow.byteLength > limits.maxBytes) throw tooLarge(limits, rowCount);
      }
      return out;
    });
  } catch (err) {
    if (timedOut) {
      throw new HttpProblem(422, 'QUERY_TIMEOUT', `the query ran longer than ${limits.timeoutMs} ms and was cancelled; narrow it or use a saved query`, {
        timeout_ms: limits.timeoutMs,
      });
    }
    if (err instanceof HttpProblem) throw err;
    const msg = err instanceof Error ? err.message : String(err);
    if (err instanceof SqlRejected) throw new HttpProblem(400, 'SQL_REJECTED', msg.split('\n')[0]!);
    if (/Permission Error|file system operations are disabled|read-only mode/.test(msg)) {
      throw new HttpProblem(403, 'SQL_REJECTED', msg.split('\n')[0]!);
    }
    // An analyst's SQL error (binder, conversion, division by zero…) is about their query, not the server.
    throw new HttpProblem(400, 'QUERY_FAILED', msg.split('\n\n')[0]!.slice(0, 2000));
  } finally {
    clearTimeout(timer);
    if (nativeBytes > COLLECT_AFTER_BYTES) requestCollection();
  }
}

/**
 * The default number of analyst queries at once: one core left to the API, at most 4. A
 * CPU-bound analyst query keeps its own thread and DuckDB's workers busy, so on a 2-core
 * machine four of them took most of the CPU from the event loop (bench api_flags_query_load).
 */
export function defaultAnalystConcurrency(cores = availableParallelism()): number {
  return Math.max(1, Math.min(4, cores - 1));
}

/**
 * How many analyst queries may run at once: what was asked for (default
 * `defaultAnalystConcurrency`), but always fewer than the libuv threads left once the
 * API's read pool has one each, with one spare for file I/O. libuv reads
 * UV_THREADPOOL_SIZE once (default 4); `fiscus serve` starts with 16 (cli/bin.js).
 */
export function analystConcurrency(
  requested: number | undefined,
  readPoolSize: number,
  threadPool = Number(process.env.UV_THREADPOOL_SIZE) || 4,
): number {
  return Math.max(1, Math.min(requested ?? defaultAnalystConcurrency(), threadPool - readPoolSize - 1));
}

/**
 * A fixed number of connections for analyst queries. A query arriving when all are
 * busy gets 429 at once instead of queueing behind slow ones, so analysts can hold
 * at most `max` DuckDB calls (and libuv threads) at a time.
 */
export class QueryPool {
  private readonly idle: DuckDBConnection[] = [];
  private readonly running = new Set<DuckDBConnection>();
  private slots = 0;
  private closed = false;
  private drained?: () => void;

  constructor(
    private readonly store: Store,
    readonly max: number,
  ) {}

  get active(): number {
    return this.slots;
  }

  /** One analyst query on the Store's engine (DuckDB: `runQuery` on a pool connection; PostgreSQL: api/pg-query.ts). */
  async query(sql: string, params: Record<string, QueryParamValue>, format: QueryFormat, limits: QueryLimits): Promise<QueryOutput> {
    if (this.store.engine === 'postgres') {
      return this.slot(() => runPostgresQuery(this.store as PostgresStore, sql, params, format, limits));
    }
    return this.run((conn) => runQuery(conn, sql, params, format, limits));
  }

  /** The concurrency cap alone (PostgreSQL: the analyst pool holds the connections). */
  private async slot<T>(fn: () => Promise<T>): Promise<T> {
    if (this.closed) throw new HttpProblem(503, 'SERVICE_UNAVAILABLE', 'the server is shutting down');
    if (this.slots >= this.max) {
      throw new HttpProblem(429, 'QUERY_BUSY', `at most ${this.max} analyst queries run at once; retry shortly`, { max_concurrent: this.max });
    }
    this.slots++;
    try {
      return await fn();
    } finally {
      this.slots--;
    }
  }

  async run<T>(fn: (conn: DuckDBConnection) => Promise<T>): Promise<T> {
    if (this.closed) throw new HttpProblem(503, 'SERVICE_UNAVAILABLE', 'the server is shutting down');
    if (this.slots >= this.max) {
      throw new HttpProblem(429, 'QUERY_BUSY', `at most ${this.max} analyst queries run at once; retry shortly`, { max_concurrent: this.max });
    }
    this.slots++; // taken before any await, so concurrent callers cannot overshoot
    let conn: DuckDBConnection | undefined;
    let reusable = true;
    try {
      conn = this.idle.pop() ?? (await this.store.connect());
      this.running.add(conn);
      return await fn(conn);
    } catch (err) {
      // After a timeout the connection was interrupted; start the next query on a fresh one.
      if (err instanceof HttpProblem && err.code === 'QUERY_TIMEOUT') reusable = false;
      throw err;
    } finally {
      this.slots--;
      if (conn) {
        this.running.delete(conn);
        if (this.closed || !reusable) closeQuietly(conn);
        else this.idle.push(conn);
      }
      if (this.closed && this.running.size === 0) this.drained?.();
    }
  }

  /** Cancel running queries, wait for them to come back, then close every connection. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.running.size > 0) {
      const drained = new Promise<void>((resolve) => (this.drained = resolve));
      for (const c of this.running) c.interrupt();
      await drained;
    }
    for (const c of this.idle.splice(0)) closeQuietly(c);
  }
}

function closeQuietly(conn: DuckDBConnection): void {
  try {
    conn.closeSync();
  } catch {
    /* closed with the instance */
  }
}
