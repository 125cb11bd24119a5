/**
 * The one-pass load for the common case: a clean file of new keys goes from
 * the file into its table in a single INSERT. The first bad row raises (via
 * error()); a duplicate or existing key is found by `keysClash` (DuckDB) or
 * violates the primary key (PostgreSQL); either way the transaction rolls back
 * and the caller takes the full path.
 */
import type { Store } from '../engine/db.ts';
import { qualifiedName, quoteIdent, type TableDef } from '../engine/feeds.ts';
import type { NumberFormat } from './convert-sql.ts';
import type { SourcePlan } from './plan.ts';
import { readStructuralRejects } from './quarantine.ts';
import { referenceWarnings } from './references.ts';
import { committedMessage, writeBatchRow } from './report.ts';
import type { SourceRows } from './source.ts';
import { lit } from './sql-text.ts';
import { typedSelect } from './typed-select.ts';
import { tableIsEmpty } from './upsert.ts';
import type { BatchReport } from './types.ts';

const BAD_ROW = 'fiscus:bad-row';

/**
 * Whether a key of batch `batchId` occurs twice in the table (within the batch or against a row
 * already there). DuckDB feed tables carry no primary-key index (migration 10): an ART index
 * of 10M keys cost half the load's time, and at 30M it no longer fitted the memory limit, so
 * the load failed. Instead the table's rows whose key is one of the batch's are counted
 * against the batch's distinct keys: one hash join, which DuckDB parallelises and can spill.
 * Into a table that was empty (`wasEmpty`: a first load) the batch is the table, and one
 * distinct count of the keys does: no join of every row against every key.
 *
 * The first load counts the keys' 64-bit hashes, not the keys (10M payment ids inside the
 * load's transaction: 2.8 s as strings, 1.2-1.8 s as hashes). That is still exact where it
 * matters: equal keys have equal hashes, so a real clash always shows; a collision of two
 * different keys can only report a clash that is not there, which sends the file down the full
 * path, slower and as correct. Key columns are never NULL (FEEDS.md), so NULL's hash needs no
 * care. The join of a later batch stays on the keys themselves: their min/max let DuckDB skip
 * row groups that cannot match (a 100k batch against 10M rows: 37 ms on the keys, 151 ms on hashes).
 *
 * The first load sorts the hashes and compares neighbours rather than counting distinct ones:
 * inside the load's transaction, with the batch in transaction-local storage, the hash table
 * of a distinct count of 10M hashes took 2.4-2.6 s and the sort 1.0 s (on committed rows
 * 0.9 s and 0.6 s; at 1M rows 109 ms and 87 ms).
 */
export async function keysClash(store: Store, t: TableDef, batchId: string, wasEmpty = false): Promise<boolean> {
  const keys = t.key.map(quoteIdent);
  const on = keys.map((k) => `c.${k} = b.${k}`).join(' AND ');
  const r = await store.one<{ clash: boolean }>(
    wasEmpty
      ? `SELECT count(*) > 0 AS clash FROM (SELECT h, lag(h) OVER (ORDER BY h) AS prev
           FROM (SELECT hash(${keys.join(', ')}) AS h FROM ${qualifiedName(t)})) WHERE h = prev`
      : `WITH b AS (SELECT DISTINCT ${keys.join(', ')} FROM ${qualifiedName(t)} WHERE _batch_id = $b)
     SELECT (SELECT count(*) FROM ${qualifiedName(t)} c JOIN b ON ${on}) <> (SELECT count(*) FROM b) AS clash`,
    wasEmpty ? {} : { b: batchId },
  );
  return r?.clash === true;
}

export type FastCheck = { ok: true } | { fallback: true } | { noop: string };

class NoopSignal extends Error {
  constructor(readonly prior: string) {
    super('noop');
  }
}

/**
 * One-pass load of a file with no bad row, no duplicate key and no key already
 * in the table. Anything else (and `beforeCommit` saying so) leaves nothing
 * written and returns `fallback`, or `noop` when the file turned out to be loaded already.
 */
export async function tryCleanInsert(
  store: Store,
  c: {
    t: TableDef;
    src: SourceRows;
    plan: SourcePlan;
    fmt: NumberFormat;
    report: BatchReport;
    money: readonly { name: string }[];
    onSettled?: (report: BatchReport) => Promise<void>;
    beforeCommit?: () => Promise<FastCheck>;
    /** Called once the INSERT is on its way to DuckDB: work for the main thread meanwhile. */
    whileInserting?: () => void;
    /** Layout and mapping notes for the batch message. */
    notes: () => string[];
  },
): Promise<FastCheck> {
  const { t, report } = c;
  const cols = t.columns.map((col) => quoteIdent(col.name));
  try {
    await store.transaction(async () => {
      // PostgreSQL's primary key refuses a clash inside the INSERT; DuckDB's tables have none.
      const checkKeys = store.engine === 'duckdb';
      const wasEmpty = checkKeys && (await tableIsEmpty(store, t));
      const inserting = store.one<{ Count: string }>(
        `INSERT INTO ${qualifiedName(t)} (${cols.join(', ')}, extra, _batch_id, _row_hash, _ingested_at)
         SELECT ${cols.join(', ')}, extra, ${lit(report.batch_id)}, _row_hash, now()
         FROM (${typedSelect(c.src.strictSelect ? { ...c.src, select: c.src.strictSelect } : c.src, c.plan, c.fmt)})
         WHERE CASE WHEN _bad OR _skip THEN error(${lit(BAD_ROW)}) ELSE true END`,
      );
      c.whileInserting?.();
      const r = await inserting;
      if (checkKeys && (await keysClash(store, t, report.batch_id, wasEmpty))) throw new Error('fallback');
      const recorded = !c.src.strictSelect && c.src.rejectsTable;
      if (c.src.preRejects?.length || (recorded && (await readStructuralRejects(store, recorded)).length > 0)) {
        throw new Error(BAD_ROW); // broken CSV lines need the full path's quarantine
      }
      const check = c.beforeCommit ? await c.beforeCommit() : { ok: true as const };
      if ('noop' in check) throw new NoopSignal(check.noop);
      if ('fallback' in check) throw new Error('fallback');
      const n = Number(r?.Count ?? 0);
      const sums = await store.one<Record<string, string>>(
        `SELECT 1 AS x ${c.money.map((m, i) => `, CAST(CAST(coalesce(sum(${quoteIdent(m.name)}), 0) AS DECIMAL(38,2)) AS VARCHAR) AS m${i}`).join('')}
         FROM ${qualifiedName(t)} WHERE _batch_id = $b`,
        { b: report.batch_id },
      );
      report.rows_read = report.accepted = report.inserted = n;
      report.rejected = report.corrected = report.unchanged = 0;
      report.control_sums = { count: String(n), ...Object.fromEntries(c.money.map((m, i) => [m.name, sums?.[`m${i}`] ?? '0.00'])) };
      report.status = 'committed';
      report.skipped = c.src.skipped ?? 0;
      report.warnings = await referenceWarnings(store, t, report.batch_id);
      report.message = committedMessage(report, [...c.notes(), ...report.warnings]);
      report.finished_at = new Date().toISOString();
      await c.onSettled?.(report);
      await writeBatchRow(store, report);
    });
    return { ok: true };
  } catch (err) {
    // Any failure (bad row, duplicate, existing key, broken line) is handled, with reasons, by the full path.
    report.status = 'failed';
    return err instanceof NoopSignal ? { noop: err.prior } : { fallback: true };
  }
}

