/** `fiscus report projects --year YEAR`: registered by cli/commands/report.ts beside `report quarterly`. */
import type { Command } from '@commander-js/extra-typings';
import { checkIsoDate } from '../../engine/dates.ts';
import { UsageError } from '../../engine/errors.ts';
import type { CliContext } from '../../cli/context.ts';
import type { ReportFormat } from '../quarterly/index.ts';
import { buildProjectReport, writeProjectReport } from './index.ts';

const FORMATS: ReportFormat[] = ['html', 'md', 'pdf', 'json'];

export function registerProjectReport(report: Command<[], Record<string, unknown>>, ctx: CliContext): void {
  report
    .command('projects')
    .description('livelihood projects report (民生实事项目): money against plan, milestones, deputies\' problems and their rectification, grades and satisfaction vote')
    .requiredOption('--year <year>', 'fiscal year, e.g. 2025')
    .option('--as-of <date>', 'spending and deadlines as of the end of this day; default the year end (today while the year runs)')
    .option('--lang <lang>', 'zh | en', 'zh')
    .option('--out <dir>', 'output folder', './out')
    .option('--format <list>', 'comma-separated: html,md,pdf,json', 'html,md,pdf')
    .action(async (opts) => {
      if (opts.lang !== 'zh' && opts.lang !== 'en') throw new UsageError(`--lang must be zh or en (got "${opts.lang}")`);
      if (!/^\d{4}$/.test(opts.year)) throw new UsageError(`--year must be a year such as 2025 (got "${opts.year}")`);
      const formats = opts.format.split(',').map((s) => s.trim()).filter(Boolean);
      const bad = formats.filter((f) => !FORMATS.includes(f as ReportFormat));
      if (bad.length) throw new UsageError(`--format: unknown ${bad.join(', ')}; choose from ${FORMATS.join(', ')}`);
      const store = await ctx.open();
      const built = await buildProjectReport(store, {
        year: Number(opts.year), lang: opts.lang,
        asOf: opts.asOf === undefined ? undefined : checkIsoDate(opts.asOf, '--as-of'),
      });
      ctx.log(`building ${built.title} …`);
      const written = await writeProjectReport(built, opts.out, formats as ReportFormat[]);
      for (const [fmt, why] of Object.entries(written.skipped)) ctx.log(`${fmt}: not written — ${why}`);
      for (const path of Object.values(written.files)) ctx.io.out(`${path}\n`);
    });
}
