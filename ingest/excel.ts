/**
 * Excel workbooks (.xlsx) into physical rows of text, one per sheet row.
 *
 * exceljs@4.4.0 reads the workbook (DuckDB's excel extension is not built
 * in here, and SheetJS's last registry release, xlsx@0.18.5, predates its
 * prototype-pollution fix). Values become the text a clerk sees:
 *   - numbers with at most 15 significant digits, as Excel displays them
 *     (0.1 + 0.2 stored as 0.30000000000000004 is 0.3);
 *   - date cells as YYYY-MM-DD (with the time when it is not midnight);
 *   - formulas as their cached result, rich text as its plain text.
 * The legacy .xls format is not read: no kept library parses it safely.
 */
import ExcelJS from 'exceljs';
import { FiscusError } from '../engine/errors.ts';
import type { PhysicalRow } from './layout.ts';

export async function readWorkbookRows(path: string, sheet: string | number | undefined, source: string): Promise<{ rows: PhysicalRow[]; sheet: string }> {
  const wb = new ExcelJS.Workbook();
  try {
    await wb.xlsx.readFile(path);
  } catch (err) {
    throw new FiscusError(`${source} is not a readable .xlsx workbook: ${(err as Error).message}`, { code: 'INGEST_FORMAT' });
  }
  const sheets = wb.worksheets;
  const names = sheets.map((s) => s.name);
  let ws: ExcelJS.Worksheet | undefined;
  if (sheet === undefined) ws = sheets[0];
  else if (typeof sheet === 'number') ws = sheets[sheet - 1];
  else ws = sheets.find((s) => s.name === sheet) ?? sheets.find((s) => s.name.trim().toLowerCase() === sheet.trim().toLowerCase());
  if (!ws) {
    throw new FiscusError(
      `${source}: no sheet ${typeof sheet === 'number' ? `number ${sheet}` : `"${sheet}"`}; the workbook has ${names.map((n, i) => `${i + 1} "${n}"`).join(', ') || 'no sheets'} (set \`sheet:\` in the mapping profile)`,
      { code: 'INGEST_FORMAT' },
    );
  }
  const rows: PhysicalRow[] = [];
  ws.eachRow({ includeEmpty: true }, (row, rowNumber) => {
    const cells: string[] = [];
    const n = row.cellCount;
    for (let c = 1; c <= n; c++) cells.push(cellText(row.getCell(c).value));
    rows.push({ line: rowNumber, cells });
  });
  return { rows, sheet: ws.name };
}

function cellText(v: ExcelJS.CellValue): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return numberText(v);
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (v instanceof Date) return dateText(v);
  if (typeof v === 'object') {
    if ('richText' in v && Array.isArray(v.richText)) return v.richText.map((r) => r.text).join('');
    if ('result' in v) return cellText((v as ExcelJS.CellFormulaValue).result as ExcelJS.CellValue);
    if ('text' in v && typeof v.text === 'string') return v.text;
    if ('error' in v) return String(v.error);
  }
  return String(v);
}

/** Excel shows 15 significant digits; beyond them a stored double is noise. */
function numberText(n: number): string {
  if (Number.isInteger(n) && Math.abs(n) < 1e15) return String(n);
  const s = n.toPrecision(15);
  if (/e/i.test(s)) return String(Number(s));
  return s.includes('.') ? s.replace(/0+$/, '').replace(/\.$/, '') : s;
}

/** exceljs gives date cells as UTC instants of the wall-clock value Excel stores. */
function dateText(d: Date): string {
  const iso = d.toISOString();
  const time = iso.slice(11, 19);
  return time === '00:00:00' ? iso.slice(0, 10) : `${iso.slice(0, 10)} ${time}`;
}
