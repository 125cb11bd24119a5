/** `fiscus batches`: the ingest batch reports (fiscus.batches), oldest first. */
import { UsageError } from '../../engine/errors.ts';
import { formatRows } from '../../engine/format.ts';
import { parseFormat } from '../context.ts';
import type { RegisterCommand } from './index.ts';

export const register: RegisterCommand = (program, ctx) => {
  program
    .command('batches')
    .description('list ingest batches: rows read/accepted/rejected, control totals, status — 导入批次')
    .option('--format <format>', 'table | jsonl | csv | json', 'table')
    .option('--table <table>', 'only batches of this table')
    .option('--status <status>', 'only batches with this status (committed | rolled_back | noop | failed)')
    .option('--limit <n>', 'the most recent n batches', '100')
    .action(async (opts) => {
      const format = parseFormat(opts.format);
      const limit = Number(opts.limit);
      if (!Number.isInteger(limit) || limit <= 0) throw new UsageError(`--limit wants a positive whole number (got "${opts.limit}")`);
      const store = await ctx.open();
      // The one timestamp format of every output: ISO 8601 UTC with milliseconds (flags/row.ts isoUtc).
      const UTC = (col: string) => store.dialect.isoUtc(col);
      const rows = await store.all(
        `SELECT * FROM (
           SELECT batch_id, table_name, source, source_kind, status, rows_read, accepted, rejected, inserted, corrected,
                  unchanged, control_sums, format, encoding, sha256, mapping, message,
                  ${UTC('started_at')} AS started_at, ${UTC('finished_at')} AS finished_at, started_at AS _t
           FROM fiscus.batches
           WHERE (CAST($table AS VARCHAR) IS NULL OR table_name = $table) AND (CAST($status AS VARCHAR) IS NULL OR status = $status)
           ORDER BY started_at DESC, batch_id DESC LIMIT ${limit}
         ) b ORDER BY _t, batch_id`,
        { table: opts.table ?? null, status: opts.status ?? null },
      );
      for (const r of rows) delete r._t;
      if (format === 'table') {
        const brief = rows.map((r) => ({
          batch: r.batch_id,
          table: r.table_name,
          status: r.status,
          read: r.rows_read,
          accepted: r.accepted,
          rejected: r.rejected,
          inserted: r.inserted,
          corrected: r.corrected,
          unchanged: r.unchanged,
          started: r.started_at,
          source: r.source,
        }));
        ctx.io.out(formatRows(brief, 'table'));
        return;
      }
      // control_sums arrives as JSON text; machines get it as an object.
      const parsed = rows.map((r) => ({
        ...r,
        control_sums: typeof r.control_sums === 'string' ? JSON.parse(r.control_sums) : r.control_sums,
      }));
      ctx.io.out(
        format === 'csv'
          ? formatRows(parsed.map((r) => ({ ...r, control_sums: JSON.stringify(r.control_sums) })), 'csv')
          : formatRows(parsed, format),
      );
    });
};
