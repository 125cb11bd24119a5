/**
 * What a rule's input looked like, for the run summary: how many rows it read,
 * how many it could not judge because a figure it needs is missing (`requires:`
 * in the rule language, e.g. debt.ratio without fiscal_capacity), and whether it
 * flagged more than the configured share of its input rows (a warning that the
 * rule does not fit the data: no committee can work through such a list).
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import type { Store } from '../../engine/db.ts';
import type { CompiledRule } from '../types.ts';
import { queryRule } from './execute.ts';
import { RUN_DEFAULTS, type FiscusConfig } from './config.ts';

export interface NotJudged {
  table: string;
  /** Rows missing at least one of `columns`. */
  rows: number;
  /** Per required column: rows missing it. */
  columns: { column: string; rows: number }[];
}

export interface InputCounts {
  /** Rows of the rule's main input table visible at the as-of date (null when the rule declares no inputs). */
  input_rows: number | null;
  not_judged: NotJudged[];
}

/** Counts already read (or being read) in this run, by SQL text: most rules of a table share one input query. */
export type InputCountCache = Map<string, Promise<Record<string, unknown>>>;

export async function readInputCounts(
  store: Store, rule: CompiledRule, asOf: string, cache: InputCountCache = new Map(), via?: DuckDBConnection,
): Promise<InputCounts> {
  const out: InputCounts = { input_rows: null, not_judged: [] };
  for (const [i, input] of (rule.inputs ?? []).entries()) {
    // The SQL binds only $as_of (fixed for a run), so equal text means equal counts. The promise
    // is cached, so rules evaluated in parallel share one query; a failed one is not kept.
    let row = cache.get(input.sql);
    if (!row) {
      row = queryRule(store, rule, input, { asOf, scope: null }, via).then((r) => r.rows[0] ?? {});
      cache.set(input.sql, row);
      row.catch(() => cache.delete(input.sql));
    }
    const counts = await row;
    const n = (k: string) => Number(counts[k] ?? 0);
    if (i === 0) out.input_rows = n('rows');
    if (input.requires.length && n('not_judged') > 0) {
      out.not_judged.push({
        table: input.table,
        rows: n('not_judged'),
        columns: input.requires.map((c) => ({ column: c, rows: n(`missing_${c}`) })).filter((c) => c.rows > 0),
      });
    }
  }
  return out;
}

/** "5 行未判断：缺少 fiscal_capacity / 5 rows not judged: fiscal_capacity missing" */
export function notJudgedNote(nj: NotJudged): string {
  if (nj.columns.length === 1) {
    const c = nj.columns[0]!.column;
    return `${nj.rows} 行未判断：缺少 ${c} / ${nj.rows} rows not judged: ${c} missing`;
  }
  const zh = nj.columns.map((c) => `${c.column} ${c.rows} 行`).join('，');
  const en = nj.columns.map((c) => `${c.column} missing (${c.rows})`).join(', ');
  return `${nj.rows} 行未判断：缺少 ${zh} / ${nj.rows} rows not judged: ${en}`;
}

export interface ShareWarning {
  rule_id: string;
  flags: number;
  input_rows: number;
  /** Percent of the input rows flagged, rounded to 2 decimals. */
  share_pct: number;
  limit_pct: number;
  /** The config key that changes the limit for this rule. */
  config_key: string;
  message: string;
}

/**
 * A warning when `flags` exceed the rule's share limit of `inputRows` (config
 * `rules.<id>.warn_flag_share_pct`, else `run.warn_flag_share_pct`, default 2%).
 * Inputs below `run.warn_min_input_rows` (default 100) are never judged.
 */
export function shareWarning(ruleId: string, flags: number, inputRows: number | null, config: FiscusConfig): ShareWarning | null {
  const run = config.run ?? RUN_DEFAULTS;
  if (inputRows === null || inputRows <= 0 || inputRows < run.warn_min_input_rows) return null;
  const limit = config.rules[ruleId]?.warn_flag_share_pct ?? run.warn_flag_share_pct;
  // flags / rows > limit / 100, in integers: no floating-point edge at exactly the limit.
  if (flags * 100 * 1_000_000 <= Math.round(limit * 1_000_000) * inputRows) return null;
  const share = Math.round((flags * 10_000) / inputRows) / 100;
  const key = `rules.${ruleId}.warn_flag_share_pct`;
  return {
    rule_id: ruleId, flags, input_rows: inputRows, share_pct: share, limit_pct: limit, config_key: key,
    message:
      `规则 ${ruleId} 预警 ${flags} 条，占其输入 ${inputRows} 行的 ${share}%，超过 ${limit}%：请检查规则是否适合本地数据，` +
      `或在部署配置中设置 ${key}（全局：run.warn_flag_share_pct） / ` +
      `rule ${ruleId} flagged ${flags} of its ${inputRows} input rows (${share}%), more than ${limit}%: check that the rule fits ` +
      `this data, or set ${key} in the deployment config (for every rule: run.warn_flag_share_pct)`,
  };
}

/** The parts of a rule's outcome this module reads and fills (see RuleOutcome in runner.ts). */
export interface OutcomeInputs {
  outcome: 'evaluated' | 'skipped' | 'error';
  mode: 'full' | 'incremental' | 'delta' | 'unchanged' | null;
  reason: string | null;
  flags_raised: number;
  input_rows: number | null;
  not_judged: NotJudged[];
}

/** Whether the run counts this outcome's input: it was evaluated, or found unchanged (its flags stand). */
export function countsInputs(rule: CompiledRule, out: OutcomeInputs): boolean {
  return (out.outcome === 'evaluated' || out.mode === 'unchanged') && Boolean(rule.inputs?.length);
}

/**
 * While the rule is evaluated (reads only): count its input and note the rows it did not judge
 * in its reason. A failed count is noted, never fails the rule. Returns whether counts were read.
 */
export async function noteInputCounts(
  store: Store, rule: CompiledRule, out: OutcomeInputs, asOf: string, cache?: InputCountCache, via?: DuckDBConnection,
): Promise<boolean> {
  if (!countsInputs(rule, out)) return false;
  let counts: InputCounts;
  try {
    counts = await readInputCounts(store, rule, asOf, cache, via);
  } catch (err) {
    // The rule itself ran and its flags are stored: say the counts failed, do not fail the rule.
    const note = `输入计数失败 / input counts failed: ${err instanceof Error ? err.message : String(err)}`;
    out.reason = out.reason ? `${out.reason}; ${note}` : note;
    return false;
  }
  out.input_rows = counts.input_rows;
  out.not_judged = counts.not_judged;
  const notes = counts.not_judged.map(notJudgedNote);
  if (notes.length) out.reason = [...notes, ...(out.reason ? [out.reason] : [])].join('; ');
  return true;
}

/**
 * After the rule's flags are stored: the share warning if it flagged too much of its counted input.
 * An incremental or delta run raised only its partitions' (keys') flags: the rule's standing total is what counts.
 */
export async function inputShareWarning(store: Store, rule: CompiledRule, out: OutcomeInputs, config: FiscusConfig): Promise<ShareWarning | null> {
  if (out.input_rows === null || out.outcome === 'error') return null;
  let flags = out.flags_raised;
  if (out.mode === 'incremental' || out.mode === 'delta') {
    const r = await store.one<{ n: string | number }>('SELECT count(*) AS n FROM fiscus.flags WHERE rule_id = $r AND reproduced', { r: rule.meta.id });
    flags = Number(r?.n ?? 0);
  }
  return shareWarning(rule.meta.id, flags, out.input_rows, config);
}
