/**
 * Rejected rows: their reasons, raw text and physical line numbers, and the
 * statements that put them into fiscus.quarantine. Only runs when a file has
 * rejected rows, so none of this costs anything on a clean load.
 */
import type { Store } from '../engine/db.ts';
import { quoteIdent, type TableDef } from '../engine/feeds.ts';
import { normExpr, reasonExpr, valueExpr, type NumberFormat } from './convert-sql.ts';
import { lineMapper, scanRecordLines } from './csv-text.ts';
import type { SourcePlan } from './plan.ts';
import type { SourceRows } from './source.ts';
import { lit } from './sql-text.ts';
import { uniqueHeaders } from './typed-select.ts';

export interface StructuralReject {
  line: number | null;
  raw: string;
  reason: string;
}

export async function readStructuralRejects(store: Store, table: string): Promise<StructuralReject[]> {
  let rows: { line: string; error_type: string; csv_line: string | null; error_message: string | null }[];
  try {
    // DuckDB reports a short line once per missing column: one entry per line is what the clerk needs.
    // A line over the size limit has no column (column_idx NULL), which arg_min would skip.
    rows = await store.all(`SELECT line, arg_min(error_type, coalesce(column_idx, -1)) AS error_type,
        arg_min(csv_line, coalesce(column_idx, -1)) AS csv_line, arg_min(error_message, coalesce(column_idx, -1)) AS error_message
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

function structuralReason(type: string, message: string | null): string {
  const m = /Expected Number of Columns: (\d+) Found: (\d+)/.exec(message ?? '');
  if (m && (type === 'TOO MANY COLUMNS' || type === 'MISSING COLUMNS')) {
    return `line has ${m[2]} fields, the header has ${m[1]} — 该行有${m[2]}个字段，表头有${m[1]}个`;
  }
  if (/ENCODING|UNICODE/.test(type)) return 'line is not valid UTF-8 text — 该行含有无法识别的字符（编码错误）';
  if (type === 'UNQUOTED VALUE') return 'line has an unmatched quote (") — 该行引号不匹配';
  if (type === 'LINE SIZE OVER MAXIMUM') return 'line is longer than 8 MiB — 该行超过 8 MiB';
  return `line is not valid CSV (${type}: ${(message ?? '').split('\n')[0]}) — 该行不是有效的 CSV`;
}

export interface RejectCtx {
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
export async function prepareRejects(store: Store, c: RejectCtx): Promise<void> {
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
    // The Store's appender: it waits for any other caller's open transaction, so these rows
    // cannot be rolled back with someone else's work.
    await store.append(
      { table: c.badTable, schema: 'main', catalog: 'temp' },
      bads.map((b) => {
        const r = Number(b.rn);
        const first = b.first_rn === null ? null : Number(b.first_rn);
        return [BigInt(r), BigInt(lineOf(r)), first === null ? null : BigInt(first), first === null ? null : BigInt(lineOf(first))];
      }),
    );
    await store.append(
      { table: c.rejTable, schema: 'main', catalog: 'temp' },
      c.structural.map((s) => {
        const line = s.line === null ? null : consistent ? (map.rejectLine(s.line) ?? s.line) : s.line;
        return [line === null ? null : BigInt(line), s.raw, s.reason];
      }),
    );
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
export function quarantineInsert(
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
  // A duplicated key is reported against the column it would have fed (or the key itself).
  const dupWhens = cols.flatMap((p) => (p.origin.kind === 'column' ? [`WHEN ${lit(p.origin.header)} THEN ${lit(p.def.name)}`] : []));
  const dupCol = dupWhens.length ? `CASE _dupkey ${dupWhens.join(' ')} ELSE _dupkey END` : '_dupkey';
  const malformedReason = `CASE WHEN _dupkey IS NOT NULL THEN 'key "' || _dupkey || '" appears more than once in the JSON object — JSON 对象中键“' || _dupkey || '”重复' ELSE 'line is not a JSON object — 该行不是有效的 JSON 对象' END`;
  const errList = src.hasMalformed
    ? `CASE WHEN _malformed THEN [{'i': 0, 'col': ${dupCol}, 'raw': _rawline, 'reason': ${malformedReason}}] ELSE ${list} END`
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

