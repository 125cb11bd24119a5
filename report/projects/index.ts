/**
 * The project report (民生实事项目报告): one year of livelihood projects for the congress —
 * money against plan, milestones, the problems deputies raised and how many were fixed,
 * the groups' grades and the deputies' satisfaction vote. Same shape, renderers (HTML,
 * Markdown, PDF through chromium) and query appendix as the quarterly report.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Store } from '../../engine/db.ts';
import { todayInShanghai } from '../../engine/dates.ts';
import { FiscusError } from '../../engine/errors.ts';
import { count, date, money, type Lang } from '../format.ts';
import type { Block, QuarterlyReport, Section } from '../model.ts';
import { renderHtml } from '../render-html.ts';
import { renderMarkdown } from '../render-markdown.ts';
import { findChromium, htmlToPdf } from '../render-pdf.ts';
import { TracedQueries } from '../traced-queries.ts';
import type { ReportFormat, WrittenReport } from '../quarterly/index.ts';
import { projectYear, type ProjectYear } from '../../projects/year.ts';
import { GRADE_EN, GRADES } from '../../projects/evaluation.ts';
import { STATUS_LABELS } from '../../tracker/index.ts';
import { shortFlagId } from '../../flags/short-id.ts';
import { S, type Key } from './strings.ts';
import { paren } from '../i18n.ts';

/** The renderers' report shape; `quarter` is 0 (a whole year), `headline` holds the totals. */
export type ProjectReport = QuarterlyReport & { kind: 'projects'; data: ProjectYear };

export interface ProjectReportOptions {
  year: number;
  /** Default: the year end, or today while the year runs. */
  asOf?: string;
  lang?: Lang;
  now?: Date;
}

const tr = (lang: Lang, k: Key, vars: Record<string, string | number> = {}): string =>
  S[k][lang].replace(/\{(\w+)\}/g, (_, n: string) => String(vars[n] ?? `{${n}}`));

const pctText = (p: string | null): string => (p === null ? '—' : `${p}%`);

export async function buildProjectReport(store: Store, opts: ProjectReportOptions): Promise<ProjectReport> {
  const lang = opts.lang ?? 'zh';
  const year = opts.year;
  if (!Number.isInteger(year) || year < 2000 || year > 2100) throw new FiscusError(`--year must be a year such as 2025 (got ${year})`, { code: 'BAD_INPUT', httpStatus: 400, exitCode: 2 });
  const now = opts.now ?? new Date();
  const today = todayInShanghai(now);
  const end = `${year}-12-31`;
  const asOf = opts.asOf ?? (today < end ? today : end);
  const q = new TracedQueries(store);
  // projects/ names its queries in both languages, "中文 / English": the annex lists them in the report's.
  const data = await projectYear(store, year, asOf, (id, title, sql, params) => {
    const [zh, en] = title.split(/\s*\/\s+/);
    return q.run(id, lang === 'en' && en ? en : zh!, sql, params);
  });
  const T = data.totals;
  const sections: Section[] = [];
  const missing = data.projects.length ? [] : ['projects.projects'];

  sections.push({
    id: 'overview', title: tr(lang, 'overview'), missing,
    blocks: data.projects.length ? [{
      kind: 'figures', items: [
        { label: tr(lang, 'projects'), text: count(T.projects), value: T.projects },
        { label: tr(lang, 'budget'), text: `${money(T.budget, 'wan')} ${tr(lang, 'wan')}`, value: T.budget, queryId: 'spending' },
        { label: tr(lang, 'spent'), text: `${money(T.spent, 'wan')} ${tr(lang, 'wan')}`, value: T.spent, queryId: 'spending' },
        { label: tr(lang, 'execution'), text: pctText(T.execution_pct), value: T.execution_pct, queryId: 'spending' },
        { label: tr(lang, 'problemsRaised'), text: count(T.problems_raised), value: T.problems_raised },
        { label: tr(lang, 'problemsFixed'), text: count(T.problems_fixed), value: T.problems_fixed },
        { label: tr(lang, 'problemsOverdue'), text: count(T.problems_overdue), value: T.problems_overdue },
        { label: tr(lang, 'satisfaction'), text: pctText(T.votes.satisfaction_pct), value: T.votes.satisfaction_pct, queryId: 'evaluation' },
      ],
    }, { kind: 'text', text: tr(lang, 'overviewText', { n: T.projects, year }) }] : [],
  });

  const moneyRows = data.projects.map((p) => ({
    project: `${p.project_name}${paren(lang, p.project_code)}`, agency: p.agency_name, budget: money(p.budget), spent: money(p.spent),
    payments: count(p.payments), execution: pctText(p.execution_pct), time: pctText(p.time_pct),
    progress: p.percent_complete === null ? '—' : `${p.percent_complete}%${paren(lang, date(p.progress_date, lang))}`,
  }));
  sections.push({
    id: 'money', title: tr(lang, 'moneyTitle'), missing,
    blocks: data.projects.length ? [
      { kind: 'note', text: tr(lang, 'moneyNote', { asOf: date(asOf, lang) }) },
      {
        kind: 'table', title: tr(lang, 'moneyTable'), queryId: 'spending',
        columns: [
          { key: 'project', label: tr(lang, 'project') }, { key: 'agency', label: tr(lang, 'agency') },
          { key: 'budget', label: tr(lang, 'budgetYuan'), align: 'right' }, { key: 'spent', label: tr(lang, 'spentYuan'), align: 'right' },
          { key: 'payments', label: tr(lang, 'payments'), align: 'right' }, { key: 'execution', label: tr(lang, 'execution'), align: 'right' },
          { key: 'time', label: tr(lang, 'time'), align: 'right' }, { key: 'progress', label: tr(lang, 'progress'), align: 'right' },
        ],
        rows: [...moneyRows, { project: tr(lang, 'total'), agency: '', budget: money(T.budget), spent: money(T.spent), payments: count(data.projects.reduce((a, p) => a + p.payments, 0)), execution: pctText(T.execution_pct), time: '', progress: '' }],
      },
    ] : [],
  });

  sections.push({
    id: 'milestones', title: tr(lang, 'milestonesTitle'), missing,
    blocks: data.projects.length ? [{
      kind: 'table', title: tr(lang, 'milestonesTable'), queryId: 'milestones',
      columns: [{ key: 'project', label: tr(lang, 'project') }, { key: 'total', label: tr(lang, 'msTotal'), align: 'right' }, { key: 'due', label: tr(lang, 'msDue'), align: 'right' }, { key: 'reported', label: tr(lang, 'msReported'), align: 'right' }],
      rows: [...data.projects.map((p) => ({ project: p.project_name, total: count(p.milestones_total), due: count(p.milestones_due), reported: count(p.milestones_reported) })),
        { project: tr(lang, 'total'), total: count(T.milestones_total), due: count(T.milestones_due), reported: count(T.milestones_reported) }],
    }] : [],
  });

  const problems = data.projects.flatMap((p) => p.problems.map((x) => ({ p, x })));
  const problemBlocks: Block[] = [{ kind: 'figures', items: [
    { label: tr(lang, 'problemsRaised'), text: count(T.problems_raised), value: T.problems_raised },
    { label: tr(lang, 'problemsFixed'), text: count(T.problems_fixed), value: T.problems_fixed },
    { label: tr(lang, 'problemsOverdue'), text: count(T.problems_overdue), value: T.problems_overdue },
  ] }];
  problemBlocks.push({
    kind: 'table', title: tr(lang, 'problemsTable'), empty: tr(lang, 'noProblems'),
    columns: [{ key: 'project', label: tr(lang, 'project') }, { key: 'source', label: tr(lang, 'source'), nowrap: true }, { key: 'title', label: tr(lang, 'problem') },
      { key: 'status', label: tr(lang, 'status'), nowrap: true }, { key: 'due', label: tr(lang, 'due'), nowrap: true }, { key: 'flag', label: 'ID', nowrap: true }],
    rows: problems.map(({ p, x }) => ({
      project: p.project_name, source: tr(lang, x.rule_id === 'deputy.checklist' ? 'checklist' : 'deputyReport'), title: lang === 'en' && x.title_en ? x.title_en : x.title,
      status: `${STATUS_LABELS[x.status as keyof typeof STATUS_LABELS]?.[lang] ?? x.status}${x.overdue ? `${paren(lang, tr(lang, 'overdue'))}` : ''}`,
      due: date(x.due_date, lang), flag: shortFlagId(x.flag_id),
    })),
  });
  sections.push({ id: 'problems', title: tr(lang, 'problemsTitle'), missing, blocks: data.projects.length ? problemBlocks : [] });

  const gradeName = (g: string): string => (lang === 'zh' ? g : GRADE_EN[g as keyof typeof GRADE_EN] ?? g);
  sections.push({
    id: 'evaluation', title: tr(lang, 'evaluationTitle'), missing,
    blocks: data.projects.length ? [
      { kind: 'figures', items: [
        ...GRADES.map((g) => ({ label: `${tr(lang, 'grade')}「${gradeName(g)}」`, text: count(T.grades[g]), value: T.grades[g], queryId: 'evaluation' })),
        { label: tr(lang, 'ballots'), text: count(T.votes.ballots), value: T.votes.ballots, queryId: 'evaluation' },
        { label: tr(lang, 'satisfaction'), text: pctText(T.votes.satisfaction_pct), value: T.votes.satisfaction_pct, queryId: 'evaluation' },
      ] },
      {
        kind: 'table', title: tr(lang, 'evaluationTable'), queryId: 'evaluation',
        columns: [{ key: 'project', label: tr(lang, 'project') }, { key: 'grades', label: tr(lang, 'grade') }, { key: 'satisfied', label: tr(lang, 'satisfied'), align: 'right' },
          { key: 'basic', label: tr(lang, 'basic'), align: 'right' }, { key: 'unsatisfied', label: tr(lang, 'unsatisfied'), align: 'right' }, { key: 'rate', label: tr(lang, 'satisfaction'), align: 'right' }],
        rows: data.projects.map((p) => ({
          project: p.project_name, grades: p.grades.length ? p.grades.map((g) => gradeName(g.grade)).join('、') : '—',
          satisfied: p.vote ? count(p.vote.satisfied) : '—', basic: p.vote ? count(p.vote.basic) : '—', unsatisfied: p.vote ? count(p.vote.unsatisfied) : '—',
          rate: p.vote ? pctText(p.vote.satisfaction_pct) : '—',
        })),
      },
      { kind: 'note', text: tr(lang, 'satisfactionNote') },
    ] : [],
  });

  return {
    kind: 'projects', data,
    lang, year, quarter: 0,
    title: tr(lang, 'title', { year }),
    subtitle: tr(lang, 'subtitle'),
    region: { code: null, name: '' },
    period: { start: `${year}-01-01`, end },
    asOf,
    generatedAt: now.toISOString(),
    sections,
    headline: {
      projects: T.projects, budget: T.budget, spent: T.spent, execution_pct: T.execution_pct,
      milestones_due: T.milestones_due, milestones_reported: T.milestones_reported,
      problems_raised: T.problems_raised, problems_fixed: T.problems_fixed, problems_overdue: T.problems_overdue,
      ...Object.fromEntries(GRADES.map((g) => [`grade_${g}`, T.grades[g]])),
      ballots: T.votes.ballots, satisfaction_pct: T.votes.satisfaction_pct,
    },
    queries: q.records,
  };
}

export function renderProjectMarkdown(r: ProjectReport): string {
  return renderMarkdown(r);
}

export async function writeProjectReport(report: ProjectReport, outDir: string, formats: ReportFormat[]): Promise<WrittenReport> {
  mkdirSync(outDir, { recursive: true });
  const base = join(resolve(outDir), `projects-${report.year}-${report.lang}`);
  const files: WrittenReport['files'] = {};
  const skipped: WrittenReport['skipped'] = {};
  const html = `${base}.html`;
  const wantsHtml = formats.includes('html');
  if (wantsHtml || formats.includes('pdf')) writeFileSync(html, renderHtml(report));
  if (wantsHtml) files.html = html;
  if (formats.includes('md')) writeFileSync((files.md = `${base}.md`), renderMarkdown(report));
  if (formats.includes('json')) {
    const { sections: _s, ...rest } = report;
    writeFileSync((files.json = `${base}.json`), `${JSON.stringify(rest, null, 2)}\n`);
  }
  if (formats.includes('pdf')) {
    const chromium = findChromium();
    if (!chromium) {
      skipped.pdf = 'chromium not found (apt-get install -y chromium fonts-noto-cjk, or set FISCUS_CHROMIUM); the HTML was written';
      files.html = html;
    } else {
      await htmlToPdf(html, (files.pdf = `${base}.pdf`), chromium);
      if (!wantsHtml) rmSync(html, { force: true });
    }
  }
  return { files, skipped };
}
