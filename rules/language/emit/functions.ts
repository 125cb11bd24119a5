/**
 * How each function of the language (check/functions.ts) and each internal one the
 * checker builds (`add_days`, `add_workdays`, `days_between`, `workdays_between`, `nullif_zero`)
 * is written, through the dialect. `a` are the rendered arguments, `t` their IR nodes (for
 * types), `filter` an aggregate filter for the functions that place it themselves.
 */
import type { Dialect } from '../dialects/types.ts';
import type { IR } from '../plan/types.ts';
import { isIntegerType, sqlTypeOf } from './types.ts';

type FnSql = (a: string[], d: Dialect, t: readonly IR[], filter?: string) => string;

/** How many decimals a value of this node's type can have: integers none, money 2 (the checker keeps money at fen), any other number 8. */
function decimalsOf(n: IR): number {
  return isIntegerType(n.type) ? 0 : n.type === 'money' ? 2 : 8;
}

/** The working-day ordinal of a date (fiscus_workdays CTE). */
const wd = (x: string) => `(SELECT w.ord FROM fiscus_workdays w WHERE w.day = ${x})`;

export const OWN_FILTER = new Set(['median', 'arg_max', 'arg_min']);

export const FUNCTION_SQL: Record<string, FnSql> = {
  sum: (a) => `sum(${a[0]})`,
  count: (a) => (a.length ? `count(${a[0]})` : 'count(*)'),
  count_distinct: (a) => `count(DISTINCT ${a[0]})`,
  min: (a) => `min(${a[0]})`,
  max: (a) => `max(${a[0]})`,
  any_value: (a) => `min(${a[0]})`,
  avg: (a) => `avg(${a[0]})`,
  median: (a, d, _t, f) => d.median(d.cast(a[0]!, 'number'), f),
  arg_max: (a, d, _t, f) => d.argMax(a[0]!, a[1]!, f),
  arg_min: (a, d, _t, f) => d.argMin(a[0]!, a[1]!, f),
  // Exact decimal, truncated at 10 places; rounded once where it is shown (issue 15: 398.568749… → 398.5687).
  pct: (a, d, t) => d.percent(a[0]!, a[1]!, [decimalsOf(t[0]!), decimalsOf(t[1]!)]),
  abs: (a) => `abs(${a[0]})`,
  round: (a, d, t) => d.round(a[0]!, a[1] ?? '0', sqlTypeOf(t[0]!.type)),
  floor: (a) => `floor(${a[0]})`,
  ceil: (a) => `ceil(${a[0]})`,
  sqrt: (a, d) => d.sqrt(a[0]!),
  ln: (a, d) => d.ln(d.cast(a[0]!, 'number')),
  log10: (a, d) => d.log10(d.cast(a[0]!, 'number')),
  first_digit: (a, d, t) => d.firstDigit(a[0]!, isIntegerType(t[0]!.type)),
  greatest: (a) => `greatest(${a.join(', ')})`,
  least: (a) => `least(${a.join(', ')})`,
  coalesce: (a) => `coalesce(${a.join(', ')})`,
  if: (a) => `CASE WHEN ${a[0]} THEN ${a[1]} ELSE ${a[2]} END`,
  year: (a, d) => d.year(a[0]!),
  month: (a, d) => d.month(a[0]!),
  quarter: (a, d) => d.quarter(a[0]!),
  day: (a, d) => d.day(a[0]!),
  day_of_year: (a, d) => d.dayOfYear(a[0]!),
  days_in_year: (a, d) => d.dayOfYear(d.makeDate(a[0]!, '12', '31')),
  year_start: (a, d) => d.makeDate(a[0]!, '1', '1'),
  year_end: (a, d) => d.makeDate(a[0]!, '12', '31'),
  make_date: (a, d) => d.makeDate(a[0]!, a[1]!, a[2]!),
  month_end: (a, d) => d.lastDayOfMonth(a[0]!),
  period_start: (a, d) => d.periodStart(a[0]!),
  period_end: (a, d) => d.lastDayOfMonth(d.periodStart(a[0]!)),
  days_between: (a, d) => d.daysBetween(a[0]!, a[1]!),
  workdays_between: (a) => `(${wd(a[1]!)} - ${wd(a[0]!)})`,
  add_workdays: (a) => `(SELECT min(w2.day) FROM fiscus_workdays w2 WHERE w2.is_workday AND w2.ord = ${wd(a[0]!)} + ${a[1]})`,
  // Two uncorrelated IN lists rather than the calendar's row of that day: DuckDB decorrelated the
  // per-row lookup into a delim join over the rows' dates, where an IN list is one hash probe
  // into ~3k days (treasury.nonworking_day's query at 10M payments: 225 -> 151 ms; at 100k
  // 8.7 -> 5.5 ms). The calendar's day is its primary key, so a day is in at most one list; a
  // day in neither is Monday to Friday (test/rules/language/is-workday.test.ts).
  is_workday: (a, d) => `(CASE WHEN ${a[0]} IN (SELECT w.day FROM fiscus_workdays w WHERE w.is_workday) THEN true`
    + ` WHEN ${a[0]} IN (SELECT w.day FROM fiscus_workdays w WHERE NOT w.is_workday) THEN false ELSE ${d.isoDow(a[0]!)} <= 5 END)`,
  starts_with: (a, d) => d.startsWith(a[0]!, a[1]!),
  ends_with: (a, d) => d.endsWith(a[0]!, a[1]!),
  contains: (a, d) => d.contains(a[0]!, a[1]!),
  left: (a, d) => d.left(a[0]!, a[1]!),
  length: (a) => `length(${a[0]})`,
  text: (a, d) => d.cast(a[0]!, 'string'),
  blank: (a) => `(${a[0]} IS NULL OR trim(${a[0]}) = '')`,
  // internal: built by the checker, not callable from rules
  add_days: (a, d) => d.addDays(a[0]!, a[1]!),
  to_double: (a, d) => d.cast(a[0]!, 'number'),
  /** `(a / NULLIF(b, 0))` without float casts (robust z). */
  nullif_div: (a) => `(${a[0]} / NULLIF(${a[1]}, 0))`,
  /** A deadline's due date in working days: the n-th working day after the start. */
  due_workdays: (a) => `(SELECT min(w2.day) FROM fiscus_workdays w2 WHERE w2.is_workday AND w2.ord = ${wd(a[0]!)} + ${a[1]})`,
  /** Working days from a to b (deadline `elapsed`). */
  elapsed_workdays: (a) => `(${wd(a[1]!)} - ${wd(a[0]!)})`,
};
