/**
 * Rows to text: the table/csv/json/jsonl output shared by every listing command.
 *
 * Rows are expected JSON-safe already (`Store.all` gives money and big
 * integers as strings), so nothing here can turn a DECIMAL into a float.
 */
import Table from 'cli-table3';

export const OUTPUT_FORMATS = ['table', 'csv', 'json', 'jsonl'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

export function isOutputFormat(s: string): s is OutputFormat {
  return (OUTPUT_FORMATS as readonly string[]).includes(s);
}

type Row = Record<string, unknown>;

function cellText(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

/** Quote a CSV field when it needs it (RFC 4180). Machine-read files only; outputs people open use `csvCell`. */
export function csvEscape(s: string): string {
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

/** A cell a spreadsheet would run as a formula: = + - @, tab or CR first (OWASP), or their full-width forms. */
const FORMULA_START = /^[=+\-@\t\r＝＋－＠]/;
const NUMBER = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;

/**
 * One cell of a CSV output (`query --format csv`, `quarantine --format csv`, the API's
 * CSV): a text that would start a formula in Excel/WPS gets a leading `'` (OWASP CSV
 * injection: `=HYPERLINK(…)`, `=1+1`), numbers such as `-12.50` stay as they are; then
 * quoted as RFC 4180 needs.
 */
export function csvCell(s: string): string {
  return csvEscape(FORMULA_START.test(s) && !NUMBER.test(s) ? `'${s}` : s);
}

export function toCsv(rows: readonly Row[], columns: readonly string[] = columnsOf(rows)): string {
  const lines = [columns.map(csvCell).join(',')];
  for (const r of rows) lines.push(columns.map((c) => csvCell(cellText(r[c]))).join(','));
  return `${lines.join('\n')}\n`;
}

export function toJsonl(rows: readonly Row[]): string {
  return rows.map((r) => JSON.stringify(r)).join('\n') + (rows.length ? '\n' : '');
}

export function toTable(rows: readonly Row[], columns: readonly string[] = columnsOf(rows)): string {
  if (rows.length === 0) return '(no rows)\n';
  const t = new Table({ head: [...columns], style: { head: [], border: [] } });
  for (const r of rows) t.push(columns.map((c) => truncate(cellText(r[c]), 60)));
  return `${t.toString()}\n`;
}

function truncate(s: string, n: number): string {
  return s.length > n ? `${s.slice(0, n - 1)}…` : s;
}

export function columnsOf(rows: readonly Row[]): string[] {
  const seen = new Set<string>();
  for (const r of rows) for (const k of Object.keys(r)) seen.add(k);
  return [...seen];
}

export function formatRows(rows: readonly Row[], format: OutputFormat, columns?: readonly string[]): string {
  switch (format) {
    case 'table':
      return toTable(rows, columns);
    case 'csv':
      return toCsv(rows, columns);
    case 'json':
      return `${JSON.stringify(rows, null, 2)}\n`;
    case 'jsonl':
      return toJsonl(rows);
  }
}
