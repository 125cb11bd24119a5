/**
 * The SQL dialect the compiler writes. Everything engine-specific the rule
 * compiler emits goes through this interface, so another engine (e.g.
 * PostgreSQL for a finance bureau's replica) needs one new implementation,
 * not a new compiler.
 */
import { quoteIdent } from '../../engine/feeds.ts';
import { sqlString } from '../../engine/sql-quote.ts';

export type SqlType = 'money' | 'number' | 'integer' | 'string' | 'date' | 'boolean';

export interface SqlDialect {
  readonly name: string;
  ident(name: string): string;
  table(schema: string, table: string): string;
  stringLiteral(v: string): string;
  /** A named parameter cast to its type, e.g. `CAST($p_x AS DECIMAL(18,2))`. */
  param(name: string, type: SqlType | 'list'): string;
  moneyType: string;
  cast(sql: string, type: SqlType): string;
  dateLiteral(iso: string): string;
  addDays(date: string, days: string): string;
  daysBetween(a: string, b: string): string;
  /** a / b, NULL when b is 0 (never ±Infinity). */
  safeDiv(a: string, b: string): string;
  year(d: string): string;
  month(d: string): string;
  quarter(d: string): string;
  day(d: string): string;
  dayOfYear(d: string): string;
  makeDate(y: string, m: string, d: string): string;
  lastDayOfMonth(d: string): string;
  inList(x: string, list: string): string;
  firstDigit(x: string): string;
  aggFilter(agg: string, cond: string): string;
  listAgg(x: string, distinctSorted: boolean): string;
  listLength(l: string): string;
  /** Evidence: `LIST(STRUCT(table, key))` from a list of key strings. */
  evidence(table: string, keys: string): string;
  evidenceConcat(parts: string[]): string;
  emptyEvidence(): string;
  /** vars as JSON text */
  jsonObject(pairs: [string, string][]): string;
  /** Decimal string output for measures. */
  decimalString(sql: string, type: SqlType): string;
  /** A working-day ordinal table name (day, is_workday, ord) built as a CTE. */
  workdayCte(): string;
  /** Sorted distinct list of the values of an aggregate group. */
  keyList(x: string): string;
  /** A CTE evaluated once (referenced several times, or to force filter order). */
  materialized(name: string, body: string): string;
  /** `FROM a <semiJoin> b ON …`: keep rows of a with a match in b. */
  semiJoin: string;
  /** `x` is in the bound VARCHAR[] parameter `$name`, or the parameter is NULL. */
  inListParamOrAll(name: string, x: string): string;
  /** Integers lo ≤ i < hi as a one-column table named `range`. */
  integerRange(lo: string, hi: string): string;
  /** 'YYYY-MM' of a date. */
  yearMonth(d: string): string;
  median(x: string): string;
  ln(x: string): string;
  log10(x: string): string;
  periodStart(period: string): string;
}

export const duckdb: SqlDialect = {
  name: 'duckdb',
  ident: quoteIdent,
  table: (s, t) => `${quoteIdent(s)}.${quoteIdent(t)}`,
  stringLiteral: sqlString,
  param(name, type) {
    if (type === 'list') return `CAST($${name} AS VARCHAR[])`;
    return `CAST($${name} AS ${duckType(type)})`;
  },
  moneyType: 'DECIMAL(18,2)',
  cast: (sql, type) => `CAST(${sql} AS ${duckType(type)})`,
  dateLiteral: (iso) => `DATE '${iso}'`,
  addDays: (d, n) => `(${d} + CAST(${n} AS INTEGER))`,
  daysBetween: (a, b) => `(${b} - ${a})`,
  safeDiv: (a, b) => `(CAST(${a} AS DOUBLE) / NULLIF(CAST(${b} AS DOUBLE), 0))`,
  year: (d) => `year(${d})`,
  month: (d) => `month(${d})`,
  quarter: (d) => `quarter(${d})`,
  day: (d) => `day(${d})`,
  dayOfYear: (d) => `dayofyear(${d})`,
  makeDate: (y, m, d) => `make_date(CAST(${y} AS INTEGER), CAST(${m} AS INTEGER), CAST(${d} AS INTEGER))`,
  lastDayOfMonth: (d) => `last_day(${d})`,
  inList: (x, l) => `list_contains(${l}, ${x})`,
  firstDigit: (x) => `CASE WHEN abs(${x}) >= 1 THEN CAST(left(CAST(CAST(floor(abs(${x})) AS BIGINT) AS VARCHAR), 1) AS INTEGER) END`,
  aggFilter: (agg, cond) => `${agg} FILTER (WHERE ${cond})`,
  listAgg: (x, ds) => (ds ? `list_sort(list(DISTINCT ${x}))` : `list(${x})`),
  listLength: (l) => `len(${l})`,
  evidence: (table, keys) =>
    `list_transform(${keys}, k -> struct_pack("table" := ${sqlString(table)}, "key" := CAST(k AS VARCHAR)))`,
  evidenceConcat: (parts) => (parts.length === 1 ? parts[0] : `list_concat(${parts.join(', ')})`),
  emptyEvidence: () => `CAST([] AS STRUCT("table" VARCHAR, "key" VARCHAR)[])`,
  jsonObject: (pairs) => (pairs.length === 0 ? `CAST('{}' AS JSON)` : `json_object(${pairs.map(([k, v]) => `'${k}', ${v}`).join(', ')})`),
  decimalString(sql, type) {
    switch (type) {
      case 'money':
        return `CAST(CAST(${sql} AS DECIMAL(18,2)) AS VARCHAR)`;
      case 'integer':
        return `CAST(CAST(${sql} AS BIGINT) AS VARCHAR)`;
      default:
        return `CAST(CAST(round(CAST(${sql} AS DOUBLE), 4) AS DECIMAL(24,4)) AS VARCHAR)`;
    }
  },
  workdayCte: () =>
    `fiscus_workdays AS (SELECT day, is_workday, CAST(sum(CASE WHEN is_workday THEN 1 ELSE 0 END) OVER (ORDER BY day) AS INTEGER) AS ord FROM "fiscus"."calendar_days")`,
  keyList: (x) => `list_sort(list_distinct(list(${x})))`,
  materialized: (name, body) => `${name} AS MATERIALIZED (${body})`,
  semiJoin: 'SEMI JOIN',
  inListParamOrAll: (name, x) => `(CAST($${name} AS VARCHAR[]) IS NULL OR list_contains(CAST($${name} AS VARCHAR[]), ${x}))`,
  integerRange: (lo, hi) => `range(${lo}, ${hi})`,
  yearMonth: (d) => `strftime(${d}, '%Y-%m')`,
  median: (x) => `median(${x})`,
  ln: (x) => `CASE WHEN ${x} > 0 THEN ln(${x}) END`,
  log10: (x) => `CASE WHEN ${x} > 0 THEN log10(${x}) END`,
  periodStart: (p) => `CAST(strptime(${p} || '-01', '%Y-%m-%d') AS DATE)`,
};

function duckType(t: SqlType): string {
  switch (t) {
    case 'money':
      return 'DECIMAL(18,2)';
    case 'number':
      return 'DOUBLE';
    case 'integer':
      return 'BIGINT';
    case 'string':
      return 'VARCHAR';
    case 'date':
      return 'DATE';
    case 'boolean':
      return 'BOOLEAN';
  }
}
