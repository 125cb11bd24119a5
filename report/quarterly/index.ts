/**
 * The quarterly review report (五常: 每个季度出审查报告): build the model from
 * the database, then write HTML, Markdown, PDF and the figures as JSON.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
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
  // No region chosen: the report is headed by the region all the data lies in (e.g. 济宁市), or by none.
  let regionName = region ? null : await coveringRegionName(store, opts.year);
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
    annex: [],
  };
  const sections = [];
  for (const build of [executionSection, flagsSection, debtSection, transfersSection, assetsSection, appendixSection]) {
    sections.push(await build(ctx));
  }
  if (ctx.annex.length) sections.push({ id: 'annex', title: t(lang, 'annex'), missing: [], blocks: ctx.annex });
  // Deadlines in a year without an official holiday schedule count Monday–Friday only: say so where they are judged.
  const calendarNote = await calendarWarningFor(store, [start, asOf], lang);
  if (calendarNote) (sections.find((s) => s.id === 'flags') ?? sections[0])?.blocks.unshift({ kind: 'note', text: calendarNote });
  const generatedAt = (opts.generatedAt ?? new Date()).toISOString().replace(/\.\d{3}Z$/, 'Z');
  return {
    lang,
    title: lang === 'zh'
      ? `${regionName ?? ''}${quarterName(opts.year, opts.quarter, lang)}${t(lang, 'reportTitle')}`
      : `${t(lang, 'reportTitle')}: ${regionName ? `${regionName}, ` : ''}${quarterName(opts.year, opts.quarter, lang)}`,
    subtitle: lang === 'zh' ? '人大财经委 预算联网监督' : "People's Congress Finance Committee — budget networked supervision",
    year: opts.year,
    quarter: opts.quarter,
    region: { code: region, name: regionName ?? '' },
    period: { start, end },
    asOf,
    generatedAt,
    sections,
    headline: ctx.headline,
    queries: ctx.q.records,
  };
}

/**
 * The name of the lowest region of ref.regions that contains every region the year's data
 * is about (budget indicators, payments, debt positions): the report's heading when no
 * --region is chosen. Null when there is no such region (no data, or regions not in ref.regions).
 */
export async function coveringRegionName(store: Store, year: number): Promise<string | null> {
  const regions = await store.all<{ region_code: string; region_name: string; parent_code: string | null }>(
    'SELECT region_code, region_name, parent_code FROM ref.regions',
  );
  const byCode = new Map(regions.map((r) => [r.region_code, r]));
  const used = await store.all<{ region_code: string }>(
    `SELECT DISTINCT region_code FROM (
       SELECT region_code FROM treasury.budget_indicators WHERE fiscal_year = $y
       UNION ALL SELECT region_code FROM treasury.payments WHERE fiscal_year = $y
       UNION ALL SELECT region_code FROM debt.positions WHERE fiscal_year = $y) u
     WHERE region_code IS NOT NULL`,
    { y: year },
  );
  let common: string[] | null = null;
  for (const { region_code } of used) {
    const chain: string[] = [];
    for (let c: string | null | undefined = region_code; c && byCode.has(c) && !chain.includes(c); c = byCode.get(c)!.parent_code) chain.unshift(c);
    if (chain.length === 0) return null;
    // Keep the common prefix of the root-first chains.
    if (common === null) common = chain;
    else {
      let i = 0;
      while (i < common.length && i < chain.length && common[i] === chain[i]) i++;
      common = common.slice(0, i);
    }
    if (common.length === 0) return null;
  }
  return common?.length ? byCode.get(common[common.length - 1]!)!.region_name : null;
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
  // Only what was asked: the PDF is printed from an HTML file, kept beside it only when html was asked for too.
  const html = `${base}.html`;
  const wantsHtml = formats.includes('html');
  if (wantsHtml || formats.includes('pdf')) writeFileSync(html, renderHtml(report));
  if (wantsHtml) files.html = html;
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
    if (!wantsHtml && !files.pdf) files.html = html; // no chromium: the HTML is what there is (said in `skipped`)
    else if (!wantsHtml) rmSync(html, { force: true });
  }
  return { files, skipped };
}
