/**
 * One file → one batch (FEEDS.md "What bad input gets").
 *
 * DuckDB does the work in a few set-based statements:
 *   1. the file's SHA-256 (and a GB18030 → UTF-8 transcode) is the only JS pass
 *      over the bytes; for UTF-8 it runs while DuckDB reads;
 *   2. fast path (fast-path.ts): a clean file of new keys is inserted in one
 *      statement straight from the file;
 *   3. otherwise the full path: converted values with a `_bad` flag per row in
 *      a TEMP table in file order (typed-select.ts), duplicate keys flagged,
 *      reasons and physical lines for the failed rows only (quarantine.ts),
 *      then in one transaction: quarantine, corrections with their history,
 *      new rows (upsert.ts) and the batch row (report.ts).
 * A batch whose rejected share exceeds the threshold writes only its batch
 * row and quarantine (status rolled_back), so the clerk sees why.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { extname, join } from 'node:path';
import { refreshCalendar } from '../engine/calendar.ts';
import type { Store } from '../engine/db.ts';
import { FiscusError } from '../engine/errors.ts';
import { quoteIdent, type TableDef } from '../engine/feeds.ts';
import type { NumberFormat } from './convert-sql.ts';
import { detectEncoding, hasBareCrLines, hashFile, prepareBytes, readHead } from './encoding.ts';
import { tryCleanInsert, type FastCheck } from './fast-path.ts';
import { checkProfileAgainstTable, defaultProfile } from './mapping.ts';
import { planColumns } from './plan.ts';
import { prepareRejects, quarantineInsert, readStructuralRejects } from './quarantine.ts';
import { committedMessage, emptyReport, pct, writeBatchRow } from './report.ts';
import { previewOf } from './preview.ts';
import { referenceWarnings } from './references.ts';
import { formatOf, openSource, type FeedFormat, type OpenOptions, type SourceRows } from './source.ts';
import type { SourcePlan } from './plan.ts';
import { typedSelect } from './typed-select.ts';
import { DEFAULT_MAX_REJECT, type BatchReport, type IngestOptions, type IngestPhase } from './types.ts';
import { writeRows } from './upsert.ts';
import { ingestFileToPostgres } from './postgres.ts';
import type { PostgresStore } from '../engine/pg-store.ts';

export { emptyReport, newBatchId, writeBatchRow } from './report.ts';

export interface FileJob {
  /** Local file to read. */
  path: string;
  /** What the batch records as its source (the path, or the URL it came from). */
  source: string;
  sourceKind: 'file' | 'http';
  table?: TableDef;
  /** Why the table is unknown (reported as a failed batch). */
  tableError?: string;
  format?: FeedFormat;
  index: number;
  total: number;
  /** Runs inside the commit transaction of a committed or noop batch (e.g. HTTP cache state). */
  onSettled?: (report: BatchReport) => Promise<void>;
}

/**
 * Load one file as one batch. Never throws for a problem with the file: it returns a failed report.
 * The batch is a read-decide-write sequence (is it a re-send? which rows are new, corrected,
 * unchanged?), so it runs in the Store's exclusive section: tracker actions, deadline scans and
 * rule runs do not interleave with it.
 */
export async function ingestFile(store: Store, job: FileJob, opts: IngestOptions = {}): Promise<BatchReport> {
  // PostgreSQL: validated in a DuckDB staging database by this same code, then COPY-loaded (postgres.ts).
  if (store.engine === 'postgres') return ingestFileToPostgres(store as PostgresStore, job, opts);
  return store.exclusive(() => ingestFileNow(store, job, opts));
}

async function ingestFileNow(store: Store, job: FileJob, opts: IngestOptions): Promise<BatchReport> {
  const report = emptyReport(job);
  const tag = randomBytes(5).toString('hex');
  const temps: string[] = [];
  let tmp: string | undefined;
  const progress = (phase: IngestPhase) =>
    opts.onProgress?.({ source: job.source, phase, index: job.index, total: job.total });
  try {
    if (!job.table) throw new FiscusError(job.tableError ?? `cannot tell the table of ${job.source}`, { code: 'INGEST_TABLE' });
    const t = job.table;
    report.table = t.name;
    const profile = opts.mapping ?? defaultProfile();
    const format = job.format ?? profile.format ?? formatOf(job.path);
    if (!format) {
      throw new FiscusError(
        `${job.source}: unknown file format; use .csv, .jsonl/.ndjson, .json, .xlsx or .parquet, or set \`format:\` in a mapping profile` +
          (/\.xls$/i.test(job.path) ? ' (legacy .xls is not read: save it as .xlsx)' : ''),
        { code: 'INGEST_FORMAT' },
      );
    }
    report.format = format;
    report.mapping = opts.mapping?.label ?? null;
    checkProfileAgainstTable(profile, t);
    const maxReject = opts.maxReject ?? DEFAULT_MAX_REJECT;

    progress('hash');
    let size: number;
    try {
      size = (await stat(job.path)).size;
    } catch (err) {
      throw new FiscusError(`cannot read ${job.source}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { code: 'INGEST_READ' });
    }
    if (size === 0) throw new FiscusError(`${job.source} is empty: nothing to load.`, { code: 'INGEST_EMPTY' });
    tmp = await mkdtemp(join(opts.tmpDir ?? tmpdir(), 'fiscus-ingest-'));
    const text = format !== 'parquet' && format !== 'xlsx';
    const utf8Path = join(tmp, `utf8${extname(job.path) || '.csv'}`);
    const priorBatch = async (sha: string) =>
      (
        await store.one<{ batch_id: string }>(
          `SELECT batch_id FROM fiscus.batches WHERE table_name = $t AND sha256 = $s AND coalesce(mapping, '') = $m
             AND status = 'committed' ORDER BY started_at DESC LIMIT 1`,
          { t: t.name, s: sha, m: report.mapping ?? '' },
        )
      )?.batch_id;
    const finishNoop = async (priorId: string): Promise<BatchReport> => {
      report.status = 'noop';
      report.message = `same file already loaded as batch ${priorId}; nothing changed — 该文件已导入，未作改动`;
      report.finished_at = new Date().toISOString();
      await store.transaction(async () => {
        await job.onSettled?.(report);
        await writeBatchRow(store, report);
      });
      progress('done');
      return report;
    };

    // The SHA-256 pass is the one full read in JS. For a UTF-8 (or Parquet)
    // file that was not committed from this source before, it runs while
    // DuckDB loads the file, and the no-op check happens before the commit.
    // A transcode, or a likely re-send of a loaded file, hashes first, so
    // re-running a folder costs no load.
    const head = text ? await readHead(job.path) : undefined;
    const headEncoding = head ? detectEncoding(head.head, head.complete) : undefined;
    const bareCr = head ? hasBareCrLines(head.head) : false;
    const needsTranscode =
      text &&
      (bareCr ||
        (profile.encoding !== undefined && profile.encoding !== 'utf-8') ||
        (profile.encoding === undefined && !headEncoding!.startsWith('utf-8')));
    const resend = await store.one(
      `SELECT 1 AS x FROM fiscus.batches WHERE table_name = $t AND source = $s AND coalesce(mapping, '') = $m
         AND status = 'committed' LIMIT 1`,
      { t: t.name, s: job.source, m: report.mapping ?? '' },
    );
    let readPath = job.path;
    // The hash of a file not hashed up front: started when the one-pass INSERT is under way, since
    // SHA-256 runs on the main thread and, started earlier, held back the INSERT's own start
    // (100k payments: ~16 ms between reading the header and BEGIN).
    let hash: (() => Promise<{ sha256: string; utf8: boolean }>) | undefined;
    if (needsTranscode || resend) {
      const bytes = await prepareBytes(job.path, { text, override: profile.encoding, utf8Path, fixBareCr: bareCr });
      report.sha256 = bytes.sha256;
      report.encoding = text ? bytes.encoding : null;
      readPath = bytes.readPath;
      const prior = await priorBatch(bytes.sha256);
      if (prior) return await finishNoop(prior);
    } else {
      report.encoding = text ? headEncoding! : null;
      let hashing: Promise<{ sha256: string; utf8: boolean }> | undefined;
      const checkUtf8 = text && profile.encoding === undefined;
      hash = () => {
        if (!hashing) {
          hashing = hashFile(job.path, checkUtf8);
          hashing.catch(() => undefined); // awaited by every caller; never an unhandled rejection
        }
        return hashing;
      };
    }

    progress('read');
    // Header detection and synthetic keys need the rows laid out in JS (layout.ts).
    const staged = format === 'csv' && (profile.header !== undefined || Object.keys(profile.key).length > 0);
    const openOpts: OpenOptions = {
      skipRows: profile.skipRows, delimiter: profile.delimiter, tag, staged, header: profile.header, totals: profile.totals,
      sheet: profile.sheet, records: profile.records, tmp, source: job.source,
    };
    const fmt: NumberFormat = { decimal: profile.decimal, thousands: profile.thousands };
    const open = async () => {
      const s = await openSource(store, format, readPath, openOpts);
      const p = planColumns(t, s.headers, profile, (i) => `r${i}`, fmt);
      for (const layer of p.pre) s.select = `SELECT *, ${layer.join(', ')} FROM (${s.select})`;
      return { s, p };
    };
    let { s: src, p: plan } = await open();
    temps.push(...src.temps);
    if (bareCr) (src.notes ??= []).unshift('lines end in a bare CR');
    if (!staged && profile.skipRows > 0 && format === 'csv') (src.notes ??= []).push(`header on row ${profile.skipRows + 1} (${profile.skipRows} row${profile.skipRows > 1 ? 's' : ''} above skipped)`);
    const money = t.columns.filter((c) => c.type === 'money');

    // Fast path: most files are clean and add new keys. Insert straight from
    // the file in one pass; the first bad row, duplicate or existing key
    // aborts the statement (and the transaction), and the full path below
    // redoes the file with per-row reasons and corrections.
    const beforeCommit = hash
      ? async (): Promise<FastCheck> => {
          const h = await hash!();
          report.sha256 = h.sha256;
          if (!h.utf8) return { fallback: true };
          const prior = await priorBatch(h.sha256);
          return prior ? { noop: prior } : { ok: true };
        }
      : undefined;
    const fast = opts.preview
      ? ({ fallback: true } as const)
      : await tryCleanInsert(store, {
          t, src, plan, fmt, report, money, onSettled: job.onSettled, beforeCommit, notes: () => notesOf(src, plan),
          whileInserting: hash ? () => void hash!() : undefined,
        });
    if ('noop' in fast) return await finishNoop(fast.noop);
    if ('ok' in fast) {
      if (t.name === 'ref.calendar') await refreshCalendarSafely(store, opts);
      progress('done');
      return report;
    }
    // The aborted attempt may have filled DuckDB's rejects tables: start them afresh.
    for (const name of src.temps.filter((n) => n.startsWith('fiscus_rej'))) {
      await store.run(`DROP TABLE IF EXISTS temp.main.${quoteIdent(name)}`);
    }
    if (hash) {
      const h = await hash();
      report.sha256 = h.sha256;
      const prior = await priorBatch(h.sha256);
      if (prior) return await finishNoop(prior);
      if (!h.utf8) {
        // It looked like UTF-8 in its first megabyte but is not further on: GB18030, else Windows-1252.
        const bytes = await prepareBytes(job.path, { text, utf8Path });
        report.encoding = bytes.encoding;
        readPath = bytes.readPath;
        for (const name of src.temps) await store.run(`DROP TABLE IF EXISTS temp.main.${quoteIdent(name)}`);
        ({ s: src, p: plan } = await open());
        temps.push(...src.temps);
      }
    }
    const rn = src.format === 'csv' ? 'rowid' : '_rn';

    const typed = `fiscus_typed_${tag}`;
    temps.push(typed);
    await store.run(`CREATE OR REPLACE TEMP TABLE ${typed} AS ${typedSelect(src, plan, fmt)}`);
    // Blank and totals rows are not data: counted, then left out (rowids of the rest do not move).
    const skippedRow = await store.one<{ n: string }>(`SELECT count(*) AS n FROM ${typed} WHERE _skip`);
    const skippedHere = Number(skippedRow?.n ?? 0);
    if (skippedHere > 0) await store.run(`DELETE FROM ${typed} WHERE _skip`);
    report.skipped = (src.skipped ?? 0) + skippedHere;
    if (skippedHere > 0) (src.notes ??= []).push(`${skippedHere} blank or totals row${skippedHere > 1 ? 's' : ''} skipped`);

    progress('validate');
    const keyCols = t.key.map(quoteIdent);
    const dupTable = `fiscus_dup_${tag}`;
    temps.push(dupTable);
    const dupCount = await store.one<{ d: string }>(
      `SELECT count(*) AS d FROM (SELECT 1 FROM ${typed} WHERE ${keyCols.map((k) => `${k} IS NOT NULL`).join(' AND ')}
         GROUP BY ${keyCols.join(', ')} HAVING count(*) > 1)`,
    );
    await store.run(`CREATE OR REPLACE TEMP TABLE ${dupTable} (_rn BIGINT, first_rn BIGINT)`);
    if (Number(dupCount?.d ?? 0) > 0) {
      await store.run(`INSERT INTO ${dupTable}
        SELECT t.${rn}, f.first_rn FROM ${typed} t
        JOIN (SELECT ${keyCols.join(', ')}, min(${rn}) AS first_rn FROM ${typed}
              WHERE ${keyCols.map((k) => `${k} IS NOT NULL`).join(' AND ')}
              GROUP BY ${keyCols.join(', ')} HAVING count(*) > 1) f USING (${keyCols.join(', ')})
        WHERE t.${rn} <> f.first_rn`);
      await store.run(`UPDATE ${typed} SET _bad = true WHERE ${rn} IN (SELECT _rn FROM ${dupTable})`);
    }
    const stats = await store.one<Record<string, string>>(
      `SELECT count(*) AS total, count(*) FILTER (WHERE _bad) AS bad, count(*) FILTER (WHERE NOT _bad) AS good
       ${money.map((c, i) => `, CAST(CAST(coalesce(sum(${quoteIdent(c.name)}) FILTER (WHERE NOT _bad), 0) AS DECIMAL(38,2)) AS VARCHAR) AS m${i}`).join('')}
       FROM ${typed}`,
    );
    const structural = [...(src.rejectsTable ? await readStructuralRejects(store, src.rejectsTable) : []), ...(src.preRejects ?? [])];
    const total = Number(stats?.total ?? 0);
    const bad = Number(stats?.bad ?? 0);
    const good = Number(stats?.good ?? 0);
    // Every row is either accepted or rejected: a row in neither would be silently lost.
    if (good + bad !== total) throw new Error(`internal: ${total} rows but ${good} accepted + ${bad} rejected`);
    report.rows_read = total + structural.length;
    report.rejected = bad + structural.length;

    // Reasons and line numbers only for the rows that failed.
    const badTable = `fiscus_bad_${tag}`;
    const rawTable = `fiscus_raw_${tag}`;
    const rejTable = `fiscus_rejq_${tag}`;
    temps.push(badTable, rawTable, `${rawTable}_all`, rejTable);
    if (report.rejected > 0) {
      progress('quarantine');
      await prepareRejects(store, {
        src, typed, dupTable, badTable, rawTable, rejTable, rn, structural, path: readPath, skip: profile.skipRows, tag,
        log: opts.log,
      });
      temps.push(`fiscus_rejraw_${tag}`, `fiscus_rejrawscan_${tag}`);
    }

    const share = report.rows_read === 0 ? 0 : report.rejected / report.rows_read;
    const rolledBack = share > maxReject;
    const quarantineSql = (batchId: string) => quarantineInsert(batchId, t, job.source, src, plan, fmt, badTable, rawTable, rejTable);

    if (opts.preview) report.preview = await previewOf(store, src, plan, typed, rn, opts.preview.rows);

    progress('write');
    if (rolledBack) {
      report.status = 'rolled_back';
      report.accepted = 0;
      report.control_sums = { count: '0', ...Object.fromEntries(money.map((c) => [c.name, '0.00'])) };
      report.message =
        `rolled back: ${report.rejected} of ${report.rows_read} rows rejected (${pct(share)} > ${pct(maxReject)}); ` +
        notesOf(src, plan).map((n) => `${n}; `).join('') +
        `nothing from this file was loaded, see \`fiscus quarantine --batch ${report.batch_id}\` — ` +
        `拒收比例超过阈值，整批回滚，未导入任何数据`;
      report.finished_at = new Date().toISOString();
      await store.transaction(async () => {
        for (const sql of quarantineSql(report.batch_id)) await store.run(sql);
        await writeBatchRow(store, report);
      });
    } else {
      report.accepted = good;
      report.control_sums = { count: String(good), ...Object.fromEntries(money.map((c, i) => [c.name, stats?.[`m${i}`] ?? '0.00'])) };
      await store.transaction(async () => {
        if (report.rejected > 0) for (const sql of quarantineSql(report.batch_id)) await store.run(sql);
        const counts = await writeRows(store, t, typed, rn, report.batch_id, tag, temps);
        report.inserted = counts.inserted;
        report.corrected = counts.corrected;
        report.unchanged = counts.unchanged;
        report.status = 'committed';
        report.warnings = await referenceWarnings(store, t, report.batch_id);
        report.message = committedMessage(report, [...notesOf(src, plan), ...report.warnings]);
        report.finished_at = new Date().toISOString();
        await job.onSettled?.(report);
        await writeBatchRow(store, report);
      });
      if (t.name === 'ref.calendar' && report.inserted + report.corrected > 0) await refreshCalendarSafely(store, opts);
    }
    if (report.preview) {
      report.preview.rejects = await store.all(
        `SELECT CAST(line AS INTEGER) AS line, column_name AS "column", raw_value AS raw, reason FROM fiscus.quarantine
         WHERE batch_id = $b ORDER BY line NULLS LAST, column_name LIMIT ${opts.preview?.rows ?? 10}`,
        { b: report.batch_id },
      );
    }
    progress('done');
    return report;
  } catch (err) {
    report.status = 'failed';
    report.message = err instanceof Error ? err.message : String(err);
    if ((err as FiscusError).code === 'INGEST_MISSING_COLUMNS' && report.encoding && !report.encoding.startsWith('utf-8')) {
      report.message += ` (read as ${report.encoding}: if the headers above look garbled, the encoding is wrong — set \`encoding:\` in the mapping profile)`;
    }
    report.rows_read = report.accepted = report.rejected = report.inserted = report.corrected = report.unchanged = 0;
    report.control_sums = {};
    report.finished_at = new Date().toISOString();
    if (!(err instanceof FiscusError)) opts.log?.(`ingest ${job.source}: ${(err as Error).stack ?? report.message}`);
    await writeBatchRow(store, report).catch(() => undefined);
    progress('done');
    return report;
  } finally {
    for (const name of temps) await store.run(`DROP TABLE IF EXISTS temp.main.${quoteIdent(name)}`).catch(() => undefined);
    if (tmp) await rm(tmp, { recursive: true, force: true }).catch(() => undefined);
  }
}

/** What the layout and the plan did, for the batch message. */
export function notesOf(src: SourceRows, plan: SourcePlan): string[] {
  return [...(src.notes ?? []), ...plan.notes];
}

async function refreshCalendarSafely(store: Store, opts: IngestOptions): Promise<void> {
  // The batch is committed; a calendar refresh problem must not make it look failed.
  await refreshCalendar(store).catch((err: Error) =>
    opts.log?.(`warning: ref.calendar loaded but fiscus.calendar_days was not refreshed: ${err.message}`),
  );
}

