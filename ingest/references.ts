/**
 * Codes a batch brought in that no reference table knows: a payment for
 * region 370882 or agency 001001 when ref.regions / ref.agencies have no such
 * row loads (the payment happened), but every per-region or per-agency figure
 * built on it is wrong, so the batch report says so, with counts and the
 * first few values.
 */
import type { Store } from '../engine/db.ts';
import { isStagingStore } from './staging.ts';
import { quoteIdent, qualifiedName, type TableDef } from '../engine/feeds.ts';

const CHECKS: { column: string; ref: string; refColumn: string; zh: string }[] = [
  { column: 'region_code', ref: 'ref.regions', refColumn: 'region_code', zh: '区划代码' },
  { column: 'from_region', ref: 'ref.regions', refColumn: 'region_code', zh: '区划代码' },
  { column: 'to_region', ref: 'ref.regions', refColumn: 'region_code', zh: '区划代码' },
  { column: 'parent_code', ref: 'ref.regions', refColumn: 'region_code', zh: '上级区划代码' },
  { column: 'agency_code', ref: 'ref.agencies', refColumn: 'agency_code', zh: '单位代码' },
];

const FIRST = 5;

/** Warnings for the rows of `batchId` in `t` whose codes are absent from their reference table. */
export async function referenceWarnings(store: Store, t: TableDef, batchId: string): Promise<string[]> {
  const out: string[] = [];
  // A staging database (ingest/postgres.ts) has no reference rows: the real database is checked after the load.
  if (isStagingStore(store)) return out;
  for (const c of CHECKS) {
    if (!t.columns.some((col) => col.name === c.column)) continue;
    // A reference table's own key is what defines the codes (parent_code of ref.regions is checked).
    if (t.name === c.ref && c.column === c.refColumn) continue;
    const [schema, table] = c.ref.split('.');
    const refTable = `${quoteIdent(schema)}.${quoteIdent(table)}`;
    const col = quoteIdent(c.column);
    // Group the batch's codes first (a few hundred distinct values in a million rows), then look the
    // groups up: measured at 1M payments, 3.5x faster than looking every row up and de-duplicating after.
    const n = await store.one<{ rows: string; codes: string; first: string[] | null; ref_rows: string }>(
      `WITH g AS (SELECT ${col} AS code, count(*) AS n FROM ${qualifiedName(t)} WHERE _batch_id = $b AND ${col} IS NOT NULL GROUP BY 1)
       SELECT coalesce(sum(n), 0) AS rows, count(*) AS codes, (array_agg(code ORDER BY code))[1:${FIRST}] AS first,
              (SELECT count(*) FROM ${refTable}) AS ref_rows
       FROM g WHERE NOT EXISTS (SELECT 1 FROM ${refTable} r WHERE r.${quoteIdent(c.refColumn)} = g.code)`,
      { b: batchId },
    );
    const rows = Number(n?.rows ?? 0);
    if (rows === 0) continue;
    const first = n?.first ?? [];
    const codes = Number(n?.codes ?? 0);
    const empty = Number(n?.ref_rows ?? 0) === 0;
    out.push(
      `warning: ${rows} row${rows > 1 ? 's' : ''} with ${codes} ${c.column} value${codes > 1 ? 's' : ''} unknown to ${c.ref}` +
        `${empty ? ` (${c.ref} is empty: load it first)` : ''}: ${first.join(', ')}${codes > FIRST ? ', …' : ''}` +
        ` — ${rows}行的${c.zh}不在参考表${c.ref}中`,
    );
  }
  return out;
}
