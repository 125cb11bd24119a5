/**
 * The functions of the expression language: arity and type rules (checking side).
 * How each is written in SQL is emit/functions.ts, through the dialect.
 */
import { describeType, isNumeric, type VType } from '../scope.ts';

/** What the type rules see of an argument. */
export interface ArgInfo {
  type: VType;
}

export interface FnSpec {
  agg?: boolean;
  /** [min, max] argument count */
  arity: [number, number];
  check(args: ArgInfo[], fail: (i: number, msg: string) => never): VType;
  doc: string;
  /** Uses the PRC working-day calendar. */
  workdays?: boolean;
}

const num = (i: number) => (args: ArgInfo[], fail: (i: number, m: string) => never) => {
  if (!isNumeric(args[i].type)) fail(i, `expects a number, got ${describeType(args[i].type)}`);
};
const dateArg = (args: ArgInfo[], i: number, fail: (i: number, m: string) => never) => {
  if (args[i].type !== 'date' && args[i].type !== 'null') fail(i, `expects a date, got ${describeType(args[i].type)}`);
};
const strArg = (args: ArgInfo[], i: number, fail: (i: number, m: string) => never) => {
  if (args[i].type !== 'string' && args[i].type !== 'null') fail(i, `expects text, got ${describeType(args[i].type)}`);
};
export function numResult(ts: VType[]): VType {
  if (ts.includes('number')) return 'number';
  if (ts.includes('money')) return 'money';
  return 'integer';
}
export const FUNCTIONS: Record<string, FnSpec> = {
  sum: { agg: true, arity: [1, 1], doc: 'sum of a number', check: (a, f) => (num(0)(a, f), a[0].type === 'null' ? 'number' : a[0].type) },
  count: { agg: true, arity: [0, 1], doc: 'number of rows (or of non-null values)', check: () => 'integer' },
  count_distinct: { agg: true, arity: [1, 1], doc: 'number of distinct values', check: () => 'integer' },
  min: { agg: true, arity: [1, 1], doc: 'smallest value', check: (a) => a[0].type },
  max: { agg: true, arity: [1, 1], doc: 'largest value', check: (a) => a[0].type },
  any_value: { agg: true, arity: [1, 1], doc: 'one of the values (for columns equal in the group)', check: (a) => a[0].type },
  avg: { agg: true, arity: [1, 1], doc: 'mean', check: (a, f) => (num(0)(a, f), 'number') },
  median: { agg: true, arity: [1, 1], doc: 'median', check: (a, f) => (num(0)(a, f), 'number') },
  arg_max: {
    agg: true, arity: [2, 2], doc: 'arg_max(x, by): x of the row with the largest `by`',
    check: (a) => a[0].type },
  arg_min: {
    agg: true, arity: [2, 2], doc: 'arg_min(x, by): x of the row with the smallest `by`',
    check: (a) => a[0].type },
  pct: {
    arity: [2, 2], doc: 'pct(a, b) = a / b × 100 as an exact decimal (10 places; rounded once where shown; null when b = 0)',
    check: (a, f) => (num(0)(a, f), num(1)(a, f), 'number') },
  abs: { arity: [1, 1], doc: 'absolute value', check: (a, f) => (num(0)(a, f), a[0].type) },
  round: {
    arity: [1, 2], doc: 'round(x, digits)',
    check: (a, f) => (num(0)(a, f), a.length > 1 && a[1].type !== 'integer' && f(1, 'digits must be an integer'), a[0].type) },
  floor: { arity: [1, 1], doc: 'round down', check: (a, f) => (num(0)(a, f), a[0].type) },
  ceil: { arity: [1, 1], doc: 'round up', check: (a, f) => (num(0)(a, f), a[0].type) },
  sqrt: { arity: [1, 1], doc: 'square root', check: (a, f) => (num(0)(a, f), 'number') },
  ln: { arity: [1, 1], doc: 'natural logarithm (null for x ≤ 0)', check: (a, f) => (num(0)(a, f), 'number') },
  log10: { arity: [1, 1], doc: 'base-10 logarithm (null for x ≤ 0)', check: (a, f) => (num(0)(a, f), 'number') },
  first_digit: { arity: [1, 1], doc: 'leading digit 1–9 of |x| (null below 1)', check: (a, f) => (num(0)(a, f), 'integer') },
  greatest: { arity: [2, 9], doc: 'largest argument', check: (a, f) => sameFamily(a, f) },
  least: { arity: [2, 9], doc: 'smallest argument', check: (a, f) => sameFamily(a, f) },
  coalesce: { arity: [2, 9], doc: 'first non-null argument', check: (a, f) => sameFamily(a, f) },
  if: {
    arity: [3, 3], doc: 'if(condition, then, else)',
    check: (a, f) => {
      if (a[0].type !== 'boolean') f(0, `the condition must be true/false, got ${describeType(a[0].type)}`);
      return sameFamily(a.slice(1), (i, m) => f(i + 1, m));
    } },
  year: { arity: [1, 1], doc: 'year of a date', check: (a, f) => (dateArg(a, 0, f), 'integer') },
  month: { arity: [1, 1], doc: 'month 1–12', check: (a, f) => (dateArg(a, 0, f), 'integer') },
  quarter: { arity: [1, 1], doc: 'quarter 1–4', check: (a, f) => (dateArg(a, 0, f), 'integer') },
  day: { arity: [1, 1], doc: 'day of month', check: (a, f) => (dateArg(a, 0, f), 'integer') },
  day_of_year: { arity: [1, 1], doc: 'day of the year, 1 = Jan 1', check: (a, f) => (dateArg(a, 0, f), 'integer') },
  days_in_year: {
    arity: [1, 1], doc: 'days in a year (365/366)',
    check: (a, f) => (a[0].type !== 'integer' && f(0, 'expects a year (integer)'), 'integer') },
  year_start: { arity: [1, 1], doc: 'Jan 1 of a year', check: (a, f) => (a[0].type !== 'integer' && f(0, 'expects a year (integer)'), 'date') },
  year_end: { arity: [1, 1], doc: 'Dec 31 of a year', check: (a, f) => (a[0].type !== 'integer' && f(0, 'expects a year (integer)'), 'date') },
  make_date: {
    arity: [3, 3], doc: 'make_date(year, month, day)',
    check: (a, f) => (a.forEach((x, i) => x.type !== 'integer' && f(i, 'expects an integer')), 'date') },
  month_end: { arity: [1, 1], doc: 'last day of the month of a date', check: (a, f) => (dateArg(a, 0, f), 'date') },
  period_start: { arity: [1, 1], doc: "first day of a 'YYYY-MM' period", check: (a, f) => (strArg(a, 0, f), 'date') },
  period_end: { arity: [1, 1], doc: "last day of a 'YYYY-MM' period", check: (a, f) => (strArg(a, 0, f), 'date') },
  days_between: {
    arity: [2, 2], doc: 'calendar days from a to b (b − a)',
    check: (a, f) => (dateArg(a, 0, f), dateArg(a, 1, f), 'integer') },
  workdays_between: {
    arity: [2, 2], doc: 'working days after a up to and including b (fiscus.calendar_days)',
    check: (a, f) => (dateArg(a, 0, f), dateArg(a, 1, f), 'integer') },
  add_workdays: {
    arity: [2, 2], doc: 'the n-th working day after a date',
    check: (a, f) => (dateArg(a, 0, f), a[1].type !== 'integer' && f(1, 'expects an integer'), 'date') },
  is_workday: {
    arity: [1, 1], doc: 'true on PRC working days (holidays and 调休 from fiscus.calendar_days)',
    check: (a, f) => (dateArg(a, 0, f), 'boolean') },
  starts_with: {
    arity: [2, 2], doc: 'text starts with a prefix',
    check: (a, f) => (strArg(a, 0, f), strArg(a, 1, f), 'boolean') },
  ends_with: { arity: [2, 2], doc: 'text ends with a suffix', check: (a, f) => (strArg(a, 0, f), strArg(a, 1, f), 'boolean') },
  contains: { arity: [2, 2], doc: 'text contains a part', check: (a, f) => (strArg(a, 0, f), strArg(a, 1, f), 'boolean') },
  left: {
    arity: [2, 2], doc: 'the first n characters (e.g. the 类 of a code: left(econ_code, 3))',
    check: (a, f) => (strArg(a, 0, f), a[1].type !== 'integer' && f(1, 'expects a whole number'), 'string') },
  length: { arity: [1, 1], doc: 'number of characters', check: (a, f) => (strArg(a, 0, f), 'integer') },
  text: { arity: [1, 1], doc: 'any value as text', check: () => 'string' },
  blank: { arity: [1, 1], doc: 'null or empty text', check: (a, f) => (strArg(a, 0, f), 'boolean') } };
function sameFamily(a: ArgInfo[], f: (i: number, m: string) => never): VType {
  const ts = a.map((x) => x.type).filter((t) => t !== 'null');
  if (ts.length === 0) return 'null';
  if (ts.every(isNumeric)) return numResult(ts);
  const first = ts[0];
  ts.forEach((t, i) => {
    if (t !== first) f(a.findIndex((x) => x.type === t), `mixes ${describeType(first)} and ${describeType(t)}`);
  });
  return first;
}
for (const n of ['workdays_between', 'add_workdays', 'is_workday']) FUNCTIONS[n]!.workdays = true;
