/**
 * The key tuples new batches touched, read from the batches themselves: their rows' keys, and
 * the keys of the rows they replaced (the old version in fiscus.row_history: a correction may
 * move a row to another key). The one definition of a delta run's touched keys: the delta SQL
 * reads them once (`touchedCte`) and restricts its sources to them (`inTouchedKeys`), and the
 * runner counts them and reconciles the flags of those keys by them (rules/run/touched.ts).
 *
 * Before, the runner read the tuples into two JSON texts and bound them back: at 10M payments
 * a 1% batch touches 100k (agency, payee account) tuples, and building the texts took ~120 ms,
 * parsing them again in every delta query ~120 ms more (treasury.duplicate_payment's delta
 * 340 -> 171 ms read from the batches, the same rows).
 */
import { requireFeedTable, sqlType } from '../../../engine/feeds.ts';
import { rowValue, type Dialect } from '../dialects/types.ts';

/** What the touched tuples are read with: the dialect's names and casts, and how a batch id is tested. */
export interface TouchedSqlParts {
  d: Pick<Dialect, 'ident' | 'table' | 'cast' | 'jsonField' | 'stringLiteral'>;
  /** `batchColumn` is one of the new batches (a bound list: `$delta_batches` in rule SQL). */
  inBatches: (batchColumn: string) => string;
}

/**
 * A derived table (parenthesised, no alias) of the distinct tuples `k0 … kn`, each part the text
 * of its column (`CAST(… AS VARCHAR)`, as a finding's delta_key shows it), over the key columns
 * `tables[t]` of every delta table (the same number, in key order). A table the new batches did
 * not touch adds nothing: batch ids are unique across tables.
 */
export function touchedKeysSql({ d, inBatches }: TouchedSqlParts, tables: Readonly<Record<string, readonly string[]>>): string {
  const sides = Object.entries(tables).flatMap(([name, cols]) => {
    const t = requireFeedTable(name);
    const typeOf = (c: string) => sqlType(t.columns.find((x) => x.name === c)!.type);
    const fresh = cols.map((c, i) => `${d.cast(d.ident(c), 'string')} AS k${i}`);
    const old = cols.map((c, i) => `${d.cast(`CAST(${d.jsonField('old_row', d.stringLiteral(c))} AS ${typeOf(c)})`, 'string')} AS k${i}`);
    return [
      `SELECT ${fresh.join(', ')} FROM ${d.table(t.schema, t.table)} WHERE ${inBatches(d.ident('_batch_id'))}`,
      `SELECT ${old.join(', ')} FROM ${d.table('fiscus', 'row_history')} WHERE table_name = ${d.stringLiteral(name)} AND ${inBatches('replaced_by_batch')}`,
    ];
  });
  return `(${sides.join(' UNION ')})`;
}

/** The CTE of a delta query holding its touched tuples, read once however many sources it restricts. */
export const TOUCHED_CTE = 'fiscus_touched';

/** The touched tuples of the delta tables `tables` as the delta query's first CTE (`$delta_batches`). */
export function touchedCte(d: Dialect, tables: Readonly<Record<string, readonly string[]>>): string {
  return `${TOUCHED_CTE} AS MATERIALIZED ${touchedKeysSql({ d, inBatches: d.inDeltaBatches }, tables)}`;
}

/**
 * The row's key columns (`sql`, of SQL type `type`) equal one of the touched tuples (TOUCHED_CTE):
 * a row-value IN, which both engines plan as a hashed semi join.
 */
export function inTouchedKeys(columns: readonly { sql: string; type: string }[]): string {
  return `${rowValue(columns.map((c) => c.sql))} IN (SELECT ${columns.map((c, i) => `CAST(__dk.k${i} AS ${c.type})`).join(', ')} FROM ${TOUCHED_CTE} AS __dk)`;
}
