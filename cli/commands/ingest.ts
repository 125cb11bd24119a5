/**
 * `fiscus ingest <paths…|urls…>`: load feed files, folders and HTTP feeds, one
 * batch per file. Reports go to stdout, logs and the progress bar to stderr.
 * Exit 0 when every batch committed or was a no-op, 1 when any was rolled back
 * or failed, 2 for usage errors.
 */
import cliProgress from 'cli-progress';
import { FiscusError, UsageError } from '../../engine/errors.ts';
import { FEEDS } from '../../engine/feeds.ts';
import { formatRows } from '../../engine/format.ts';
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

export const register: RegisterCommand = (program, ctx) => {
  program
    .command('ingest')
    .description('load feed files, folders or http(s) URLs into the database, one checked batch per file — 导入数据')
    .argument('<sources...>', 'CSV / JSON Lines / Parquet files, folders (loaded recursively in dependency order), or http(s) URLs')
    .option('--table <table>', `target table when the file name does not say it (${FEEDS.map((f) => f.name).join(', ')})`)
    .option('--mapping <file>', 'mapping profile (YAML or JSON): column names, constants, 万元, date format, encoding')
    .option('--max-reject <share>', 'largest share of rejected rows that still commits the batch (0–1 or a percent)', '0.05')
    .option('--format <format>', 'report format: table | json | jsonl | csv', 'table')
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
      const store = await ctx.open();
      const progress = new Progress(ctx.io);
      let reports: BatchReport[];
      try {
        reports = await ingestSources(store, sources, {
          table: opts.table,
          mapping,
          maxReject,
          onProgress: (e) => progress.update(e),
          log: (line) => ctx.log(line),
        });
      } finally {
        progress.stop();
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
