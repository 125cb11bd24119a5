/**
 * The quarterly report at a city's scale: with 76 departments the execution chart and
 * tables show the slowest and fastest DEPTS_SHOWN, every department is in the annex
 * (附表), no section table runs past SECTION_ROWS rows, the heading names the region the
 * data lies in, the appendix prints one line a flag with measures by their kind, short
 * tables print whole in the PDF, and `--format json` writes only the JSON.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../../engine/db.ts';
import { ingestPath } from '../../ingest/index.ts';
import type { QuarterlyReport } from '../../report/model.ts';
import { DEPTS_SHOWN } from '../../report/quarterly/execution.ts';
import { SECTION_ROWS } from '../../report/quarterly/context.ts';
import { buildQuarterlyReport, writeQuarterlyReport } from '../../report/quarterly/index.ts';
import { renderHtml } from '../../report/render-html.ts';
import { measureKind } from '../../report/quarterly/appendix.ts';
import { compileLoaded, loadDefinitions, withConfig } from '../../rules/run/catalog.ts';
import { runRules } from '../../rules/run/runner.ts';
import { SAMPLE_DIR } from '../../cli/commands/demo.ts';

const dir = mkdtempSync(join(tmpdir(), 'fiscus-report-scale-'));
const EXTRA = 60;
let store: Store;
let report: QuarterlyReport;
let departments: number;

beforeAll(async () => {
  store = await openStore(join(dir, 'scale.duckdb'));
  await ingestPath(store, SAMPLE_DIR);
  // 60 more departments of 济宁市, each with a budget and a payment: rates 40% … 99%.
  await store.run(`INSERT INTO ref.agencies SELECT a.* REPLACE ('T' || lpad(CAST(i AS VARCHAR), 3, '0') AS agency_code,
      '测试部门' || CAST(i AS VARCHAR) AS agency_name, 'T' || lpad(CAST(i AS VARCHAR), 3, '0') AS dept_code)
    FROM ref.agencies a, range(${EXTRA}) t(i) WHERE a.agency_code = 'A0101'`);
  await store.run(`INSERT INTO treasury.budget_indicators SELECT b.* REPLACE ('TZB' || CAST(i AS VARCHAR) AS indicator_id,
      'T' || lpad(CAST(i AS VARCHAR), 3, '0') AS agency_code, CAST(1000000 AS DECIMAL(18,2)) AS amount)
    FROM treasury.budget_indicators b, range(${EXTRA}) t(i)
    WHERE b.indicator_id = (SELECT min(indicator_id) FROM treasury.budget_indicators WHERE fiscal_year = 2025 AND kind = 'initial')`);
  await store.run(`INSERT INTO treasury.payments SELECT p.* REPLACE ('TP' || CAST(i AS VARCHAR) AS payment_id,
      'T' || lpad(CAST(i AS VARCHAR), 3, '0') AS agency_code, CAST(400000 + i * 10000 AS DECIMAL(18,2)) AS amount,
      'TZB' || CAST(i AS VARCHAR) AS indicator_id)
    FROM treasury.payments p, range(${EXTRA}) t(i)
    WHERE p.payment_id = (SELECT min(payment_id) FROM treasury.payments WHERE fiscal_year = 2025 AND amount > 0 AND pay_date <= DATE '2025-12-31')`);
  const compiled = await Promise.all(withConfig(await loadDefinitions()).map((r) => compileLoaded(r)));
  await runRules(store, compiled, { asOf: '2026-01-31', now: new Date('2026-02-01T02:00:00Z') });
  report = await buildQuarterlyReport(store, { year: 2025, quarter: 4, lang: 'zh', asOf: '2026-03-06', generatedAt: new Date('2026-03-10T00:00:00Z') });
  const execTable = report.sections.find((s) => s.id === 'annex')?.blocks.find((b) => b.kind === 'table' && b.queryId === 'execution_by_department');
  departments = execTable && execTable.kind === 'table' ? execTable.rows.length : 0;
}, 180_000);

afterAll(async () => {
  await store?.close();
});

describe('quarterly report at scale', () => {
  it('charts and lists the slowest and fastest departments, every department in the annex', () => {
    expect(departments).toBeGreaterThan(EXTRA);
    const exec = report.sections.find((s) => s.id === 'execution')!;
    const chart = exec.blocks.find((b) => b.kind === 'chart' && b.queryId === 'execution_by_department');
    expect(chart && chart.kind === 'chart' && chart.title).toContain(`执行最慢和最快的各${DEPTS_SHOWN}个部门（共${departments}个）`);
    // One bar label per charted department: 2 × DEPTS_SHOWN names in the SVG.
    const svg = chart && chart.kind === 'chart' ? chart.svg : '';
    expect((svg.match(/测试部门\d+/g) ?? []).length).toBeLessThanOrEqual(2 * DEPTS_SHOWN);
    const tables = exec.blocks.filter((b) => b.kind === 'table' && b.queryId === 'execution_by_department');
    expect(tables.map((t) => (t.kind === 'table' ? t.rows.length : 0))).toEqual([DEPTS_SHOWN, DEPTS_SHOWN]);
    expect(exec.blocks.some((b) => b.kind === 'note' && b.text.includes(`共${departments}个部门`))).toBe(true);
  });

  it('prints a short table whole, with its heading, and lets a long one run over pages', () => {
    const html = renderHtml(report);
    // The slowest and the fastest departments: one block each, not one row on one page and the rest on the next.
    const kept = [...html.matchAll(/<div class="keep"><h3>([^<]*)<\/h3><table>([\s\S]*?)<\/table>/g)];
    expect(kept.map((m) => m[1])).toEqual(expect.arrayContaining(['执行最慢的部门', '执行最快的部门']));
    for (const m of kept) expect((m[2]!.match(/<tr>/g) ?? []).length - 1, m[1]).toBeLessThanOrEqual(10);
    // The annex table of every department is free to break between rows.
    expect(html).toMatch(new RegExp(`(?<!<div class="keep">)<h3>各部门预算执行进度（全部${departments}个部门）</h3>`));
    expect(html).toContain('.keep { break-inside: avoid;');
  });

  it('keeps every section table within SECTION_ROWS rows', () => {
    for (const s of report.sections) {
      if (s.id === 'appendix' || s.id === 'annex') continue;
      // The by-rule table is bounded by the rule catalogue, not by the data.
      for (const b of s.blocks) if (b.kind === 'table' && b.queryId !== 'flags_by_rule') expect(b.rows.length, `${s.id}: ${b.title}`).toBeLessThanOrEqual(SECTION_ROWS);
    }
  });

  it('is headed by the region the data lies in, not "全部地区"', () => {
    expect(report.title).toBe('山东省2025年第四季度国库资金审查报告');
    expect(report.title).not.toContain('全部地区');
  });

  it('splits the headline money: funds involved apart from amounts above warning lines', () => {
    const h = report.headline;
    expect(BigInt(String(h.loop_money_funds).replace('.', '')) + BigInt(String(h.loop_money_over_lines).replace('.', ''))).toBe(
      BigInt(String(h.loop_money_involved).replace('.', '')),
    );
    expect(Number(h.loop_money_over_lines)).toBeGreaterThan(0); // the sample's debt ratio and SOE leverage flags
    const labels = report.sections.find((s) => s.id === 'flags')!.blocks.flatMap((b) => (b.kind === 'figures' ? b.items.map((i) => i.label) : []));
    expect(labels).toContain('涉及资金（万元）');
    expect(labels).toContain('超警戒线债务及负债（万元）');
    expect(labels.some((l) => l.startsWith('涉及金额'))).toBe(false);
  });

  it('lists the appendix one line a flag: rule name, unit, period, measure by kind, amount, status, short id', () => {
    const table = report.sections.find((s) => s.id === 'appendix')!.blocks.find((b) => b.kind === 'table');
    expect(table?.kind).toBe('table');
    if (table?.kind !== 'table') return;
    expect(table.columns.map((c) => c.key)).toEqual(['rule', 'unit', 'period', 'measure', 'amount', 'status_label', 'short_id']);
    // 153600000.00 / 150000000.00 yuan → in 万元, like the amount beside it.
    expect(table.rows.filter((r) => r.rule === '专项债用途不符').map((r) => r.measure)).toContain('15,360.00 / 15,000.00');
    expect(table.columns.find((c) => c.key === 'measure')?.label).toBe('指标/阈值（金额为万元）');
    expect(table.rows.filter((r) => r.rule === '债务率超警戒线').map((r) => r.measure)).toContain('135.00% / 100.00%');
    for (const r of table.rows) {
      expect(r.short_id).toBe(r.id!.slice(0, 10));
      expect(r.measure).not.toMatch(/\d{4,}\.\d{2}(?!\d)/);
      expect(r.status_label).not.toMatch(/^[a-z_]+$/);
    }
    expect(measureKind('debt_ratio_pct', '120.0000')).toBe('percent');
    expect(measureKind('mad', '0.0252')).toBe('ratio');
    expect(measureKind('documents', '3')).toBe('count');
  });

  it('writes only the formats asked for', async () => {
    const out = join(dir, 'json-only');
    const written = await writeQuarterlyReport(report, out, ['json']);
    expect(Object.keys(written.files)).toEqual(['json']);
    expect(readdirSync(out)).toEqual(['quarterly-2025-Q4-zh.json']);
    expect(JSON.parse(readFileSync(written.files.json!, 'utf8')).title).toBe(report.title);
    const md = await writeQuarterlyReport(report, join(dir, 'md-only'), ['md']);
    expect(readdirSync(join(dir, 'md-only'))).toEqual(['quarterly-2025-Q4-zh.md']);
    expect(existsSync(md.files.md!)).toBe(true);
  });
});
