/** `fiscus query "<SQL>"`: read-only SQL for analysts. */
import type { DuckDBValue } from '@duckdb/node-api';
import { formatRows } from '../../engine/format.ts';
import { prepareReadOnly } from '../../engine/sql-guard.ts';
import { apiCall, apiTarget } from '../api-client.ts';
import { parseFormat } from '../context.ts';
import type { RegisterCommand } from './index.ts';

export const register: RegisterCommand = (program, ctx) => {
  program
    .command('query')
    .description('run one read-only SELECT against the database (money and big integers print as strings)')
    .argument('<sql>', 'a single SELECT statement, e.g. "SELECT agency_code, sum(amount) FROM treasury.payments GROUP BY 1"')
    .option('--format <format>', 'table | csv | json | jsonl', 'table')
    .option('--param <name=value...>', 'bind $name parameters (strings)', [] as string[])
    .option('--null <name...>', 'bind $name parameters to NULL', [] as string[])
    .option('--api <url>', 'send the query to a running `fiscus serve` (env FISCUS_API)')
    .option('--token <token>', 'API token for --api (env FISCUS_TOKEN)')
    .action(async (sql, opts) => {
      const format = parseFormat(opts.format);
      const api = apiTarget(opts);
      if (api) {
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
      const store = await ctx.open();
      const reader = await store.withConnection(async (conn) => {
        const prepared = await prepareReadOnly(conn, sql);
        for (const p of opts.param) {
          const eq = p.indexOf('=');
          if (eq <= 0) throw new Error(`--param wants name=value (got "${p}")`);
          prepared.bindVarchar(prepared.parameterIndex(p.slice(0, eq)), p.slice(eq + 1));
        }
        for (const name of opts.null) prepared.bindNull(prepared.parameterIndex(name));
        return prepared.runAndReadAll();
      }, { writes: false });
      const rows = reader.getRowObjectsJson() as Record<string, DuckDBValue | unknown>[];
      ctx.io.out(formatRows(rows, format, reader.columnNames()));
    });
};
