/**
 * `fiscus ingest <paths…|urls…>`: load feed files, folders and HTTP feeds, one
 * batch per file. Reports go to stdout, logs and the progress bar to stderr.
 * Exit 0 when every batch committed or was a no-op, 1 when any was rolled back
 * or failed, 2 for usage errors.
 */
import { existsSync } from 'node:fs';
import cliProgress from 'cli-progress';
import { openStore, type Store } from '../../engine/db.ts';
import { FiscusError, UsageError } from '../../engine/errors.ts';
import { FEEDS } from '../../engine/feeds.ts';
import { formatRows } from '../../engine/format.ts';
import { sqlString } from '../../engine/sql-quote.ts';
import { ingestSources, loadMappingProfile, type BatchReport, type ProgressEvent } from '../../ingest/index.ts';
import { parseFormat, type CliIO } from '../context.ts';
import type { RegisterCommand } from './index.ts';

export function parseMaxReject(value: string): number {
  const v = value.trim();
  const n = v.endsWith('%') ? Number(v.slice(0, -1)) / 100 : Number(v);
  if (!Number.isFinite(n) || n < 0 || n > 1) {
    throw new UsageError(`--max-reject wants a share between 0 and 1 (e.g. 0.05) or a percent (5%) (got "${value}")`);
  }
  return n;
}

/** The readable summary table: one line per batch. */
export function reportRows(reports: readonly BatchReport[]): Record<string, unknown>[] {
  return reports.map((r) => ({
    batch: r.batch_id,
    table: r.table,
    source: r.source,
    status: r.status,
    read: r.rows_read,
    accepted: r.accepted,
    rejected: r.rejected,
    inserted: r.inserted,
    corrected: r.corrected,
    unchanged: r.unchanged,
    totals: Object.entries(r.control_sums).map(([k, v]) => `${k}=${v}`).join(' '),
  }));
}

const PHASES: ProgressEvent['phase'][] = ['hash', 'read', 'validate', 'quarantine', 'write', 'done'];

/** A progress bar that only appears on a terminal, and only once an ingest has run for a second. */
class Progress {
  private bar?: cliProgress.SingleBar;
  private last?: ProgressEvent;
  private timer?: NodeJS.Timeout;

  constructor(io: CliIO) {
    if (io.interactive) this.timer = setTimeout(() => this.start(), 1000);
  }

  update(e: ProgressEvent): void {
    this.last = e;
    if (!this.bar) return;
    this.bar.setTotal(e.total * (PHASES.length - 1));
    this.bar.update((e.index - 1) * (PHASES.length - 1) + PHASES.indexOf(e.phase), {
      file: `${e.index}/${e.total}`,
      phase: e.phase,
      source: e.source.length > 50 ? `…${e.source.slice(-49)}` : e.source,
    });
  }

  private start(): void {
    this.bar = new cliProgress.SingleBar(
      {
        stream: process.stderr,
        format: '{bar} {percentage}% | file {file} {phase} {source}',
        hideCursor: true,
        clearOnComplete: true,
      },
      cliProgress.Presets.shades_classic,
    );
    this.bar.start(1, 0, { file: '', phase: '', source: '' });
    if (this.last) this.update(this.last);
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.bar?.stop();
  }
}

/** An in-memory database for a dry run, with the reference tables of `dbPath` copied in when it can be read. */
async function scratchStore(dbPath: string, log: (line: string) => void): Promise<Store> {
  const store = await openStore(':memory:');
  if (!existsSync(dbPath)) return store;
  try {
    await store.run(`ATTACH ${sqlString(dbPath)} AS fiscus_live (READ_ONLY)`);
    try {
      for (const t of FEEDS.filter((f) => f.schema === 'ref')) {
        await store.run(`INSERT INTO ${t.schema}.${t.table} BY NAME SELECT * FROM fiscus_live.${t.schema}.${t.table}`);
      }
    } finally {
      await store.run('DETACH fiscus_live');
    }
  } catch (err) {
    log(`dry run: reference tables of ${dbPath} not read (${(err as Error).message.split('\n')[0]}); unknown-code warnings are against empty tables`);
  }
  return store;
}

function dryRunJson(r: BatchReport): Record<string, unknown> {
  const { batch_id: _id, inserted: _i, corrected: _c, unchanged: _u, ...rest } = r;
  return { dry_run: true, ...rest };
}

/** The dry run for a person: how the file was read, how each column is mapped, the first rows and rejects. */
export function dryRunText(r: BatchReport): string {
  const p = r.preview;
  const out: string[] = [`== ${r.source} → ${r.table || '?'} (dry run, nothing written)`];
  out.push(`status:   ${r.status === 'committed' ? 'would commit' : r.status === 'rolled_back' ? 'would roll back' : r.status}`);
  out.push(`format:   ${r.format ?? '?'}${r.encoding ? `, encoding ${r.encoding}` : ''}`);
  if (p?.layout.length) out.push(`layout:   ${p.layout.join('; ')}`);
  out.push(`rows:     ${r.rows_read} read, ${r.accepted} accepted, ${r.rejected} rejected, ${r.skipped ?? 0} skipped (blank/totals)`);
  if (Object.keys(r.control_sums).length) out.push(`totals:   ${Object.entries(r.control_sums).map(([k, v]) => `${k}=${v}`).join(' ')}`);
  for (const w of r.warnings ?? []) out.push(w);
  if (!p) {
    out.push(r.message);
    return `${out.join('\n')}\n`;
  }
  out.push('', 'mapping:');
  out.push(formatRows(Object.entries(p.mapping).map(([column, from]) => ({ column, from })), 'table').trimEnd());
  if (p.extra.length) out.push(`kept in extra: ${p.extra.join(', ')}`);
  out.push('', `first ${p.rows.length} row${p.rows.length === 1 ? '' : 's'}:`);
  if (p.rows.length) out.push(formatRows(p.rows.map((x) => ({ ...x, extra: x.extra === null ? '' : JSON.stringify(x.extra) })), 'table').trimEnd());
  out.push('', `first ${p.rejects.length} reject${p.rejects.length === 1 ? '' : 's'}:`);
  if (p.rejects.length) out.push(formatRows(p.rejects.map((x) => ({ line: x.line ?? '', column: x.column ?? '', raw: x.raw ?? '', reason: x.reason })), 'table').trimEnd());
  return `${out.join('\n')}\n`;
}

export const register: RegisterCommand = (program, ctx) => {
  program
    .command('ingest')
    .description('load feed files, folders or http(s) URLs into the database, one checked batch per file — 导入数据')
    .argument('<sources...>', 'CSV / JSON Lines / JSON / Excel (.xlsx) / Parquet files, folders (loaded recursively in dependency order), or http(s) URLs')
    .option('--table <table>', `target table when the file name does not say it (${FEEDS.map((f) => f.name).join(', ')})`)
    .option('--mapping <file>', 'mapping profile (YAML or JSON; ingest/MAPPING.md): columns, constants, units (万元, 亿元 …), date formats, encoding, header row, sheet, record path, derived columns')
    .option('--max-reject <share>', 'largest share of rejected rows that still commits the batch (0–1 or a percent)', '0.05')
    .option('--format <format>', 'report format: table | json | jsonl | csv', 'table')
    .option('--dry-run', 'read, map and check the files and show the result, writing nothing (not even the database file)')
    .option('--rows <n>', 'rows and rejects shown by --dry-run', '5')
    .action(async (sources, opts) => {
      const format = parseFormat(opts.format);
      const maxReject = parseMaxReject(opts.maxReject);
      if (opts.table && !FEEDS.some((f) => f.name === opts.table)) {
        throw new UsageError(`unknown table "${opts.table}". Known tables: ${FEEDS.map((f) => f.name).join(', ')}`);
      }
      const mapping = opts.mapping ? loadMappingProfile(opts.mapping) : undefined;
      if (mapping?.table && !FEEDS.some((f) => f.name === mapping.table)) {
        throw new UsageError(`mapping profile ${opts.mapping} names unknown table "${mapping.table}". Known tables: ${FEEDS.map((f) => f.name).join(', ')}`);
      }
      const rows = Number(opts.rows);
      if (!Number.isInteger(rows) || rows < 0 || rows > 1000) throw new UsageError(`--rows wants a whole number from 0 to 1000 (got "${opts.rows}")`);
      // A dry run loads into a scratch in-memory database (with a copy of the reference tables
      // when the database file can be read), so nothing can reach the file.
      const store = opts.dryRun ? await scratchStore(ctx.dbPath, (line) => ctx.log(line)) : await ctx.open();
      const progress = new Progress(ctx.io);
      let reports: BatchReport[];
      try {
        reports = await ingestSources(store, sources, {
          table: opts.table,
          mapping,
          maxReject,
          onProgress: (e) => progress.update(e),
          log: (line) => ctx.log(line),
          ...(opts.dryRun ? { preview: { rows } } : {}),
        });
      } finally {
        progress.stop();
        if (opts.dryRun) await store.close();
      }
      if (opts.dryRun) {
        for (const r of reports) ctx.log(`dry run: ${r.status === 'committed' ? 'would commit' : r.status === 'rolled_back' ? 'would roll back' : r.status} ${r.source}${r.table ? ` → ${r.table}` : ''}: ${r.message}`);
        if (format === 'json') ctx.io.out(`${JSON.stringify(reports.map(dryRunJson), null, 2)}\n`);
        else if (format === 'jsonl') ctx.io.out(reports.map((r) => `${JSON.stringify(dryRunJson(r))}\n`).join(''));
        else ctx.io.out(reports.map((r) => dryRunText(r)).join('\n'));
        const failed = reports.filter((r) => r.status === 'rolled_back' || r.status === 'failed');
        if (failed.length) {
          throw new FiscusError(`dry run: ${failed.length} of ${reports.length} file${reports.length > 1 ? 's' : ''} would not load (see above); nothing was written — 试运行：有文件无法导入，未写入任何数据`, {
            code: 'INGEST_INCOMPLETE',
            exitCode: 1,
          });
        }
        return;
      }
      for (const r of reports) ctx.log(`${r.status.padEnd(11)} ${r.source}${r.table ? ` → ${r.table}` : ''}: ${r.message}`);
      if (format === 'json') ctx.io.out(`${JSON.stringify(reports, null, 2)}\n`);
      else if (format === 'table') ctx.io.out(formatRows(reportRows(reports), 'table'));
      else ctx.io.out(formatRows(reports.map((r) => ({ ...r, control_sums: JSON.stringify(r.control_sums) })), format));
      const bad = reports.filter((r) => r.status === 'rolled_back' || r.status === 'failed');
      if (bad.length) {
        const rolled = bad.filter((r) => r.status === 'rolled_back').length;
        const failed = bad.length - rolled;
        const parts = [rolled ? `${rolled} rolled back` : '', failed ? `${failed} failed` : ''].filter(Boolean).join(', ');
        throw new FiscusError(
          `${parts} of ${reports.length} batch${reports.length > 1 ? 'es' : ''}; their data was not loaded ` +
            `(see the messages above and \`fiscus quarantine --batch ID\`) — 有批次回滚或失败，相关数据未导入`,
          { code: 'INGEST_INCOMPLETE', exitCode: 1 },
        );
      }
    });
};
