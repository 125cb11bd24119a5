/**
 * Compact tables for people: one line per row (no rule between rows, one under
 * the header), fitted to the terminal width by truncating the flexible column
 * (the title) with "…". The full text is in `--format csv|json|jsonl`.
 */
import Table from 'cli-table3';

/** Display width of a string: East Asian wide and full-width characters take two cells. */
export function displayWidth(s: string): number {
  let w = 0;
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (c < 0x20 || (c >= 0x7f && c < 0xa0) || (c >= 0x300 && c < 0x370) || c === 0x200b) continue;
    w += isWide(c) ? 2 : 1;
  }
  return w;
}

function isWide(c: number): boolean {
  return (
    (c >= 0x1100 && c <= 0x115f) ||
    (c >= 0x2e80 && c <= 0x303e) ||
    (c >= 0x3041 && c <= 0x33ff) ||
    (c >= 0x3400 && c <= 0x4dbf) ||
    (c >= 0x4e00 && c <= 0x9fff) ||
    (c >= 0xa000 && c <= 0xa4cf) ||
    (c >= 0xac00 && c <= 0xd7a3) ||
    (c >= 0xf900 && c <= 0xfaff) ||
    (c >= 0xfe30 && c <= 0xfe4f) ||
    (c >= 0xff00 && c <= 0xff60) ||
    (c >= 0xffe0 && c <= 0xffe6) ||
    (c >= 0x1f300 && c <= 0x1faff) ||
    (c >= 0x20000 && c <= 0x3fffd)
  );
}

/** The width tables are fitted to: the terminal's, else $COLUMNS, else 160 (a pager or a file). */
export function outputWidth(stdoutColumns: number | undefined = process.stdout.isTTY ? process.stdout.columns : undefined): number {
  if (stdoutColumns && stdoutColumns > 0) return stdoutColumns;
  const env = Number(process.env.COLUMNS);
  return Number.isInteger(env) && env > 20 ? env : 160;
}

function cellText(v: unknown): string {
  if (v === null || v === undefined) return '';
  const s = typeof v === 'object' ? JSON.stringify(v) : String(v);
  return s.replace(/\s*[\r\n]+\s*/g, ' ');
}

export interface FitOptions {
  /** Total width to fit (outputWidth()). */
  width: number;
  /** The column that shrinks (truncated with …), e.g. 'title'. */
  flex: string;
  /** It never gets narrower than this many cells (the table then runs wider than `width`). */
  minFlex?: number;
  /** Columns that shrink next, in order, once `flex` is at `minFlex` (e.g. a long rule id), to `min` cells each. */
  alsoShrink?: { column: string; min: number }[];
  /** Header labels, when they differ from the keys. */
  labels?: Record<string, string>;
  /** Columns set flush right (amounts, counts), so digits line up. */
  right?: readonly string[];
}

export function fitTable(rows: readonly Record<string, unknown>[], columns: readonly string[], opts: FitOptions): string {
  if (rows.length === 0) return '(no rows)\n';
  const labels = columns.map((c) => opts.labels?.[c] ?? c);
  const cells = rows.map((r) => columns.map((c) => cellText(r[c])));
  // Natural width of each column: its widest cell or header, plus one space of padding each side.
  const natural = columns.map((_, i) => Math.max(displayWidth(labels[i]!), ...cells.map((row) => displayWidth(row[i]!))) + 2);
  const fi = columns.indexOf(opts.flex);
  const widths = [...natural];
  if (fi >= 0) {
    const total = () => widths.reduce((s, w) => s + w, 0) + columns.length + 1;
    widths[fi] = Math.min(natural[fi]!, Math.max((opts.minFlex ?? 20) + 2, natural[fi]! - (total() - opts.width)));
    for (const { column, min } of opts.alsoShrink ?? []) {
      const i = columns.indexOf(column);
      const over = total() - opts.width;
      if (i < 0 || over <= 0) continue;
      widths[i] = Math.max(min + 2, widths[i]! - over);
    }
  }
  const t = new Table({
    head: labels,
    colWidths: widths,
    wordWrap: false,
    style: { head: [], border: [], 'padding-left': 1, 'padding-right': 1 },
    chars: { mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': '' },
  });
  const right = columns.map((c) => opts.right?.includes(c) ?? false);
  for (const row of cells) t.push(row.map((content, i) => (right[i] ? { content, hAlign: 'right' as const } : content)));
  const lines = t.toString().split('\n');
  // One rule under the header, none between rows.
  const rule = lines[0]!.replace('┌', '├').replace('┐', '┤').replaceAll('┬', '┼');
  lines.splice(2, 0, rule);
  return `${lines.join('\n')}\n`;
}
