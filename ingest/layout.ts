/**
 * Sheets that are not a clean header-then-rows table: the header on row 2 or
 * on the last row, unnamed filler columns, rows holding only commas, a totals
 * row (合计). Such a source is read into physical rows in JS (CSV text,
 * an Excel sheet), laid out here, and written as a clean staged CSV that
 * carries each row's physical line, so quarantine lines stay exact.
 *
 * Skipped rows (blank, totals) are counted, never rejected: they are not data.
 */
import { createWriteStream } from 'node:fs';
import { FiscusError } from '../engine/errors.ts';
import { normalizeHeader } from './aliases.ts';
import type { StructuralReject } from './quarantine.ts';

export interface PhysicalRow {
  /** 1-based line (CSV) or sheet row number (Excel). */
  line: number;
  cells: string[];
  /** The row as it appeared (for the quarantine of a structurally broken row). */
  raw?: string;
}

export interface HeaderSpec {
  /** 1-based physical row of the header, or the last non-blank row. */
  row?: number | 'last';
  /** The first row (within the first 200) whose cells include all of these names. */
  contains?: string[];
}

export interface LayoutOptions {
  /** Physical rows before the header (`skip_rows`); ignored when `header.row` is given. */
  skipRows: number;
  header?: HeaderSpec;
  /** Cell values marking a totals row (compared trimmed, case-insensitively). */
  totals: readonly string[];
  /** Rows with fewer cells than the header are padded (Excel) instead of rejected (CSV). */
  padShortRows: boolean;
}

export const DEFAULT_TOTALS = ['合计', '总计', '小计', '合 计', '总 计', 'total', 'totals', 'grand total', 'sub total', 'subtotal'];

export interface LaidOut {
  headers: string[];
  headerLine: number;
  rows: PhysicalRow[];
  /** Indexes (into the original cells) of the kept columns, parallel to `headers`. */
  keep: number[];
  skippedBlank: number;
  skippedTotals: number;
  /** Unnamed, empty columns that were dropped. */
  fillerColumns: number;
  structural: StructuralReject[];
  notes: string[];
}

const isBlank = (cells: readonly string[]) => cells.every((c) => c.trim() === '');

export function layOut(all: readonly PhysicalRow[], opts: LayoutOptions, source: string): LaidOut {
  let headerIdx: number;
  const h = opts.header;
  if (h?.row === 'last') {
    headerIdx = -1;
    for (let i = all.length - 1; i >= 0; i--) {
      if (!isBlank(all[i].cells)) {
        headerIdx = i;
        break;
      }
    }
  } else if (typeof h?.row === 'number') {
    headerIdx = all.findIndex((r) => r.line === h.row);
    if (headerIdx < 0) throw new FiscusError(`${source}: header row ${h.row} does not exist (the file has ${all.at(-1)?.line ?? 0} rows)`, { code: 'INGEST_EMPTY' });
  } else if (h?.contains?.length) {
    const want = h.contains.map(normalizeHeader);
    headerIdx = all.findIndex((r, i) => i < 200 && want.every((w) => r.cells.some((c) => normalizeHeader(c) === w)));
    if (headerIdx < 0) {
      throw new FiscusError(
        `${source}: no row in the first 200 has all of the header names ${h.contains.map((x) => `"${x}"`).join(', ')} (header.contains in the mapping profile)`,
        { code: 'INGEST_MISSING_COLUMNS' },
      );
    }
  } else {
    headerIdx = all.findIndex((r, i) => i >= opts.skipRows && !isBlank(r.cells));
  }
  if (headerIdx < 0) throw new FiscusError(`${source} has no header row: nothing to load.`, { code: 'INGEST_EMPTY' });
  const headerRow = all[headerIdx];
  const last = h?.row === 'last';
  const first = last ? Math.min(opts.skipRows, headerIdx) : headerIdx + 1;
  const body = last ? all.slice(first, headerIdx) : all.slice(first);

  // Columns: trailing and inner unnamed columns with no data are fillers.
  const width = headerRow.cells.length;
  const hasData = new Array<boolean>(width).fill(false);
  for (const r of body) for (let i = 0; i < Math.min(width, r.cells.length); i++) if (r.cells[i].trim() !== '') hasData[i] = true;
  const keep: number[] = [];
  const headers: string[] = [];
  let filler = 0;
  for (let i = 0; i < width; i++) {
    const name = headerRow.cells[i].replace(/^\uFEFF/, '').trim();
    if (name === '') {
      if (!hasData[i]) {
        filler++;
        continue;
      }
      headers.push(`(column ${i + 1})`);
    } else headers.push(name);
    keep.push(i);
  }
  const totals = new Set(opts.totals.map((t) => t.trim().toLowerCase()));
  const rows: PhysicalRow[] = [];
  const structural: StructuralReject[] = [];
  let skippedBlank = 0;
  let skippedTotals = 0;
  for (const r of body) {
    if (isBlank(r.cells)) {
      skippedBlank++;
      continue;
    }
    if (totals.size && r.cells.some((c) => totals.has(c.trim().toLowerCase()))) {
      skippedTotals++;
      continue;
    }
    const extraFilled = r.cells.slice(width).some((c) => c.trim() !== '');
    if (extraFilled || (!opts.padShortRows && r.cells.length < width)) {
      const n = r.cells.length;
      structural.push({
        line: r.line,
        raw: r.raw ?? r.cells.join(','),
        reason: `line has ${n} fields, the header has ${width} — 该行有${n}个字段，表头有${width}个`,
      });
      continue;
    }
    rows.push({ line: r.line, cells: keep.map((i) => r.cells[i] ?? '') });
  }
  const notes: string[] = [];
  if (headerRow.line !== 1) notes.push(`header on ${last ? 'the last row, ' : ''}row ${headerRow.line}`);
  if (filler) notes.push(`${filler} unnamed empty column${filler > 1 ? 's' : ''} ignored`);
  if (skippedBlank) notes.push(`${skippedBlank} blank row${skippedBlank > 1 ? 's' : ''} skipped`);
  if (skippedTotals) notes.push(`${skippedTotals} totals row${skippedTotals > 1 ? 's' : ''} skipped`);
  return { headers, headerLine: headerRow.line, rows, keep, skippedBlank, skippedTotals, fillerColumns: filler, structural, notes };
}

function csvField(s: string): string {
  return `"${s.replaceAll('"', '""')}"`;
}

/** Write laid-out rows as a UTF-8 CSV: `_line` then one column per header. */
export async function writeStaged(path: string, lay: LaidOut): Promise<void> {
  const out = createWriteStream(path);
  const write = (s: string) =>
    new Promise<void>((res, rej) => {
      if (out.write(s, 'utf8', (err) => err && rej(err))) res();
      else out.once('drain', () => res());
    });
  await write(`${['_line', ...lay.headers.map((_, i) => `c${i}`)].join(',')}\n`);
  let buf = '';
  for (const r of lay.rows) {
    buf += `${r.line},${r.cells.map(csvField).join(',')}\n`;
    if (buf.length > 1 << 20) {
      await write(buf);
      buf = '';
    }
  }
  await write(buf);
  await new Promise<void>((res, rej) => out.end((err?: Error | null) => (err ? rej(err) : res())));
}
