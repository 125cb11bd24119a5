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
import { t } from '../../report/i18n.ts';
import { flagDaySql } from '../../tracker/stats.ts';
import { performAction, scanDeadlines, trackStats, type Actor, type TrackAction } from '../../tracker/index.ts';
import { runCli } from '../helpers/cli.ts';
import { dataValues, fullWidthOutsideData } from './full-width.ts';
import { testDbLocation, testEngine } from '../helpers/postgres.ts';

const dir = mkdtempSync(join(tmpdir(), 'fiscus-report-'));
const db = testDbLocation(join(dir, 'report.duckdb')); // PostgreSQL with FISCUS_TEST_ENGINE=postgres
let store: Store;
let report: QuarterlyReport;
// The sample's rules run on 2026-02-01 and the demo walk ends on 2026-02-27: the Q4 2025 report is written as of early March.
const AS_OF = '2026-03-06';
const GENERATED = new Date('2026-03-10T00:00:00Z');

beforeAll(async () => {
  store = await openStore(db);
  await ingestPath(store, SAMPLE_DIR);
  const compiled = await Promise.all(withConfig(await loadDefinitions()).map((r) => compileLoaded(r, {}, testEngine())));
  await runRules(store, compiled, { asOf: '2026-01-31', now: new Date('2026-02-01T02:00:00Z') });
  await walkLoop(store, '2026-02-01');
  report = await buildQuarterlyReport(store, { year: 2025, quarter: 4, lang: 'zh', asOf: AS_OF, generatedAt: GENERATED });
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
    expect(report.title).toBe('山东省2025年第四季度国库资金审查报告'); // the region all the data lies in (ref.regions), not "全部地区"
  });

  it('gives closed-loop headline figures equal to fiscus track stats', async () => {
    const res = await runCli(['--db', db, 'track', 'stats', '--year', '2025', '--quarter', '4', '--basis', 'period', '--ytd', '--as-of', AS_OF, '--format', 'json']);
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
      expect(en.title).toBe('Treasury Funds Review Report: 山东省, Q4 2025');
      expect(en.sections[0]!.title).toBe('1. Budget execution');
      // Its own words use ASCII punctuation; only names and text stored in the data keep full-width marks.
      const values = await dataValues(s);
      expect(values).toContain('2025年山东省政府专项债券（六期）');
      expect(fullWidthOutsideData(en, values)).toEqual([]);
      const table = en.sections.flatMap((x) => x.blocks).find((b) => b.kind === 'table' && b.columns.some((c) => c.label.startsWith('Budget (')));
      expect(table && table.kind === 'table' && table.columns.map((c) => c.label)).toContain('Budget (10k yuan)');
      // The Chinese edition keeps its full-width brackets.
      expect(fullWidthOutsideData(report, values).length).toBeGreaterThan(0);
    } finally {
      await s.close();
    }
  });
});

describe('quarterly report on a region with missing feeds', () => {
  it('says which sections have no data instead of failing', async () => {
    const partial = testDbLocation(join(dir, 'partial.duckdb'));
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

describe('a report does not change after the fact', () => {
  const COMMITTEE: Actor = { name: '预算工委 王芳', role: 'supervisor' };
  const at = (day: string) => new Date(`${day}T02:00:00Z`);
  /** The one line that may differ: the generation time, exactly as rendered. */
  const stripGenerated = (text: string, r: QuarterlyReport) => {
    const line = `${t(r.lang, 'generatedAt')}: ${r.generatedAt}`;
    expect(text.split(line).length - 1, 'the generation time appears exactly once').toBe(1);
    return text.replace(line, '');
  };
  /** asOf null: the report's default. */
  const build = (s: Store, generatedAt: Date, lang: 'zh' | 'en' = 'zh', asOf: string | null = AS_OF) =>
    buildQuarterlyReport(s, { year: 2025, quarter: 4, lang, asOf: asOf ?? undefined, generatedAt });
  const rendered = async (r: QuarterlyReport, out: string) => {
    const w = await writeQuarterlyReport(r, join(dir, out), ['html', 'md']);
    return { html: readFileSync(w.files.html!, 'utf8'), md: readFileSync(w.files.md!, 'utf8') };
  };

  it('is identical, apart from its generation time, after a round of 2026 tracker actions and a rule re-run', async () => {
    const s = await openStore(db);
    try {
      const before = { zh: await build(s, GENERATED), en: await build(s, GENERATED, 'en') };
      const files = { zh: await rendered(before.zh, 'before-zh'), en: await rendered(before.en, 'before-en') };
      const statsBefore = await trackStats(s, { year: 2025, quarter: 4, basis: 'period', ytd: true }, { today: '2026-06-01' });

      // The flags the demo walk took (verified, explained, left overdue), and three it left alone.
      const [a, b, c] = await s.all<{ flag_id: string }>(
        `SELECT flag_id FROM fiscus.flags WHERE severity = 'high' AND agency_code IS NOT NULL ORDER BY rule_id, flag_id LIMIT 3`,
      );
      const others = await s.all<{ flag_id: string }>(
        `SELECT flag_id FROM fiscus.flags f WHERE status = 'discovered' AND ${s.dialect.year(flagDaySql('f'))} = 2025 ORDER BY rule_id, flag_id LIMIT 3`,
      );
      expect(others.length).toBe(3);
      const act = (id: string, day: string, action: TrackAction) => performAction(s, id, action, COMMITTEE, { at: at(day) });
      await act(c!.flag_id, '2026-04-01', { action: 'start-rectification', category: 'immediate' });
      await act(c!.flag_id, '2026-04-10', { action: 'report-rectified', note: '已整改', amount_recovered: '1234.00' });
      await act(c!.flag_id, '2026-04-15', { action: 'vote', satisfied: 3, basic: 2, unsatisfied: 8, members: 15 });
      await act(c!.flag_id, '2026-04-20', { action: 'report-rectified', note: '再次整改', amount_recovered: '2345.00' });
      await act(c!.flag_id, '2026-04-25', { action: 'vote', satisfied: 10, basic: 2, unsatisfied: 1, members: 15 });
      await act(c!.flag_id, '2026-04-28', { action: 'verify' });
      await act(a!.flag_id, '2026-05-06', { action: 'reopen', note: '复查反弹', due: '2026-06-30' });
      await act(b!.flag_id, '2026-05-06', { action: 'reopen', note: '重新核查', due: '2026-06-30' });
      await act(b!.flag_id, '2026-05-10', { action: 'explain', note: '补充说明' });
      for (const o of others) await act(o.flag_id, '2026-04-02', { action: 'confirm' });
      await act(others[0]!.flag_id, '2026-04-03', { action: 'dismiss', note: '经核实排除' });
      await act(others[1]!.flag_id, '2026-04-03', { action: 'assign', due: '2026-05-29' });
      await act(others[1]!.flag_id, '2026-05-20', { action: 'extend', due: '2026-06-30', note: '申请延期' });
      await scanDeadlines(s, { at: at('2026-05-15') });
      const compiled = await Promise.all(withConfig(await loadDefinitions()).map((r) => compileLoaded(r, {}, testEngine())));
      await runRules(s, compiled, { asOf: '2026-01-31', now: at('2026-05-20') });

      // The round did change the loop: today's figures are not the report's.
      const statsAfter = await trackStats(s, { year: 2025, quarter: 4, basis: 'period', ytd: true }, { today: '2026-06-01' });
      expect(statsAfter.totals).not.toEqual(statsBefore.totals);
      expect(statsAfter.totals.verified).toBe(statsBefore.totals.verified); // a reopened, c verified
      expect(statsAfter.totals.dismissed).toBe(statsBefore.totals.dismissed + 1);

      const later = new Date('2026-06-01T08:00:00Z');
      const after = { zh: await build(s, later), en: await build(s, later, 'en') };
      expect(after.zh.generatedAt).not.toBe(before.zh.generatedAt);
      expect(after.zh.headline).toEqual(before.zh.headline);
      for (const lang of ['zh', 'en'] as const) {
        const again = await rendered(after[lang], `after-${lang}`);
        expect(stripGenerated(again.html, after[lang]), `${lang} html`).toBe(stripGenerated(files[lang].html, before[lang]));
        expect(stripGenerated(again.md, after[lang]), `${lang} md`).toBe(stripGenerated(files[lang].md, before[lang]));
      }
    } finally {
      await s.close();
    }
  }, 120_000);

  it('shows nothing that happened after its as-of day', async () => {
    const s = await openStore(db);
    try {
      // As of the quarter end (the default) no rule had raised anything yet: the flags were first seen on 2026-02-01.
      const q4 = await build(s, GENERATED, 'zh', null);
      expect(q4.asOf).toBe('2025-12-31');
      expect(q4.sections.find((x) => x.id === 'flags')!.missing).toEqual(['fiscus.flags']);
      expect(q4.headline.high_flags).toBe(0);
      const md = await rendered(q4, 'q4-default');
      expect(md.md).toContain('预警及整改状态截至: 2025年12月31日');

      // As of 2026-02-26 the first walked flag was reported rectified and voted on, but not yet verified (02-27).
      const [a] = await s.all<{ flag_id: string }>(`SELECT flag_id FROM fiscus.flags WHERE severity = 'high' AND agency_code IS NOT NULL ORDER BY rule_id, flag_id LIMIT 1`);
      const feb = await build(s, GENERATED, 'zh', '2026-02-26');
      const appendixRows = (r: QuarterlyReport) => {
        const tbl = r.sections.find((x) => x.id === 'appendix')!.blocks.find((blk) => blk.kind === 'table');
        return tbl && tbl.kind === 'table' ? tbl.rows : [];
      };
      expect(appendixRows(feb).find((r) => r.id === a!.flag_id)?.status).toBe('rectified');
      expect(appendixRows(report).find((r) => r.id === a!.flag_id)?.status).toBe('verified');
      const statsFeb = await trackStats(s, { year: 2025, quarter: 4, basis: 'period', ytd: true }, { today: '2026-02-26' });
      expect(feb.headline.loop_rectified).toBe(statsFeb.totals.rectified);
      expect(statsFeb.totals.verified).toBe(0);
    } finally {
      await s.close();
    }
  });

  it('fiscus report quarterly --as-of writes the same report, after everything above, as the first build', async () => {
    const out = join(dir, 'cli-as-of');
    const res = await runCli(['--db', db, 'report', 'quarterly', '--year', '2025', '--quarter', '4', '--as-of', AS_OF, '--out', out, '--format', 'html,md']);
    expect(res.code, res.stderr).toBe(0);
    const md = readFileSync(join(out, 'quarterly-2025-Q4-zh.md'), 'utf8');
    const generated = /^生成时间: (\S+)$/m.exec(md)![1]!;
    const first = await rendered(report, 'first');
    expect(stripGenerated(md, { ...report, generatedAt: generated })).toBe(stripGenerated(first.md, report));
    const bad = await runCli(['--db', db, 'report', 'quarterly', '--year', '2025', '--quarter', '4', '--as-of', '2999-01-01', '--out', out]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/after today/);
  });

  it('refuses an as-of day that has not ended or falls before the quarter', async () => {
    const s = await openStore(db);
    try {
      await expect(build(s, GENERATED, 'zh', '2026-03-11')).rejects.toThrow(/after today/);
      await expect(build(s, GENERATED, 'zh', '2025-09-30')).rejects.toThrow(/before the quarter/);
      await expect(build(s, GENERATED, 'zh', '2026-02-30')).rejects.toThrow(/YYYY-MM-DD/);
    } finally {
      await s.close();
    }
  });
});
