/**
 * `fiscus rules …`: run the rules, list and explain them, run their test
 * cases, and backtest one over past as-of dates.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Option } from '@commander-js/extra-typings';
import { calendarWarningFor } from '../../engine/calendar.ts';
import { checkIsoDate as checkDate, todayInShanghai } from '../../engine/dates.ts';
import { FiscusError, UsageError } from '../../engine/errors.ts';
import { formatRows, toTable } from '../../engine/format.ts';
import { describeBindings } from '../../rules/run/bind.ts';
import {
  compileLoaded, compileRuleSet, loadRuleSet, selectRules, type LoadedRule,
} from '../../rules/run/catalog.ts';
import type { FiscusConfig } from '../../rules/run/config.ts';
import { findTestFiles, formatCaseResults, runRuleTestFile, parseRuleTestFile, type CaseResult } from '../../rules/run/rule-tests.ts';
import { runRules } from '../../rules/run/runner.ts';
import { fillParams } from '../../rules/run/template.ts';
import { summaryTable } from '../../rules/run/summary-text.ts';
import { ruleBesideTest } from '../../rules/run/test-resolver.ts';
import type { RegisterCommand } from './index.ts';
import { engineOf } from '../../engine/db.ts';
import * as language from '../../rules/language/index.ts';

const PACK_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../../rules/pack');


interface RuleSetOpts {
  rulesDir?: string;
  config?: string;
}

function ruleSet(o: RuleSetOpts): Promise<{ rules: LoadedRule[]; config: FiscusConfig }> {
  return loadRuleSet({ configPath: o.config, rulesDir: o.rulesDir });
}

function one(rules: LoadedRule[], id: string): LoadedRule {
  return selectRules(rules, [id])[0]!;
}

const formatOpt = () => new Option('--format <format>', 'table | json').choices(['table', 'json'] as const).default('table' as const);

export const register: RegisterCommand = (program, ctx) => {
  const rules = program.command('rules').description('预警规则：运行、列出、说明、测试、回测 / run, list, explain, test and backtest rules');

  rules
    .command('run')
    .description('evaluate the rules as of a date and store the flags (prints what each rule did)')
    .option('--as-of <date>', 'evaluation date YYYY-MM-DD (default: today in Asia/Shanghai)')
    .option('--rule <id...>', 'only these rules')
    .option('--rules-dir <dir>', "an analyst's folder of *.rule.yaml, loaded alongside the built-in pack")
    .option('--config <file>', 'deployment config (env FISCUS_CONFIG, default ./fiscus.config.yaml)')
    .option('--full', 'ignore input fingerprints: evaluate every rule fully')
    .addOption(formatOpt())
    .action(async (opts) => {
      const asOf = checkDate(opts.asOf ?? todayInShanghai(), '--as-of');
      const { rules: compiled, config } = await compileRuleSet({ configPath: opts.config, rulesDir: opts.rulesDir, ids: opts.rule }, engineOf(ctx.dbPath));
      const store = await ctx.open();
      const summary = await runRules(store, compiled, { asOf, config, full: opts.full ?? false, actor: process.env.USER ?? 'cli' });
      ctx.io.out(opts.format === 'json' ? `${JSON.stringify(summary, null, 2)}\n` : summaryTable(summary));
      // A rule that flags a large share of its input: say so (stderr), naming the config key.
      for (const w of summary.warnings) ctx.log(`fiscus: warning: ${w.message}`);
      // Working days in a year without an official schedule count Monday–Friday only: say so, and how to load one.
      const cal = await calendarWarningFor(store, [asOf]);
      if (cal) ctx.log(`fiscus: warning: ${cal}`);
      if (summary.totals.errors > 0) {
        throw new FiscusError(`${summary.totals.errors} rule(s) failed; the others ran and their flags are stored (${summary.totals.errors} 条规则出错)`);
      }
    });

  rules
    .command('list')
    .description('list the rules: id, version, status, severity, title, source')
    .option('--rules-dir <dir>', "an analyst's folder of *.rule.yaml")
    .option('--config <file>', 'deployment config (effective severity, enabled)')
    .addOption(new Option('--format <format>', 'table | csv | json | jsonl').choices(['table', 'csv', 'json', 'jsonl'] as const).default('table' as const))
    .action(async (opts) => {
      const { rules: loaded } = await ruleSet(opts);
      const rows = loaded.map((r) => ({
        id: r.def.meta.id,
        version: r.def.meta.version,
        status: r.def.meta.status,
        severity: r.severity,
        enabled: r.enabled,
        title: r.def.meta.title.zh,
        source: r.def.meta.source.builtin ? 'builtin' : r.def.meta.source.file,
      }));
      ctx.io.out(formatRows(rows, opts.format, ['id', 'version', 'status', 'severity', 'enabled', 'title', 'source']));
    });

  rules
    .command('show')
    .description('a rule\'s envelope and its parameters with their effective values')
    .argument('<id>', 'rule id, e.g. treasury.split_payment')
    .option('--rules-dir <dir>', "an analyst's folder of *.rule.yaml")
    .option('--config <file>', 'deployment config')
    .addOption(formatOpt())
    .action(async (id, opts) => {
      const { rules: loaded } = await ruleSet(opts);
      const r = one(loaded, id);
      const compiled = await compileLoaded(r);
      const m = r.def.meta;
      const params = m.params.map((p) => ({
        name: p.name,
        type: p.type,
        default: p.default,
        effective: compiled.params[`p_${p.name}`] ?? p.default,
        overridden: Object.hasOwn(r.params, p.name),
        description: p.description ?? '',
      }));
      // The description with the effective parameter values filled in ({window_days} → 7).
      const filled = (s: string) => fillParams(s, params.map((p) => ({ name: p.name, type: p.type, value: p.effective })));
      const description = { zh: filled(m.description.zh ?? ''), en: filled(m.description.en ?? '') };
      const envelope = {
        id: m.id, version: m.version, status: m.status, severity: m.severity, effective_severity: r.severity, enabled: r.enabled,
        title: m.title, title_template: m.titleTemplate, description, references: m.references,
        reads: m.reads, entity_type: m.entityType, scope: compiled.scope ?? null, source: m.source,
      };
      if (opts.format === 'json') {
        ctx.io.out(`${JSON.stringify({ ...envelope, params }, null, 2)}\n`);
        return;
      }
      const lines = [
        `${m.id} v${m.version} · ${m.status} · severity ${m.severity}${r.severity !== m.severity ? ` → ${r.severity} (config)` : ''}${r.enabled ? '' : ' · 已停用 disabled'}`,
        `${m.title.zh} / ${m.title.en}`,
        `title: ${m.titleTemplate.zh}`,
        `       ${m.titleTemplate.en}`,
        ...(description.zh ? [`${description.zh.trim()}`] : []),
        ...(description.en ? [`${description.en.trim()}`] : []),
        `reads: ${m.reads.join(', ')} · entity: ${m.entityType}${compiled.scope ? ` · scope: ${compiled.scope.table}.${compiled.scope.column}` : ''}`,
        ...(m.references.length ? [`references: ${m.references.join('; ')}`] : []),
        `source: ${m.source.builtin ? 'builtin ' : ''}${m.source.file}`,
        '',
        toTable(params.map((p) => ({ ...p, default: fmt(p.default), effective: `${fmt(p.effective)}${p.overridden ? ' (config)' : ''}` })), ['name', 'type', 'default', 'effective', 'description']).trimEnd(),
      ];
      ctx.io.out(`${lines.join('\n')}\n`);
    });

  rules
    .command('explain')
    .description('the SQL a rule compiles to, its preconditions and the bound parameters')
    .argument('<id>', 'rule id')
    .option('--as-of <date>', 'as-of date to show bound (default: today in Asia/Shanghai)')
    .option('--rules-dir <dir>', "an analyst's folder of *.rule.yaml")
    .option('--config <file>', 'deployment config')
    .addOption(formatOpt())
    .action(async (id, opts) => {
      const asOf = checkDate(opts.asOf ?? todayInShanghai(), '--as-of');
      const { rules: loaded } = await ruleSet(opts);
      const compiled = await compileLoaded(one(loaded, id), {}, engineOf(ctx.dbPath));
      const bindings = describeBindings(compiled, { asOf, scope: compiled.scope ? null : undefined });
      if (opts.format === 'json') {
        ctx.io.out(`${JSON.stringify({ rule_id: id, sql: compiled.sql, params: bindings, preconditions: compiled.preconditions, scope: compiled.scope ?? null, delta: compiled.delta ?? null }, null, 2)}\n`);
        return;
      }
      const lines = [
        `-- ${id} as of ${asOf}`,
        `-- parameters: ${bindings.map((b) => `$${b.name} ${b.type} = ${b.value}`).join(', ')}`,
        ...compiled.preconditions.map((p) => `-- precondition (${p.reason}):\n--   ${p.sql.replaceAll('\n', '\n--   ')}`),
        compiled.sql.trim(),
        ...(compiled.delta
          ? [`-- delta variant, after batches that touch only ${Object.keys(compiled.delta.tables).join(', ')}: only the key tuples of (${compiled.delta.keys.join(', ')}) the new batches ($delta_batches) touched${compiled.delta.window ? `, and the windows starting within the window's length of the first and last ${compiled.delta.window.column} they touched ($delta_dates)` : ''}:\n--   ${compiled.delta.sql.trim().replaceAll('\n', '\n--   ')}`]
          : []),
      ];
      ctx.io.out(`${lines.join('\n')}\n`);
    });

  rules
    .command('check')
    .description('check rule files without running them: every mistake of every file (code, file:line:col), warnings too; exit 1 on errors')
    .option('--rules-dir <dir>', "an analyst's folder of *.rule.yaml")
    .option('--no-builtin', 'only the --rules-dir rules, not the built-in pack')
    .addOption(new Option('--dialect <engine>', 'the SQL engine to check for').choices(['duckdb', 'postgres'] as const))
    .addOption(formatOpt())
    .action(async (opts) => {
      const dialect = opts.dialect ?? engineOf(ctx.dbPath);
      const diagnostics = await language.checkRuleFiles({ builtin: opts.builtin, rulesDir: opts.rulesDir, dialect });
      const errors = diagnostics.filter((d) => d.severity === 'error').length;
      if (opts.format === 'json') ctx.io.out(`${JSON.stringify(diagnostics.map((d) => d.toJSON()), null, 2)}\n`);
      else {
        for (const d of diagnostics) ctx.io.out(`${d.message}  [${d.diagnostic}]\n`);
        ctx.io.out(`${errors} error(s), ${diagnostics.length - errors} warning(s) (${dialect}) / 错误 ${errors}，警告 ${diagnostics.length - errors}\n`);
      }
      if (errors) throw new FiscusError(`${errors} error(s) in rule files`);
    });

  rules
    .command('test')
    .description('run the rules\' test cases (rules/pack/**/*.test.yaml and --rules-dir); exit 1 when any fails')
    .argument('[ids...]', 'only the test files of these rules')
    .option('--rules-dir <dir>', "an analyst's folder with *.rule.yaml and *.test.yaml")
    .addOption(new Option('--format <format>', 'table | json').choices(['table', 'json'] as const).default('table' as const))
    .action(async (ids, opts) => {
      let files = findTestFiles(PACK_DIR).map((f) => ({ f, builtin: true }));
      if (opts.rulesDir) files = [...files, ...findTestFiles(resolve(opts.rulesDir)).map((f) => ({ f, builtin: false }))];
      const wanted = new Set(ids);
      const results: CaseResult[] = [];
      const seen = new Set<string>();
      let ran = 0;
      for (const { f, builtin } of files) {
        const text = readFileSync(f, 'utf8');
        let parsed;
        try {
          parsed = parseRuleTestFile(f, text);
        } catch (err) {
          // A malformed test file fails on its own; the other files still run.
          if (wanted.size) continue;
          const r: CaseResult = { file: f, rule: '?', name: '(test file)', line: 1, pass: false, problems: [err instanceof Error ? err.message : String(err)], millis: 0 };
          if (opts.format === 'table') ctx.io.out(formatCaseResults([r]).split('\n').slice(0, -3).join('\n') + '\n');
          results.push(r);
          ran++;
          continue;
        }
        seen.add(parsed.rule);
        if (wanted.size && !wanted.has(parsed.rule)) continue;
        ran++;
        const rs = await runRuleTestFile(f, text, ruleBesideTest(f, builtin));
        if (opts.format === 'table') ctx.io.out(formatCaseResults(rs).split('\n').slice(0, -3).join('\n') + '\n');
        results.push(...rs);
      }
      for (const id of wanted) if (!seen.has(id)) throw new UsageError(`no test file for rule ${id}`);
      if (ran === 0) throw new UsageError(`no test files found${wanted.size ? ` for ${[...wanted].join(', ')}` : ''}`);
      const failed = results.filter((r) => !r.pass).length;
      if (opts.format === 'json') ctx.io.out(`${JSON.stringify(results, null, 2)}\n`);
      else ctx.io.out(`\n${results.length - failed} passed, ${failed} failed (${results.length} cases in ${ran} files) / 通过 ${results.length - failed}，失败 ${failed}\n`);
      if (failed) throw new FiscusError(`${failed} rule test case(s) failed`);
    });

  rules
    .command('backtest')
    .description('how many flags one rule would raise at each past as-of date (writes nothing)')
    .argument('<id>', 'rule id')
    .requiredOption('--from <date>', 'first date YYYY-MM-DD')
    .requiredOption('--to <date>', 'last date YYYY-MM-DD')
    .addOption(new Option('--every <step>', 'month | quarter: as-of at each month or quarter end').choices(['month', 'quarter'] as const).default('month' as const))
    .option('--rules-dir <dir>', "an analyst's folder of *.rule.yaml")
    .option('--config <file>', 'deployment config')
    .addOption(new Option('--format <format>', 'table | csv | json | jsonl').choices(['table', 'csv', 'json', 'jsonl'] as const).default('table' as const))
    .action(async (id, opts) => {
      const from = checkDate(opts.from, '--from');
      const to = checkDate(opts.to, '--to');
      if (from > to) throw new UsageError('--from must not be after --to');
      const dates = periodEnds(from, to, opts.every);
      if (dates.length > 240) throw new UsageError(`${dates.length} as-of dates: narrow --from/--to`);
      const { rules: loaded, config } = await ruleSet(opts);
      const compiled = await compileLoaded(one(loaded, id), {}, engineOf(ctx.dbPath));
      const store = await ctx.open();
      const rows = [];
      for (const asOf of dates) {
        const s = await runRules(store, [compiled], { asOf, config, dryRun: true });
        const o = s.rules[0]!;
        rows.push({
          as_of: asOf, flags: o.flags_raised, high: o.by_severity.high, medium: o.by_severity.medium, low: o.by_severity.low,
          suppressed: o.suppressed, note: o.outcome === 'evaluated' ? '' : `${o.outcome}: ${o.reason}`,
        });
      }
      ctx.io.out(formatRows(rows, opts.format, ['as_of', 'flags', 'high', 'medium', 'low', 'suppressed', 'note']));
      const cal = await calendarWarningFor(store, dates);
      if (cal) ctx.log(`fiscus: warning: ${cal}`);
    });
};

function fmt(v: unknown): string {
  return Array.isArray(v) ? v.join(', ') : String(v);
}

/** Month or quarter ends within [from, to]; `to` itself when none falls inside. */
export function periodEnds(from: string, to: string, every: 'month' | 'quarter'): string[] {
  const out: string[] = [];
  const [y0, m0] = from.split('-').map(Number) as [number, number];
  let y = y0;
  let m = m0;
  for (;;) {
    const end = new Date(Date.UTC(y, m, 0)).toISOString().slice(0, 10); // last day of month m
    if (end > to) break;
    if (end >= from && (every === 'month' || m % 3 === 0)) out.push(end);
    m++;
    if (m > 12) {
      m = 1;
      y++;
    }
  }
  return out.length ? out : [to];
}
