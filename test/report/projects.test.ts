/**
 * The project report on the bundled sample: its sections, figures and tables against
 * hand-counted numbers, zh and en, HTML self-contained, Markdown twin, a PDF with CJK text,
 * and a year without projects.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../../engine/db.ts';
import { ingestPath } from '../../ingest/index.ts';
import { gradeProject, handOverProblem, reportProblem, syncProjects, voteSatisfaction } from '../../projects/index.ts';
import { buildProjectReport, writeProjectReport, type ProjectReport } from '../../report/projects/index.ts';
import { findChromium } from '../../report/render-pdf.ts';
import { buildQuarterlyReport } from '../../report/quarterly/index.ts';
import { performAction } from '../../tracker/index.ts';
import { testDbLocation } from '../helpers/postgres.ts';
import { dataValues, fullWidthOutsideData } from './full-width.ts';
import { P1, P2, TOTAL_BUDGET, TOTAL_SPENT } from '../projects/scenario.ts';

const SAMPLE = join(import.meta.dirname, '..', '..', 'fixtures', 'sample');
const at = (d: string) => new Date(`${d}T02:00:00Z`);
const sup = { name: '预算工委', role: 'supervisor' as const };
let dir: string;
let store: Store;
let zh: ProjectReport;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'fiscus-report-projects-'));
  store = await openStore(testDbLocation(join(dir, 'db.duckdb'))); // PostgreSQL with FISCUS_TEST_ENGINE=postgres
  await ingestPath(store, SAMPLE);
  await syncProjects(store, 2025, { at: at('2025-01-15') });
  const p1 = await reportProblem(store, 2025, P1.code, { deputy_id: P1.deputy, text: P1.text }, sup, { at: at('2025-05-20') });
  await handOverProblem(store, p1.flag_id, { workdays: 10 }, sup, { at: at('2025-05-20') });
  const unit = { name: 'u', role: 'agency' as const, agencyCode: P1.agency };
  await performAction(store, p1.flag_id, { action: 'start-rectification', category: 'immediate' }, unit, { at: at('2025-05-26') });
  await performAction(store, p1.flag_id, { action: 'report-rectified', note: '已整改' }, unit, { at: at('2025-05-30') });
  const p2 = await reportProblem(store, 2025, P2.code, { deputy_id: P2.deputy, text: P2.text }, sup, { at: at('2025-09-10') });
  await handOverProblem(store, p2.flag_id, { workdays: 5 }, sup, { at: at('2025-09-10') });
  // Three groups grade, two projects are voted on
  await gradeProject(store, 2025, P1.code, { group_id: 'G2025-03', grade: '一般' }, sup, { at: at('2025-12-26') });
  await gradeProject(store, 2025, P2.code, { group_id: 'G2025-05', grade: '较好' }, sup, { at: at('2025-12-26') });
  await gradeProject(store, 2025, 'XM2025-A0103-01', { group_id: 'G2025-01', grade: '好' }, sup, { at: at('2025-12-26') });
  await voteSatisfaction(store, 2025, P1.code, { satisfied: 150, basic: 100, unsatisfied: 62 }, sup, { at: at('2025-12-29') });
  await voteSatisfaction(store, 2025, P2.code, { satisfied: 200, basic: 80, unsatisfied: 32 }, sup, { at: at('2025-12-29') });
  zh = await buildProjectReport(store, { year: 2025, asOf: '2025-12-31', now: at('2026-01-05') });
}, 120_000);
afterAll(async () => {
  await store?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('project report', () => {
  it('has the hand-counted headline figures', () => {
    expect(zh.title).toBe('2025年度民生实事项目实施情况报告');
    expect(zh.sections.map((s) => s.id)).toEqual(['overview', 'money', 'milestones', 'problems', 'evaluation']);
    // 2 problems: P1 rectified (fixed), P2 due 2025-09-17 and unanswered (overdue on 2025-12-31);
    // grades 好 1, 较好 1, 一般 1; ballots 312 + 312; (150 + 100 + 200 + 80) / 624 = 84.935… %
    expect(zh.headline).toEqual({
      projects: 10, budget: TOTAL_BUDGET, spent: TOTAL_SPENT, execution_pct: '93.92', milestones_due: 20, milestones_reported: 20,
      problems_raised: 2, problems_fixed: 1, problems_overdue: 1, grade_好: 1, grade_较好: 1, grade_一般: 1, grade_差: 0,
      ballots: 624, satisfaction_pct: '84.94',
    });
  });

  it('tables: money per project with a total, problems with their state, the evaluation', () => {
    const money = zh.sections.find((s) => s.id === 'money')!.blocks.find((b) => b.kind === 'table')!;
    if (money.kind !== 'table') throw new Error('no table');
    expect(money.rows).toHaveLength(11);
    expect(money.rows[2]).toMatchObject({ project: `老旧小区改造（${P1.code}）`, agency: '济宁市住房和城乡建设局', budget: '3,000,000.00', spent: '2,760,000.00', payments: '26', execution: '92.00%', time: '100.00%', progress: '85%（2025年12月20日）' });
    expect(money.rows[10]).toMatchObject({ project: '合计', budget: '53,200,000.00', spent: '49,964,472.59', payments: '256', execution: '93.92%' });
    const problems = zh.sections.find((s) => s.id === 'problems')!.blocks.find((b) => b.kind === 'table')!;
    if (problems.kind !== 'table') throw new Error('no table');
    expect(problems.rows.map((r) => [r.project, r.source, r.status, r.due])).toEqual([
      ['老旧小区改造', '代表现场反映', '已整改(待验收)', '2025年6月4日'],
      ['城区公厕改造提升', '代表现场反映', '已交办（逾期）', '2025年9月17日'],
    ]);
    const ev = zh.sections.find((s) => s.id === 'evaluation')!.blocks.find((b) => b.kind === 'table')!;
    if (ev.kind !== 'table') throw new Error('no table');
    expect(ev.rows.find((r) => r.project === '老旧小区改造')).toEqual({ project: '老旧小区改造', grades: '一般', satisfied: '150', basic: '100', unsatisfied: '62', rate: '80.13%' });
    expect(ev.rows.find((r) => r.project === '高标准农田建设')).toMatchObject({ grades: '—', rate: '—' });
  });

  it('lists the SQL of its figures', () => {
    expect(zh.queries.map((q) => q.id)).toEqual(['spending', 'progress', 'agencies', 'milestones', 'evaluation']);
    expect(zh.queries[0]!.sql).toContain('FROM treasury.payments');
    expect(zh.queries[0]!.params).toEqual({ year: '2025', as_of: '2025-12-31' });
  });

  it('in English', async () => {
    const en = await buildProjectReport(store, { year: 2025, asOf: '2025-12-31', lang: 'en' });
    expect(en.title).toBe('Livelihood projects 2025: implementation report');
    // Its own words use ASCII punctuation; only names and text stored in the data (the deputies' problems) keep full-width marks.
    expect(fullWidthOutsideData(en, await dataValues(store))).toEqual([]);
    expect(en.queries.map((q) => q.title)).toContain('project spending from treasury.payments');
    expect(en.headline).toEqual(zh.headline);
    const ev = en.sections.find((s) => s.id === 'evaluation')!.blocks.find((b) => b.kind === 'table')!;
    expect(ev.kind === 'table' && ev.rows.find((r) => r.grades === 'fair')).toBeTruthy();
  });

  it('writes self-contained HTML and a Markdown twin', async () => {
    const w = await writeProjectReport(zh, join(dir, 'out'), ['html', 'md']);
    const html = readFileSync(w.files.html!, 'utf8');
    expect(html).not.toMatch(/<(script|link|img)[^>]+(src|href)="https?:/);
    expect(html).toContain('二、资金使用与进度');
    const md = readFileSync(w.files.md!, 'utf8');
    for (const s of zh.sections) expect(md).toContain(`## ${s.title}`);
    expect(md).toContain('| 合计 |  | 53,200,000.00 | 49,964,472.59 | 256 | 93.92% |');
  });

  it('prints a PDF whose pages carry CJK text', async (ctx) => {
    if (!findChromium()) ctx.skip();
    const w = await writeProjectReport(zh, join(dir, 'pdf'), ['pdf']);
    expect(existsSync(w.files.pdf!)).toBe(true);
    expect(existsSync(join(dir, 'pdf', 'projects-2025-zh.html'))).toBe(false);
    const text = execFileSync('pdftotext', ['-f', '1', '-l', '1', w.files.pdf!, '-'], { encoding: 'utf8' });
    expect(text).toContain('民生实事项目实施情况报告');
  });

  it('a year without projects says so; the as-of day defaults to the year end or today', async () => {
    const none = await buildProjectReport(store, { year: 2024, now: at('2026-01-05') });
    expect(none.asOf).toBe('2024-12-31');
    expect(none.sections.every((s) => s.blocks.length === 0 && s.missing.includes('projects.projects'))).toBe(true);
    const running = await buildProjectReport(store, { year: 2025, now: at('2025-08-01') });
    expect(running.asOf).toBe('2025-08-01');
    await expect(buildProjectReport(store, { year: 25 })).rejects.toThrow(/--year/);
  });

  it('the quarterly report counts the deputies\' problems as warnings, not the project records', async () => {
    const q4 = await buildQuarterlyReport(store, { year: 2025, quarter: 4, region: null, lang: 'zh', asOf: '2025-12-31' });
    // P1 (2025-05-20) and P2 (2025-09-10) are 2025 findings; the ten project records are not
    expect(q4.headline.flags_ytd).toBe(2);
    const flags = q4.sections.find((s) => s.id === 'flags')!;
    const rows = flags.blocks.flatMap((b) => (b.kind === 'table' ? b.rows.map((r) => JSON.stringify(r)) : []));
    expect(rows.some((r) => r.includes('project.record'))).toBe(false);
    expect(rows.some((r) => r.includes('代表反映问题（民生实事）'))).toBe(true);
  });
});
