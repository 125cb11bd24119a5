/**
 * Every figure in a report comes from a recorded query.
 *
 * `TracedQueries.run` executes a SELECT and keeps its text and parameters, so
 * the report can list, next to each table and chart, the query that produced
 * it, and anyone can re-run it with `fiscus query "<sql>" --param k=v`.
 * Parameters are strings (that is what `fiscus query --param` binds); the SQL
 * casts them.
 */
import type { Store } from '../engine/db.ts';
import { sqlString } from '../engine/sql-quote.ts';

export interface QueryRecord {
  id: string;
  title: string;
  sql: string;
  params: Record<string, string | null>;
}

export class TracedQueries {
  readonly records: QueryRecord[] = [];

  constructor(readonly store: Store) {}

  async run<T extends Record<string, unknown>>(
    id: string,
    title: string,
    sql: string,
    params: Record<string, string | null>,
  ): Promise<T[]> {
    const text = sql.trim().replace(/\n {4,}/g, '\n  ');
    // Bind only the parameters the query uses: DuckDB rejects unused named parameters.
    const used = Object.fromEntries(Object.entries(params).filter(([k]) => new RegExp(`\\$${k}\\b`).test(text)));
    this.records.push({ id, title, sql: text, params: used });
    return this.store.all<T>(text, used);
  }

  /** True when `table` has at least one row (in scope, if the SQL filter is given). */
  async hasRows(table: string, where = 'true', params: Record<string, string | null> = {}): Promise<boolean> {
    const used = Object.fromEntries(Object.entries(params).filter(([k]) => new RegExp(`\\$${k}\\b`).test(where)));
    const row = await this.store.one<{ n: string }>(`SELECT count(*) AS n FROM ${table} WHERE ${where}`, used);
    return Number(row?.n ?? 0) > 0;
  }
}

/**
 * The regions a report covers: the chosen region and everything below it
 * (ref.regions parent chain). With no region chosen, every row is in scope.
 */
export const SCOPE_CTE = `scope(region_code) AS (
    SELECT region_code FROM ref.regions WHERE region_code = $region
    UNION
    SELECT r.region_code FROM ref.regions r JOIN scope s ON r.parent_code = s.region_code
  )`;

/**
 * SQL: the 1-based position of `expr` among the string `values`, NULL for any other value
 * (an ORDER BY key; DuckDB's list_position, written so both engines take it).
 */
export function positionIn(expr: string, values: readonly string[]): string {
  return `CASE ${expr} ${values.map((v, i) => `WHEN ${sqlString(v)} THEN ${i + 1}`).join(' ')} END`;
}

/** A filter on a region column honouring the scope (use with `WITH RECURSIVE ${SCOPE_CTE}`). */
export function inScope(column: string): string {
  return `($region IS NULL OR ${column} IN (SELECT region_code FROM scope))`;
}
