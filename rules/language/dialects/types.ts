/**
 * The seam between the rule language and an SQL engine. The compiler never writes
 * engine-specific SQL itself: every construct that differs between engines (types,
 * parameters, dates, lists, statistics, evidence rows, JSON) goes through a `Dialect`.
 * A new engine is one new implementation of this interface (see SCALE-OUT.md), plus the
 * `unsupported` list: constructs it cannot express are reported when a rule is checked,
 * naming the rule and the construct, never as an SQL error at run time.
 */
import type { RuleParamDef } from '../../types.ts';
import type { IR } from '../plan/types.ts';

export type SqlType = 'money' | 'number' | 'integer' | 'string' | 'date' | 'boolean';
export type ParamType = SqlType | 'list';
export type DialectName = 'duckdb' | 'postgres';

/** A bound parameter of emitted SQL, in the order the client binds them. */
export interface BoundParameter {
  /** `as_of`, `scope` or `p_<rule parameter>`. */
  name: string;
  /** The rule-parameter vocabulary (money is exact decimal text, list is text[]). */
  type: RuleParamDef['type'];
}

/** SQL ready for a client: the text and its parameters in binding order. */
export interface EmittedSql {
  sql: string;
  /**
   * DuckDB: named `$name` placeholders (each name once in this list, in first-use order).
   * PostgreSQL: positional `$1…$n`; `parameters[i]` is `$${i + 1}`.
   */
  parameters: BoundParameter[];
}

/** Constructs an engine may lack; each is checked when a rule is compiled for that engine. */
export type Construct =
  | 'full_join_nullable_keys' | 'median' | 'arg_max' | 'first_last' | 'window_functions'
  | 'json_extra' | 'workdays';

export interface Dialect {
  readonly name: DialectName | (string & {});
  /** Constructs this engine cannot express, with why (shown in the diagnostic). */
  readonly unsupported: Partial<Record<Construct, string>>;

  /**
   * Optional: write any typed IR node itself (its type, span and children are there; `render`
   * writes a child), as a kysely dialect overrides a visitor method. `undefined` = the default
   * rendering through the builder methods below. For engines whose spelling of a construct
   * depends on more than its rendered operands.
   */
  emitNode?(node: IR, render: (child: IR) => string): string | undefined;

  ident(name: string): string;
  table(schema: string, table: string): string;
  stringLiteral(v: string): string;
  typeName(t: SqlType): string;
  cast(sql: string, type: SqlType): string;
  /** A parameter placeholder cast to its type (the placeholder is resolved by `finalize`). */
  param(name: string, type: ParamType): string;
  /** Turn placeholders into the engine's parameter syntax and list them in order. */
  finalize(sql: string, types: (name: string) => RuleParamDef['type']): EmittedSql;

  dateLiteral(iso: string): string;
  /** `d + n` days (n an integer expression). */
  addDays(date: string, days: string): string;
  /** b − a in days (integer). */
  daysBetween(a: string, b: string): string;
  /** a / b as a float, NULL when b is 0 (never ±Infinity). */
  safeDiv(a: string, b: string): string;
  /**
   * a × 100 / b as an exact decimal truncated toward zero at 10 decimals, NULL when b is 0:
   * the rule language's pct(). Truncating finer than any display and rounding once when
   * printed (decimalString, roundedText) gives the correctly rounded figure (never 398.56875 → 398.5688
   * for 398.568749…). `scales`: how many decimals a and b can have (0 for integers, 2 for money;
   * default 8, to which other numbers are rounded).
   */
  percent(a: string, b: string, scales?: readonly [number, number]): string;
  year(d: string): string;
  month(d: string): string;
  quarter(d: string): string;
  day(d: string): string;
  dayOfYear(d: string): string;
  /** 1 = Monday … 7 = Sunday. */
  isoDow(d: string): string;
  makeDate(y: string, m: string, d: string): string;
  lastDayOfMonth(d: string): string;
  /** 'YYYY-MM' of a date. */
  yearMonth(d: string): string;
  /** First day of a 'YYYY-MM' period. */
  periodStart(period: string): string;

  /** `x` is an element of the list expression `list` (NULL when the list is NULL). */
  inList(x: string, list: string): string;
  /** A list value from item expressions. */
  listOf(items: string[]): string;
  /** `x` is in the bound text-list parameter `name`, or the parameter is NULL. */
  inListParamOrAll(name: string, x: string): string;
  /** `batchColumn` is one of the new batches, bound as the text list `$delta_batches`. */
  inDeltaBatches(batchColumn: string): string;
  /** Delta evaluation of a window rule: the first (0) or last (1) touched date, bound as the two-element text list `$delta_dates`. */
  deltaDate(i: 0 | 1): string;
  /** Sorted (binary order) distinct list of the values of a group. */
  keyList(x: string): string;
  /** The values of a group as a list in the given order. */
  orderedList(x: string, orderBy: string[]): string;
  /** The value of the first / last row of a group in the given order (NULLs included). */
  firstOf(x: string, orderBy: string[]): string;
  lastOf(x: string, orderBy: string[]): string;
  /** Integers lo ≤ i < hi as a FROM item with one column `range`, aliased `alias`. */
  integerRange(lo: string, hi: string, alias: string): string;

  aggFilter(agg: string, cond: string): string;
  /** How many rows of the group meet `cond` (true, not false or NULL). */
  countWhere(cond: string): string;
  median(x: string, filter?: string): string;
  /**
   * The median absolute deviation about the median, exactly `median(abs(x - median(x)))` of the
   * group, as one aggregate (one pass over the group's values instead of a second join), or
   * undefined when the engine has none.
   */
  mad?(x: string): string;
  argMax(x: string, by: string, filter?: string): string;
  argMin(x: string, by: string, filter?: string): string;
  /** round(x, digits) of a number of the given type. */
  round(x: string, digits: string, type: SqlType): string;
  ln(x: string): string;
  log10(x: string): string;
  sqrt(x: string): string;
  /** The leading digit 1–9 of |x| (NULL below 1); `integer`: x is an integer type (see leadingDigit). */
  firstDigit(x: string, integer: boolean): string;
  startsWith(a: string, b: string): string;
  endsWith(a: string, b: string): string;
  contains(a: string, b: string): string;
  left(a: string, n: string): string;
  /** The text value of key `name` (a text expression) of a JSON column. */
  jsonField(json: string, name: string): string;

  /** Evidence rows `[{table, key}]` from a list expression of keys. */
  evidence(table: string, keys: string): string;
  /** Evidence of one key expression; no row when the key is NULL. */
  evidenceOne(table: string, key: string): string;
  evidenceConcat(parts: string[]): string;
  emptyEvidence(): string;
  /** The `evidence` result column: an engine type the runner reads back as `[{table, key}]`. */
  evidenceColumn(x: string): string;
  /** The `vars` result column: a JSON object of named values. */
  jsonObject(pairs: [string, string][]): string;

  /** Decimal text of a measure of the given type (money 2 decimals, numbers 4). */
  decimalString(sql: string, type: SqlType): string;
  /** Decimal text of a float rounded to `digits` (title values). */
  roundedText(sql: string, digits: number): string;
  /** `fiscus_workdays (day, is_workday, ord)` as a CTE over fiscus.calendar_days. */
  workdayCte(): string;
  /** A CTE evaluated once (referenced several times, or to force filter order). */
  materialized(name: string, body: string): string;
  /**
   * A CTE of a kind's source rows that later CTEs read several times: materialised where a
   * rescan costs more than a copy (PostgreSQL's row scans), inlined where each read is a
   * columnar scan with its own projection and filter pushed down (DuckDB: at 10M payments
   * split_payment took 5.0 s over a materialised copy, 1.6 s inlined). `fewRows`: the body keeps
   * only a delta's touched keys, a copy of which is cheaper than scanning the table again.
   */
  sourceRows(name: string, body: string, fewRows?: boolean): string;
  /** Join keyword keeping rows of the left side with a match in a right side unique on the join keys. */
  semiJoin: string;
}

export const PARAM_MARK = '\u0001';

/** `a` or `(a, b)`: the left side of a (row-value) IN. */
export function rowValue(xs: readonly string[]): string {
  return xs.length === 1 ? xs[0]! : `(${xs.join(', ')})`;
}

/**
 * The leading digit (1–9) of |x| ≥ 1, NULL below 1, as an INTEGER: n = the integer part of |x|
 * as BIGINT, compared with each power of ten and divided by the one below it. Comparisons and
 * integer division only, so exact for every BIGINT (text and log10 are not needed; log10 rounds
 * 10^k − 1 up to k above 15 digits). At 10M payments treasury.benford's query took 430 ms
 * this way against 720 ms casting n to text and taking its first character.
 * An integer x is not floored: both engines floor a BIGINT as a DOUBLE, which turns
 * 9999999999999999 into 10^16 (leading digit 1).
 */
export function leadingDigit(x: string, integer: boolean, intDiv: (a: string, b: string) => string): string {
  const n = integer ? `CAST(abs(${x}) AS BIGINT)` : `CAST(floor(abs(${x})) AS BIGINT)`;
  let ladder = `WHEN ${n} < 10 THEN ${n}`;
  // BIGINT holds up to 9.2 * 10^18: 19 digits, the last one divided by 10^18 in the ELSE.
  for (let k = 1; k < 18; k++) ladder += ` WHEN ${n} < 1${'0'.repeat(k + 1)} THEN ${intDiv(n, `1${'0'.repeat(k)}`)}`;
  return `CASE WHEN abs(${x}) >= 1 THEN CAST(CASE ${ladder} ELSE ${intDiv(n, `1${'0'.repeat(18)}`)} END AS INTEGER) END`;
}
