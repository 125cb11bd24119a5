/** The shape of a rendered report, independent of HTML, Markdown or PDF. */
import type { Lang } from './format.ts';
import type { QueryRecord } from './traced-queries.ts';

export interface Figure {
  label: string;
  /** Display text, already formatted. */
  text: string;
  /** The raw value (decimal string, count or ratio) for machine checks. */
  value: string | number | null;
  queryId?: string;
}

export interface TableColumn {
  key: string;
  label: string;
  align?: 'left' | 'right';
  /** Keep the cell on one line (short codes, dates, status labels). */
  nowrap?: boolean;
}

export type Block =
  | { kind: 'figures'; items: Figure[] }
  | { kind: 'table'; title: string; columns: TableColumn[]; rows: Record<string, string>[]; queryId?: string; empty?: string }
  | { kind: 'chart'; title: string; svg: string; queryId?: string }
  | { kind: 'text'; text: string }
  | { kind: 'note'; text: string };

export interface Section {
  id: string;
  title: string;
  /** Feed tables with no rows in scope; when `blocks` is empty the section says so. */
  missing: string[];
  blocks: Block[];
}

export interface QuarterlyReport {
  lang: Lang;
  title: string;
  subtitle: string;
  year: number;
  quarter: number;
  region: { code: string | null; name: string };
  period: { start: string; end: string };
  /** The day whose end the flags and their closed-loop state are as of (YYYY-MM-DD). */
  asOf: string;
  generatedAt: string;
  sections: Section[];
  /** Headline figures by id, for tests and for anyone checking the report. */
  headline: Record<string, string | number | null>;
  queries: QueryRecord[];
}
