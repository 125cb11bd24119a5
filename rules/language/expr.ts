/**
 * Type-check an expression against a scope and translate it to SQL.
 * Column references are checked against the feed catalogue (engine/feeds.ts).
 */
import { FEEDS, feedTable, type TableDef } from '../../engine/feeds.ts';
import type { RuleParamDef } from '../types.ts';
import type { Expr, ExprSource } from './ast.ts';
import { PARAM_MARK, type Dialect as SqlDialect, type SqlType } from './dialects/types.ts';
import { RuleError, didYouMean } from './errors.ts';
import { colVType, describeType, isNumeric, newScope, type Scope, type TableBinding, type Typed, type VType } from './scope.ts';

export interface CompileCtx {
  dialect: SqlDialect;
  params: Map<string, RuleParamDef>;
  usedParams: Set<string>;
  /** Tables used anywhere, with the position of first use (for the `reads` check). */
  usedTables: Map<string, { file: string; line: number; column: number; required: boolean }>;
  needsWorkdays: boolean;
  /** Filter restricting a table to what is visible at the as-of date (or null). */
  asOfFilter(def: TableDef, alias: string): string | null;
  aliasCounter: number;
  /** When set, column references are redirected (the window kind reads columns from a CTE). */
  columnRewrite?: (alias: string, sqlAlias: string, col: string) => string;
}

export function paramVType(p: RuleParamDef): VType {
  switch (p.type) {
    case 'money':
      return 'money';
    case 'number':
    case 'percent':
      return 'number';
    case 'integer':
    case 'days':
      return 'integer';
    case 'string':
      return 'string';
    case 'date':
      return 'date';
    case 'boolean':
      return 'boolean';
    case 'list':
      return 'list';
  }
}

export function sqlTypeOf(t: VType): SqlType {
  return t === 'null' || t === 'days' || t === 'workdays' || t === 'list' ? 'string' : t;
}

interface FnSpec {
  agg?: boolean;
  /** The dialect applies an aggregate filter itself (`sql` gets it as `filter`). */
  ownFilter?: boolean;
  /** [min, max] argument count */
  arity: [number, number];
  check(args: Typed[], fail: (i: number, msg: string) => never): VType;
  sql(args: string[], d: SqlDialect, ctx: CompileCtx, typed: Typed[], filter?: string): string;
  doc: string;
}

const num = (i: number) => (args: Typed[], fail: (i: number, m: string) => never) => {
  if (!isNumeric(args[i].type)) fail(i, `expects a number, got ${describeType(args[i].type)}`);
};
const dateArg = (args: Typed[], i: number, fail: (i: number, m: string) => never) => {
  if (args[i].type !== 'date' && args[i].type !== 'null') fail(i, `expects a date, got ${describeType(args[i].type)}`);
};
const strArg = (args: Typed[], i: number, fail: (i: number, m: string) => never) => {
  if (args[i].type !== 'string' && args[i].type !== 'null') fail(i, `expects text, got ${describeType(args[i].type)}`);
};
function numResult(ts: VType[]): VType {
  if (ts.includes('number')) return 'number';
  if (ts.includes('money')) return 'money';
  return 'integer';
}
function wd(ctx: CompileCtx, d: string): string {
  ctx.needsWorkdays = true;
  return `(SELECT w.ord FROM fiscus_workdays w WHERE w.day = ${d})`;
}

export const FUNCTIONS: Record<string, FnSpec> = {
  sum: { agg: true, arity: [1, 1], doc: 'sum of a number', check: (a, f) => (num(0)(a, f), a[0].type === 'null' ? 'number' : a[0].type), sql: (a) => `sum(${a[0]})` },
  count: { agg: true, arity: [0, 1], doc: 'number of rows (or of non-null values)', check: () => 'integer', sql: (a) => (a.length ? `count(${a[0]})` : 'count(*)') },
  count_distinct: { agg: true, arity: [1, 1], doc: 'number of distinct values', check: () => 'integer', sql: (a) => `count(DISTINCT ${a[0]})` },
  min: { agg: true, arity: [1, 1], doc: 'smallest value', check: (a) => a[0].type, sql: (a) => `min(${a[0]})` },
  max: { agg: true, arity: [1, 1], doc: 'largest value', check: (a) => a[0].type, sql: (a) => `max(${a[0]})` },
  any_value: { agg: true, arity: [1, 1], doc: 'one of the values (for columns equal in the group)', check: (a) => a[0].type, sql: (a) => `min(${a[0]})` },
  avg: { agg: true, arity: [1, 1], doc: 'mean', check: (a, f) => (num(0)(a, f), 'number'), sql: (a) => `avg(${a[0]})` },
  median: { agg: true, ownFilter: true, arity: [1, 1], doc: 'median', check: (a, f) => (num(0)(a, f), 'number'), sql: (a, d, _c, _t, w) => d.median(d.cast(a[0], 'number'), w) },
  arg_max: {
    agg: true, ownFilter: true, arity: [2, 2], doc: 'arg_max(x, by): x of the row with the largest `by`',
    check: (a) => a[0].type, sql: (a, d, _c, _t, w) => d.argMax(a[0], a[1], w),
  },
  arg_min: {
    agg: true, ownFilter: true, arity: [2, 2], doc: 'arg_min(x, by): x of the row with the smallest `by`',
    check: (a) => a[0].type, sql: (a, d, _c, _t, w) => d.argMin(a[0], a[1], w),
  },
  pct: {
    arity: [2, 2], doc: 'pct(a, b) = a / b × 100, rounded to 6 decimals (null when b = 0)',
    check: (a, f) => (num(0)(a, f), num(1)(a, f), 'number'),
    sql: (a, d) => d.round(`${d.cast(a[0], 'number')} * 100 / NULLIF(${d.cast(a[1], 'number')}, 0)`, '6', 'number'),
  },
  abs: { arity: [1, 1], doc: 'absolute value', check: (a, f) => (num(0)(a, f), a[0].type), sql: (a) => `abs(${a[0]})` },
  round: {
    arity: [1, 2], doc: 'round(x, digits)',
    check: (a, f) => (num(0)(a, f), a.length > 1 && a[1].type !== 'integer' && f(1, 'digits must be an integer'), a[0].type),
    sql: (a, d, _c, t) => d.round(a[0], a[1] ?? '0', sqlTypeOf(t[0].type)),
  },
  floor: { arity: [1, 1], doc: 'round down', check: (a, f) => (num(0)(a, f), a[0].type), sql: (a) => `floor(${a[0]})` },
  ceil: { arity: [1, 1], doc: 'round up', check: (a, f) => (num(0)(a, f), a[0].type), sql: (a) => `ceil(${a[0]})` },
  sqrt: { arity: [1, 1], doc: 'square root', check: (a, f) => (num(0)(a, f), 'number'), sql: (a, d) => d.sqrt(a[0]) },
  ln: { arity: [1, 1], doc: 'natural logarithm (null for x ≤ 0)', check: (a, f) => (num(0)(a, f), 'number'), sql: (a, d) => d.ln(d.cast(a[0], 'number')) },
  log10: { arity: [1, 1], doc: 'base-10 logarithm (null for x ≤ 0)', check: (a, f) => (num(0)(a, f), 'number'), sql: (a, d) => d.log10(d.cast(a[0], 'number')) },
  first_digit: { arity: [1, 1], doc: 'leading digit 1–9 of |x| (null below 1)', check: (a, f) => (num(0)(a, f), 'integer'), sql: (a, d) => d.firstDigit(a[0]) },
  greatest: { arity: [2, 9], doc: 'largest argument', check: (a, f) => sameFamily(a, f), sql: (a) => `greatest(${a.join(', ')})` },
  least: { arity: [2, 9], doc: 'smallest argument', check: (a, f) => sameFamily(a, f), sql: (a) => `least(${a.join(', ')})` },
  coalesce: { arity: [2, 9], doc: 'first non-null argument', check: (a, f) => sameFamily(a, f), sql: (a) => `coalesce(${a.join(', ')})` },
  if: {
    arity: [3, 3], doc: 'if(condition, then, else)',
    check: (a, f) => {
      if (a[0].type !== 'boolean') f(0, `the condition must be true/false, got ${describeType(a[0].type)}`);
      return sameFamily(a.slice(1), (i, m) => f(i + 1, m));
    },
    sql: (a) => `CASE WHEN ${a[0]} THEN ${a[1]} ELSE ${a[2]} END`,
  },
  year: { arity: [1, 1], doc: 'year of a date', check: (a, f) => (dateArg(a, 0, f), 'integer'), sql: (a, d) => d.year(a[0]) },
  month: { arity: [1, 1], doc: 'month 1–12', check: (a, f) => (dateArg(a, 0, f), 'integer'), sql: (a, d) => d.month(a[0]) },
  quarter: { arity: [1, 1], doc: 'quarter 1–4', check: (a, f) => (dateArg(a, 0, f), 'integer'), sql: (a, d) => d.quarter(a[0]) },
  day: { arity: [1, 1], doc: 'day of month', check: (a, f) => (dateArg(a, 0, f), 'integer'), sql: (a, d) => d.day(a[0]) },
  day_of_year: { arity: [1, 1], doc: 'day of the year, 1 = Jan 1', check: (a, f) => (dateArg(a, 0, f), 'integer'), sql: (a, d) => d.dayOfYear(a[0]) },
  days_in_year: {
    arity: [1, 1], doc: 'days in a year (365/366)',
    check: (a, f) => (a[0].type !== 'integer' && f(0, 'expects a year (integer)'), 'integer'),
    sql: (a, d) => d.dayOfYear(d.makeDate(a[0], '12', '31')),
  },
  year_start: { arity: [1, 1], doc: 'Jan 1 of a year', check: (a, f) => (a[0].type !== 'integer' && f(0, 'expects a year (integer)'), 'date'), sql: (a, d) => d.makeDate(a[0], '1', '1') },
  year_end: { arity: [1, 1], doc: 'Dec 31 of a year', check: (a, f) => (a[0].type !== 'integer' && f(0, 'expects a year (integer)'), 'date'), sql: (a, d) => d.makeDate(a[0], '12', '31') },
  make_date: {
    arity: [3, 3], doc: 'make_date(year, month, day)',
    check: (a, f) => (a.forEach((x, i) => x.type !== 'integer' && f(i, 'expects an integer')), 'date'),
    sql: (a, d) => d.makeDate(a[0], a[1], a[2]),
  },
  month_end: { arity: [1, 1], doc: 'last day of the month of a date', check: (a, f) => (dateArg(a, 0, f), 'date'), sql: (a, d) => d.lastDayOfMonth(a[0]) },
  period_start: { arity: [1, 1], doc: "first day of a 'YYYY-MM' period", check: (a, f) => (strArg(a, 0, f), 'date'), sql: (a, d) => d.periodStart(a[0]) },
  period_end: { arity: [1, 1], doc: "last day of a 'YYYY-MM' period", check: (a, f) => (strArg(a, 0, f), 'date'), sql: (a, d) => d.lastDayOfMonth(d.periodStart(a[0])) },
  days_between: {
    arity: [2, 2], doc: 'calendar days from a to b (b − a)',
    check: (a, f) => (dateArg(a, 0, f), dateArg(a, 1, f), 'integer'),
    sql: (a, d) => d.daysBetween(a[0], a[1]),
  },
  workdays_between: {
    arity: [2, 2], doc: 'working days after a up to and including b (fiscus.calendar_days)',
    check: (a, f) => (dateArg(a, 0, f), dateArg(a, 1, f), 'integer'),
    sql: (a, _d, ctx) => `(${wd(ctx, a[1])} - ${wd(ctx, a[0])})`,
  },
  add_workdays: {
    arity: [2, 2], doc: 'the n-th working day after a date',
    check: (a, f) => (dateArg(a, 0, f), a[1].type !== 'integer' && f(1, 'expects an integer'), 'date'),
    sql: (a, _d, ctx) => `(SELECT min(w2.day) FROM fiscus_workdays w2 WHERE w2.is_workday AND w2.ord = ${wd(ctx, a[0])} + ${a[1]})`,
  },
  is_workday: {
    arity: [1, 1], doc: 'true on PRC working days (holidays and 调休 from fiscus.calendar_days)',
    check: (a, f) => (dateArg(a, 0, f), 'boolean'),
    sql: (a, _d, ctx) => {
      ctx.needsWorkdays = true;
      return `coalesce((SELECT w.is_workday FROM fiscus_workdays w WHERE w.day = ${a[0]}), ${_d.isoDow(a[0])} <= 5)`;
    },
  },
  starts_with: {
    arity: [2, 2], doc: 'text starts with a prefix',
    check: (a, f) => (strArg(a, 0, f), strArg(a, 1, f), 'boolean'),
    sql: (a, d) => d.startsWith(a[0], a[1]),
  },
  ends_with: { arity: [2, 2], doc: 'text ends with a suffix', check: (a, f) => (strArg(a, 0, f), strArg(a, 1, f), 'boolean'), sql: (a, d) => d.endsWith(a[0], a[1]) },
  contains: { arity: [2, 2], doc: 'text contains a part', check: (a, f) => (strArg(a, 0, f), strArg(a, 1, f), 'boolean'), sql: (a, d) => d.contains(a[0], a[1]) },
  left: {
    arity: [2, 2], doc: 'the first n characters (e.g. the 类 of a code: left(econ_code, 3))',
    check: (a, f) => (strArg(a, 0, f), a[1].type !== 'integer' && f(1, 'expects a whole number'), 'string'),
    sql: (a, d) => d.left(a[0], a[1]),
  },
  length: { arity: [1, 1], doc: 'number of characters', check: (a, f) => (strArg(a, 0, f), 'integer'), sql: (a) => `length(${a[0]})` },
  text: { arity: [1, 1], doc: 'any value as text', check: () => 'string', sql: (a, d) => d.cast(a[0], 'string') },
  blank: { arity: [1, 1], doc: 'null or empty text', check: (a, f) => (strArg(a, 0, f), 'boolean'), sql: (a) => `(${a[0]} IS NULL OR trim(${a[0]}) = '')` },
};

function sameFamily(a: Typed[], f: (i: number, m: string) => never): VType {
  const ts = a.map((x) => x.type).filter((t) => t !== 'null');
  if (ts.length === 0) return 'null';
  if (ts.every(isNumeric)) return numResult(ts);
  const first = ts[0];
  ts.forEach((t, i) => {
    if (t !== first) f(a.findIndex((x) => x.type === t), `mixes ${describeType(first)} and ${describeType(t)}`);
  });
  return first;
}

export const AGGREGATES = new Set(Object.entries(FUNCTIONS).filter(([, s]) => s.agg).map(([n]) => n));

export class ExprCompiler {
  constructor(
    readonly ctx: CompileCtx,
    readonly src: ExprSource,
  ) {}

  err(at: number, msg: string): RuleError {
    return new RuleError(this.src.pos(at), msg);
  }

  compile(e: Expr, scope: Scope): Typed {
    const d = this.ctx.dialect;
    switch (e.kind) {
      case 'num':
        return { sql: e.raw, type: e.integer ? 'integer' : 'number', agg: false };
      case 'str':
        if (e.value.includes(PARAM_MARK)) throw this.err(e.at, 'a text literal cannot contain control character U+0001');
        return { sql: d.stringLiteral(e.value), type: 'string', agg: false };
      case 'date':
        return { sql: d.dateLiteral(e.value), type: 'date', agg: false };
      case 'bool':
        return { sql: e.value ? 'TRUE' : 'FALSE', type: 'boolean', agg: false };
      case 'null':
        return { sql: 'NULL', type: 'null', agg: false };
      case 'param': {
        const p = this.ctx.params.get(e.name);
        if (!p) {
          throw this.err(e.at, `unknown parameter \`$${e.name}\`${didYouMean(e.name, this.ctx.params.keys())}; declare it under \`params:\``);
        }
        this.ctx.usedParams.add(e.name);
        const t = paramVType(p);
        return { sql: d.param(`p_${e.name}`, t === 'list' ? 'list' : sqlTypeOf(t)), type: t, agg: false };
      }
      case 'ident':
        return this.ident(e, scope);
      case 'unary': {
        const a = this.compile(e.arg, scope);
        if (e.op === '-') {
          if (!isNumeric(a.type)) throw this.err(e.at, `cannot negate ${describeType(a.type)}`);
          return { sql: `(-${a.sql})`, type: a.type, agg: a.agg };
        }
        this.bool(a, e.arg.at, '`not`');
        return { sql: `(NOT ${a.sql})`, type: 'boolean', agg: a.agg };
      }
      case 'unit': {
        const a = this.compile(e.arg, scope);
        if (a.type !== 'integer' && a.type !== 'null') {
          throw this.err(e.at, `\`${e.unit}\` needs a whole number before it, got ${describeType(a.type)}`);
        }
        return { sql: a.sql, type: e.unit, agg: a.agg };
      }
      case 'binary':
        return this.binary(e, scope);
      case 'isnull': {
        const a = this.compile(e.arg, scope);
        return { sql: `(${a.sql} IS ${e.negated ? 'NOT ' : ''}NULL)`, type: 'boolean', agg: a.agg };
      }
      case 'between': {
        const a = this.compile(e.arg, scope);
        const lo = this.compile(e.lo, scope);
        const hi = this.compile(e.hi, scope);
        this.comparable(a, lo, e.lo.at);
        this.comparable(a, hi, e.hi.at);
        return { sql: `(${a.sql} ${e.negated ? 'NOT ' : ''}BETWEEN ${lo.sql} AND ${hi.sql})`, type: 'boolean', agg: a.agg || lo.agg || hi.agg };
      }
      case 'in': {
        const a = this.compile(e.arg, scope);
        if (Array.isArray(e.list)) {
          if (e.list.length === 0) throw this.err(e.at, '`in ()` needs at least one value');
          const items = e.list.map((x) => {
            const t = this.compile(x, scope);
            this.comparable(a, t, x.at);
            return t;
          });
          return {
            sql: `(${a.sql} ${e.negated ? 'NOT ' : ''}IN (${items.map((i) => i.sql).join(', ')}))`,
            type: 'boolean',
            agg: a.agg || items.some((i) => i.agg),
          };
        }
        const l = this.compile(e.list, scope);
        if (l.type !== 'list') throw this.err(e.list.at, `\`in\` needs a list such as ('a', 'b') or a list parameter, got ${describeType(l.type)}`);
        const sql = d.inList(d.cast(a.sql, 'string'), l.sql);
        return { sql: e.negated ? `(NOT ${sql})` : sql, type: 'boolean', agg: a.agg };
      }
      case 'call':
        return this.call(e, scope);
    }
  }

  bool(t: Typed, at: number, what: string): void {
    if (t.type !== 'boolean' && t.type !== 'null') throw this.err(at, `${what} needs a true/false condition, got ${describeType(t.type)}`);
  }

  comparable(a: Typed, b: Typed, at: number): void {
    if (a.type === 'null' || b.type === 'null') return;
    if (isNumeric(a.type) && isNumeric(b.type)) return;
    if (a.type !== b.type) throw this.err(at, `cannot compare ${describeType(a.type)} with ${describeType(b.type)}`);
    const en = a.enumValues ?? b.enumValues;
    const lit = a.enumValues ? b : a;
    if (en && /^'.*'$/s.test(lit.sql)) {
      const v = lit.sql.slice(1, -1).replaceAll("''", "'");
      if (!en.includes(v)) {
        throw this.err(at, `'${v}' is not a value of this column (${en.join(', ')})${didYouMean(v, en)}`);
      }
    }
  }

  private binary(e: Extract<Expr, { kind: 'binary' }>, scope: Scope): Typed {
    const d = this.ctx.dialect;
    const l = this.compile(e.left, scope);
    const r = this.compile(e.right, scope);
    const agg = l.agg || r.agg;
    const op = e.op;
    if (op === 'and' || op === 'or') {
      this.bool(l, e.left.at, `\`${op}\``);
      this.bool(r, e.right.at, `\`${op}\``);
      return { sql: `(${l.sql} ${op.toUpperCase()} ${r.sql})`, type: 'boolean', agg };
    }
    if (['=', '!=', '<', '<=', '>', '>='].includes(op)) {
      this.comparable(l, r, e.right.at);
      return { sql: `(${l.sql} ${op === '!=' ? '<>' : op} ${r.sql})`, type: 'boolean', agg };
    }
    if (op === '||') {
      return { sql: `(CAST(${l.sql} AS VARCHAR) || CAST(${r.sql} AS VARCHAR))`, type: 'string', agg };
    }
    // date arithmetic
    if (l.type === 'date' && (op === '+' || op === '-') && (r.type === 'days' || r.type === 'workdays')) {
      if (r.type === 'workdays') {
        const n = op === '+' ? r.sql : `(-${r.sql})`;
        return { sql: FUNCTIONS.add_workdays.sql([l.sql, n], d, this.ctx, [l, r]), type: 'date', agg };
      }
      return { sql: d.addDays(l.sql, op === '+' ? r.sql : `(-${r.sql})`), type: 'date', agg };
    }
    if (l.type === 'date' && r.type === 'date' && op === '-') {
      return { sql: d.daysBetween(r.sql, l.sql), type: 'integer', agg };
    }
    if (l.type === 'days' || r.type === 'days' || l.type === 'workdays' || r.type === 'workdays') {
      throw this.err(e.opAt, `\`${op}\`: a number of days can only be added to or subtracted from a date (e.g. \`pay_date + 6 days\`)`);
    }
    if (!isNumeric(l.type)) throw this.err(e.left.at, `\`${op}\` needs numbers, got ${describeType(l.type)}`);
    if (!isNumeric(r.type)) throw this.err(e.right.at, `\`${op}\` needs numbers, got ${describeType(r.type)}`);
    if (op === '/') return { sql: d.safeDiv(l.sql, r.sql), type: 'number', agg };
    if (op === '%') return { sql: `(${l.sql} % ${r.sql})`, type: numResult([l.type, r.type]), agg };
    let type: VType;
    if (op === '*') type = l.type === 'money' && r.type === 'money' ? 'number' : numResult([l.type, r.type]);
    else type = numResult([l.type, r.type]);
    // money stays exact: integer literals and DECIMAL literals keep DECIMAL arithmetic in DuckDB.
    return { sql: `(${l.sql} ${op} ${r.sql})`, type, agg };
  }

  private ident(e: Extract<Expr, { kind: 'ident' }>, scope: Scope): Typed {
    if (e.parts.length === 2) {
      const [alias, col] = e.parts;
      for (let s: Scope | undefined = scope; s; s = s.parent) {
        const tb = s.tables.get(alias);
        if (tb) return this.column(tb.def, tb.sqlAlias, alias, col, e.at + alias.length + 1);
      }
      const aliases = allAliases(scope);
      const hint = feedTable(`${alias}.${col}`) ? ` (\`${alias}.${col}\` is a table: name it in \`from\`/\`lookup\` with an alias)` : didYouMean(alias, aliases);
      throw this.err(e.at, `unknown table alias \`${alias}\`${hint}; known: ${aliases.join(', ') || 'none'}`);
    }
    const name = e.parts[0];
    for (let s: Scope | undefined = scope; s; s = s.parent) {
      const nb = s.names.get(name);
      if (nb) {
        if (nb.kind === 'sql') return { sql: nb.sql, type: nb.type, agg: false, enumValues: nb.enumValues };
        if (nb.cached) return nb.cached;
        if (nb.busy) throw this.err(e.at, `\`${name}\` is defined in terms of itself`);
        nb.busy = true;
        const sub = new ExprCompiler(this.ctx, nb.src);
        const t = sub.compile(nb.expr, nb.scope);
        nb.busy = false;
        nb.cached = { ...t, sql: `(${t.sql})` };
        return nb.cached;
      }
      // unqualified column: primary table first, then any other table that has it (must be unique)
      if (s.primary) {
        const tb = s.tables.get(s.primary)!;
        if (tb.def.columns.some((c) => c.name === name)) return this.column(tb.def, tb.sqlAlias, s.primary, name, e.at);
      }
      const hits = [...s.tables.values()].filter((tb) => tb.def.columns.some((c) => c.name === name));
      if (hits.length === 1) return this.column(hits[0].def, hits[0].sqlAlias, hits[0].alias, name, e.at);
      if (hits.length > 1) {
        throw this.err(e.at, `\`${name}\` is ambiguous: write ${hits.map((h) => `\`${h.alias}.${name}\``).join(' or ')}`);
      }
    }
    const candidates = new Set<string>();
    for (let s: Scope | undefined = scope; s; s = s.parent) {
      for (const n of s.names.keys()) candidates.add(n);
      for (const tb of s.tables.values()) for (const c of tb.def.columns) candidates.add(c.name);
    }
    const prim = primaryTable(scope);
    const where = prim ? ` in ${prim.name}` : '';
    throw this.err(e.at, `unknown column \`${name}\`${where}${didYouMean(name, candidates)}`);
  }

  private column(def: TableDef, sqlAlias: string, alias: string, col: string, at: number): Typed {
    const c = def.columns.find((x) => x.name === col);
    if (!c) {
      throw this.err(at, `unknown column \`${col}\` in ${def.name}${didYouMean(col, def.columns.map((x) => x.name))}`);
    }
    const direct = `${sqlAlias}.${this.ctx.dialect.ident(col)}`;
    return {
      sql: this.ctx.columnRewrite ? this.ctx.columnRewrite(alias, direct, col) : direct,
      type: colVType(c),
      agg: false,
      enumValues: c.values,
      column: { alias, col: c, table: def },
    };
  }

  private call(e: Extract<Expr, { kind: 'call' }>, scope: Scope): Typed {
    const d = this.ctx.dialect;
    if (e.name === 'exists') return this.subquery(e, scope, 'exists');
    if (e.name === 'field') return this.field(e, scope);
    const spec = FUNCTIONS[e.name];
    if (!spec) {
      throw this.err(e.at, `unknown function \`${e.name}\`${didYouMean(e.name, Object.keys(FUNCTIONS))}`);
    }
    const [lo, hi] = spec.arity;
    if (e.args.length < lo || e.args.length > hi) {
      throw this.err(e.at, `\`${e.name}\` takes ${lo === hi ? lo : `${lo}–${hi}`} argument${hi === 1 ? '' : 's'}, got ${e.args.length}`);
    }
    if (e.sub) {
      if (!spec.agg) throw this.err(e.at, `\`for … in …\` only works with aggregate functions (sum, count, min, max, …)`);
      return this.subquery(e, scope, 'agg');
    }
    if ((e.distinct || e.filter) && !spec.agg) throw this.err(e.at, `\`${e.name}\` is not an aggregate: \`distinct\`/\`where\` are not allowed`);
    if (spec.agg && !scope.aggregates) {
      throw this.err(e.at, `aggregate \`${e.name}\` is not allowed ${scope.where}; aggregate in \`compute\` (or use \`${e.name}(x for r in table where …)\`)`);
    }
    const inner: Scope = spec.agg ? { ...scope, aggregates: false, where: `inside \`${e.name}(…)\`` } : scope;
    const args = e.args.map((a) => this.compile(a, inner));
    const fail = (i: number, msg: string): never => {
      throw this.err(e.args[i]?.at ?? e.at, `\`${e.name}\` ${msg}`);
    };
    const type = spec.check(args, fail);
    let filterSql: string | undefined;
    if (e.filter) {
      const f = this.compile(e.filter, inner);
      this.bool(f, e.filter.at, '`where`');
      filterSql = f.sql;
    }
    let sql = spec.sql(args.map((a) => a.sql), d, this.ctx, args, spec.ownFilter ? filterSql : undefined);
    if (e.distinct) {
      if (!['count', 'sum', 'count_distinct'].includes(e.name)) throw this.err(e.at, `\`distinct\` works with count and sum`);
      sql = sql.replace('(', '(DISTINCT ');
    }
    if (filterSql !== undefined && !spec.ownFilter) sql = d.aggFilter(sql, filterSql);
    return { sql, type, agg: spec.agg === true || args.some((a) => a.agg) };
  }

  /**
   * `field(name)`: a value of the current row named by text, usually a deployment
   * parameter (`field($reference_field)`): a column of the row's table when the name is
   * one, else that key of the row's `extra` JSON (source columns the feed contract does
   * not know). Null when the name is empty or the row has no such value; blank text is
   * null too. The name stays a bound value: each column is a fixed branch of a CASE, so no
   * name is ever pasted into the SQL.
   */
  private field(e: Extract<Expr, { kind: 'call' }>, scope: Scope): Typed {
    const d = this.ctx.dialect;
    if (e.args.length !== 1 || e.sub || e.distinct || e.filter) {
      throw this.err(e.at, '`field` takes one argument: the name of a column or of an `extra` field, e.g. `field($reference_field)`');
    }
    let binding: TableBinding | undefined;
    for (let s: Scope | undefined = scope; s && !binding; s = s.parent) {
      if (s.primary) binding = s.tables.get(s.primary);
    }
    if (!binding || !FEEDS.includes(binding.def)) {
      throw this.err(e.at, '`field(…)` reads the row of the source table (`from`): use it in `where`, `compute` or `partition_by`');
    }
    const name = this.compile(e.args[0]!, scope);
    if (name.type !== 'string' && name.type !== 'null') throw this.err(e.args[0]!.at, `\`field\` expects the name as text, got ${describeType(name.type)}`);
    const tb = binding;
    const col = (c: string) => {
      const direct = `${tb.sqlAlias}.${d.ident(c)}`;
      return this.ctx.columnRewrite ? this.ctx.columnRewrite(tb.alias, direct, c) : direct;
    };
    const n = `trim(${name.sql})`;
    const branches = tb.def.columns.map((c) => `WHEN ${n} = ${d.stringLiteral(c.name)} THEN ${d.cast(col(c.name), 'string')}`);
    const sql = `nullif(trim(CASE WHEN ${name.sql} IS NULL OR ${n} = '' THEN NULL ${branches.join(' ')} ELSE ${d.jsonField(col('extra'), n)} END), '')`;
    return { sql, type: 'string', agg: name.agg };
  }

  /** `exists(r in t where …)` and `sum(x for r in t where …)`: correlated subqueries (DuckDB decorrelates them into joins). */
  private subquery(e: Extract<Expr, { kind: 'call' }>, scope: Scope, mode: 'exists' | 'agg'): Typed {
    const sub = e.sub!;
    const def = this.table(sub.table, sub.tableAt, true);
    const sqlAlias = `t${this.ctx.aliasCounter++}`;
    const inner = newScope(`inside \`${e.name}(…)\``, { parent: scope, primary: sub.alias });
    inner.tables.set(sub.alias, { alias: sub.alias, def, sqlAlias });
    const conds: string[] = [];
    const asOf = this.ctx.asOfFilter(def, sqlAlias);
    if (asOf) conds.push(asOf);
    if (sub.where) {
      const w = this.compile(sub.where, inner);
      this.bool(w, sub.where.at, '`where`');
      conds.push(w.sql);
    }
    const from = `${this.ctx.dialect.table(def.schema, def.table)} AS ${sqlAlias}`;
    const whereSql = conds.length ? ` WHERE ${conds.join(' AND ')}` : '';
    if (mode === 'exists') return { sql: `EXISTS (SELECT 1 FROM ${from}${whereSql})`, type: 'boolean', agg: false };
    const aggScope: Scope = { ...inner, aggregates: true };
    const fakeCall: Expr = { kind: 'call', at: e.at, name: e.name, args: e.args, distinct: e.distinct };
    const t = this.call(fakeCall as Extract<Expr, { kind: 'call' }>, aggScope);
    return { sql: `(SELECT ${t.sql} FROM ${from}${whereSql})`, type: t.type, agg: false };
  }

  /** Resolve a feed table name, record its use. */
  table(name: string, at: number, required: boolean): TableDef {
    const def = feedTable(name);
    if (!def) {
      throw this.err(at, `unknown table \`${name}\`${didYouMean(name, FEEDS.map((f) => f.name))}`);
    }
    const prev = this.ctx.usedTables.get(name);
    if (!prev) this.ctx.usedTables.set(name, { ...this.src.pos(at), required });
    else if (required) prev.required = true;
    return def;
  }
}

function allAliases(scope: Scope): string[] {
  const out: string[] = [];
  for (let s: Scope | undefined = scope; s; s = s.parent) out.push(...s.tables.keys());
  return out;
}

function primaryTable(scope: Scope): TableDef | undefined {
  for (let s: Scope | undefined = scope; s; s = s.parent) {
    if (s.primary) return s.tables.get(s.primary)?.def;
    if (s.tables.size === 1) return [...s.tables.values()][0].def;
  }
  return undefined;
}
