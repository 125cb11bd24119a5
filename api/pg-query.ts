/**
 * Analysts' SQL on PostgreSQL (the DuckDB path is api/query-exec.ts): one statement
 * (extended protocol), as the read-only, non-superuser analyst role, in a READ ONLY
 * transaction that is always rolled back, under `statement_timeout`, a row limit and a
 * byte limit, as JSON or CSV (engine/pg-analyst.ts says why each layer is there).
 */
import type { PostgresStore } from '../engine/pg-store.ts';
import { namedToPositional } from '../engine/pg-store.ts';
import { csvCell } from '../engine/format.ts';
import { FiscusError } from '../engine/errors.ts';
import { HttpProblem } from './problem.ts';
import type { QueryFormat, QueryLimits, QueryOutput, QueryParamValue } from './query-exec.ts';

/** PostgreSQL type names for the column list, by OID (the common ones; others by OID). */
const TYPE_NAMES: Record<number, string> = {
  16: 'BOOLEAN', 20: 'BIGINT', 21: 'SMALLINT', 23: 'INTEGER', 25: 'VARCHAR', 1043: 'VARCHAR', 1042: 'VARCHAR', 700: 'FLOAT',
  701: 'DOUBLE', 1700: 'DECIMAL', 1082: 'DATE', 1114: 'TIMESTAMP', 1184: 'TIMESTAMP WITH TIME ZONE', 114: 'JSON', 3802: 'JSON',
};

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

/** Every parameter given must be used, as on DuckDB (a typo must not pass silently). */
function checkParams(sql: string, params: Record<string, QueryParamValue>): void {
  for (const name of Object.keys(params)) {
    if (!new RegExp(`\\$${name}(?![A-Za-z0-9_])`).test(sql)) throw new HttpProblem(400, 'VALIDATION', `the query has no parameter $${name}`);
  }
}

/**
 * The row limit in the server: the query as a subquery (a second statement inside it is a syntax error).
 * No limit (`fiscus query`, maxRows Infinity): the text as it is.
 */
function limited(sql: string, maxRows: number): string {
  if (!Number.isFinite(maxRows)) return sql;
  return `SELECT * FROM (${sql.replace(/;\s*$/, '')}\n) AS fiscus_query LIMIT ${maxRows + 1}`;
}

/**
 * Limits are the server's; `fiscus query` passes Infinity for each (a local operator's query
 * runs as long and returns as much as it needs, as on DuckDB), but keeps the role and the
 * READ ONLY transaction.
 */
export async function runPostgresQuery(
  store: PostgresStore,
  sql: string,
  params: Record<string, QueryParamValue>,
  format: QueryFormat,
  limits: QueryLimits,
): Promise<QueryOutput> {
  if (format === 'arrow') throw new HttpProblem(400, 'VALIDATION', 'Arrow output needs the DuckDB engine; ask for json or csv');
  const started = performance.now();
  checkParams(sql, params);
  let q: { text: string; values: unknown[] };
  try {
    q = namedToPositional(limited(sql, limits.maxRows), params);
  } catch (err) {
    throw new HttpProblem(400, 'VALIDATION', (err as Error).message);
  }
  try {
    return await store.withAnalystClient(async (c) => {
      await c.query('BEGIN TRANSACTION READ ONLY');
      try {
        // 0 disables the role's default timeout.
        const timeout = Number.isFinite(limits.timeoutMs) ? Math.max(1, Math.floor(limits.timeoutMs)) : 0;
        await c.query(`SET LOCAL statement_timeout = ${timeout}`);
        const r = await c.query({ text: q.text, values: q.values, rowMode: 'array', queryMode: 'extended' } as never);
        const res = r as unknown as { fields: { name: string; dataTypeID: number }[]; rows: unknown[][]; command: string };
        if (res.command !== 'SELECT') throw new HttpProblem(400, 'SQL_REJECTED', `only one SELECT is allowed (got ${res.command})`);
        const names = res.fields.map((f) => f.name);
        const columns = res.fields.map((f) => ({ name: f.name, type: TYPE_NAMES[f.dataTypeID] ?? `OID ${f.dataTypeID}` }));
        const take = Math.min(res.rows.length, limits.maxRows);
        const jsonRows: string[] = [];
        const csv: string[] = format === 'csv' ? [names.map(csvCell).join(',')] : [];
        let bytes = format === 'csv' ? Buffer.byteLength(csv[0]!) + 1 : 0;
        for (let i = 0; i < take; i++) {
          const row = res.rows[i]!;
          let text: string;
          if (format === 'json') {
            const o: Record<string, unknown> = {};
            for (let k = 0; k < names.length; k++) o[names[k]!] = row[k] ?? null;
            text = JSON.stringify(o);
            jsonRows.push(text);
          } else {
            text = row.map((v) => csvCell(cell(v))).join(',');
            csv.push(text);
          }
          bytes += Buffer.byteLength(text) + 1;
          if (bytes > limits.maxBytes) throw tooLarge(limits, i);
        }
        const out: QueryOutput = { format, columns, rowCount: take, truncated: take < res.rows.length, elapsedMs: Math.round(performance.now() - started) };
        if (format === 'json') out.jsonRows = jsonRows;
        else out.csv = `${csv.join('\n')}\n`;
        return out;
      } finally {
        await c.query('ROLLBACK').catch(() => undefined);
      }
    });
  } catch (err) {
    if (err instanceof HttpProblem) throw err;
    if (err instanceof FiscusError) throw new HttpProblem(503, 'SERVICE_UNAVAILABLE', err.message);
    const e = err as { code?: string; message?: string };
    const msg = e.message ?? String(err);
    if (e.code === '57014') {
      throw new HttpProblem(422, 'QUERY_TIMEOUT', `the query ran longer than ${limits.timeoutMs} ms and was cancelled; narrow it or use a saved query`, {
        timeout_ms: limits.timeoutMs,
      });
    }
    // 25006 read-only transaction, 42501 insufficient privilege: a write or a file function was refused.
    if (e.code === '25006' || e.code === '42501') throw new HttpProblem(403, 'SQL_REJECTED', msg.split('\n')[0]!);
    // 42601 includes "cannot insert multiple commands into a prepared statement".
    if (/multiple commands/.test(msg)) throw new HttpProblem(400, 'SQL_REJECTED', `only one statement is allowed: ${msg}`);
    throw new HttpProblem(400, 'QUERY_FAILED', msg.slice(0, 2000));
  }
}
