/**
 * Writing a validated batch into its feed table: new keys inserted, changed
 * rows replaced (the old version kept in fiscus.row_history), the rest counted
 * as unchanged, all by joins on the table's key (the batch's keys are unique:
 * duplicates were quarantined). On DuckDB the key has no index (migration 10),
 * on PostgreSQL it is the primary key; 100k corrections in a 1M-row table take
 * a couple of seconds.
 */
import type { Store } from '../engine/db.ts';
import { qualifiedName, quoteIdent, type TableDef } from '../engine/feeds.ts';
import { lit } from './sql-text.ts';

/** Whether the feed table holds no rows (a first load: nothing can be corrected or clash with it). */
export async function tableIsEmpty(store: Store, t: TableDef): Promise<boolean> {
  return (await store.one<{ e: boolean }>(`SELECT NOT EXISTS (SELECT 1 FROM ${qualifiedName(t)}) AS e`))?.e === true;
}

/** Insert new rows, replace corrected ones (old version to row_history), count unchanged. */
export async function writeRows(
  store: Store,
  t: TableDef,
  typed: string,
  rn: string,
  batchId: string,
  tag: string,
  temps: string[],
): Promise<{ inserted: number; corrected: number; unchanged: number }> {
  const target = qualifiedName(t);
  const colNames = t.columns.map((c) => quoteIdent(c.name));
  const insertCols = `${colNames.join(', ')}, extra, _batch_id, _row_hash, _ingested_at`;
  if (await tableIsEmpty(store, t)) {
    const r = await store.one<{ n: string }>(`SELECT count(*) AS n FROM ${typed} WHERE NOT _bad`);
    await store.run(`INSERT INTO ${target} (${insertCols})
      SELECT ${colNames.join(', ')}, extra, ${lit(batchId)}, _row_hash, now() FROM ${typed} WHERE NOT _bad`);
    return { inserted: Number(r?.n ?? 0), corrected: 0, unchanged: 0 };
  }
  const keyJoin = (a: string, b: string) => t.key.map((k) => `${a}.${quoteIdent(k)} = ${b}.${quoteIdent(k)}`).join(' AND ');
  const same = [
    ...t.columns.map((c) => `c.${quoteIdent(c.name)} IS NOT DISTINCT FROM t.${quoteIdent(c.name)}`),
    'CAST(c.extra AS VARCHAR) IS NOT DISTINCT FROM CAST(t.extra AS VARCHAR)',
  ].join(' AND ');
  const cls = `fiscus_cls_${tag}`;
  temps.push(cls);
  for (const sql of store.dialect.createTempTableAs(cls, `
    SELECT t.${rn} AS _rn, c.${quoteIdent(t.key[0])} IS NOT NULL AS existed, (${same}) AS same
    FROM ${typed} t LEFT JOIN ${target} c ON ${keyJoin('t', 'c')} WHERE NOT t._bad`)) {
    await store.run(sql);
  }
  const counts = await store.one<{ ins: string; cor: string; unc: string }>(
    `SELECT count(*) FILTER (WHERE NOT existed) AS ins, count(*) FILTER (WHERE existed AND NOT same) AS cor,
            count(*) FILTER (WHERE existed AND same) AS unc FROM ${cls}`,
  );
  const corrected = Number(counts?.cor ?? 0);
  const inserted = Number(counts?.ins ?? 0);
  if (corrected > 0) {
    const changed = `(SELECT t.* FROM ${typed} t JOIN ${cls} x ON x._rn = t.${rn} WHERE x.existed AND NOT x.same)`;
    const keyStr = t.key.map((k) => `CAST(c.${quoteIdent(k)} AS VARCHAR)`).join(` || '|' || `);
    const oldRow = store.dialect.jsonObject([
      ...t.columns.map(
        (col) =>
          `${lit(col.name)}, ${col.type === 'money' || col.type === 'rate' || col.type === 'date' ? `CAST(c.${quoteIdent(col.name)} AS VARCHAR)` : `c.${quoteIdent(col.name)}`}`,
      ),
      `'extra', c.extra, '_batch_id', c._batch_id, '_row_hash', CAST(c._row_hash AS VARCHAR), '_ingested_at', ${store.dialect.isoUtc('c._ingested_at')}`,
    ]);
    await store.run(`INSERT INTO fiscus.row_history (table_name, row_key, old_row, old_batch_id, replaced_by_batch, replaced_at)
      SELECT ${lit(t.name)}, ${keyStr}, ${oldRow}, c._batch_id, ${lit(batchId)}, now()
      FROM ${target} c JOIN ${changed} n ON ${keyJoin('c', 'n')}`);
    const sets = [
      ...t.columns.filter((c) => !t.key.includes(c.name)).map((c) => `${quoteIdent(c.name)} = n.${quoteIdent(c.name)}`),
      'extra = n.extra',
      `_batch_id = ${lit(batchId)}`,
      '_row_hash = n._row_hash',
      '_ingested_at = now()',
    ];
    await store.run(`UPDATE ${target} AS c SET ${sets.join(', ')} FROM ${changed} n WHERE ${keyJoin('c', 'n')}`);
  }
  if (inserted > 0) {
    await store.run(`INSERT INTO ${target} (${insertCols})
      SELECT ${colNames.map((c) => `t.${c}`).join(', ')}, t.extra, ${lit(batchId)}, t._row_hash, now()
      FROM ${typed} t JOIN ${cls} x ON x._rn = t.${rn} WHERE NOT x.existed`);
  }
  return { inserted, corrected, unchanged: Number(counts?.unc ?? 0) };
}
