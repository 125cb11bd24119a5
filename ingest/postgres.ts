/**
 * Ingest into PostgreSQL: validate as on DuckDB, then bulk-load with COPY.
 *
 * Ingest validates in DuckDB SQL (read_csv, typed conversion, reasons and lines of bad
 * rows, duplicate keys), so DuckDB stays the engine that stages a batch: the file goes
 * through the very same pipeline (batch.ts) into a private in-memory DuckDB whose feed
 * table starts empty. What that run accepted and rejected is then streamed into the
 * PostgreSQL database with COPY FROM STDIN, and merged there in one transaction with
 * the same SQL as on DuckDB (upsert.ts: new rows inserted, corrections replace the row
 * and keep the old one in fiscus.row_history, the rest counted unchanged), followed by
 * the quarantine rows, the reference warnings and the batch row.
 *
 * Re-sends are no-ops here too: the staging run sees the table's committed batches.
 */
import { randomBytes } from 'node:crypto';
import { refreshCalendar } from '../engine/calendar.ts';
import { openStore, type Store } from '../engine/db.ts';
import { qualifiedName, quoteIdent, type TableDef } from '../engine/feeds.ts';
import { sqlString } from '../engine/sql-quote.ts';
import type { PostgresStore } from '../engine/pg-store.ts';
import { ingestFile, type FileJob } from './batch.ts';
import { referenceWarnings } from './references.ts';
import { writeBatchRow } from './report.ts';
import { markStaging } from './staging.ts';
import type { BatchReport, IngestOptions } from './types.ts';
import { writeRows } from './upsert.ts';

const QUARANTINE_COLUMNS = ['batch_id', 'table_name', 'source', 'line', 'column_name', 'raw_value', 'reason', 'raw_row'];

export async function ingestFileToPostgres(pg: PostgresStore, job: FileJob, opts: IngestOptions): Promise<BatchReport> {
  return pg.exclusive(async () => {
    const staging = await stagingFor(pg);
    try {
      if (job.table) await copyPriorBatches(pg, staging, job.table);
      const report = await ingestFile(staging, { ...job, onSettled: undefined }, opts);
      try {
        await publish(pg, staging, job, report);
      } catch (err) {
        report.status = 'failed';
        report.message = `loading into PostgreSQL failed: ${(err as Error).message}`;
        report.rows_read = report.accepted = report.rejected = report.inserted = report.corrected = report.unchanged = 0;
        report.control_sums = {};
        report.finished_at = new Date().toISOString();
        opts.log?.(`ingest ${job.source}: ${(err as Error).stack ?? report.message}`);
        await writeBatchRow(pg, report).catch(() => undefined);
        return report;
      }
      if (report.status === 'committed' && job.table) await analyzeIfGrown(pg, job.table, report.inserted + report.corrected, opts);
      if (report.status === 'committed' && job.table?.name === 'ref.calendar' && report.inserted + report.corrected > 0) {
        await refreshCalendar(pg).catch((err: Error) =>
          opts.log?.(`warning: ref.calendar loaded but fiscus.calendar_days was not refreshed: ${err.message}`),
        );
      }
      return report;
    } finally {
      await resetStaging(staging, job.table);
    }
  });
}

const STAGING = new WeakMap<PostgresStore, Promise<Store>>();

/** One in-memory DuckDB per PostgreSQL Store stages its batches (opening one costs its migrations). */
function stagingFor(pg: PostgresStore): Promise<Store> {
  let s = STAGING.get(pg);
  if (!s) {
    s = openStore(':memory:').then((store) => {
      markStaging(store);
      pg.onClose(() => store.close());
      return store;
    });
    STAGING.set(pg, s);
  }
  return s;
}

/**
 * Refresh the planner's statistics of a table a batch changed by a tenth or more. A fresh bulk load
 * otherwise leaves PostgreSQL planning the rules on "never analysed" guesses until autovacuum gets
 * there (minutes later); a small batch into a big table is left to autovacuum, as ANALYZE costs a
 * sample of the whole table.
 */
async function analyzeIfGrown(pg: PostgresStore, t: TableDef, changed: number, opts: IngestOptions): Promise<void> {
  if (changed <= 0) return;
  const r = await pg.one<{ n: number | string | null }>(
    `SELECT c.reltuples AS n FROM pg_class c JOIN pg_namespace ns ON ns.oid = c.relnamespace WHERE ns.nspname = $s AND c.relname = $t`,
    { s: t.schema, t: t.table },
  );
  const known = Number(r?.n ?? -1);
  if (known >= 0 && changed * 10 < known) return;
  await pg.run(`ANALYZE ${qualifiedName(t)}`).catch((err: Error) => opts.log?.(`warning: ANALYZE ${t.name} failed: ${err.message}`));
}

/** Empty what a batch left in the staging database, so the next one starts from an empty table. */
async function resetStaging(staging: Store, t: TableDef | undefined): Promise<void> {
  if (t) await staging.run(`DELETE FROM ${qualifiedName(t)}`);
  for (const table of ['fiscus.quarantine', 'fiscus.batches', 'fiscus.row_history', 'fiscus.http_sources']) await staging.run(`DELETE FROM ${table}`);
}

/** The staging run's view of earlier batches of the table: a committed re-send is a no-op. */
async function copyPriorBatches(pg: Store, staging: Store, t: TableDef): Promise<void> {
  const rows = await pg.all<Record<string, string | null>>(
    `SELECT batch_id, table_name, source, source_kind, sha256, mapping, status, started_at FROM fiscus.batches
     WHERE table_name = $t AND status = 'committed'`,
    { t: t.name },
  );
  for (const r of rows) {
    await staging.run(
      `INSERT INTO fiscus.batches (batch_id, table_name, source, source_kind, sha256, mapping, status, started_at)
       VALUES ($batch_id, $table_name, $source, $source_kind, $sha256, $mapping, $status, $started_at::TIMESTAMPTZ)`,
      r,
    );
  }
}

/** Rows of a staging query, streamed chunk by chunk as JSON-safe values (money as strings). */
async function* stagedRows(staging: Store, sql: string): AsyncGenerator<unknown[]> {
  const conn = await staging.connect();
  try {
    const result = await conn.stream(sql);
    for await (const rows of result.yieldRowsJson()) yield* rows;
  } finally {
    conn.closeSync();
  }
}

async function publish(pg: PostgresStore, staging: Store, job: FileJob, report: BatchReport): Promise<void> {
  const t = job.table;
  await pg.transaction(async () => {
    if (report.status === 'committed' || report.status === 'rolled_back') {
      await pg.copyIn(
        `COPY fiscus.quarantine (${QUARANTINE_COLUMNS.join(', ')}) FROM STDIN`,
        stagedRows(staging, `SELECT ${QUARANTINE_COLUMNS.map((c) => (c === 'raw_row' ? 'CAST(raw_row AS VARCHAR)' : c)).join(', ')} FROM fiscus.quarantine WHERE batch_id = ${sqlString(report.batch_id)}`),
      );
    }
    if (report.status === 'committed' && t) {
      const staged = `fiscus_pub_${randomBytes(5).toString('hex')}`;
      const temps: string[] = [staged];
      const cols = [...t.columns.map((c) => quoteIdent(c.name)), 'extra', '_row_hash'];
      try {
        await pg.run(`CREATE TEMP TABLE ${staged} AS SELECT ${cols.join(', ')} FROM ${qualifiedName(t)} WITH NO DATA`);
        await pg.run(`ALTER TABLE ${staged} ADD COLUMN _rn BIGINT GENERATED ALWAYS AS IDENTITY, ADD COLUMN _bad BOOLEAN NOT NULL DEFAULT false`);
        await pg.copyIn(
          `COPY ${staged} (${cols.join(', ')}) FROM STDIN`,
          stagedRows(staging, `SELECT ${cols.map((c) => (c === 'extra' ? 'CAST(extra AS VARCHAR)' : c)).join(', ')} FROM ${qualifiedName(t)}`),
        );
        const counts = await writeRows(pg, t, staged, '_rn', report.batch_id, randomBytes(5).toString('hex'), temps);
        const before = countsText(report);
        report.inserted = counts.inserted;
        report.corrected = counts.corrected;
        report.unchanged = counts.unchanged;
        report.warnings = await referenceWarnings(pg, t, report.batch_id);
        report.message = rewriteCounts(report.message, before, countsText(report), report.warnings);
      } finally {
        for (const name of temps) await pg.run(`DROP TABLE IF EXISTS pg_temp.${quoteIdent(name)}`);
      }
    }
    if (report.status === 'committed' || report.status === 'noop') await job.onSettled?.(report);
    await writeBatchRow(pg, report);
  });
}

function countsText(r: BatchReport): { en: string; zh: string } {
  return {
    en: `committed: ${r.inserted} inserted, ${r.corrected} corrected, ${r.unchanged} unchanged`,
    zh: `已导入：新增${r.inserted}行，更正${r.corrected}行，未变${r.unchanged}行`,
  };
}

/** The staging run's message said what staging did (all rows new): say what the database did, plus its warnings. */
function rewriteCounts(message: string, before: { en: string; zh: string }, after: { en: string; zh: string }, warnings: string[]): string {
  let m = message.replace(before.en, after.en).replace(before.zh, after.zh);
  if (warnings.length) {
    const at = m.lastIndexOf(' — ');
    m = at < 0 ? `${m}; ${warnings.join('; ')}` : `${m.slice(0, at)}; ${warnings.join('; ')}${m.slice(at)}`;
  }
  return m;
}
