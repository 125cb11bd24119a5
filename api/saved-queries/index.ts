/**
 * Saved named queries for the standard analyses (DOMAIN.md: 预算执行进度, 月度支出,
 * 四本账, 债务指标). Each lives next to this file in `<name>.ts`: one SELECT with `$param`
 * placeholders, rendered in the Store's engine's SQL (the few things DuckDB and PostgreSQL
 * write differently — the float type, rounding a float, a month's text — come from
 * engine/sql-dialect.ts), so the same analysis gives the same figures on both engines.
 */
import { isIsoDate } from '../../engine/dates.ts';
import type { EngineSql } from '../../engine/sql-dialect.ts';
import { HttpProblem } from '../problem.ts';
import type { QueryParamValue } from '../query-exec.ts';
import budgetExecution from './budget_execution.ts';
import debtIndicators from './debt_indicators.ts';
import fourBooks from './four_books.ts';
import spendingByMonth from './spending_by_month.ts';

export interface SavedParam {
  name: string;
  type: 'integer' | 'date' | 'string';
  required: boolean;
  default?: string | number | null;
  description: string;
}

export interface SavedQuery {
  name: string;
  title: string;
  title_en: string;
  params: SavedParam[];
  /** The SQL in an engine's dialect. */
  sql: (d: EngineSql) => string;
}

const year: SavedParam = { name: 'fiscal_year', type: 'integer', required: true, description: '预算年度 fiscal year' };
const region: SavedParam = { name: 'region', type: 'string', required: false, default: null, description: '区划代码 region code (all when omitted)' };

function def(name: string, title: string, title_en: string, params: SavedParam[], sql: (d: EngineSql) => string): SavedQuery {
  return { name, title, title_en, params, sql };
}

export const SAVED_QUERIES: readonly SavedQuery[] = [
  def('budget_execution', '预算执行进度（对照时间进度）', 'Budget execution by agency against time progress', [
    year,
    { name: 'as_of', type: 'date', required: true, description: '截至日期 as-of date (YYYY-MM-DD)' },
    region,
    { name: 'fund_source', type: 'string', required: false, default: 'general', description: 'fund_source (default general 一般公共预算; null = all)' },
  ], budgetExecution),
  def('spending_by_month', '月度支出', 'Spending by month', [
    year,
    { name: 'agency', type: 'string', required: false, default: null, description: '单位代码 agency code' },
    region,
    { name: 'fund_source', type: 'string', required: false, default: null, description: 'fund_source filter' },
  ], spendingByMonth),
  def('four_books', '四本账', 'The four books (by fund_source)', [
    year,
    { name: 'as_of', type: 'date', required: false, default: null, description: '截至日期 (default: Dec 31 of the year)' },
    region,
  ], fourBooks),
  def('debt_indicators', '政府债务指标', 'Debt indicators by region', [
    { ...year, required: false, default: null, description: 'fiscal year (all when omitted)' },
    { ...region, description: 'region code; includes its direct children' },
  ], debtIndicators),
];

export function savedQuery(name: string): SavedQuery | undefined {
  return SAVED_QUERIES.find((q) => q.name === name);
}

/** Check and complete the caller's parameters against the query's declaration. */
export function resolveSavedParams(q: SavedQuery, given: Record<string, unknown>): Record<string, QueryParamValue> {
  const out: Record<string, QueryParamValue> = {};
  for (const k of Object.keys(given)) {
    if (!q.params.some((p) => p.name === k)) {
      throw new HttpProblem(400, 'VALIDATION', `${q.name} has no parameter "${k}"; it takes ${q.params.map((p) => p.name).join(', ')}`);
    }
  }
  for (const p of q.params) {
    const v = given[p.name];
    if (v === undefined || v === null || v === '') {
      if (p.required) throw new HttpProblem(400, 'VALIDATION', `${q.name} needs parameter "${p.name}" (${p.description})`);
      out[p.name] = v === null ? null : (p.default ?? null);
      continue;
    }
    if (p.type === 'integer') {
      const n = typeof v === 'number' ? v : typeof v === 'string' && /^-?\d+$/.test(v) ? Number(v) : NaN;
      if (!Number.isSafeInteger(n)) throw new HttpProblem(400, 'VALIDATION', `${p.name} must be an integer`);
      out[p.name] = n;
    } else if (p.type === 'date') {
      if (!isIsoDate(v)) {
        throw new HttpProblem(400, 'VALIDATION', `${p.name} must be a date YYYY-MM-DD`);
      }
      out[p.name] = v;
    } else {
      if (typeof v !== 'string' && typeof v !== 'number') throw new HttpProblem(400, 'VALIDATION', `${p.name} must be a string`);
      out[p.name] = String(v);
    }
  }
  return out;
}
