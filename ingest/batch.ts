/**
 * One file → one batch (FEEDS.md "What bad input gets").
 *
 * The work is done by DuckDB in a few set-based statements:
 *   1. hash the file (and transcode GB18030 to UTF-8) — the only JS pass;
 *   2. read it into a TEMP table of converted values with one `_bad` flag per
 *      row (convert-sql.ts), in file order;
 *   3. flag duplicate keys (second occurrence onwards);
 *   4. only when some rows failed: re-read the raw text of those rows, build
 *      the per-column reasons and their physical line numbers, quarantine them;
 *   5. in one transaction: quarantine, old versions of corrected rows into
 *      fiscus.row_history, UPDATE corrected rows, INSERT new ones, the batch row.
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
import { qualifiedName, quoteIdent, type TableDef } from '../engine/feeds.ts';
import { badExpr, columnLayers, normExpr, reasonExpr, valueExpr, type NumberFormat } from './convert-sql.ts';
import { lineMapper, scanRecordLines } from './csv-text.ts';
import { detectFileEncoding, hashFile, prepareBytes } from './encoding.ts';
import { checkProfileAgainstTable, defaultProfile, type MappingProfile } from './mapping.ts';
import { planColumns, type SourcePlan } from './plan.ts';
import { formatOf, openSource, type FeedFormat, type SourceRows } from './source.ts';
import { lit } from './sql-text.ts';
import { DEFAULT_MAX_REJECT, type BatchReport, type IngestOptions, type IngestPhase } from './types.ts';

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

export function newBatchId(now = new Date()): string {
  const ts = now.toISOString().replace(/[-:T]/g, '').slice(0, 14);
  return `B${ts}-${randomBytes(3).toString('hex')}`;
}

export function emptyReport(job: Pick<FileJob, 'source' | 'sourceKind'>, batchId = newBatchId()): BatchReport {
  const now = new Date().toISOString();
  return {
    batch_id: batchId,
    table: '',
    source: job.source,
    source_kind: job.sourceKind,
    format: null,
    encoding: null,
    sha256: null,
    mapping: null,
    status: 'failed',
    message: '',
    rows_read: 0,
    accepted: 0,
    rejected: 0,
    inserted: 0,
    corrected: 0,
    unchanged: 0,
    control_sums: {},
    started_at: now,
    finished_at: now,
  };
}

export async function writeBatchRow(store: Store, r: BatchReport): Promise<void> {
  await store.run(
    `INSERT INTO fiscus.batches (batch_id, table_name, source, source_kind, format, encoding, sha256, mapping, status,
       message, rows_read, accepted, rejected, inserted, corrected, unchanged, control_sums, started_at, finished_at)
     VALUES ($batch_id, $table_name, $source, $source_kind, $format, $encoding, $sha256, $mapping, $status, $message,
       $rows_read, $accepted, $rejected, $inserted, $corrected, $unchanged, $control_sums::JSON,
       $started_at::TIMESTAMPTZ, $finished_at::TIMESTAMPTZ)`,
    {
      batch_id: r.batch_id,
      table_name: r.table,
      source: r.source,
      source_kind: r.source_kind,
      format: r.format,
      encoding: r.encoding,
      sha256: r.sha256,
      mapping: r.mapping,
      status: r.status,
      message: r.message,
      rows_read: r.rows_read,
      accepted: r.accepted,
      rejected: r.rejected,
      inserted: r.inserted,
      corrected: r.corrected,
      unchanged: r.unchanged,
      control_sums: JSON.stringify(r.control_sums),
      started_at: r.started_at,
      finished_at: r.finished_at,
    },
  );
}

interface StructuralReject {
  line: number | null;
  raw: string;
  reason: string;
}

/** Load one file as one batch. Never throws for a problem with the file: it returns a failed report. */
export async function ingestFile(store: Store, job: FileJob, opts: IngestOptions = {}): Promise<BatchReport> {
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
    const format = job.format ?? formatOf(job.path);
    if (!format) {
      throw new FiscusError(`${job.source}: unknown file format; use .csv, .jsonl/.ndjson or .parquet`, { code: 'INGEST_FORMAT' });
    }
    report.format = format;
    const profile = opts.mapping ?? defaultProfile();
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
    const text = format !== 'parquet';
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
    const headEncoding = text ? await detectFileEncoding(job.path) : undefined;
    const needsTranscode =
      text && (profile.encoding === 'gb18030' || (profile.encoding === undefined && !headEncoding!.startsWith('utf-8')));
    const resend = await store.one(
      `SELECT 1 AS x FROM fiscus.batches WHERE table_name = $t AND source = $s AND coalesce(mapping, '') = $m
         AND status = 'committed' LIMIT 1`,
      { t: t.name, s: job.source, m: report.mapping ?? '' },
    );
    let readPath = job.path;
    let hashing: Promise<{ sha256: string; utf8: boolean }> | undefined;
    if (needsTranscode || resend) {
      const bytes = await prepareBytes(job.path, { text, override: profile.encoding, utf8Path });
      report.sha256 = bytes.sha256;
      report.encoding = text ? bytes.encoding : null;
      readPath = bytes.readPath;
      const prior = await priorBatch(bytes.sha256);
      if (prior) return await finishNoop(prior);
    } else {
      report.encoding = text ? headEncoding! : null;
      hashing = hashFile(job.path, text && profile.encoding === undefined);
      hashing.catch(() => undefined); // awaited below; never an unhandled rejection
    }

    progress('read');
    const openOpts = { skipRows: profile.skipRows, delimiter: profile.delimiter, tag };
    let src = await openSource(store, format, readPath, openOpts);
    temps.push(...src.temps);
    let plan = planColumns(t, src.headers, profile, (i) => `r${i}`);
    const fmt: NumberFormat = { decimal: profile.decimal, thousands: profile.thousands };
    const money = t.columns.filter((c) => c.type === 'money');

    // Fast path: most files are clean and add new keys. Insert straight from
    // the file in one pass; the first bad row, duplicate or existing key
    // aborts the statement (and the transaction), and the full path below
    // redoes the file with per-row reasons and corrections.
    const beforeCommit = hashing
      ? async (): Promise<FastCheck> => {
          const h = await hashing!;
          report.sha256 = h.sha256;
          if (!h.utf8) return { fallback: true };
          const prior = await priorBatch(h.sha256);
          return prior ? { noop: prior } : { ok: true };
        }
      : undefined;
    const fast = await tryCleanInsert(store, { t, src, plan, fmt, report, money, job, beforeCommit });
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
    if (hashing) {
      const h = await hashing;
      report.sha256 = h.sha256;
      const prior = await priorBatch(h.sha256);
      if (prior) return await finishNoop(prior);
      if (!h.utf8) {
        // It looked like UTF-8 in its first megabyte but is GB18030 further on: transcode and reopen.
        const bytes = await prepareBytes(job.path, { text, override: 'gb18030', utf8Path });
        report.encoding = bytes.encoding;
        readPath = bytes.readPath;
        for (const name of src.temps) await store.run(`DROP TABLE IF EXISTS temp.main.${quoteIdent(name)}`);
        src = await openSource(store, format, readPath, openOpts);
        plan = planColumns(t, src.headers, profile, (i) => `r${i}`);
      }
    }
    const rn = src.format === 'csv' ? 'rowid' : '_rn';

    const typed = `fiscus_typed_${tag}`;
    temps.push(typed);
    await store.run(`CREATE OR REPLACE TEMP TABLE ${typed} AS ${typedSelect(src, plan, fmt)}`);

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
    const structural = src.rejectsTable ? await readStructuralRejects(store, src.rejectsTable) : [];
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

    progress('write');
    if (rolledBack) {
      report.status = 'rolled_back';
      report.accepted = 0;
      report.control_sums = { count: '0', ...Object.fromEntries(money.map((c) => [c.name, '0.00'])) };
      report.message =
        `rolled back: ${report.rejected} of ${report.rows_read} rows rejected (${pct(share)} > ${pct(maxReject)}); ` +
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
        report.message = committedMessage(report, plan.notes);
        report.finished_at = new Date().toISOString();
        await job.onSettled?.(report);
        await writeBatchRow(store, report);
      });
      if (t.name === 'ref.calendar' && report.inserted + report.corrected > 0) await refreshCalendarSafely(store, opts);
    }
    progress('done');
    return report;
  } catch (err) {
    report.status = 'failed';
    report.message = err instanceof Error ? err.message : String(err);
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

function pct(x: number): string {
  return `${(x * 100).toFixed(1)}%`;
}

function committedMessage(r: BatchReport, notes: string[]): string {
  const parts = [`committed: ${r.inserted} inserted, ${r.corrected} corrected, ${r.unchanged} unchanged`];
  if (r.rejected > 0) parts.push(`${r.rejected} rejected, see \`fiscus quarantine --batch ${r.batch_id}\``);
  parts.push(...notes);
  const zh = `已导入：新增${r.inserted}行，更正${r.corrected}行，未变${r.unchanged}行${r.rejected ? `，拒收${r.rejected}行` : ''}`;
  return `${parts.join('; ')} — ${zh}`;
}

async function refreshCalendarSafely(store: Store, opts: IngestOptions): Promise<void> {
  // The batch is committed; a calendar refresh problem must not make it look failed.
  await refreshCalendar(store).catch((err: Error) =>
    opts.log?.(`warning: ref.calendar loaded but fiscus.calendar_days was not refreshed: ${err.message}`),
  );
}

const BAD_ROW = 'fiscus:bad-row';

type FastCheck = { ok: true } | { fallback: true } | { noop: string };

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
async function tryCleanInsert(
  store: Store,
  c: {
    t: TableDef;
    src: SourceRows;
    plan: SourcePlan;
    fmt: NumberFormat;
    report: BatchReport;
    money: readonly { name: string }[];
    job: FileJob;
    beforeCommit?: () => Promise<FastCheck>;
  },
): Promise<FastCheck> {
  const { t, report } = c;
  const cols = t.columns.map((col) => quoteIdent(col.name));
  try {
    await store.transaction(async () => {
      const r = await store.one<{ Count: string }>(
        `INSERT INTO ${qualifiedName(t)} (${cols.join(', ')}, extra, _batch_id, _row_hash, _ingested_at)
         SELECT ${cols.join(', ')}, extra, ${lit(report.batch_id)}, _row_hash, now()
         FROM (${typedSelect(c.src, c.plan, c.fmt)})
         WHERE CASE WHEN _bad THEN error(${lit(BAD_ROW)}) ELSE true END`,
      );
      if (c.src.rejectsTable && (await readStructuralRejects(store, c.src.rejectsTable)).length > 0) {
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
      report.message = committedMessage(report, c.plan.notes);
      report.finished_at = new Date().toISOString();
      await c.job.onSettled?.(report);
      await writeBatchRow(store, report);
    });
    return { ok: true };
  } catch (err) {
    // Any failure (bad row, duplicate, existing key, broken line) is handled, with reasons, by the full path.
    report.status = 'failed';
    return err instanceof NoopSignal ? { noop: err.prior } : { fallback: true };
  }
}

/** The query that reads the source into typed values plus `_bad` and `_row_hash`, in file order. */
export function typedSelect(src: SourceRows, plan: SourcePlan, fmt: NumberFormat): string {
  const cols = plan.columns;
  const layers = cols.map((p, i) => columnLayers(p, p.raw, i, fmt));
  const f = layers.flatMap((l) => (l.f ? [l.f] : []));
  const n = layers.flatMap((l) => (l.n ? [l.n] : []));
  const v = layers.map((l) => l.v);
  const bad = cols.map((p, i) => badExpr(p, `n${i}`, `v${i}`));
  if (src.hasMalformed) bad.push('_malformed');
  const extra = plan.extras.length
    ? `json_object(${uniqueHeaders(plan.extras.map((e) => e.header)).map((h, i) => `${lit(h)}, ${plan.extras[i].raw}`).join(', ')})`
    : 'NULL::JSON';
  const out = cols.map((p, i) => `v${i} AS ${quoteIdent(p.def.name)}`);
  const hash = `CAST(hash(${cols.map((_, i) => `v${i}`).join(', ')}, CAST(extra AS VARCHAR)) AS VARCHAR)`;
  const layer = (items: string[], from: string) => (items.length ? `(SELECT *, ${items.join(',\n')} FROM ${from})` : from);
  return `SELECT ${src.format === 'csv' ? '' : '_rn, '}${out.join(', ')}, extra, coalesce(${bad.join(' OR ')}, false) AS _bad, ${hash} AS _row_hash
    FROM ${layer([...v, `${extra} AS extra`], layer(n, layer(f, `(${src.select})`)))}`;
}

/** Header names made unique for JSON keys (`amount`, `amount#2`). */
function uniqueHeaders(headers: readonly string[]): string[] {
  const seen = new Map<string, number>();
  return headers.map((h) => {
    const k = seen.get(h) ?? 0;
    seen.set(h, k + 1);
    return k === 0 ? h : `${h}#${k + 1}`;
  });
}

async function readStructuralRejects(store: Store, table: string): Promise<StructuralReject[]> {
  let rows: { line: string; error_type: string; csv_line: string | null; error_message: string }[];
  try {
    // DuckDB reports a short line once per missing column: one entry per line is what the clerk needs.
    rows = await store.all(`SELECT line, arg_min(error_type, column_idx) AS error_type, arg_min(csv_line, column_idx) AS csv_line,
        arg_min(error_message, column_idx) AS error_message
      FROM ${quoteIdent(table)} GROUP BY line ORDER BY line`);
  } catch {
    return [];
  }
  return rows.map((r) => ({
    line: Number(r.line),
    raw: (r.csv_line ?? '').replace(/^[\r\n]+/, ''),
    reason: structuralReason(r.error_type, r.error_message),
  }));
}

function structuralReason(type: string, message: string): string {
  const m = /Expected Number of Columns: (\d+) Found: (\d+)/.exec(message);
  if (m && (type === 'TOO MANY COLUMNS' || type === 'MISSING COLUMNS')) {
    return `line has ${m[2]} fields, the header has ${m[1]} — 该行有${m[2]}个字段，表头有${m[1]}个`;
  }
  if (/ENCODING|UNICODE/.test(type)) return 'line is not valid UTF-8 text — 该行含有无法识别的字符（编码错误）';
  if (type === 'UNQUOTED VALUE') return 'line has an unmatched quote (") — 该行引号不匹配';
  if (type === 'LINE SIZE OVER MAXIMUM') return 'line is too long — 该行过长';
  return `line is not valid CSV (${type}: ${message.split('\n')[0]}) — 该行不是有效的 CSV`;
}

interface RejectCtx {
  src: SourceRows;
  typed: string;
  dupTable: string;
  badTable: string;
  rawTable: string;
  rejTable: string;
  rn: string;
  structural: StructuralReject[];
  path: string;
  skip: number;
  tag: string;
  log?: (line: string) => void;
}

/**
 * Collect what the quarantine needs: the raw text of the failed rows (a
 * second read, only on this path), their physical lines, the first line of
 * each duplicate key, and DuckDB's structurally broken CSV lines.
 */
async function prepareRejects(store: Store, c: RejectCtx): Promise<void> {
  await store.run(`CREATE OR REPLACE TEMP TABLE ${c.badTable} (_rn BIGINT, line BIGINT, first_rn BIGINT, first_line BIGINT)`);
  await store.run(`CREATE OR REPLACE TEMP TABLE ${c.rejTable} (line BIGINT, raw VARCHAR, reason VARCHAR)`);
  if (c.src.format === 'csv') {
    const bads = await store.all<{ rn: string; first_rn: string | null }>(
      `SELECT t.rowid AS rn, d.first_rn FROM ${c.typed} t LEFT JOIN ${c.dupTable} d ON d._rn = t.rowid WHERE t._bad ORDER BY 1`,
    );
    const rec = await scanRecordLines(c.path, c.skip);
    const map = lineMapper(rec, c.skip, c.structural.map((s) => s.line ?? 0));
    const countRow = await store.one<{ n: string }>(`SELECT count(*) AS n FROM ${c.typed}`);
    const consistent = map.stagedCount === Number(countRow?.n ?? -1);
    if (!consistent) {
      c.log?.(`warning: line numbers of ${c.path} are approximate (file structure not understood); quarantine lines may be off`);
    }
    const lineOf = (rn: number) => (consistent ? (map.stagedLine(rn) ?? rn + 2 + c.skip) : rn + 2 + c.skip);
    const app = await store.conn.createAppender(c.badTable, 'main', 'temp');
    for (const b of bads) {
      const r = Number(b.rn);
      app.appendBigInt(BigInt(r));
      app.appendBigInt(BigInt(lineOf(r)));
      if (b.first_rn === null) {
        app.appendNull();
        app.appendNull();
      } else {
        app.appendBigInt(BigInt(b.first_rn));
        app.appendBigInt(BigInt(lineOf(Number(b.first_rn))));
      }
      app.endRow();
    }
    app.flushSync();
    app.closeSync();
    const rapp = await store.conn.createAppender(c.rejTable, 'main', 'temp');
    for (const s of c.structural) {
      const line = s.line === null ? null : consistent ? (map.rejectLine(s.line) ?? s.line) : s.line;
      if (line === null) rapp.appendNull();
      else rapp.appendBigInt(BigInt(line));
      rapp.appendVarchar(s.raw);
      rapp.appendVarchar(s.reason);
      rapp.endRow();
    }
    rapp.flushSync();
    rapp.closeSync();
    // Same read as the typed table, so rowid lines up; its own rejects table.
    const reread = c.src.select
      .replace(`rejects_table='fiscus_rej_${c.tag}'`, `rejects_table='fiscus_rejraw_${c.tag}'`)
      .replace(`rejects_scan='fiscus_rejscan_${c.tag}'`, `rejects_scan='fiscus_rejrawscan_${c.tag}'`);
    await store.run(`CREATE OR REPLACE TEMP TABLE ${c.rawTable}_all AS ${reread}`);
    await store.run(`CREATE OR REPLACE TEMP TABLE ${c.rawTable} AS
      SELECT *, rowid AS _rn FROM ${c.rawTable}_all WHERE rowid IN (SELECT _rn FROM ${c.badTable})`);
    await store.run(`DROP TABLE ${c.rawTable}_all`);
  } else {
    const line = (x: string) => c.src.lineSql!.replaceAll('_rn', x);
    await store.run(`INSERT INTO ${c.badTable}
      SELECT t._rn, ${line('t._rn')}, d.first_rn, CASE WHEN d.first_rn IS NOT NULL THEN ${line('d.first_rn')} END
      FROM ${c.typed} t LEFT JOIN ${c.dupTable} d ON d._rn = t._rn WHERE t._bad`);
    await store.run(`CREATE OR REPLACE TEMP TABLE ${c.rawTable} AS
      SELECT * FROM (${c.src.select}) WHERE _rn IN (SELECT _rn FROM ${c.badTable})`);
  }
}

/** Statements that fill fiscus.quarantine for this batch (run inside its transaction). */
function quarantineInsert(
  batchId: string,
  t: TableDef,
  source: string,
  src: SourceRows,
  plan: SourcePlan,
  fmt: NumberFormat,
  badTable: string,
  rawTable: string,
  rejTable: string,
): string[] {
  const cols = plan.columns;
  const n = cols.map((p, i) => `${normExpr(p.raw)} AS n${i}`);
  const v = cols.map((p, i) => `${valueExpr(p, p.raw, `n${i}`, fmt)} AS v${i}`);
  const errs = cols.map(
    (p, i) => `{'i': ${i}, 'col': ${lit(p.def.name)}, 'raw': CAST(${p.raw} AS VARCHAR), 'reason': ${reasonExpr(p, `n${i}`, `v${i}`, fmt)}}`,
  );
  const keyIdx = t.key.map((k) => cols.findIndex((c) => c.def.name === k));
  const keyShown = keyIdx.map((i) => `coalesce(n${i}, '')`).join(` || '|' || `);
  const keyRaw = keyIdx.length === 1 ? `CAST(${cols[keyIdx[0]].raw} AS VARCHAR)` : keyShown;
  const keyName = t.key.join('|');
  const keyLabel = keyIdx.map((i) => cols[i].def.label).join('、');
  errs.push(
    `{'i': ${cols.length}, 'col': ${lit(keyName)}, 'raw': ${keyRaw}, 'reason': CASE WHEN first_rn IS NOT NULL THEN ` +
      `${lit(`${keyName}: duplicate key `)} || ${keyShown} || ', first at line ' || CAST(first_line AS VARCHAR) || ` +
      `${lit(` — ${keyLabel}重复，与第`)} || CAST(first_line AS VARCHAR) || '行相同' END}`,
  );
  const headers = uniqueHeaders(src.headers);
  const rawRow = src.format === 'jsonl'
    ? `CASE WHEN _malformed THEN json_object('_line', _rawline) ELSE CAST(_rawline AS JSON) END`
    : headers.length
      ? `json_object(${headers.map((h, i) => `${lit(h)}, r${i}`).join(', ')})`
      : 'NULL::JSON';
  const list = `list_filter([${errs.join(',\n')}], x -> x.reason IS NOT NULL)`;
  const errList = src.hasMalformed
    ? `CASE WHEN _malformed THEN [{'i': 0, 'col': NULL::VARCHAR, 'raw': _rawline, 'reason': 'line is not a JSON object — 该行不是有效的 JSON 对象'}] ELSE ${list} END`
    : list;
  const head = `${lit(batchId)}, ${lit(t.name)}, ${lit(source)}`;
  return [
    `INSERT INTO fiscus.quarantine (batch_id, table_name, source, line, column_name, raw_value, reason, raw_row)
     SELECT ${head}, line, e.col, e.raw, e.reason, raw_row FROM (
       SELECT line, unnest(errs) AS e, raw_row FROM (
         SELECT b.line, ${errList.replaceAll('first_rn', 'b.first_rn').replaceAll('first_line', 'b.first_line')} AS errs, ${rawRow} AS raw_row
         FROM (SELECT *, ${v.join(',\n')} FROM (SELECT *, ${n.join(', ')} FROM ${rawTable})) r
         JOIN ${badTable} b ON b._rn = r._rn
       )
     ) ORDER BY line, e.i`,
    `INSERT INTO fiscus.quarantine (batch_id, table_name, source, line, column_name, raw_value, reason, raw_row)
     SELECT ${head}, line, NULL, raw, reason, json_object('_line', raw) FROM ${rejTable} ORDER BY line`,
  ];
}

/** Insert new rows, replace corrected ones (old version to row_history), count unchanged. */
async function writeRows(
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
  const empty = await store.one<{ e: boolean }>(`SELECT NOT EXISTS (SELECT 1 FROM ${target}) AS e`);
  if (empty?.e) {
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
  await store.run(`CREATE OR REPLACE TEMP TABLE ${cls} AS
    SELECT t.${rn} AS _rn, c.${quoteIdent(t.key[0])} IS NOT NULL AS existed, (${same}) AS same
    FROM ${typed} t LEFT JOIN ${target} c ON ${keyJoin('t', 'c')} WHERE NOT t._bad`);
  const counts = await store.one<{ ins: string; cor: string; unc: string }>(
    `SELECT count(*) FILTER (WHERE NOT existed) AS ins, count(*) FILTER (WHERE existed AND NOT same) AS cor,
            count(*) FILTER (WHERE existed AND same) AS unc FROM ${cls}`,
  );
  const corrected = Number(counts?.cor ?? 0);
  const inserted = Number(counts?.ins ?? 0);
  if (corrected > 0) {
    const changed = `(SELECT t.* FROM ${typed} t JOIN ${cls} x ON x._rn = t.${rn} WHERE x.existed AND NOT x.same)`;
    const keyStr = t.key.map((k) => `CAST(c.${quoteIdent(k)} AS VARCHAR)`).join(` || '|' || `);
    const oldRow = `json_object(${t.columns
      .map((col) => `${lit(col.name)}, ${col.type === 'money' || col.type === 'rate' || col.type === 'date' ? `CAST(c.${quoteIdent(col.name)} AS VARCHAR)` : `c.${quoteIdent(col.name)}`}`)
      .join(', ')}, 'extra', c.extra, '_batch_id', c._batch_id, '_row_hash', c._row_hash, '_ingested_at', strftime(c._ingested_at AT TIME ZONE 'UTC', '%Y-%m-%dT%H:%M:%S.%gZ'))`;
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
