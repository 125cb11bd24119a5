/** `fiscus quarantine [--batch ID]`: rejected rows with line, column, raw value and reason. */
import { FiscusError, UsageError } from '../../engine/errors.ts';
import { formatRows } from '../../engine/format.ts';
import { parseFormat } from '../context.ts';
import type { RegisterCommand } from './index.ts';

export const register: RegisterCommand = (program, ctx) => {
  program
    .command('quarantine')
    .description('list rejected rows (line, column, raw value, reason) so they can be fixed and re-sent — 拒收数据')
    .option('--batch <id>', 'only the rows of this batch (see `fiscus batches`)')
    .option('--format <format>', 'table | jsonl | csv | json', 'table')
    .option('--limit <n>', 'at most n rows')
    .action(async (opts) => {
      const format = parseFormat(opts.format);
      let limit = '';
      if (opts.limit !== undefined) {
        const n = Number(opts.limit);
        if (!Number.isInteger(n) || n <= 0) throw new UsageError(`--limit wants a positive whole number (got "${opts.limit}")`);
        limit = `LIMIT ${n}`;
      }
      const store = await ctx.open();
      if (opts.batch) {
        const b = await store.one('SELECT 1 AS x FROM fiscus.batches WHERE batch_id = $b', { b: opts.batch });
        if (!b) throw new FiscusError(`no batch ${opts.batch}; list batches with \`fiscus batches\``, { code: 'NOT_FOUND' });
      }
      // rowid keeps the order rows were quarantined in: by line, then column order.
      // The cast types $batch where it first occurs: PostgreSQL types a parameter left to right and
      // cannot type a bare `$batch IS NULL` ("could not determine data type of parameter $1").
      const rows = await store.all(
        `SELECT q.batch_id, q.table_name, q.source, q.line, q.column_name, q.raw_value, q.reason, q.raw_row
         FROM fiscus.quarantine q LEFT JOIN fiscus.batches b USING (batch_id)
         WHERE CAST($batch AS VARCHAR) IS NULL OR q.batch_id = $batch
         ORDER BY b.started_at, q.batch_id, q.${store.dialect.rowid} ${limit}`,
        { batch: opts.batch ?? null },
      );
      if (format === 'table') {
        const brief = rows.map((r) => ({
          ...(opts.batch ? {} : { batch: r.batch_id }),
          line: r.line,
          column: r.column_name,
          raw_value: r.raw_value,
          reason: r.reason,
        }));
        ctx.io.out(formatRows(brief, 'table'));
        return;
      }
      const parsed = rows.map((r) => ({ ...r, raw_row: typeof r.raw_row === 'string' ? JSON.parse(r.raw_row) : r.raw_row }));
      ctx.io.out(
        format === 'csv'
          ? formatRows(parsed.map((r) => ({ ...r, raw_row: JSON.stringify(r.raw_row) })), 'csv')
          : formatRows(parsed, format),
      );
    });
};
