/**
 * `fiscus demo`: the whole pipeline on the bundled sample, from a fresh
 * database to a quarterly report, saying what happened at each step.
 *
 * The sample is last year's data, so the demo plays the year after it on a
 * simulated clock: the rules run the day after the sample's as-of date, and
 * the committee works a few flags through the closed loop over the following
 * weeks. Every event carries its simulated time; nothing is faked.
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { resolve } from 'node:path';
import { todayInShanghai } from '../../engine/calendar.ts';
import { addDaysIso } from '../../engine/dates.ts';
import type { Store } from '../../engine/db.ts';
import { FiscusError } from '../../engine/errors.ts';
import { logPathsFor } from '../../engine/log-key.ts';
import { formatRows } from '../../engine/format.ts';
import { ingestPath, type BatchReport } from '../../ingest/index.ts';
import { buildQuarterlyReport, writeQuarterlyReport } from '../../report/quarterly/index.ts';
import { compileLoaded, loadDefinitions, withConfig } from '../../rules/run/catalog.ts';
import { runRules } from '../../rules/run/runner.ts';
import { summaryTable } from '../../rules/run/summary-text.ts';
import { performAction, trackStats, type Actor, type TrackAction } from '../../tracker/index.ts';
import { displayFigures } from '../../tracker/stats.ts';
import type { CliContext } from '../context.ts';
import type { RegisterCommand } from './index.ts';

export const SAMPLE_DIR = fileURLToPath(new URL('../../fixtures/sample/', import.meta.url));
/** Anything loaded from the bundled fixtures is the demo's own to replace. */
const FIXTURES_DIR = fileURLToPath(new URL('../../fixtures/', import.meta.url));

const COMMITTEE: Actor = { name: '预算工委 王芳', role: 'supervisor' };

export const register: RegisterCommand = (program, ctx) => {
  program
    .command('demo')
    .description('fresh database → ingest the bundled sample → rules → closed loop → quarterly report')
    .option('--out <dir>', 'where the report goes', './out')
    .option('--force', 'replace a database that was not made by the demo')
    .option('--no-pdf', 'skip the PDF even when chromium is installed')
    .action(async (opts) => {
      await runDemo(ctx, { out: opts.out, force: Boolean(opts.force), pdf: opts.pdf });
    });
};

interface DemoOptions {
  out: string;
  force: boolean;
  pdf: boolean;
}

const addDays = addDaysIso;

/** 10:00 Beijing time on a simulated day. */
function at(iso: string): Date {
  return new Date(`${iso}T02:00:00Z`);
}

/** Refuse to wipe a database that holds anything but the bundled fixtures. */
async function guardExisting(ctx: CliContext, path: string, force: boolean): Promise<void> {
  if (!existsSync(path) || force) return;
  const store = await ctx.open();
  const foreign = await store.all<{ source: string }>(
    `SELECT DISTINCT source FROM fiscus.batches WHERE NOT starts_with(source, $dir) LIMIT 3`,
    { dir: FIXTURES_DIR },
  );
  await ctx.close();
  if (foreign.length > 0) {
    throw new FiscusError(
      `${path} holds data that is not the demo sample (e.g. ${foreign[0]!.source}); the demo rebuilds its database from scratch. ` +
        'Use --db to pick another file, or --force to replace it.',
    );
  }
}

/**
 * A fresh database starts a new event log: the old log's checkpoints would name events the
 * new one never had. Beside the database (the defaults) they and the key go with it; a key
 * and checkpoint log configured elsewhere are a deployment's, and the demo does not touch them.
 */
function startNewLog(ctx: CliContext, dbPath: string): void {
  const paths = logPathsFor(dbPath, ctx.logConfig);
  const defaults = logPathsFor(dbPath, {}, {});
  if (paths.checkpointsFile && paths.checkpointsFile !== defaults.checkpointsFile && existsSync(paths.checkpointsFile)) {
    throw new FiscusError(
      `the demo starts a new event log, but the checkpoint log ${paths.checkpointsFile} belongs to another one: ` +
        'move it away or use --checkpoints with a new file',
    );
  }
  if (defaults.keyFile && paths.keyFile === defaults.keyFile) rmSync(defaults.keyFile, { force: true });
  if (defaults.checkpointsFile && paths.checkpointsFile === defaults.checkpointsFile) rmSync(defaults.checkpointsFile, { force: true });
}

async function runDemo(ctx: CliContext, opts: DemoOptions): Promise<void> {
  const path = resolve(ctx.dbPath);
  await guardExisting(ctx, path, opts.force);
  startNewLog(ctx, path);
  rmSync(path, { force: true });
  rmSync(`${path}.wal`, { force: true });
  const manifest = JSON.parse(readFileSync(resolve(SAMPLE_DIR, 'manifest.json'), 'utf8')) as { as_of: string };
  const asOf = manifest.as_of;
  const out = (s: string) => ctx.io.out(s.endsWith('\n') ? s : `${s}\n`);

  out(`== 1. 新建数据库 fresh database: ${path}`);
  const store = await ctx.open();

  out(`\n== 2. 导入样例数据 ingest ${SAMPLE_DIR}`);
  const reports = await ingestPath(store, SAMPLE_DIR);
  out(formatRows(reports.map(batchRow), 'table'));
  const failed = reports.filter((r) => r.status !== 'committed' && r.status !== 'noop');
  if (failed.length) throw new FiscusError(`demo: ${failed.length} sample file(s) did not load; see the table above`);

  const runDay = addDays(asOf, 1);
  out(`\n== 3. 运行预警规则 rules as of ${asOf} (run on ${runDay})`);
  const defs = await loadDefinitions();
  const compiled = await Promise.all(withConfig(defs).filter((r) => r.enabled).map((r) => compileLoaded(r, {}, store.engine)));
  const summary = await runRules(store, compiled, { asOf, actor: 'demo', now: at(runDay) });
  out(summaryTable(summary));

  out(`\n== 4. 闭环跟踪 closed loop (simulated from ${runDay})`);
  for (const line of await walkLoop(store, runDay)) out(line);

  const year = Number(asOf.slice(0, 4)) - (asOf.slice(5) <= '03-31' ? 1 : 0);
  const quarter = asOf.slice(5) <= '03-31' ? 4 : Math.ceil(Number(asOf.slice(5, 7)) / 3) - 1 || 4;
  const stats = await trackStats(store, { year, basis: 'period' });
  out(`\n== 5. 整改统计 loop figures for ${year} (fiscus track stats --year ${year} --basis period)`);
  const t = displayFigures(stats.totals); // as the track stats table and the report print them
  out(
    `发现 ${t.discovered} · 排除 ${t.dismissed} · 说清 ${t.explained} · 已整改 ${t.rectified} · 整改中 ${t.rectifying} · 逾期 ${t.overdue} · ` +
      `整改率 ${t.rectification_rate} · 涉及金额 ${t.money_involved} 元 · 追回 ${t.money_recovered} 元`,
  );

  // The report describes the loop as it stood when the simulated walk ended (a month after the rule run), not today.
  const reportAsOf = [addDays(runDay, 30), todayInShanghai()].sort()[0]!;
  out(`\n== 6. 季度审查报告 quarterly report ${year} Q${quarter}, as of ${reportAsOf} (fiscus report quarterly --year ${year} --quarter ${quarter} --as-of ${reportAsOf})`);
  const report = await buildQuarterlyReport(store, { year, quarter, lang: 'zh', asOf: reportAsOf });
  const written = await writeQuarterlyReport(report, opts.out, opts.pdf ? ['html', 'md', 'pdf'] : ['html', 'md']);
  for (const f of Object.values(written.files)) out(`  ${f}`);
  for (const [fmt, why] of Object.entries(written.skipped)) out(`  ${fmt}: ${why}`);

  out(`\n完成 done. Try:\n  npx fiscus flags --severity high\n  npx fiscus track list\n  npx fiscus query "SELECT rule_id, count(*) AS n FROM fiscus.flags GROUP BY 1 ORDER BY 2 DESC"`);
}

function batchRow(r: BatchReport): Record<string, unknown> {
  return {
    table: r.table ?? '?',
    status: r.status,
    read: r.rows_read,
    accepted: r.accepted,
    rejected: r.rejected,
    file: r.source.split('/').pop(),
  };
}

/**
 * Walk a few high-severity flags along the loop's main paths: rectified and
 * verified after a satisfaction vote; explained and accepted; assigned and
 * left to run past its deadline; and one low flag dismissed.
 */
export async function walkLoop(store: Store, startDay: string): Promise<string[]> {
  const high = await store.all<{ flag_id: string; title: string; agency_code: string | null; amount: string | null }>(
    `SELECT flag_id, title, agency_code, amount::VARCHAR AS amount FROM fiscus.flags
     WHERE severity = 'high' AND agency_code IS NOT NULL ORDER BY rule_id, flag_id LIMIT 3`,
  );
  const low = await store.all<{ flag_id: string; title: string }>(
    // A dated finding (its period or fiscal year), so step 5's figures for the reviewed year show the dismissal;
    // an undated one (an idle asset) belongs to the year of its run's as-of day (tracker/stats.ts flagDaySql).
    `SELECT flag_id, title FROM fiscus.flags WHERE severity = 'low'
     ORDER BY (period_end IS NULL AND period_start IS NULL AND fiscal_year IS NULL), rule_id, flag_id LIMIT 1`,
  );
  const lines: string[] = [];
  const act = async (flagId: string, day: string, action: TrackAction, actor: Actor = COMMITTEE) => {
    const r = await performAction(store, flagId, action, actor, { at: at(day) });
    lines.push(`  ${day}  ${flagId}  ${action.action.padEnd(20)} → ${r.flag.status}`);
    return r;
  };
  const d = (n: number) => addDays(startDay, n);
  const [a, b, c] = high;
  if (a) {
    const unit: Actor = { name: '单位财务 李强', role: 'agency', agencyCode: a.agency_code! };
    lines.push(`  ${a.title}`);
    await act(a.flag_id, d(1), { action: 'confirm', note: '核实后确认，需整改' });
    await act(a.flag_id, d(2), { action: 'assign', due: d(30), note: '请于期限内整改并报送整改报告' });
    await act(a.flag_id, d(5), { action: 'start-rectification', category: 'immediate', note: '立行立改' }, unit);
    await act(a.flag_id, d(20), {
      action: 'report-rectified',
      note: '已追回资金并完善审批流程',
      amount_recovered: a.amount && Number(a.amount) > 0 ? a.amount : '0.00',
    }, unit);
    await act(a.flag_id, d(25), { action: 'vote', satisfied: 9, basic: 3, unsatisfied: 1, members: 15 });
    await act(a.flag_id, d(26), { action: 'verify', note: '对账销号' });
  }
  if (b) {
    const unit: Actor = { name: '单位财务 赵敏', role: 'agency', agencyCode: b.agency_code! };
    lines.push(`  ${b.title}`);
    await act(b.flag_id, d(1), { action: 'confirm' });
    await act(b.flag_id, d(2), { action: 'assign', due: d(30) });
    await act(b.flag_id, d(10), { action: 'explain', note: '该笔支出系经批准的预算调整，附批复文件' }, unit);
    await act(b.flag_id, d(15), { action: 'accept-explanation', note: '说明属实，予以销号' });
  }
  if (c) {
    lines.push(`  ${c.title}`);
    await act(c.flag_id, d(1), { action: 'confirm' });
    await act(c.flag_id, d(2), { action: 'assign', due: d(20), note: '督办：请按期整改' });
  }
  if (low[0]) {
    lines.push(`  ${low[0].title}`);
    await act(low[0].flag_id, d(1), { action: 'dismiss', note: '经核实为正常业务，排除' });
  }
  return lines;
}
