/**
 * `fiscus watch DIR`: ingest every feed file that arrives in DIR, then re-run the rules
 * once per burst (watch/). Runs until SIGINT/SIGTERM (the batch or rule run in progress
 * finishes, then the database closes); `--once` processes what is there and exits, for
 * cron and scripts. One line per event on stdout (zh-CN, `--lang en`), or JSON Lines.
 */
import { checkIsoDate } from '../../engine/dates.ts';
import { FiscusError, UsageError } from '../../engine/errors.ts';
import { FEEDS } from '../../engine/feeds.ts';
import { loadMappingProfile } from '../../ingest/mapping.ts';
import { describeEvent, startWatcher, type Lang, type WatchEvent, type WatchOptions } from '../../watch/index.ts';
import { parseMaxReject } from './ingest.ts';
import type { RegisterCommand } from './index.ts';

export function parseMs(name: string, v: string, min: number): number {
  if (!/^\d+$/.test(v) || Number(v) < min) throw new UsageError(`${name} must be a whole number of milliseconds ≥ ${min} (got "${v}")`);
  return Number(v);
}

/** A whole number of days, at least 1 (0 would delete what was just archived). */
export function parseDays(flag: string, v: string): number {
  if (!/^\d+$/.test(v) || Number(v) < 1) throw new UsageError(`${flag} must be a whole number of days, at least 1 (got "${v}")`);
  return Number(v);
}

export function parseLang(v: string): Lang {
  if (v !== 'zh' && v !== 'en') throw new UsageError(`--lang must be zh or en (got "${v}")`);
  return v;
}

/** A watch event as one JSON line (`--format jsonl`): the event, with a rule run reduced to its totals. */
function eventJson(e: WatchEvent): unknown {
  if (e.type === 'rules') return { type: e.type, files: e.files, run_id: e.summary.run_id, as_of: e.summary.as_of, millis: e.summary.millis, totals: e.summary.totals };
  return e;
}

export const register: RegisterCommand = (program, ctx) => {
  program
    .command('watch')
    .description('监视目录：新到的数据文件逐个导入，随后运行规则 / ingest every feed file that arrives in DIR, then re-run the rules once per burst')
    .argument('<dir>', 'the drop folder (files directly in it, or in schema folders such as treasury/)')
    .option('--once', 'process the files there now (each settled first), run the rules, then exit; exit 1 if a file failed')
    .option('--settle <ms>', "how long a file's size and mtime must stay unchanged before it is read", '500')
    .option('--rescan <ms>', 'full rescan interval, the safety net for file systems where change events go missing', '2000')
    .option('--burst <ms>', 'longest wait for files still settling before the rules run for a burst', '10000')
    .option('--table <table>', 'target table of every file (default: from each file name)')
    .option('--mapping <file>', 'mapping profile for every file (ingest/MAPPING.md)')
    .option('--max-reject <share>', 'largest share of rejected rows that still commits a batch (0–1 or a percent)', '0.05')
    .option('--as-of <date>', 'rule runs as of this date (default: today in Asia/Shanghai, at each run)')
    .option('--rule <id...>', 'only these rules')
    .option('--rules-dir <dir>', "an analyst's folder of *.rule.yaml, loaded alongside the built-in pack")
    .option('--config <file>', 'deployment config (env FISCUS_CONFIG, default ./fiscus.config.yaml)')
    .option('--no-rules', 'ingest only; run no rules')
    .option('--keep-files', 'leave processed files in place instead of moving them to .fiscus-done/ or .fiscus-failed/')
    .option('--prune-done <days>', 'delete files from .fiscus-done/ this many days after they were moved there (checked at start, then hourly; default: keep them)')
    .option('--lang <lang>', 'language of the event lines: zh | en', 'zh')
    .option('--format <format>', 'text | jsonl (one JSON object per event)', 'text')
    .action(async (dir, o) => {
      const lang = parseLang(o.lang);
      if (o.format !== 'text' && o.format !== 'jsonl') throw new UsageError(`--format must be text or jsonl (got "${o.format}")`);
      if (o.table && !FEEDS.some((f) => f.name === o.table)) throw new UsageError(`unknown table "${o.table}". Known tables: ${FEEDS.map((f) => f.name).join(', ')}`);
      const asOf = o.asOf === undefined ? undefined : checkIsoDate(o.asOf, '--as-of');
      const pruneDays = o.pruneDone === undefined ? undefined : parseDays('--prune-done', o.pruneDone);
      const mapping = o.mapping ? loadMappingProfile(o.mapping) : undefined;
      const store = await ctx.open();
      let failed = 0;
      let ruleErrors = 0;
      const opts: WatchOptions = {
        store,
        dir,
        settleMs: parseMs('--settle', o.settle, 0),
        rescanMs: parseMs('--rescan', o.rescan, 50),
        burstMs: parseMs('--burst', o.burst, 0),
        ingest: { table: o.table, mapping, maxReject: parseMaxReject(o.maxReject) },
        rules: o.rules === false ? false : { asOf, ruleIds: o.rule, rulesDir: o.rulesDir, configPath: o.config },
        actor: `fiscus watch (${process.env.USER ?? 'cli'})`,
        keepFiles: o.keepFiles ?? false,
        pruneDoneAfterDays: pruneDays,
        onEvent: (e) => {
          if (e.type === 'ingested' && (e.report.status === 'failed' || e.report.status === 'rolled_back')) failed++;
          if (e.type === 'rules') ruleErrors += e.summary.totals.errors;
          ctx.io.out(o.format === 'jsonl' ? `${JSON.stringify(eventJson(e))}\n` : `${describeEvent(e, lang)}\n`);
        },
      };
      const watcher = await startWatcher(opts);
      if (o.once) {
        await watcher.idle();
        await watcher.stop();
        if (failed || ruleErrors) {
          throw new FiscusError(`${failed} file(s) not loaded (see .fiscus-failed/), ${ruleErrors} rule(s) failed / ${failed} 个文件未导入，${ruleErrors} 条规则出错`);
        }
        return;
      }
      // Until SIGINT/SIGTERM: then the batch or rule run in progress finishes, and main closes the database.
      const signal = await new Promise<NodeJS.Signals>((resolve) => {
        const on = (s: NodeJS.Signals) => {
          process.off('SIGINT', on);
          process.off('SIGTERM', on);
          resolve(s);
        };
        process.on('SIGINT', on);
        process.on('SIGTERM', on);
      });
      ctx.log(lang === 'zh' ? `fiscus watch: 收到 ${signal}，等待当前批次或规则运行结束后退出` : `fiscus watch: ${signal}: finishing the batch or rule run in progress, then exiting`);
      await watcher.stop();
    });
};
