/** What every section builder of the quarterly report receives. */
import type { Lang } from '../format.ts';
import { t } from '../i18n.ts';
import type { Block } from '../model.ts';
import type { TracedQueries } from '../traced-queries.ts';

/** Longest table a section prints; longer ones print their first rows and go whole to the annex. */
export const SECTION_ROWS = 20;

export interface SectionContext {
  q: TracedQueries;
  lang: Lang;
  year: number;
  quarter: number;
  /** Quarter start and end, YYYY-MM-DD. */
  start: string;
  end: string;
  /** The day whose end the report describes (flags and their state as of then), YYYY-MM-DD. */
  asOf: string;
  /** The string parameters every query may use: $year, $qstart, $qend, $region, $asof. */
  params: { year: string; qstart: string; qend: string; region: string | null; asof: string };
  /** Headline figures collected for tests and the summary. */
  headline: Record<string, string | number | null>;
  /** Full tables too long for their section (附表), printed after the appendix. */
  annex: Block[];
}

type TableBlock = Extract<Block, { kind: 'table' }>;

/**
 * A table for a section: as it is when it has at most `limit` rows; else its first `limit`
 * rows (tables are sorted worst first) with a note, and the whole table in the annex.
 */
export function sectionTable(ctx: SectionContext, table: TableBlock, limit = SECTION_ROWS): Block[] {
  if (table.rows.length <= limit) return [table];
  ctx.annex.push(table);
  return [
    { ...table, rows: table.rows.slice(0, limit) },
    { kind: 'note', text: t(ctx.lang, 'rowsInAnnex', { total: table.rows.length, n: limit }) },
  ];
}

export function quarterBounds(year: number, quarter: number): { start: string; end: string } {
  const startMonth = (quarter - 1) * 3 + 1;
  const endMonth = startMonth + 2;
  const lastDay = new Date(Date.UTC(year, endMonth, 0)).getUTCDate();
  const mm = (m: number) => String(m).padStart(2, '0');
  return { start: `${year}-${mm(startMonth)}-01`, end: `${year}-${mm(endMonth)}-${lastDay}` };
}

/** Decimal string or number → number for charts only (tables keep exact strings). */
export function num(v: unknown): number {
  const n = Number(v ?? 0);
  return Number.isFinite(n) ? n : 0;
}

/** Round a chart value to 2 decimals. */
export function r2(n: number): number {
  return Math.round(n * 100) / 100;
}
