/**
 * The engine SQL helper: the few places where DuckDB's and PostgreSQL's SQL really
 * differ, in one place, keyed on the Store's engine (`store.dialect`). Everything
 * else fiscus writes outside the rule compiler is SQL both engines accept (standard
 * casts, `FILTER`, `DISTINCT ON`, window functions, `ON CONFLICT`, `::` casts).
 * The rule compiler has its own, richer dialects (rules/language/).
 */
export type Engine = 'duckdb' | 'postgres';

export interface EngineSql {
  readonly name: Engine;
  /** Milliseconds since the epoch of a TIMESTAMPTZ, as BIGINT. */
  epochMs(ts: string): string;
  /**
   * The value of `value` on the row with the greatest `by` in the group, among rows where
   * `value` is not NULL (DuckDB's arg_max), optionally only rows where `filter` holds.
   */
  argMax(value: string, by: string, filter?: string): string;
  /** A JSON value's top-level `key` as text (strings unquoted; true/false/numbers as written). */
  jsonText(json: string, key: string): string;
  /** The Asia/Shanghai calendar day of a TIMESTAMPTZ as 'YYYY-MM-DD' text. */
  localDay(ts: string): string;
  /** A JSON object from alternating key and value expressions. */
  jsonObject(pairs: readonly string[]): string;
  /** A TIMESTAMPTZ as ISO-8601 UTC text with milliseconds (`2026-01-02T03:04:05.678Z`). */
  isoUtc(ts: string): string;
  /** The 8-byte float type name. */
  readonly double: string;
  /** A temp table's qualified name. */
  tempTable(name: string): string;
  /** Statements that (re)create a temp table from a query. */
  createTempTableAs(name: string, query: string): string[];
  /** Rows of one DATE column `day` from `from` to `to` inclusive (both date expressions). */
  dateSeries(from: string, to: string): string;
  /** ISO day of week (1 = Monday … 7 = Sunday) of a date. */
  isoDow(d: string): string;
  /** The year of a date as an integer. */
  year(d: string): string;
  /** The quarter (1–4) of a date as an integer. */
  quarter(d: string): string;
  /** The month (1–12) of a date as an integer. */
  month(d: string): string;
  /** `d + n days` as a DATE (n an integer expression). */
  addDays(d: string, n: string): string;
  /** One row per table of the database: `t` ('schema.table'). */
  readonly tablesQuery: string;
  /** A hash of a whole row (alias `t`) as BIGINT-ish, summed for a table fingerprint. */
  rowHash(alias: string): string;
  /** `expr` is one of the strings of a JSON array given as text (a parameter). */
  inJsonStrings(expr: string, jsonText: string): string;
  /** A row's position in insertion order, for tables written once and never updated (quarantine). */
  readonly rowid: string;
  /** `expr` is one of the literal `items` (SQL expressions of one type); false when there are none. */
  inList(expr: string, items: readonly string[]): string;
  /** A DATE as 'YYYY-MM-DD' text, whatever the session's date style. */
  dayText(d: string): string;
  /** A DATE's month as 'YYYY-MM' text. */
  monthText(d: string): string;
  /** The day of the year (1–366) of a date as an integer. */
  dayOfYear(d: string): string;
  /**
   * A number rounded to `places` decimals, as the 8-byte float (a JSON number on both engines;
   * PostgreSQL rounds only NUMERIC, so it goes through NUMERIC and back).
   */
  roundDouble(x: string, places: number): string;
}

function quoteIdent(s: string): string {
  return `"${s.replaceAll('"', '""')}"`;
}

export const DUCKDB_SQL: EngineSql = {
  name: 'duckdb',
  epochMs: (ts) => `epoch_ms(${ts})`,
  argMax: (v, by, f) => `arg_max(${v}, ${by})${f ? ` FILTER (WHERE ${f})` : ''}`,
  jsonText: (j, key) => `json_extract_string(${j}, '$.${key}')`,
  localDay: (ts) => `strftime(timezone('Asia/Shanghai', ${ts}), '%Y-%m-%d')`,
  jsonObject: (pairs) => `json_object(${pairs.join(', ')})`,
  isoUtc: (ts) => `strftime((${ts}) AT TIME ZONE 'UTC', '%Y-%m-%dT%H:%M:%S.%gZ')`,
  double: 'DOUBLE',
  tempTable: (name) => `temp.main.${quoteIdent(name)}`,
  createTempTableAs: (name, q) => [`CREATE OR REPLACE TEMP TABLE ${quoteIdent(name)} AS ${q}`],
  dateSeries: (from, to) => `SELECT range::DATE AS day FROM range(${from}, (${to}) + INTERVAL 1 DAY, INTERVAL 1 DAY)`,
  isoDow: (d) => `isodow(${d})`,
  year: (d) => `year(${d})`,
  quarter: (d) => `quarter(${d})`,
  month: (d) => `month(${d})`,
  addDays: (d, n) => `CAST((${d}) + (${n}) * INTERVAL 1 DAY AS DATE)`,
  inList: (e, items) => (items.length === 0 ? 'false' : `list_contains([${items.join(',')}], ${e})`),
  tablesQuery: `SELECT schema_name || '.' || table_name AS t FROM duckdb_tables() WHERE database_name = current_database()`,
  rowHash: (t) => `hash(${t})`,
  rowid: 'rowid',
  inJsonStrings: (e, j) => `list_contains(from_json(${j}, '["VARCHAR"]'), ${e})`,
  dayText: (d) => `strftime(${d}, '%Y-%m-%d')`,
  monthText: (d) => `strftime(${d}, '%Y-%m')`,
  dayOfYear: (d) => `dayofyear(${d})`,
  roundDouble: (x, n) => `round(CAST(${x} AS DOUBLE), ${n})`,
};

export const POSTGRES_SQL: EngineSql = {
  name: 'postgres',
  // floor, as DuckDB's epoch_ms truncates microseconds.
  epochMs: (ts) => `CAST(floor(extract(epoch FROM ${ts}) * 1000) AS BIGINT)`,
  argMax: (v, by, f) =>
    `(array_agg(${v} ORDER BY (${v}) IS NULL, ${by} DESC NULLS LAST)${f ? ` FILTER (WHERE ${f})` : ''})[1]`,
  jsonText: (j, key) => `(CAST(${j} AS JSON) ->> '${key}')`,
  localDay: (ts) => `CAST(CAST(timezone('Asia/Shanghai', ${ts}) AS DATE) AS VARCHAR)`,
  jsonObject: (pairs) => `json_build_object(${pairs.join(', ')})`,
  isoUtc: (ts) => `to_char((${ts}) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`,
  double: 'DOUBLE PRECISION',
  tempTable: (name) => `pg_temp.${quoteIdent(name)}`,
  createTempTableAs: (name, q) => [`DROP TABLE IF EXISTS pg_temp.${quoteIdent(name)}`, `CREATE TEMP TABLE ${quoteIdent(name)} AS ${q}`],
  dateSeries: (from, to) => `SELECT CAST(g AS DATE) AS day FROM generate_series(CAST(${from} AS TIMESTAMP), CAST(${to} AS TIMESTAMP), INTERVAL '1 day') AS g`,
  isoDow: (d) => `CAST(extract(isodow FROM ${d}) AS INTEGER)`,
  year: (d) => `CAST(extract(year FROM ${d}) AS INTEGER)`,
  quarter: (d) => `CAST(extract(quarter FROM ${d}) AS INTEGER)`,
  month: (d) => `CAST(extract(month FROM ${d}) AS INTEGER)`,
  addDays: (d, n) => `CAST((${d}) + CAST(${n} AS INTEGER) AS DATE)`,
  inList: (e, items) => (items.length === 0 ? 'false' : `${e} = ANY (ARRAY[${items.join(',')}])`),
  tablesQuery: `SELECT table_schema || '.' || table_name AS t FROM information_schema.tables
         WHERE table_catalog = current_database() AND table_type = 'BASE TABLE'
           AND table_schema NOT IN ('pg_catalog', 'information_schema') AND table_schema NOT LIKE 'pg_temp%'`,
  rowHash: (t) => `hashtextextended(CAST(${t} AS TEXT), 0)`,
  // Physical position: insertion order for a table that is only appended to (COPY) and never updated.
  rowid: 'ctid',
  inJsonStrings: (e, j) => `${e} IN (SELECT json_array_elements_text(CAST(${j} AS JSON)))`,
  dayText: (d) => `to_char(${d}, 'YYYY-MM-DD')`,
  monthText: (d) => `to_char(${d}, 'YYYY-MM')`,
  dayOfYear: (d) => `CAST(extract(doy FROM ${d}) AS INTEGER)`,
  roundDouble: (x, n) => `CAST(round(CAST(${x} AS NUMERIC), ${n}) AS DOUBLE PRECISION)`,
};
