/** `fiscus report quarterly`: the committee's quarterly review report (HTML, Markdown, PDF). */
import { checkIsoDate } from '../../engine/dates.ts';
import { UsageError } from '../../engine/errors.ts';
import { buildQuarterlyReport, writeQuarterlyReport, type ReportFormat } from '../../report/quarterly/index.ts';
import { registerProjectReport } from '../../report/projects/cli.ts';
import type { RegisterCommand } from './index.ts';

const FORMATS: ReportFormat[] = ['html', 'md', 'pdf', 'json'];

export const register: RegisterCommand = (program, ctx) => {
  const report = program.command('report').description('write review reports (审查报告)');
  registerProjectReport(report, ctx);
  report
    .command('quarterly')
    .description('quarterly review report: budget execution, warnings and rectification, debt, transfers, assets')
    .requiredOption('--year <year>', 'fiscal year, e.g. 2025')
    .requiredOption('--quarter <q>', 'quarter 1-4')
    .option('--region <code>', 'region code (with everything below it); default all regions')
    .option('--as-of <date>', 'warnings and their closed-loop state as of the end of this day (Asia/Shanghai), rebuilt from the event log; default the quarter end (today while the quarter runs). The same --as-of gives the same report')
    .option('--lang <lang>', 'zh | en', 'zh')
    .option('--out <dir>', 'output folder', './out')
    .option('--format <list>', 'comma-separated: html,md,pdf,json', 'html,md,pdf')
    .action(async (opts) => {
      if (opts.lang !== 'zh' && opts.lang !== 'en') throw new UsageError(`--lang must be zh or en (got "${opts.lang}")`);
      const formats = opts.format.split(',').map((s) => s.trim()).filter(Boolean);
      const bad = formats.filter((f) => !FORMATS.includes(f as ReportFormat));
      if (bad.length) throw new UsageError(`--format: unknown ${bad.join(', ')}; choose from ${FORMATS.join(', ')}`);
      const store = await ctx.open();
      const built = await buildQuarterlyReport(store, {
        year: Number(opts.year),
        quarter: Number(opts.quarter),
        region: opts.region ?? null,
        lang: opts.lang,
        asOf: opts.asOf === undefined ? undefined : checkIsoDate(opts.asOf, '--as-of'),
      });
      ctx.log(`building ${built.title} …`);
      const written = await writeQuarterlyReport(built, opts.out, formats as ReportFormat[]);
      for (const [fmt, why] of Object.entries(written.skipped)) ctx.log(`${fmt}: not written — ${why}`);
      for (const s of built.sections) {
        if (s.missing.length) ctx.log(`${s.title}: ${s.blocks.length ? 'partial' : 'no data'} (missing ${s.missing.join(', ')})`);
      }
      for (const path of Object.values(written.files)) ctx.io.out(`${path}\n`);
    });
};
