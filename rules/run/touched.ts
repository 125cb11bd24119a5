/**
 * The runner's reads of the key tuples new batches touched: how many there are (and whether one
 * has a NULL part), the values of a one-column key, and the merge's list of them. Every read is
 * of the one definition the delta SQL restricts its sources with (emit/touched-keys.ts), bound
 * through the store (`$nb`, the batch ids as JSON text) instead of a rule's `$delta_batches`.
 */
import type { Reads } from './execute.ts';
import { dialectOf } from '../language/dialects/index.ts';
import { touchedKeysSql } from '../language/emit/touched-keys.ts';
import type { TouchedSet } from '../types.ts';

/** The touched tuples (`k0 … kn`, text) as a derived table aliased `__u`, with its parameter. */
export function touchedFrom(store: Pick<Reads, 'engine' | 'dialect'>, tables: TouchedSet['tables'], batches: readonly string[]): { sql: string; params: Record<string, string> } {
  const inBatches = (col: string) => store.dialect.inJsonStrings(col, '$nb');
  return { sql: `${touchedKeysSql({ d: dialectOf(store.engine), inBatches }, tables)} AS __u`, params: { nb: JSON.stringify(batches) } };
}

/** How many tuples the batches touched, and whether one of them has a NULL part (no finding shows such a key). */
export async function touchedStats(store: Reads, tables: TouchedSet['tables'], batches: readonly string[]): Promise<TouchedSet & { hasNull: boolean }> {
  const width = Object.values(tables)[0]!.length;
  const { sql, params } = touchedFrom(store, tables, batches);
  const nullPart = Array.from({ length: width }, (_, i) => `k${i} IS NULL`).join(' OR ');
  const r = await store.one<{ n: string | number; has_null: boolean | null }>(
    `SELECT count(*) AS n, coalesce(bool_or(${nullPart}), false) AS has_null FROM ${sql}`, params,
  );
  return { tables, batches: [...batches], count: Number(r?.n ?? 0), hasNull: r?.has_null === true };
}

/** The distinct values of a one-column key `column` of `table` the batches touched (NULL as null). */
export async function touchedValues(store: Reads, table: string, column: string, batches: readonly string[]): Promise<(string | null)[]> {
  const { sql, params } = touchedFrom(store, { [table]: [column] }, batches);
  return (await store.all<{ k0: string | null }>(`SELECT k0 FROM ${sql}`, params)).map((r) => r.k0);
}
