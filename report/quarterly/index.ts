/**
 * The quarterly review report (五常: 每个季度出审查报告): build the model from
 * the database, then write HTML, Markdown, PDF and the figures as JSON.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { calendarWarningFor, todayInShanghai } from '../../engine/calendar.ts';
import type { Store } from '../../engine/db.ts';
import { checkDay } from '../../tracker/as-of.ts';
import { UsageError } from '../../engine/errors.ts';
import { quarterName, type Lang } from '../format.ts';
import { t } from '../i18n.ts';
import type { QuarterlyReport } from '../model.ts';
import { renderHtml } from '../render-html.ts';
import { renderMarkdown } from '../render-markdown.ts';
import { findChromium, htmlToPdf } from '../render-pdf.ts';
import { TracedQueries } from '../traced-queries.ts';
import { appendixSection } from './appendix.ts';
import { assetsSection } from './assets.ts';
import { quarterBounds, type SectionContext } from './context.ts';
import { debtSection } from './debt.ts';
import { executionSection } from './execution.ts';
import { flagsSection } from './flags.ts';
import { transfersSection } from './transfers.ts';

export interface QuarterlyOptions {
  year: number;
  quarter: number;
  region?: string | null;
  lang?: Lang;
  /**
   * The day (Asia/Shanghai) whose end the report describes: the flags first seen by then, in their
   * state then, reconstructed from the event log (tracker/as-of.ts). Default: the quarter end, or
   * today while the quarter has not ended. Not after today: a day still running could change.
   * Regenerating the report with the same as-of day gives the same report.
   */
  asOf?: string;
  /** The one thing that differs between two builds of the same report; default now. */
  generatedAt?: Date;
}

export async function buildQuarterlyReport(store: Store, opts: QuarterlyOptions): Promise<QuarterlyReport> {
  if (!Number.isInteger(opts.year) || opts.year < 2000 || opts.year > 2100) throw new UsageError(`--year must be a year such as 2025 (got ${opts.year})`);
  if (![1, 2, 3, 4].includes(opts.quarter)) throw new UsageError(`--quarter must be 1, 2, 3 or 4 (got ${opts.quarter})`);
  const lang = opts.lang ?? 'zh';
  const { start, end } = quarterBounds(opts.year, opts.quarter);
  const region = opts.region ?? null;
  const asOf = reportAsOf(start, end, opts.asOf, todayInShanghai(opts.generatedAt));
  let regionName = t(lang, 'allRegions');
  if (region) {
    const row = await store.one<{ region_name: string }>('SELECT region_name FROM ref.regions WHERE region_code = $r', { r: region });
    if (!row) throw new UsageError(`unknown region ${region}: not in ref.regions (fiscus query "SELECT * FROM ref.regions")`);
    regionName = row.region_name;
  }
  const ctx: SectionContext = {
    q: new TracedQueries(store),
    lang,
    year: opts.year,
    quarter: opts.quarter,
    start,
    end,
    asOf,
    params: { year: String(opts.year), qstart: start, qend: end, region, asof: asOf },
    headline: {},
  };
  const sections = [];
  for (const build of [executionSection, flagsSection, debtSection, transfersSection, assetsSection, appendixSection]) {
    sections.push(await build(ctx));
  }
  // Deadlines in a year without an official holiday schedule count Monday–Friday only: say so where they are judged.
  const calendarNote = await calendarWarningFor(store, [start, asOf], lang);
  if (calendarNote) (sections.find((s) => s.id === 'flags') ?? sections[0])?.blocks.unshift({ kind: 'note', text: calendarNote });
  const generatedAt = (opts.generatedAt ?? new Date()).toISOString().replace(/\.\d{3}Z$/, 'Z');
  return {
    lang,
    title: lang === 'zh' ? `${regionName}${quarterName(opts.year, opts.quarter, lang)}${t(lang, 'reportTitle')}` : `${t(lang, 'reportTitle')}: ${regionName}, ${quarterName(opts.year, opts.quarter, lang)}`,
    subtitle: lang === 'zh' ? '人大财经委 预算联网监督' : "People's Congress Finance Committee — budget networked supervision",
    year: opts.year,
    quarter: opts.quarter,
    region: { code: region, name: regionName },
    period: { start, end },
    asOf,
    generatedAt,
    sections,
    headline: ctx.headline,
    queries: ctx.q.records,
  };
}

/** The report's as-of day: given (checked), else the quarter end, else (quarter still running) today. */
export function reportAsOf(start: string, end: string, given: string | undefined, today: string): string {
  if (given === undefined) return end < today ? end : today;
  try {
    checkDay(given);
  } catch {
    throw new UsageError(`--as-of must be a day YYYY-MM-DD (got "${given}")`);
  }
  if (given < start) throw new UsageError(`--as-of ${given} is before the quarter (${start} – ${end})`);
  if (given > today) throw new UsageError(`--as-of ${given} is after today (${today}): a report as of a day that has not ended could still change`);
  return given;
}

export type ReportFormat = 'html' | 'md' | 'pdf' | 'json';

export interface WrittenReport {
  files: Partial<Record<ReportFormat, string>>;
  /** Why a requested format was not written (e.g. no chromium for PDF). */
  skipped: Partial<Record<ReportFormat, string>>;
}

export async function writeQuarterlyReport(report: QuarterlyReport, outDir: string, formats: ReportFormat[]): Promise<WrittenReport> {
  mkdirSync(outDir, { recursive: true });
  const base = join(resolve(outDir), `quarterly-${report.year}-Q${report.quarter}${report.region.code ? `-${report.region.code}` : ''}-${report.lang}`);
  const files: WrittenReport['files'] = {};
  const skipped: WrittenReport['skipped'] = {};
  // HTML is always written: the PDF is printed from it, and it is the fallback without chromium.
  const html = `${base}.html`;
  writeFileSync(html, renderHtml(report));
  files.html = html;
  if (formats.includes('md')) {
    files.md = `${base}.md`;
    writeFileSync(files.md, renderMarkdown(report));
  }
  if (formats.includes('json')) {
    files.json = `${base}.json`;
    const { sections, ...rest } = report;
    writeFileSync(files.json, `${JSON.stringify({ ...rest, sections: sections.map((s) => ({ ...s, blocks: s.blocks.map((b) => (b.kind === 'chart' ? { ...b, svg: `<svg ${b.svg.length} bytes>` } : b)) })) }, null, 2)}\n`);
  }
  if (formats.includes('pdf')) {
    const chromium = findChromium();
    if (!chromium) {
      skipped.pdf = 'chromium not found (apt-get install -y chromium fonts-noto-cjk, or set FISCUS_CHROMIUM); the HTML was written';
    } else {
      files.pdf = `${base}.pdf`;
      await htmlToPdf(html, files.pdf, chromium);
    }
  }
  return { files, skipped };
}
