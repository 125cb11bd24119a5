/**
 * Evidence: the primary keys of the rows behind a finding, as `[{table, key}]` in the
 * dialect's form; above EVIDENCE_LIMIT rows, a SELECT (text) that lists them instead.
 */
import type { TableDef } from '../../../engine/feeds.ts';
import type { Dialect } from '../dialects/types.ts';
import type { VType } from '../scope.ts';
import { AS_OF_COLUMNS, asOfParam } from './as-of.ts';

/** Evidence lists longer than this are replaced by `evidence_query` (FLAGS.md: "where those are thousands"). */
export const EVIDENCE_LIMIT = 500;

/**
 * A finding's evidence: its keys up to EVIDENCE_LIMIT rows, else the query. `keys(cap)` gives
 * the key list, a subquery correlated with the finding that must also be filtered by `cap`
 * (the finding has at most EVIDENCE_LIMIT rows): DuckDB decorrelates it into one join of the
 * findings with the table, and with `cap` the join's findings side is empty for findings above
 * the limit, so the table is not scanned for lists the CASE throws away (treasury.benford at
 * 10M payments: 3.3 s -> 1.3 s; its findings all have 1,000 rows or more).
 */
export function limitedEvidence(d: Dialect, table: string, n: string, keys: (cap: string) => string, query: string): { evidence: string; evidenceQuery: string } {
  return {
    evidence: `CASE WHEN ${n} <= ${EVIDENCE_LIMIT} THEN ${d.evidence(table, keys(`${n} <= ${EVIDENCE_LIMIT}`))} ELSE ${d.emptyEvidence()} END`,
    evidenceQuery: `CASE WHEN ${n} > ${EVIDENCE_LIMIT} THEN ${query} END`,
  };
}

/** SQL text (an expression) quoting a value for the evidence query. */
export function quoteSql(sql: string, t: VType): string {
  if (t === 'integer' || t === 'money' || t === 'number') return `CAST(${sql} AS VARCHAR)`;
  if (t === 'date') return `'DATE ''' || CAST(${sql} AS VARCHAR) || ''''`;
  return `'''' || replace(CAST(${sql} AS VARCHAR), '''', '''''') || ''''`;
}

/**
 * A SELECT listing the primary rows of a group: the group keys that are plain columns,
 * and the as-of cut-off of the table.
 */
export function evidenceQuery(d: Dialect, table: TableDef, plain: { name: string; column: string; type: VType }[], ref: string): string {
  const parts = plain.map((g) => `'${g.column} = ' || ${quoteSql(`${ref}.${d.ident(g.name)}`, g.type)}`);
  const a = AS_OF_COLUMNS[table.name];
  if (a) {
    const asOf = asOfParam(d);
    const v = a.kind === 'date' ? `'DATE ''' || CAST(${asOf} AS VARCHAR) || ''''` : a.kind === 'year' ? `CAST(${d.year(asOf)} AS VARCHAR)` : `'''' || ${d.yearMonth(asOf)} || ''''`;
    parts.push(`'${a.column} <= ' || ${v}`);
  }
  const base = `'SELECT * FROM ${table.name}${parts.length ? ' WHERE ' : ''}'`;
  return parts.length ? `${base} || ${parts.join(` || ' AND ' || `)}` : base;
}
