/**
 * PostgreSQL 15 (and the PostgreSQL family: KingbaseES, openGauss/GaussDB, HighGo, Citus).
 *
 * Differences from DuckDB handled here: positional parameters ($1…), EXTRACT instead of
 * year()/month(), arrays instead of lists (= ANY, array_agg), generate_series instead of
 * range(), percentile_cont for the median, array_agg(… ORDER BY …)[1] for arg_max/first/last,
 * round() only on NUMERIC, integer `/` (so float casts are explicit), no SEMI JOIN, and
 * evidence as a JSONB array `[{"table", "key"}]` returned as text (the runner parses it into
 * the same `[{table, key}]` DuckDB's LIST(STRUCT) gives). Text order of evidence keys is
 * binary (COLLATE "C"), as DuckDB sorts, so both engines list keys identically.
 */
import { quoteIdent } from '../../../engine/feeds.ts';
import { sqlString } from '../../../engine/sql-quote.ts';
import { PARAM_MARK, leadingDigit, type Dialect, type SqlType } from './types.ts';

function pgType(t: SqlType): string {
  switch (t) {
    case 'money':
      return 'DECIMAL(18,2)';
    case 'number':
      return 'DOUBLE PRECISION';
    case 'integer':
      return 'BIGINT';
    case 'string':
      return 'TEXT';
    case 'date':
      return 'DATE';
    case 'boolean':
      return 'BOOLEAN';
  }
}

const lit = sqlString;
const int = (x: string) => `CAST(${x} AS INTEGER)`;
const extract = (field: string, d: string) => `CAST(EXTRACT(${field} FROM ${d}) AS INTEGER)`;
const where = (f?: string) => (f ? ` FILTER (WHERE ${f})` : '');
const desc = (o: string[]) => o.map((x) => `${x} DESC`).join(', ');

export const postgres: Dialect = {
  name: 'postgres',
  unsupported: {
    // FULL JOIN needs merge- or hash-joinable conditions; group keys match with IS NOT DISTINCT FROM.
    full_join_nullable_keys: 'PostgreSQL cannot FULL JOIN on IS NOT DISTINCT FROM (null-safe) keys; group by keys that are never missing, or use `join: left` or `inner`',
  },
  ident: quoteIdent,
  table: (s, t) => `${quoteIdent(s)}.${quoteIdent(t)}`,
  stringLiteral: lit,
  typeName: pgType,
  cast: (sql, type) => `CAST(${sql} AS ${pgType(type)})`,
  param: (name, type) => `CAST(${PARAM_MARK}${name}${PARAM_MARK} AS ${type === 'list' ? 'TEXT[]' : pgType(type)})`,
  finalize(sql, types) {
    const parameters: { name: string; type: ReturnType<typeof types> }[] = [];
    const index = new Map<string, number>();
    const out = sql.replace(new RegExp(`${PARAM_MARK}([A-Za-z_]\\w*)${PARAM_MARK}`, 'g'), (_all, name: string) => {
      let i = index.get(name);
      if (i === undefined) {
        parameters.push({ name, type: types(name) });
        i = parameters.length;
        index.set(name, i);
      }
      return `$${i}`;
    });
    return { sql: out, parameters };
  },
  dateLiteral: (iso) => `DATE '${iso}'`,
  addDays: (d, n) => `(${d} + CAST(${n} AS INTEGER))`,
  daysBetween: (a, b) => `(${b} - ${a})`,
  safeDiv: (a, b) => `(CAST(${a} AS DOUBLE PRECISION) / NULLIF(CAST(${b} AS DOUBLE PRECISION), 0))`,
  // div() is numeric's exact integer quotient, truncated toward zero.
  percent: (a, b) => `(div(CAST(${a} AS NUMERIC) * 1000000000000, NULLIF(CAST(${b} AS NUMERIC), 0)) * 0.0000000001)`,
  year: (d) => extract('YEAR', d),
  month: (d) => extract('MONTH', d),
  quarter: (d) => extract('QUARTER', d),
  day: (d) => extract('DAY', d),
  dayOfYear: (d) => extract('DOY', d),
  isoDow: (d) => extract('ISODOW', d),
  makeDate: (y, m, d) => `make_date(${int(y)}, ${int(m)}, ${int(d)})`,
  lastDayOfMonth: (d) => `CAST(date_trunc('month', CAST(${d} AS TIMESTAMP)) + INTERVAL '1 month' - INTERVAL '1 day' AS DATE)`,
  yearMonth: (d) => `to_char(${d}, 'YYYY-MM')`,
  periodStart: (p) => `to_date(${p} || '-01', 'YYYY-MM-DD')`,
  inList: (x, l) => `(${x} = ANY(${l}))`,
  listOf: (items) => `ARRAY[${items.join(', ')}]`,
  inListParamOrAll: (name, x) => {
    const p = postgres.param(name, 'list');
    return `(${p} IS NULL OR ${x} = ANY(${p}))`;
  },
  inDeltaBatches: (col) => `${col} = ANY(${postgres.param('delta_batches', 'list')})`,
  deltaDate: (i) => `CAST((${postgres.param('delta_dates', 'list')})[${i + 1}] AS DATE)`,
  keyList: (x) => `array_agg(DISTINCT CAST(${x} AS TEXT) COLLATE "C" ORDER BY CAST(${x} AS TEXT) COLLATE "C")`,
  orderedList: (x, o) => `array_agg(${x} ORDER BY ${o.join(', ')})`,
  firstOf: (x, o) => `(array_agg(${x} ORDER BY ${o.join(', ')}))[1]`,
  lastOf: (x, o) => `(array_agg(${x} ORDER BY ${desc(o)}))[1]`,
  integerRange: (lo, hi, alias) => `generate_series(${lo}, (${hi}) - 1) AS ${alias}("range")`,
  aggFilter: (agg, cond) => `${agg} FILTER (WHERE ${cond})`,
  countWhere: (cond) => `count(*) FILTER (WHERE ${cond})`,
  median: (x, f) => `percentile_cont(0.5) WITHIN GROUP (ORDER BY ${x})${where(f)}`,
  // arg_max ignores rows whose `by` is NULL, as DuckDB's does.
  argMax: (x, by, f) => `(array_agg(${x} ORDER BY ${by} DESC)${where(f ? `${by} IS NOT NULL AND (${f})` : `${by} IS NOT NULL`)})[1]`,
  argMin: (x, by, f) => `(array_agg(${x} ORDER BY ${by})${where(f ? `${by} IS NOT NULL AND (${f})` : `${by} IS NOT NULL`)})[1]`,
  round: (x, digits, type) => (type === 'number' ? `round(CAST(${x} AS NUMERIC), ${int(digits)})` : `round(${x}, ${int(digits)})`),
  ln: (x) => `CASE WHEN ${x} > 0 THEN ln(${x}) END`,
  log10: (x) => `CASE WHEN ${x} > 0 THEN log10(${x}) END`,
  sqrt: (x) => `sqrt(CAST(${x} AS DOUBLE PRECISION))`,
  firstDigit: (x, integer) => leadingDigit(x, integer, (a, b) => `${a} / ${b}`),
  startsWith: (a, b) => `starts_with(${a}, ${b})`,
  endsWith: (a, b) => `(right(${a}, length(${b})) = ${b})`,
  contains: (a, b) => `(strpos(${a}, ${b}) > 0)`,
  left: (a, n) => `left(${a}, ${int(n)})`,
  jsonField: (json, name) => `(CAST(${json} AS JSONB) ->> ${name})`,
  evidence: (table, keys) =>
    `(SELECT coalesce(jsonb_agg(jsonb_build_object('table', ${lit(table)}, 'key', CAST(__ek.k AS TEXT)) ORDER BY __ek.o), CAST('[]' AS JSONB)) FROM unnest(${keys}) WITH ORDINALITY AS __ek(k, o))`,
  evidenceOne: (table, key) =>
    `CASE WHEN ${key} IS NULL THEN CAST('[]' AS JSONB) ELSE jsonb_build_array(jsonb_build_object('table', ${lit(table)}, 'key', CAST(${key} AS TEXT))) END`,
  evidenceConcat: (parts) => (parts.length === 1 ? parts[0] : `(${parts.map((p) => `coalesce(${p}, CAST('[]' AS JSONB))`).join(' || ')})`),
  emptyEvidence: () => `CAST('[]' AS JSONB)`,
  evidenceColumn: (x) => `CAST(coalesce(${x}, CAST('[]' AS JSONB)) AS TEXT)`,
  jsonObject: (pairs) => (pairs.length === 0 ? `'{}'` : `CAST(json_build_object(${pairs.map(([k, v]) => `'${k}', ${v}`).join(', ')}) AS TEXT)`),
  decimalString(sql, type) {
    switch (type) {
      case 'money':
        return `CAST(CAST(${sql} AS DECIMAL(18,2)) AS TEXT)`;
      case 'integer':
        return `CAST(CAST(${sql} AS BIGINT) AS TEXT)`;
      default:
        return postgres.roundedText(sql, 4);
    }
  },
  // Through NUMERIC, not DOUBLE PRECISION: an exact decimal (pct()) is rounded once, half away from zero.
  roundedText: (sql, digits) => `CAST(CAST(round(CAST(${sql} AS NUMERIC), ${digits}) AS DECIMAL(24,${digits})) AS TEXT)`,
  // The calendar's stored ordinal (migration 7), inlined: each per-row lookup (is_workday, add_workdays…)
  // is then an index scan on calendar_days' key; a CTE used twice would be materialised and scanned whole per row.
  workdayCte: () => `fiscus_workdays AS NOT MATERIALIZED (SELECT day, is_workday, workday_ord AS ord FROM "fiscus"."calendar_days")`,
  materialized: (name, body) => `${name} AS MATERIALIZED (${body})`,
  sourceRows: (name, body) => `${name} AS MATERIALIZED (${body})`,
  // The right side of every semi join the compiler writes is grouped on the join keys, so a plain join keeps each left row once.
  semiJoin: 'JOIN',
};
