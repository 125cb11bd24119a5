/**
 * Analysts' SQL over HTTP: one SELECT (engine/sql-guard), on its own connection,
 * under a time limit (conn.interrupt) and a row limit, as JSON, CSV or Arrow.
 *
 * File access, ATTACH and setting changes are refused by the instance-wide lockdown
 * applied at server start (api/lockdown.ts); the guard refuses anything but SELECT.
 */
import { JsonDuckDBValueConverter, type DuckDBPreparedStatement, type DuckDBType } from '@duckdb/node-api';
import type { Store } from '../engine/db.ts';
import { csvEscape } from '../engine/format.ts';
import { prepareReadOnly, SqlRejected } from '../engine/sql-guard.ts';
import { ArrowBuilder } from './arrow.ts';
import { HttpProblem } from './problem.ts';

export type QueryFormat = 'json' | 'csv' | 'arrow';
export type QueryParamValue = string | number | boolean | null;

export interface QueryLimits {
  timeoutMs: number;
  maxRows: number;
}

export interface QueryOutput {
  format: QueryFormat;
  columns: { name: string; type: string }[];
  rowCount: number;
  truncated: boolean;
  elapsedMs: number;
  /** json: row objects; csv: text; arrow: IPC stream bytes. */
  json?: Record<string, unknown>[];
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

export async function runQuery(
  store: Store,
  sql: string,
  params: Record<string, QueryParamValue>,
  format: QueryFormat,
  limits: QueryLimits,
): Promise<QueryOutput> {
  const started = performance.now();
  const conn = await store.connect();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    conn.interrupt();
  }, limits.timeoutMs);
  try {
    const prepared = await prepareReadOnly(conn, sql);
    bindParams(prepared, params);
    const result = await prepared.stream();
    const names = result.deduplicatedColumnNames();
    const types: DuckDBType[] = result.columnTypes();
    const columns = names.map((n, i) => ({ name: n, type: types[i]!.toString() }));
    const json: Record<string, unknown>[] = [];
    const csv: string[] = format === 'csv' ? [names.map(csvEscape).join(',')] : [];
    const arrow = format === 'arrow' ? new ArrowBuilder(names, types) : undefined;
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
      if (arrow) arrow.add(chunk, take);
      else {
        const rows = chunk.convertRows(JsonDuckDBValueConverter);
        for (let i = 0; i < take; i++) {
          const r = rows[i]!;
          if (format === 'json') {
            const o: Record<string, unknown> = {};
            for (let c = 0; c < names.length; c++) o[names[c]!] = r[c] ?? null;
            json.push(o);
          } else csv.push(r.map((v) => csvEscape(cell(v))).join(','));
        }
      }
      rowCount += take;
      if (truncated) break;
    }
    if (timedOut) throw new Error('interrupted');
    const out: QueryOutput = { format, columns, rowCount, truncated, elapsedMs: Math.round(performance.now() - started) };
    if (format === 'json') out.json = json;
    else if (format === 'csv') out.csv = `${csv.join('\n')}\n`;
    else out.arrow = arrow!.toIPC();
    return out;
  } catch (err) {
    if (timedOut) {
      throw new HttpProblem(422, 'QUERY_TIMEOUT', `the query ran longer than ${limits.timeoutMs} ms and was cancelled; narrow it or use a saved query`, {
        timeout_ms: limits.timeoutMs,
      });
    }
    if (err instanceof HttpProblem) throw err;
    const msg = err instanceof Error ? err.message : String(err);
    if (err instanceof SqlRejected || /^Permission Error/.test(msg) || /Permission Error/.test(msg)) {
      const status = /Permission Error|file system operations are disabled/.test(msg) ? 403 : 400;
      throw new HttpProblem(status, 'SQL_REJECTED', msg.split('\n')[0]!);
    }
    // An analyst's SQL error (binder, conversion, division by zero…) is about their query, not the server.
    throw new HttpProblem(400, 'QUERY_FAILED', msg.split('\n\n')[0]!.slice(0, 2000));
  } finally {
    clearTimeout(timer);
    try {
      conn.closeSync();
    } catch {
      /* instance closing */
    }
  }
}

/** At most `max` queries at once; more get 429 instead of queueing behind a slow one. */
export class Gate {
  private active = 0;
  constructor(readonly max: number) {}
  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.active >= this.max) {
      throw new HttpProblem(429, 'QUERY_BUSY', `at most ${this.max} queries run at once; retry shortly`);
    }
    this.active++;
    try {
      return await fn();
    } finally {
      this.active--;
    }
  }
}
