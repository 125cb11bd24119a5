/**
 * `fiscus query "<SQL>"`: read-only SQL for analysts, in the same sandbox as the
 * server's POST /v1/query: one SELECT (engine/sql-guard) in a read-only transaction,
 * on an instance locked down first (api/lockdown.ts: no files, no settings, no
 * ATTACH). `--allow-files DIR` is the local operator's explicit way to read files.
 * On PostgreSQL it is the server's sandbox (api/pg-query.ts: the read-only analyst role,
 * a READ ONLY transaction, one statement), without the server's time, row and byte limits.
 */
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import type { DuckDBValue } from '@duckdb/node-api';
import { lockDown } from '../../api/lockdown.ts';
import { runPostgresQuery } from '../../api/pg-query.ts';
import { HttpProblem } from '../../api/problem.ts';
import { duckdbOnly } from '../../engine/db.ts';
import { FiscusError, UsageError } from '../../engine/errors.ts';
import type { PostgresStore } from '../../engine/pg-store.ts';
import { formatRows } from '../../engine/format.ts';
import { inReadOnlyTransaction, prepareReadOnly } from '../../engine/sql-guard.ts';
import { apiCall, apiTarget } from '../api-client.ts';
import { parseFormat } from '../context.ts';
import type { RegisterCommand } from './index.ts';

const collect = (v: string, prev: string[]) => [...prev, v];

export const register: RegisterCommand = (program, ctx) => {
  program
    .command('query')
    .description('run one read-only SELECT against the database (money and big integers print as strings); no file access unless --allow-files')
    .argument('<sql>', 'a single SELECT statement, e.g. "SELECT agency_code, sum(amount) FROM treasury.payments GROUP BY 1"')
    .option('--format <format>', 'table | csv | json | jsonl (csv cells that would start a spreadsheet formula get a leading \')', 'table')
    .option('--param <name=value...>', 'bind $name parameters (strings)', [] as string[])
    .option('--null <name...>', 'bind $name parameters to NULL', [] as string[])
    .option(
      '--allow-files <dir>',
      'let the SQL read files under DIR with read_csv, read_parquet, read_json, read_text, glob… (repeatable; ' +
        'without it the query reads the database only, like the server)',
      collect,
      [] as string[],
    )
    .option('--api <url>', 'send the query to a running `fiscus serve` (env FISCUS_API)')
    .option('--token <token>', 'API token for --api (env FISCUS_TOKEN)')
    .action(async (sql, opts) => {
      const format = parseFormat(opts.format);
      const api = apiTarget(opts);
      if (api) {
        if (opts.allowFiles.length > 0) throw new UsageError('--allow-files works on a local database only; the server never reads files for queries');
        const params: Record<string, string> = {};
        for (const p of opts.param) {
          const eq = p.indexOf('=');
          if (eq <= 0) throw new Error(`--param wants name=value (got "${p}")`);
          params[p.slice(0, eq)] = p.slice(eq + 1);
        }
        const res = await apiCall(api, 'POST', '/v1/query', { sql, params, format: 'json' });
        ctx.io.out(formatRows(res.rows, format, res.columns.map((c: { name: string }) => c.name)));
        if (res.truncated) ctx.log(`(truncated at ${res.row_count} rows by the server's row limit)`);
        return;
      }
      for (const dir of opts.allowFiles) {
        if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new UsageError(`--allow-files wants an existing directory (got "${dir}")`);
      }
      const store = await ctx.open();
      if (store.engine === 'postgres') {
        if (opts.allowFiles.length > 0) throw new UsageError('--allow-files works on a DuckDB database only; on PostgreSQL analyst SQL never reads files');
        const params: Record<string, string | null> = {};
        for (const p of opts.param) {
          const eq = p.indexOf('=');
          if (eq <= 0) throw new UsageError(`--param wants name=value (got "${p}")`);
          params[p.slice(0, eq)] = p.slice(eq + 1);
        }
        for (const name of opts.null) params[name] = null;
        let out;
        try {
          out = await runPostgresQuery(store as PostgresStore, sql, params, 'json', { timeoutMs: Infinity, maxRows: Infinity, maxBytes: Infinity });
        } catch (err) {
          // The server's problem, said the CLI's way: an unknown parameter is a usage error.
          if (err instanceof HttpProblem) throw new FiscusError(err.message, { code: err.code, exitCode: err.code === 'VALIDATION' ? 2 : 1 });
          throw err;
        }
        const rows = (out.jsonRows ?? []).map((r) => JSON.parse(r) as Record<string, unknown>);
        ctx.io.out(formatRows(rows, format, out.columns.map((c) => c.name)));
        return;
      }
      // For the rest of this process's life: the CLI is one-shot, the store closes when the command ends.
      await lockDown(store, { allowedDirs: opts.allowFiles.map((d) => resolve(d)) });
      const conn = await duckdbOnly(store, 'fiscus query').connect();
      try {
        const { rows, columns } = await inReadOnlyTransaction(conn, async () => {
          const prepared = await prepareReadOnly(conn, sql, { allowFiles: opts.allowFiles.length > 0 });
          for (const p of opts.param) {
            const eq = p.indexOf('=');
            if (eq <= 0) throw new Error(`--param wants name=value (got "${p}")`);
            prepared.bindVarchar(prepared.parameterIndex(p.slice(0, eq)), p.slice(eq + 1));
          }
          for (const name of opts.null) prepared.bindNull(prepared.parameterIndex(name));
          const reader = await prepared.runAndReadAll();
          return { rows: reader.getRowObjectsJson() as Record<string, DuckDBValue | unknown>[], columns: reader.columnNames() };
        });
        ctx.io.out(formatRows(rows, format, columns));
      } finally {
        conn.closeSync();
      }
    });
};
