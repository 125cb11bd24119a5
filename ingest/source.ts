/**
 * How each file format becomes rows of raw text, in file order.
 *
 * Every reader yields SQL selecting columns `r0 … rN` (VARCHAR, the source
 * columns in header order) and `_rn` (the row's position in the file), plus
 * what it needs to say which physical line a row came from.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Store } from '../engine/db.ts';
import { FiscusError } from '../engine/errors.ts';
import { quoteIdent } from '../engine/feeds.ts';
import { parseCsvRecords, readCsvHeader, sniffTextDelimiter } from './csv-text.ts';
import { readWorkbookRows } from './excel.ts';
import { layOut, writeStaged, type HeaderSpec, type PhysicalRow } from './layout.ts';
import type { StructuralReject } from './quarantine.ts';
import { lit } from './sql-text.ts';

export type FeedFormat = 'csv' | 'jsonl' | 'parquet' | 'xlsx' | 'json';

export interface OpenOptions {
  skipRows: number;
  delimiter?: string;
  tag: string;
  /** Read the rows in JS and lay them out (header detection, fillers, blank and totals rows). */
  staged?: boolean;
  header?: HeaderSpec;
  totals: readonly string[];
  /** Excel: sheet name or 1-based index. */
  sheet?: string | number;
  /** JSON document: JSONPath of the record array (`$.data.items`). */
  records?: string;
  /** Directory for the staged file. */
  tmp: string;
  /** What messages call the file. */
  source: string;
}

export interface SourceRows {
  /** How the rows are read: `csv` straight by DuckDB (position = rowid), `staged` laid out in JS, or a JSON/Parquet reader (`_rn`). */
  format: 'csv' | 'jsonl' | 'parquet' | 'staged';
  /** Source headers, in order; `r{i}` is the raw text of headers[i]. */
  headers: string[];
  /**
   * `SELECT r0, …, rN [, _rn] [, _malformed, _rawline] FROM …` in file order. CSV has no `_rn`:
   * its position is the rowid of the table the select is materialised into.
   */
  select: string;
  /** True when the select also yields `_malformed` (a JSONL line that is not an object) and `_dupkey` (a key given twice). */
  hasMalformed: boolean;
  /** Temp table holding DuckDB's CSV rejects (too many/few fields, bad bytes), if any. */
  rejectsTable?: string;
  /**
   * The same rows read without recording rejects, for the one-pass load: there a broken line
   * raises, which sends the file down the full path (that reads `select`, with the reasons).
   */
  strictSelect?: string;
  /** Temp tables to drop afterwards. */
  temps: string[];
  /** Line of the row with position `rn`: a SQL expression over `_rn`, or undefined when it needs a scan (CSV). */
  lineSql?: string;
  delimiter?: string;
  /** Structurally broken rows found while laying out a staged source. */
  preRejects?: StructuralReject[];
  /** Rows that are not data (blank, totals), already left out. */
  skipped?: number;
  /** What the layout did, for the batch message and the dry run. */
  notes?: string[];
}

export function formatOf(name: string): FeedFormat | undefined {
  const n = name.toLowerCase();
  if (/\.(csv|tsv|txt)$/.test(n)) return 'csv';
  if (/\.(jsonl|ndjson)$/.test(n)) return 'jsonl';
  if (n.endsWith('.json')) return 'json';
  if (n.endsWith('.parquet')) return 'parquet';
  if (n.endsWith('.xlsx') || n.endsWith('.xlsm')) return 'xlsx';
  return undefined;
}

export async function openSource(store: Store, format: FeedFormat, path: string, opts: OpenOptions): Promise<SourceRows> {
  switch (format) {
    case 'csv':
      if (opts.staged) {
        const text = await readFile(path, 'utf8');
        const delim = opts.delimiter ?? sniffTextDelimiter(text);
        return openStaged(parseCsvRecords(text, delim), { ...opts, padShortRows: false, delimiter: delim });
      }
      return openCsv(path, opts);
    case 'xlsx': {
      const wb = await readWorkbookRows(path, opts.sheet, opts.source);
      const src = await openStaged(wb.rows, { ...opts, padShortRows: true });
      src.notes = [`sheet "${wb.sheet}"`, ...(src.notes ?? [])];
      return src;
    }
    case 'jsonl':
      return openJsonl(store, path, opts);
    case 'json':
      return openJsonDocument(store, path, opts);
    case 'parquet':
      return openParquet(store, path);
  }
}

/** Rows read in JS, laid out and written as a staged CSV whose first column is the physical line. */
async function openStaged(all: PhysicalRow[], opts: OpenOptions & { padShortRows: boolean }): Promise<SourceRows> {
  const lay = layOut(all, { skipRows: opts.skipRows, header: opts.header, totals: opts.totals, padShortRows: opts.padShortRows }, opts.source);
  const file = join(opts.tmp, `staged_${opts.tag}.csv`);
  await writeStaged(file, lay);
  const cols = [`'_line': 'BIGINT'`, ...lay.headers.map((_, i) => `${lit(`c${i}`)}: 'VARCHAR'`)].join(', ');
  const read = `read_csv(${lit(file)}, auto_detect=false, header=true, columns={${cols}}, delim=',', quote='"', escape='"', ` +
    `comment='', max_line_size=16777216)`;
  const sel = lay.headers.map((_, i) => `c${i} AS r${i}`).join(', ');
  return {
    format: 'staged',
    headers: lay.headers,
    select: `SELECT ${sel}${sel ? ', ' : ''}_line AS _rn FROM ${read}`,
    hasMalformed: false,
    temps: [],
    lineSql: '_rn',
    delimiter: opts.delimiter,
    preRejects: lay.structural,
    skipped: lay.skippedBlank + lay.skippedTotals,
    notes: lay.notes,
  };
}
/**
 * DuckDB reads a CSV in buffers of at least the longest line it accepts, one buffer per thread.
 * With 16 MiB lines allowed, a 17 MB file (100k payments) was one or two buffers, read and
 * converted on one core: its INSERT took 400 ms, with 8 MiB buffers 300 ms (bench/ingest.ts:
 * 100k 1.97x -> 1.54x DuckDB's read_csv, 1M 1.63x -> 1.35x). A line longer than 8 MiB (no
 * treasury row is) is a broken line, quarantined with its reason like any other.
 */
const CSV_BUFFER = 'max_line_size=8388608, buffer_size=8388608';

async function openCsv(path: string, opts: { skipRows: number; delimiter?: string; tag: string }): Promise<SourceRows> {
  const header = await readCsvHeader(path, opts.skipRows, opts.delimiter);
  if (!header) {
    throw new FiscusError(`${path} has no header line${opts.skipRows ? ` after skipping ${opts.skipRows} lines` : ''}: nothing to load.`, {
      code: 'INGEST_EMPTY',
    });
  }
  const cols = header.fields.map((_, i) => `${lit(`c${i}`)}: 'VARCHAR'`).join(', ');
  const rejectsTable = `fiscus_rej_${opts.tag}`;
  // auto_detect=false: the dialect is known, the header was read above, so the
  // sniffer cannot guess a different skip, comment character or header row.
  const read = (rejects: string) =>
    `read_csv(${lit(path)}, auto_detect=false, header=true, columns={${cols}}, delim=${lit(header.delimiter)}, ` +
    `quote='"', escape='"', skip=${opts.skipRows}, comment='', ${rejects}${CSV_BUFFER})`;
  const sel = header.fields.map((_, i) => `c${i} AS r${i}`).join(', ');
  return {
    format: 'csv',
    headers: header.fields.map((h) => h.replace(/^\uFEFF/, '')),
    select: `SELECT ${sel} FROM ${read(`store_rejects=true, rejects_table=${lit(rejectsTable)}, rejects_scan=${lit(`fiscus_rejscan_${opts.tag}`)}, `)}`,
    // Recording rejects cost a clean 10M-row load 13% (its INSERT 20.4 s against 17.8 s). Without
    // it DuckDB raises on exactly the lines it would have recorded (test/ingest/fast-path.test.ts).
    strictSelect: `SELECT ${sel} FROM ${read('')}`,
    hasMalformed: false,
    rejectsTable,
    temps: [rejectsTable, `fiscus_rejscan_${opts.tag}`],
    delimiter: header.delimiter,
  };
}

async function openJsonl(store: Store, path: string, opts: { skipRows: number; tag: string }): Promise<SourceRows> {
  const raw = `fiscus_jsonl_${opts.tag}`;
  // One VARCHAR per line (a delimiter that valid JSON never contains): blank
  // lines stay as NULL rows, so row position = line - 1 - skip exactly, and a
  // malformed line is quarantined instead of failing the whole file.
  await store.run(`CREATE OR REPLACE TEMP TABLE ${raw} AS ${jsonObjects(`SELECT j FROM read_csv(${lit(path)}, auto_detect=false, header=false, columns={'j': 'VARCHAR'}, delim=chr(1),
      quote='', escape='', skip=${opts.skipRows}, comment='', max_line_size=16777216)`)}`);
  return jsonSource(store, raw, `_rn + ${1 + opts.skipRows}`);
}

/**
 * `j` (one JSON text per row) with `ok` (an object with no key given twice)
 * and `dupkey`. A key given twice (`"amount": 1, "amount": 2`) is ambiguous:
 * DuckDB would keep the first. Such a record is rejected, naming the key.
 */
function jsonObjects(rows: string): string {
  // Keys read once per object; the pairwise search only runs for the rare object that has a repeat.
  return `SELECT j, ok AND dupkey IS NULL AS ok, dupkey FROM (
      SELECT j, ok, CASE WHEN len(keys) <> len(list_distinct(keys)) THEN list_filter(keys, (k, i) -> list_position(keys, k) < i)[1] END AS dupkey
      FROM (SELECT j, ok, CASE WHEN ok THEN json_keys(j) END AS keys
        FROM (SELECT j, coalesce(json_type(CASE WHEN json_valid(j) THEN j END) = 'OBJECT', false) AS ok FROM (${rows}))))`;
}

/**
 * A JSON document whose records sit in an array (`records: $.data.items`;
 * default: the document itself when it is an array). A record's "line" is its
 * 1-based position in the array.
 */
async function openJsonDocument(store: Store, path: string, opts: OpenOptions): Promise<SourceRows> {
  const doc = `fiscus_jsondoc_${opts.tag}`;
  const raw = `fiscus_jsonl_${opts.tag}`;
  try {
    await store.run(`CREATE OR REPLACE TEMP TABLE ${doc} AS SELECT CAST(content AS JSON) AS d FROM read_text(${lit(path)})`);
  } catch (err) {
    throw new FiscusError(`${opts.source} is not a valid JSON document: ${(err as Error).message.split('\n')[0]}`, { code: 'INGEST_FORMAT' });
  }
  const path0 = opts.records ?? '$';
  if (!/^\$(\.[^.[\]]+|\[\d+\]|\."[^"]+")*$/.test(path0)) {
    throw new FiscusError(`records: "${path0}" is not a JSON path such as $.data.items`, { code: 'INGEST_FORMAT' });
  }
  const info = await store.one<{ t: string | null; keys: string | null }>(
    `SELECT json_type(json_extract(d, ${lit(path0)})) AS t, array_to_string(json_keys(d), ', ') AS keys FROM ${doc}`,
  );
  if (info?.t !== 'ARRAY') {
    await store.run(`DROP TABLE IF EXISTS ${doc}`);
    throw new FiscusError(
      `${opts.source}: ${path0} is ${info?.t ? `a JSON ${info.t.toLowerCase()}` : 'not in the document'}, not an array of records; ` +
        `set \`records:\` in the mapping profile to the path of the record array (top-level keys: ${info?.keys || 'none'}) — 未找到记录数组`,
      { code: 'INGEST_FORMAT' },
    );
  }
  await store.run(`CREATE OR REPLACE TEMP TABLE ${raw} AS ${jsonObjects(
    `SELECT CAST(rec AS VARCHAR) AS j FROM (SELECT unnest(CAST(json_extract(d, ${lit(path0)}) AS JSON[])) AS rec FROM ${doc})`,
  )}`);
  await store.run(`DROP TABLE IF EXISTS ${doc}`);
  return jsonSource(store, raw, '_rn + 1');
}

async function jsonSource(store: Store, raw: string, lineSql: string): Promise<SourceRows> {
  const keys = await store.all<{ k: string }>(`
    SELECT k FROM (
      SELECT rowid AS r, unnest(json_keys(CASE WHEN ok THEN j END)) AS k,
             generate_subscripts(json_keys(CASE WHEN ok THEN j END), 1) AS p
      FROM ${raw}
    ) GROUP BY k ORDER BY min(r * 100000 + p)`);
  const headers = keys.map((k) => k.k);
  const paths = headers.map((h) => lit(`$."${h.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`));
  const extract = headers.length
    ? `json_extract_string(CASE WHEN ok THEN j END, [${paths.join(', ')}])`
    : 'NULL::VARCHAR[]';
  const sel = headers.map((_, i) => `l[${i + 1}] AS r${i}`).join(', ');
  return {
    format: 'jsonl',
    headers,
    select: `SELECT ${sel}${sel ? ', ' : ''}_rn, NOT ok AS _malformed, j AS _rawline, dupkey AS _dupkey FROM (
      SELECT rowid AS _rn, ok, j, dupkey, ${extract} AS l FROM ${raw} WHERE j IS NOT NULL AND trim(j) <> '')`,
    hasMalformed: true,
    temps: [raw],
    lineSql,
  };
}

async function openParquet(store: Store, path: string): Promise<SourceRows> {
  const cols = await store.all<{ column_name: string }>(`DESCRIBE SELECT * FROM read_parquet(${lit(path)})`);
  const headers = cols.map((c) => c.column_name);
  const sel = headers.map((h, i) => `CAST(${quoteIdent(h)} AS VARCHAR) AS r${i}`).join(', ');
  return {
    format: 'parquet',
    headers,
    select: `SELECT ${sel}${sel ? ', ' : ''}file_row_number AS _rn FROM read_parquet(${lit(path)}, file_row_number=true)`,
    hasMalformed: false,
    temps: [],
    lineSql: '_rn + 1',
  };
}
