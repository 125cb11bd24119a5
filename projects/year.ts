/**
 * One year of livelihood projects as the congress hears it: each project's money
 * against plan, its milestones, the problems deputies raised and how many were fixed,
 * the groups' grades and the satisfaction vote. The project report (report/projects/)
 * and GET /v1/projects read this; every figure is recomputable from the feeds, the
 * flags and the event log (the tests hand-count them on the bundled sample).
 */
import type { Store } from '../engine/db.ts';
import { listTracked } from '../tracker/index.ts';
import { fen, percentOf, plainRunner, projectMoney, yuan, type ProjectMoney, type Runner } from './money.ts';
import { GRADES, type GRADE_EN } from './evaluation.ts';
import { PROBLEM_RULES, RECORD_RULE, loadProjects } from './records.ts';

export type Grade = keyof typeof GRADE_EN;

export interface ProjectProblem {
  flag_id: string;
  rule_id: string;
  title: string;
  /** The English title, for the English report. */
  title_en: string;
  status: string;
  due_date: string | null;
  overdue: boolean;
  fixed: boolean;
}

export interface ProjectVote { satisfied: number; basic: number; unsatisfied: number; ballots: number; satisfaction_pct: string | null }

export interface ProjectYearRow extends ProjectMoney {
  agency_name: string;
  targets: string;
  vote_result: string;
  votes_for: number;
  votes_against: number;
  votes_abstain: number;
  milestones_total: number;
  /** Milestones whose planned date is on or before the as-of day. */
  milestones_due: number;
  /** Of those, milestones followed by a progress report dated on or after the planned date. */
  milestones_reported: number;
  problems: ProjectProblem[];
  problems_raised: number;
  problems_fixed: number;
  problems_overdue: number;
  grades: Array<{ group_id: string; grade: Grade }>;
  vote: ProjectVote | null;
}

export interface ProjectYear {
  year: number;
  as_of: string;
  projects: ProjectYearRow[];
  totals: {
    projects: number;
    budget: string;
    spent: string;
    execution_pct: string | null;
    milestones_total: number;
    milestones_due: number;
    milestones_reported: number;
    problems_raised: number;
    problems_fixed: number;
    problems_overdue: number;
    grades: Record<Grade, number>;
    graded_projects: number;
    votes: { satisfied: number; basic: number; unsatisfied: number; ballots: number; satisfaction_pct: string | null };
  };
}

/** Fixed: the department reported it rectified (待验收) or the committee verified it (an accepted explanation is closed, not fixed). */
const FIXED = new Set(['rectified', 'verified']);

export async function projectYear(store: Store, year: number, asOf: string, run: Runner = plainRunner(store)): Promise<ProjectYear> {
  const params = { year: String(year), as_of: asOf };
  const projects = await loadProjects(store, year);
  const money = new Map((await projectMoney(store, year, asOf, run)).map((m) => [m.project_code, m]));
  const agencies = new Map((await run<{ agency_code: string; agency_name: string }>('agencies', '承办单位 / responsible agencies',
    'SELECT agency_code, agency_name FROM ref.agencies ORDER BY agency_code', {})).map((a) => [a.agency_code, a.agency_name]));
  const ms = await run<{ project_code: string; total: number | string; due: number | string; reported: number | string }>(
    'milestones', '项目节点及其后的进展报告 / milestones and the progress reports after them',
    `SELECT m.project_code, count(*) AS total,
       count(*) FILTER (WHERE m.planned_date <= CAST($as_of AS DATE)) AS due,
       count(*) FILTER (WHERE m.planned_date <= CAST($as_of AS DATE) AND EXISTS (
         SELECT 1 FROM projects.progress g WHERE g.project_code = m.project_code AND g.fiscal_year = m.fiscal_year
           AND g.report_date >= m.planned_date AND g.report_date <= CAST($as_of AS DATE))) AS reported
     FROM projects.milestones m WHERE m.fiscal_year = CAST($year AS INTEGER) GROUP BY m.project_code ORDER BY m.project_code`, params);
  const msBy = new Map(ms.map((m) => [m.project_code, m]));
  const problems = await listTracked(store, { rule: [...PROBLEM_RULES], fiscal_year: year, today: asOf });
  const evRows = await run<{ entity_id: string; event_type: string; data: string }>('evaluation', '年终评价与满意度测评事件 / year-end grade and vote events',
    `SELECT f.entity_id, e.event_type, CAST(e.data AS VARCHAR) AS data FROM fiscus.flag_events e JOIN fiscus.flags f ON f.flag_id = e.flag_id
     WHERE f.rule_id = '${RECORD_RULE}' AND f.fiscal_year = CAST($year AS INTEGER) AND e.event_type IN ('project.graded', 'project.satisfaction_voted')
     ORDER BY e.seq`, params);
  const grades = new Map<string, Array<{ group_id: string; grade: Grade }>>();
  const votes = new Map<string, ProjectVote>();
  for (const e of evRows) {
    const code = e.entity_id.slice(e.entity_id.indexOf('|') + 1);
    const d = JSON.parse(e.data) as Record<string, unknown>;
    if (e.event_type === 'project.graded') {
      grades.set(code, [...(grades.get(code) ?? []), { group_id: String(d.group_id), grade: d.grade as Grade }]);
    } else {
      const [s, b, u] = [Number(d.satisfied), Number(d.basic), Number(d.unsatisfied)];
      votes.set(code, { satisfied: s, basic: b, unsatisfied: u, ballots: s + b + u, satisfaction_pct: percentOf(BigInt(s + b), BigInt(s + b + u)) });
    }
  }
  const rows: ProjectYearRow[] = projects.map((p) => {
    const m = money.get(p.project_code)!;
    const mine = problems.filter((f) => f.entity.type === 'project' && f.entity.id === `${year}|${p.project_code}`);
    const probs: ProjectProblem[] = mine.map((f) => ({
      flag_id: f.flag_id, rule_id: f.rule_id, title: f.title, title_en: f.title_en, status: f.status, due_date: f.due_date ?? null,
      overdue: f.overdue, fixed: FIXED.has(f.status),
    }));
    const mm = msBy.get(p.project_code);
    return {
      ...m,
      agency_name: agencies.get(p.agency_code) ?? p.agency_code,
      targets: p.targets,
      vote_result: p.vote_result,
      votes_for: Number(p.votes_for), votes_against: Number(p.votes_against), votes_abstain: Number(p.votes_abstain),
      milestones_total: Number(mm?.total ?? 0), milestones_due: Number(mm?.due ?? 0), milestones_reported: Number(mm?.reported ?? 0),
      problems: probs,
      problems_raised: probs.length,
      problems_fixed: probs.filter((x) => x.fixed).length,
      problems_overdue: probs.filter((x) => x.overdue).length,
      grades: grades.get(p.project_code) ?? [],
      vote: votes.get(p.project_code) ?? null,
    };
  });
  const sum = (f: (r: ProjectYearRow) => number): number => rows.reduce((a, r) => a + f(r), 0);
  const budget = rows.reduce((a, r) => a + fen(r.budget), 0n);
  const spent = rows.reduce((a, r) => a + fen(r.spent), 0n);
  const gradeCount = Object.fromEntries(GRADES.map((g) => [g, rows.reduce((a, r) => a + r.grades.filter((x) => x.grade === g).length, 0)])) as Record<Grade, number>;
  const vs = sum((r) => r.vote?.satisfied ?? 0), vb = sum((r) => r.vote?.basic ?? 0), vu = sum((r) => r.vote?.unsatisfied ?? 0);
  return {
    year,
    as_of: asOf,
    projects: rows,
    totals: {
      projects: rows.length,
      budget: yuan(budget),
      spent: yuan(spent),
      execution_pct: percentOf(spent, budget),
      milestones_total: sum((r) => r.milestones_total),
      milestones_due: sum((r) => r.milestones_due),
      milestones_reported: sum((r) => r.milestones_reported),
      problems_raised: sum((r) => r.problems_raised),
      problems_fixed: sum((r) => r.problems_fixed),
      problems_overdue: sum((r) => r.problems_overdue),
      grades: gradeCount,
      graded_projects: rows.filter((r) => r.grades.length > 0).length,
      votes: { satisfied: vs, basic: vb, unsatisfied: vu, ballots: vs + vb + vu, satisfaction_pct: percentOf(BigInt(vs + vb), BigInt(vs + vb + vu)) },
    },
  };
}
