/**
 * The quarterly report on the bundled sample: every section present, charts
 * where promised, each headline figure equal to what `fiscus track stats`
 * and `fiscus query` say, a PDF with real CJK text, and graceful sections
 * when feeds are missing.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../../engine/db.ts';
import { ingestPath } from '../../ingest/index.ts';
import { buildQuarterlyReport, writeQuarterlyReport } from '../../report/quarterly/index.ts';
import type { QuarterlyReport } from '../../report/model.ts';
import { findChromium } from '../../report/render-pdf.ts';
import { compileLoaded, loadDefinitions, withConfig } from '../../rules/run/catalog.ts';
import { runRules } from '../../rules/run/runner.ts';
import { SAMPLE_DIR, walkLoop } from '../../cli/commands/demo.ts';
import { runCli } from '../helpers/cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'fiscus-report-'));
const db = join(dir, 'report.duckdb');
let store: Store;
let report: QuarterlyReport;

beforeAll(async () => {
  store = await openStore(db);
  await ingestPath(store, SAMPLE_DIR);
  const compiled = await Promise.all(withConfig(await loadDefinitions()).map((r) => compileLoaded(r)));
  await runRules(store, compiled, { asOf: '2026-01-31', now: new Date('2026-02-01T02:00:00Z') });
  await walkLoop(store, '2026-02-01');
  report = await buildQuarterlyReport(store, { year: 2025, quarter: 4, lang: 'zh', generatedAt: new Date('2026-02-10T00:00:00Z') });
  await store.close();
});

afterAll(async () => {
  await store?.close();
});

describe('quarterly report on a dataset with all feeds', () => {
  it('has every section, with charts for execution, warnings and debt', () => {
    expect(report.sections.map((s) => s.id)).toEqual(['execution', 'flags', 'debt', 'transfers', 'assets', 'appendix']);
    for (const s of report.sections) expect(s.missing, s.id).toEqual([]);
    const charts = (id: string) => report.sections.find((s) => s.id === id)!.blocks.filter((b) => b.kind === 'chart');
    expect(charts('execution').length).toBeGreaterThanOrEqual(1);
    expect(charts('flags').length).toBeGreaterThanOrEqual(1);
    expect(charts('debt').length).toBeGreaterThanOrEqual(1);
    expect(report.title).toBe('全部地区2025年第四季度国库资金审查报告');
  });

  it('gives closed-loop headline figures equal to fiscus track stats', async () => {
    const res = await runCli(['--db', db, 'track', 'stats', '--year', '2025', '--quarter', '4', '--basis', 'period', '--ytd', '--as-of', '2025-12-31', '--format', 'json']);
    expect(res.code, res.stderr).toBe(0);
    const t = JSON.parse(res.stdout).totals;
    const h = report.headline;
    expect(h.loop_discovered).toBe(t.discovered);
    expect(h.loop_dismissed).toBe(t.dismissed);
    expect(h.loop_explained).toBe(t.explained);
    expect(h.loop_rectified).toBe(t.rectified);
    expect(h.loop_rectifying).toBe(t.rectifying);
    expect(h.loop_overdue).toBe(t.overdue);
    expect(h.loop_rectification_rate).toBe(t.rectification_rate);
    expect(h.loop_on_time_rate).toBe(t.on_time_rate);
    expect(h.loop_money_involved).toBe(t.money_involved);
    expect(h.loop_money_recovered).toBe(t.money_recovered);
    // The demo walk verified one flag and accepted one explanation.
    expect(t.rectified).toBeGreaterThanOrEqual(1);
    expect(t.explained).toBeGreaterThanOrEqual(1);
  });

  it('gives every other headline figure the same as its recorded query run through fiscus query', async () => {
    const rerun = async (id: string) => {
      const q = report.queries.find((r) => r.id === id)!;
      const args = ['--db', db, 'query', q.sql, '--format', 'json'];
      for (const [k, v] of Object.entries(q.params)) args.push(...(v === null ? ['--null', k] : ['--param', `${k}=${v}`]));
      const res = await runCli(args);
      expect(res.code, res.stderr).toBe(0);
      return JSON.parse(res.stdout) as Record<string, string>[];
    };
    const [totals] = await rerun('execution_totals');
    expect(report.headline.budget_total).toBe(totals!.budget);
    expect(report.headline.spent_total).toBe(totals!.spent);
    const byRule = await rerun('flags_by_rule');
    expect(report.headline.flags_ytd).toBe(byRule.reduce((n, r) => n + Number(r.ytd), 0));
    expect(report.headline.flags_in_quarter).toBe(byRule.reduce((n, r) => n + Number(r.in_quarter), 0));
    const high = await rerun('high_flags');
    expect(report.headline.high_flags).toBe(high.length);
    // And independently of the report's own SQL: the year's spending straight from the payments.
    const direct = await runCli(['--db', db, 'query', "SELECT sum(amount) AS s FROM treasury.payments WHERE fiscal_year = 2025 AND pay_date <= DATE '2025-12-31'", '--format', 'json']);
    expect(report.headline.spent_total).toBe(JSON.parse(direct.stdout)[0].s);
  });

  it('formats money the Chinese way: 万元 with two decimals in tables, 亿元 for debt', () => {
    const exec = report.sections.find((s) => s.id === 'execution')!;
    const figures = exec.blocks.find((b) => b.kind === 'figures');
    expect(figures && figures.kind === 'figures' && figures.items[0]!.label).toContain('万元');
    const debt = report.sections.find((s) => s.id === 'debt')!;
    const table = debt.blocks.find((b) => b.kind === 'table');
    expect(table && table.kind === 'table' && table.columns.map((c) => c.label).join()).toContain('亿元');
    expect(table && table.kind === 'table' && table.rows[0]!.limit).toMatch(/^[\d,]+\.\d{2}$/);
  });

  it('writes a self-contained HTML file and a Markdown twin', async () => {
    const written = await writeQuarterlyReport(report, join(dir, 'out'), ['html', 'md']);
    const html = readFileSync(written.files.html!, 'utf8');
    expect(html).toContain('<svg');
    expect(html).not.toMatch(/<(script|link|img)[^>]+(src|href)="https?:/);
    expect(html).toContain('一、预算执行');
    const md = readFileSync(written.files.md!, 'utf8');
    for (const s of report.sections) expect(md).toContain(`## ${s.title}`);
  });

  it('prints a PDF whose pages carry CJK text', async (ctx) => {
    if (!findChromium()) ctx.skip();
    const written = await writeQuarterlyReport(report, join(dir, 'pdf'), ['pdf']);
    expect(existsSync(written.files.pdf!)).toBe(true);
    const text = execFileSync('pdftotext', ['-f', '1', '-l', '1', written.files.pdf!, '-'], { encoding: 'utf8' });
    expect(text).toContain('国库资金审查报告');
    expect(text).toContain('预算执行');
    // A page rendered to PNG is a real image with content (looked at by hand during development).
    execFileSync('pdftoppm', ['-f', '1', '-l', '1', '-r', '40', '-png', written.files.pdf!, join(dir, 'pdf', 'page')]);
    expect(readFileSync(join(dir, 'pdf', 'page-01.png')).length).toBeGreaterThan(5_000);
  });

  it('English edition', async () => {
    const s = await openStore(db);
    try {
      const en = await buildQuarterlyReport(s, { year: 2025, quarter: 4, lang: 'en' });
      expect(en.title).toBe('Treasury Funds Review Report: All regions, Q4 2025');
      expect(en.sections[0]!.title).toBe('1. Budget execution');
    } finally {
      await s.close();
    }
  });
});

describe('quarterly report on a region with missing feeds', () => {
  it('says which sections have no data instead of failing', async () => {
    const partial = join(dir, 'partial.duckdb');
    const s = await openStore(partial);
    try {
      for (const t of ['ref.regions', 'ref.agencies', 'treasury.budget_indicators', 'treasury.payments']) {
        await ingestPath(s, join(SAMPLE_DIR, `${t}.csv`));
      }
      const r = await buildQuarterlyReport(s, { year: 2025, quarter: 2, region: '370800', lang: 'zh' });
      const byId = Object.fromEntries(r.sections.map((x) => [x.id, x]));
      expect(byId.execution!.missing).toEqual([]);
      expect(byId.execution!.blocks.length).toBeGreaterThan(0);
      expect(byId.debt!.missing).toEqual(['debt.positions', 'debt.bonds']);
      expect(byId.debt!.blocks).toEqual([]);
      expect(byId.transfers!.missing).toEqual(['transfers.grants']);
      expect(byId.flags!.missing).toEqual(['fiscus.flags']);
      const written = await writeQuarterlyReport(r, join(dir, 'partial'), ['html', 'md']);
      expect(readFileSync(written.files.html!, 'utf8')).toContain('本节无数据：缺少 debt.positions, debt.bonds');
    } finally {
      await s.close();
    }
  });

  it('refuses an unknown region and a bad quarter with a usage error', async () => {
    const res = await runCli(['--db', db, 'report', 'quarterly', '--year', '2025', '--quarter', '5', '--out', join(dir, 'x')]);
    expect(res.code).toBe(2);
    const res2 = await runCli(['--db', db, 'report', 'quarterly', '--year', '2025', '--quarter', '1', '--region', '999999', '--out', join(dir, 'x')]);
    expect(res2.code).toBe(2);
    expect(res2.stderr).toMatch(/unknown region 999999/);
  });
});
