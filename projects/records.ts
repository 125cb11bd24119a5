/**
 * A voted project in the flag event log. Each project of a year gets one flag-shaped
 * record (rule_id `project.record`, entity `project`, key `YEAR|CODE`) so that its
 * steps — the congress vote, the department's progress reports, the groups' grades and
 * the deputies' satisfaction vote — are events of the same keyed, hash-chained log as
 * everything else, and reach the portal through the alert feed like any flag event.
 * The record never changes state (its events carry no to_status), so `verify-log`'s
 * state check holds; deputy problems are separate flags (projects/problems.ts).
 */
import { createHash } from 'node:crypto';
import type { Store } from '../engine/db.ts';
import { appendFlagEvents, type NewFlagEvent } from '../engine/flag-events.ts';
import { FiscusError } from '../engine/errors.ts';

export const RECORD_RULE = 'project.record';
export const PROBLEM_RULE = 'deputy.report';
export const CHECKLIST_RULE = 'deputy.checklist';
export const PROBLEM_RULES = [PROBLEM_RULE, CHECKLIST_RULE] as const;

/** Names of the flag sources that are not pack rules, for reports and lists. */
export const SOURCE_NAMES: Record<string, { zh: string; en: string }> = {
  [PROBLEM_RULE]: { zh: '代表反映问题（民生实事）', en: 'Problem reported by a deputy (livelihood project)' },
  [CHECKLIST_RULE]: { zh: '督查督办清单（民生实事）', en: 'Inspection checklist item (livelihood project)' },
  [RECORD_RULE]: { zh: '民生实事项目', en: 'Livelihood project' },
};

export type ProjectRow = {
  project_code: string;
  fiscal_year: number;
  project_name: string;
  region_code: string;
  agency_code: string;
  budget: string;
  targets: string;
  vote_date: string;
  vote_result: string;
  votes_for: string;
  votes_against: string;
  votes_abstain: string;
};

export function projectKey(year: number, code: string): string {
  return `${year}|${code}`;
}

export function recordFlagId(year: number, code: string): string {
  return createHash('sha256').update(`${RECORD_RULE}\u0000project\u0000${projectKey(year, code)}`).digest('hex').slice(0, 32);
}

export function notFound(message: string): FiscusError {
  return new FiscusError(message, { code: 'NOT_FOUND', httpStatus: 404 });
}

export function badRequest(message: string): FiscusError {
  return new FiscusError(message, { code: 'BAD_INPUT', httpStatus: 400, exitCode: 2 });
}

export function conflict(message: string): FiscusError {
  return new FiscusError(message, { code: 'CONFLICT', httpStatus: 409 });
}

const PROJECT_COLS = `project_code, fiscal_year, project_name, region_code, agency_code, CAST(budget AS VARCHAR) AS budget, targets,
  CAST(vote_date AS VARCHAR) AS vote_date, vote_result, votes_for, votes_against, votes_abstain`;

export async function loadProjects(store: Store, year: number): Promise<ProjectRow[]> {
  const rows = await store.all<ProjectRow>(`SELECT ${PROJECT_COLS} FROM projects.projects WHERE fiscal_year = $y ORDER BY project_code`, { y: year });
  return rows.map((r) => ({ ...r, fiscal_year: Number(r.fiscal_year) }));
}

export async function loadProject(store: Store, year: number, code: string): Promise<ProjectRow> {
  const r = await store.one<ProjectRow>(`SELECT ${PROJECT_COLS} FROM projects.projects WHERE fiscal_year = $y AND project_code = $c`, { y: year, c: code });
  if (!r) throw notFound(`${year}年没有民生实事项目 ${code} / no livelihood project ${code} in ${year} (projects.projects)`);
  return { ...r, fiscal_year: Number(r.fiscal_year) };
}

export interface SyncResult {
  year: number;
  records_created: number;
  progress_logged: number;
}

/**
 * Create the record of every project of the year that has none (with a
 * `project.voted` event carrying the vote), and log every progress report not yet
 * logged (`project.progress_reported`, once per report_id). Idempotent.
 */
export async function syncProjects(store: Store, year: number, opts: { at?: Date; actor?: string } = {}): Promise<SyncResult> {
  const at = opts.at ?? new Date();
  const actor = opts.actor ?? 'fiscus';
  return store.exclusive(() => store.transaction(async () => {
    const projects = await loadProjects(store, year);
    const existing = new Set((await store.all<{ flag_id: string }>('SELECT flag_id FROM fiscus.flags WHERE rule_id = $r AND fiscal_year = $y', { r: RECORD_RULE, y: year })).map((r) => r.flag_id));
    const events: NewFlagEvent[] = [];
    let created = 0;
    for (const p of projects) {
      const id = recordFlagId(year, p.project_code);
      if (existing.has(id)) continue;
      await insertRecord(store, id, p, at);
      created++;
      events.push(
        { flag_id: id, event_type: 'flag.discovered', from_status: null, to_status: 'discovered', actor, role: 'system', at, data: { source: 'projects', project_code: p.project_code, fiscal_year: year } },
        {
          flag_id: id, event_type: 'project.voted', actor, role: 'system', at,
          note: `人代会票决：${p.vote_result === 'passed' ? '通过' : '未通过'}（赞成${p.votes_for}、反对${p.votes_against}、弃权${p.votes_abstain}）`,
          data: { vote_date: p.vote_date, vote_result: p.vote_result, votes_for: Number(p.votes_for), votes_against: Number(p.votes_against), votes_abstain: Number(p.votes_abstain), budget: p.budget, targets: p.targets },
        },
      );
    }
    const logged = new Set((await store.all<{ rid: string }>(
      `SELECT ${store.dialect.jsonText('e.data', 'report_id')} AS rid FROM fiscus.flag_events e
       WHERE e.event_type = 'project.progress_reported' AND e.flag_id IN (SELECT flag_id FROM fiscus.flags WHERE rule_id = $r AND fiscal_year = $y)`,
      { r: RECORD_RULE, y: year })).map((r) => r.rid));
    const reports = await store.all<{ report_id: string; project_code: string; report_date: string; percent_complete: string; text: string; documents: string | null }>(
      `SELECT g.report_id, g.project_code, CAST(g.report_date AS VARCHAR) AS report_date, CAST(g.percent_complete AS VARCHAR) AS percent_complete, g.text, g.documents
       FROM projects.progress g JOIN projects.projects p ON p.project_code = g.project_code AND p.fiscal_year = g.fiscal_year
       WHERE g.fiscal_year = $y ORDER BY g.report_date, g.report_id`, { y: year });
    let progress = 0;
    for (const g of reports) {
      if (logged.has(g.report_id)) continue;
      progress++;
      events.push({
        flag_id: recordFlagId(year, g.project_code), event_type: 'project.progress_reported', actor, role: 'system', at,
        note: g.text,
        data: { report_id: g.report_id, report_date: g.report_date, percent_complete: g.percent_complete, documents: parseDocuments(g.documents) },
      });
    }
    await appendFlagEvents(store, events);
    return { year, records_created: created, progress_logged: progress };
  }));
}

/** `name:sha256;name:sha256` (projects.progress.documents) → [{name, sha256}]. */
export function parseDocuments(s: string | null): Array<{ name: string; sha256: string }> {
  if (!s) return [];
  return s.split(';').map((x) => x.trim()).filter(Boolean).map((x) => {
    const i = x.lastIndexOf(':');
    return { name: i > 0 ? x.slice(0, i) : x, sha256: i > 0 ? x.slice(i + 1).toLowerCase() : '' };
  });
}

async function insertRecord(store: Store, id: string, p: ProjectRow, at: Date): Promise<void> {
  const key = projectKey(p.fiscal_year, p.project_code);
  await store.run(
    `INSERT INTO fiscus.flags (flag_id, rule_id, rule_version, severity, title, title_en, entity_type, entity_id, entity_name,
       region_code, agency_code, fiscal_year, period_start, period_end, measure_name, measure_value, measure_threshold, amount,
       evidence, evidence_query, status, reproduced, first_seen_at, last_seen_at)
     VALUES ($id, $rule, 1, 'low', $title, $title_en, 'project', $key, $name, $region, $agency, $year,
       CAST($start AS DATE), CAST($end AS DATE), 'budget', $budget, NULL, CAST($budget AS DECIMAL(18,2)),
       CAST($evidence AS JSON), NULL, 'discovered', true, CAST($at AS TIMESTAMPTZ), CAST($at AS TIMESTAMPTZ))`,
    {
      id, rule: RECORD_RULE, title: `民生实事项目：${p.project_name}（${p.fiscal_year}年）`, title_en: `Livelihood project ${p.project_code} (${p.fiscal_year})`,
      key, name: p.project_name, region: p.region_code, agency: p.agency_code, year: p.fiscal_year,
      start: `${p.fiscal_year}-01-01`, end: `${p.fiscal_year}-12-31`, budget: p.budget,
      evidence: JSON.stringify([{ table: 'projects.projects', key }]), at: at.toISOString(),
    },
  );
}

/** The record of a project, created (with the year's other records) if missing. */
export async function ensureRecord(store: Store, year: number, code: string, at?: Date): Promise<string> {
  await loadProject(store, year, code);
  const id = recordFlagId(year, code);
  const r = await store.one('SELECT 1 AS ok FROM fiscus.flags WHERE flag_id = $id', { id });
  if (!r) await syncProjects(store, year, { at });
  return id;
}
