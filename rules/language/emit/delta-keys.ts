/**
 * A delta run's restriction to the key tuples the new batches touched (passes/delta.ts).
 *
 * The touched tuples are read where they are used, from the new batches' ids alone
 * (`$delta_batches`): the keys of the batches' rows, and of the rows they replaced (the old
 * version a correction leaves in fiscus.row_history: it may have had another key). They used to
 * be read by the runner and bound back as one JSON text per key part; at 10M payments a 1%
 * batch touches 100k (agency, payee) tuples, and treasury.duplicate_payment's delta query took
 * 330-420 ms on the two 2 MB texts against 170 ms reading the batch (and the runner spent
 * ~100 ms more reading and re-encoding them). rules/run/fingerprint.ts counts the same tuples,
 * and the write phase marks the flags of the same tuples, with the same two reads.
 *
 * A tuple IN plans as a hash semi join (measured at 1M payments: 20 ms, against 50-70 ms for
 * EXISTS).
 */
import type { Dialect } from '../dialects/types.ts';
import { rowValue } from '../dialects/types.ts';
import type { DeltaKeyTable } from '../plan/types.ts';

/** The history of corrected rows, as engine/migrations.ts creates it. */
const ROW_HISTORY = { schema: 'fiscus', table: 'row_history' };

/**
 * `columns` (the row's key columns, of SQL types `type`) are a tuple the new batches touched on
 * one of the tables `from` (each with its key columns, in the order of `columns`).
 */
export function inTouchedKeys(d: Dialect, columns: readonly { sql: string; type: string }[], from: readonly DeltaKeyTable[]): string {
  const k = (i: number) => `k${i}`;
  const arms = from.flatMap(({ table, columns: cols }) => {
    const fresh = cols.map((c, i) => `CAST(__t.${d.ident(c)} AS ${columns[i]!.type}) AS ${k(i)}`);
    const old = cols.map((c, i) => `CAST(${d.jsonField(`__h.${d.ident('old_row')}`, d.stringLiteral(c))} AS ${columns[i]!.type}) AS ${k(i)}`);
    return [
      `SELECT ${fresh.join(', ')} FROM ${d.table(table.schema, table.table)} AS __t WHERE ${d.inDeltaBatches(`__t.${d.ident('_batch_id')}`)}`,
      `SELECT ${old.join(', ')} FROM ${d.table(ROW_HISTORY.schema, ROW_HISTORY.table)} AS __h` +
        ` WHERE __h.${d.ident('table_name')} = ${d.stringLiteral(table.name)} AND ${d.inDeltaBatches(`__h.${d.ident('replaced_by_batch')}`)}`,
    ];
  });
  return `${rowValue(columns.map((c) => c.sql))} IN (SELECT ${columns.map((_, i) => k(i)).join(', ')} FROM (${arms.join(' UNION ALL ')}) AS __dk)`;
}
