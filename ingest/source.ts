/**
 * How each file format becomes rows of raw text, in file order.
 *
 * Every reader yields SQL selecting columns `r0 … rN` (VARCHAR, the source
 * columns in header order) and `_rn` (the row's position in the file), plus
 * what it needs to say which physical line a row came from.
 */
import type { Store } from '../engine/db.ts';
import { FiscusError } from '../engine/errors.ts';
import { quoteIdent } from '../engine/feeds.ts';
import { readCsvHeader } from './csv-text.ts';
import { lit } from './sql-text.ts';

export type FeedFormat = 'csv' | 'jsonl' | 'parquet';

export interface SourceRows {
  format: FeedFormat;
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
  /** Temp tables to drop afterwards. */
  temps: string[];
  /** Line of the row with position `rn`: a SQL expression over `_rn`, or undefined when it needs a scan (CSV). */
  lineSql?: string;
  delimiter?: string;
}

export function formatOf(name: string): FeedFormat | undefined {
  const n = name.toLowerCase();
  if (/\.(csv|tsv|txt)$/.test(n)) return 'csv';
  if (/\.(jsonl|ndjson)$/.test(n)) return 'jsonl';
  if (n.endsWith('.parquet')) return 'parquet';
  return undefined;
}

export async function openSource(
  store: Store,
  format: FeedFormat,
  path: string,
  opts: { skipRows: number; delimiter?: string; tag: string },
): Promise<SourceRows> {
  switch (format) {
    case 'csv':
      return openCsv(path, opts);
    case 'jsonl':
      return openJsonl(store, path, opts);
    case 'parquet':
      return openParquet(store, path);
  }
}

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
  const read = `read_csv(${lit(path)}, auto_detect=false, header=true, columns={${cols}}, delim=${lit(header.delimiter)}, ` +
    `quote='"', escape='"', skip=${opts.skipRows}, comment='', store_rejects=true, ` +
    `rejects_table=${lit(rejectsTable)}, rejects_scan=${lit(`fiscus_rejscan_${opts.tag}`)}, max_line_size=16777216)`;
  const sel = header.fields.map((_, i) => `c${i} AS r${i}`).join(', ');
  return {
    format: 'csv',
    headers: header.fields.map((h) => h.replace(/^\uFEFF/, '')),
    select: `SELECT ${sel} FROM ${read}`,
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
  // A key given twice in one object (`"amount": 1, "amount": 2`) is ambiguous: DuckDB would keep
  // the first. Such a line is rejected, naming the key (`dupkey`).
  await store.run(`CREATE OR REPLACE TEMP TABLE ${raw} AS
    SELECT j, ok AND dupkey IS NULL AS ok, dupkey FROM (
      SELECT j, ok, CASE WHEN ok THEN list_filter(json_keys(j), (k, i) -> list_position(json_keys(j), k) < i)[1] END AS dupkey
      FROM (SELECT j, coalesce(json_type(CASE WHEN json_valid(j) THEN j END) = 'OBJECT', false) AS ok
    FROM read_csv(${lit(path)}, auto_detect=false, header=false, columns={'j': 'VARCHAR'}, delim=chr(1),
      quote='', escape='', skip=${opts.skipRows}, comment='', max_line_size=16777216)))`);
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
    lineSql: `_rn + ${1 + opts.skipRows}`,
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
