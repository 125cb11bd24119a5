/**
 * A year of the sample's ten livelihood projects through the library, on a simulated clock:
 * vote and progress into the log, two deputy problems (one fixed, one overdue), a mid-year
 * checklist, the year-end grades and vote; every figure of the year view hand-counted, the
 * spending equal to a direct SQL sum over treasury.payments, every step in the keyed log.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../../engine/db.ts';
import { readFlagEvents } from '../../engine/flag-events.ts';
import { ingestPath } from '../../ingest/index.ts';
import {
  gradeProject, handOverProblem, issueChecklist, projectYear, recordFlagId, reportProblem, syncProjects, voteSatisfaction, SPENDING_SQL,
} from '../../projects/index.ts';
import { flagHistory, performAction, scanDeadlines, verifyLog } from '../../tracker/index.ts';
import { testDbLocation } from '../helpers/postgres.ts';
import { CHECKLIST, GRADES, GROUP, P1, P2, PROJECTS, TOTAL_BUDGET, TOTAL_EXECUTION, TOTAL_SPENT, VOTES, VOTE_TOTALS, YEAR } from './scenario.ts';

const SAMPLE = join(import.meta.dirname, '..', '..', 'fixtures', 'sample');
const at = (d: string) => new Date(`${d}T02:00:00Z`); // 10:00 in Shanghai
const committee = { name: '预算工委', role: 'supervisor' as const };
const unit = (code: string) => ({ name: `unit-${code}`, role: 'agency' as const, agencyCode: code });

let dir: string;
let store: Store;
const ids: { p1: string; p2: string; c1: string; c2: string } = { p1: '', p2: '', c1: '', c2: '' };

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'fiscus-projects-'));
  // A DuckDB file, or a fresh PostgreSQL database with FISCUS_TEST_ENGINE=postgres.
  store = await openStore(testDbLocation(join(dir, 'db.duckdb')));
  const reports = await ingestPath(store, SAMPLE);
  for (const r of reports.filter((x) => x.table.startsWith('projects.'))) expect([r.table, r.status, r.rejected]).toEqual([r.table, 'committed', 0]);
}, 120_000);
afterAll(async () => {
  await store?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('a year of livelihood projects (library)', () => {
  it('logs the vote and the progress reports once', async () => {
    expect(await syncProjects(store, YEAR, { at: at('2025-01-15') })).toEqual({ year: YEAR, records_created: 10, progress_logged: 30 });
    expect(await syncProjects(store, YEAR, { at: at('2025-01-16') })).toEqual({ year: YEAR, records_created: 0, progress_logged: 0 });
  });

  it('a deputy problem fixed within its deadline', async () => {
    const photo = Buffer.from('photo bytes of the blocked fire lane');
    const sha = createHash('sha256').update(photo).digest('hex');
    const r = await reportProblem(store, YEAR, P1.code, {
      deputy_id: P1.deputy, text: P1.text, photos: [{ name: 'fire-lane.jpg', sha256: sha, bytes: photo.length }], location: { address: P1.address, lat: 35.41, lng: 116.59 },
    }, committee, { at: at('2025-05-20') });
    ids.p1 = r.flag_id;
    expect(r.deputy).toEqual({ deputy_id: 'D007', deputy_name: '赵磊', group_id: 'G2025-03' });
    const [, assigned] = await handOverProblem(store, r.flag_id, { workdays: 10 }, committee, { at: at('2025-05-20') });
    // 10 working days after Tue 2025-05-20, skipping the Dragon Boat holiday (May 31 – Jun 2): Jun 4
    expect([assigned!.flag.status, assigned!.flag.due_date, assigned!.flag.assigned_to]).toEqual(['assigned', '2025-06-04', P1.agency]);
    await performAction(store, r.flag_id, { action: 'start-rectification', category: 'immediate' }, unit(P1.agency), { at: at('2025-05-26') });
    await performAction(store, r.flag_id, { action: 'report-rectified', note: '围挡已移位，消防通道恢复畅通', documents: [{ name: 'after.jpg', sha256: sha }] }, unit(P1.agency), { at: at('2025-05-30') });
    const v = await performAction(store, r.flag_id, { action: 'verify', note: '代表现场复核' }, committee, { at: at('2025-06-10') });
    expect(v.flag.status).toBe('verified');
    const h = await flagHistory(store, r.flag_id, { today: '2025-06-10' });
    expect(h.events.map((e) => e.type)).toEqual(['flag.discovered', 'flag.confirmed', 'flag.assigned', 'flag.rectification_started', 'flag.rectified', 'flag.verified']);
    const discovered = h.events[0]!.data as Record<string, unknown>;
    expect(discovered).toMatchObject({ source: 'deputy', deputy_id: 'D007', group_id: 'G2025-03', photos: [{ name: 'fire-lane.jpg', sha256: sha }], location: { address: P1.address } });
    expect(h.flag.rule_id).toBe('deputy.report');
    expect(h.flag.entity).toEqual({ type: 'project', id: `2025|${P1.code}`, name: '老旧小区改造' });
  });

  it('a deputy problem left unanswered goes overdue', async () => {
    const r = await reportProblem(store, YEAR, P2.code, { deputy_id: P2.deputy, text: P2.text }, committee, { at: at('2025-09-10') });
    ids.p2 = r.flag_id;
    const [, a] = await handOverProblem(store, r.flag_id, { workdays: 5 }, committee, { at: at('2025-09-10') });
    expect(a!.flag.due_date).toBe('2025-09-17');
    const scan = await scanDeadlines(store, { today: '2025-09-19' });
    expect(scan.overdue.map((e) => e.flag_id)).toEqual([r.flag_id]);
  });

  it('the mid-year checklist is one bulk assignment with one deadline', async () => {
    const c = await issueChecklist(store, YEAR, { checklist_id: 'DB2025-07', due: '2025-08-15', items: CHECKLIST.map(({ project_code, text }) => ({ project_code, text })) }, committee, { at: at('2025-07-15') });
    expect(c.assigned.map((a) => [a.flag.assigned_to, a.flag.due_date, a.flag.status])).toEqual(CHECKLIST.map((i) => [i.agency, '2025-08-15', 'assigned']));
    [ids.c1, ids.c2] = c.flag_ids as [string, string];
    await performAction(store, ids.c1, { action: 'start-rectification', category: 'immediate' }, unit('A0113'), { at: at('2025-07-20') });
    await performAction(store, ids.c1, { action: 'report-rectified', note: '延长开放至21时' }, unit('A0113'), { at: at('2025-08-01') });
    await performAction(store, ids.c1, { action: 'verify' }, committee, { at: at('2025-08-20') });
    await expect(issueChecklist(store, YEAR, { checklist_id: 'DB2025-07', due: '2025-08-15', items: [{ project_code: P1.code, text: 'again' }] }, committee, { at: at('2025-07-16') }))
      .rejects.toThrow(/already issued/);
  });

  it('records the grades and the satisfaction vote, once each', async () => {
    for (const [code] of PROJECTS) {
      await gradeProject(store, YEAR, code, { group_id: GROUP(code), grade: GRADES[code]! }, committee, { at: at('2025-12-26') });
      const [s, b, u] = VOTES[code]!;
      await voteSatisfaction(store, YEAR, code, { satisfied: s, basic: b, unsatisfied: u }, committee, { at: at('2025-12-29') });
    }
    await expect(gradeProject(store, YEAR, P1.code, { group_id: 'G2025-03', grade: '好' }, committee)).rejects.toMatchObject({ httpStatus: 409 });
    await expect(voteSatisfaction(store, YEAR, P1.code, { satisfied: 1, basic: 0, unsatisfied: 0 }, committee)).rejects.toMatchObject({ httpStatus: 409 });
  });

  it('refuses what it should', async () => {
    // a deputy outside the project's group, a group that does not follow the project, an unknown project
    await expect(reportProblem(store, YEAR, P1.code, { deputy_id: 'D001', text: 'x' }, committee)).rejects.toMatchObject({ httpStatus: 400 });
    await expect(gradeProject(store, YEAR, P2.code, { group_id: 'G2025-03', grade: '差' }, committee)).rejects.toMatchObject({ httpStatus: 400 });
    await expect(reportProblem(store, YEAR, 'XM-NOPE', { deputy_id: 'D001', text: 'x' }, committee)).rejects.toMatchObject({ httpStatus: 404 });
    // a photo hash that is not a SHA-256; a grade outside 好/较好/一般/差; a department grading itself
    await expect(reportProblem(store, YEAR, P1.code, { deputy_id: P1.deputy, text: 'x', photos: [{ name: 'a.jpg', sha256: 'abc' }] }, committee)).rejects.toMatchObject({ httpStatus: 400 });
    await expect(gradeProject(store, YEAR, P1.code, { group_id: 'G2025-03', grade: '优' as '好' }, committee)).rejects.toMatchObject({ httpStatus: 400 });
    await expect(gradeProject(store, YEAR, P1.code, { group_id: 'G2025-03', grade: '好' }, unit(P1.agency))).rejects.toMatchObject({ httpStatus: 403 });
    // a department cannot hand a problem over to itself (confirm is the committee's)
    const r = await reportProblem(store, 2025, P1.code, { deputy_id: 'D008', text: '临时测试问题' }, committee, { at: at('2025-12-30') });
    await expect(handOverProblem(store, r.flag_id, { workdays: 5 }, unit(P1.agency), { at: at('2025-12-30') })).rejects.toMatchObject({ httpStatus: 403 });
    await performAction(store, r.flag_id, { action: 'dismiss', note: '测试数据' }, committee, { at: at('2025-12-30') });
  });

  it('the year view: hand-counted figures', async () => {
    const y = await projectYear(store, YEAR, '2025-12-31');
    expect(y.projects.map((p) => [p.project_code, p.agency_code, p.budget, p.spent, p.payments])).toEqual(PROJECTS);
    expect(y.totals).toMatchObject({
      projects: 10, budget: TOTAL_BUDGET, spent: TOTAL_SPENT, execution_pct: TOTAL_EXECUTION,
      milestones_total: 20, milestones_due: 20, milestones_reported: 20,
      // P1, P2, two checklist items (the dismissed test problem counts as raised too: 5)
      problems_raised: 5, problems_fixed: 2, problems_overdue: 2,
      grades: { 好: 6, 较好: 3, 一般: 1, 差: 0 }, graded_projects: 10,
      votes: VOTE_TOTALS,
    });
    const p1 = y.projects.find((p) => p.project_code === P1.code)!;
    expect([p1.problems_raised, p1.problems_fixed, p1.problems_overdue, p1.percent_complete, p1.execution_pct]).toEqual([2, 1, 0, '85', '92.00']);
    expect(p1.vote).toEqual({ satisfied: 150, basic: 100, unsatisfied: 62, ballots: 312, satisfaction_pct: '80.13' });
    const p2 = y.projects.find((p) => p.project_code === P2.code)!;
    expect([p2.problems_raised, p2.problems_fixed, p2.problems_overdue]).toEqual([1, 0, 1]);
  });

  it('spending equals a direct SQL sum over treasury.payments', async () => {
    const direct = await store.all<{ project_code: string; spent: string }>(
      `SELECT project_code, CAST(sum(amount) AS VARCHAR) AS spent FROM treasury.payments
       WHERE fiscal_year = 2025 AND project_code IN (SELECT project_code FROM projects.projects WHERE fiscal_year = 2025)
       GROUP BY project_code ORDER BY project_code`);
    const total = await store.one<{ s: string }>(`SELECT CAST(sum(amount) AS VARCHAR) AS s FROM treasury.payments
       WHERE fiscal_year = 2025 AND project_code IN (SELECT project_code FROM projects.projects WHERE fiscal_year = 2025)`);
    const y = await projectYear(store, YEAR, '2025-12-31');
    expect(y.projects.map((p) => ({ project_code: p.project_code, spent: p.spent }))).toEqual(direct);
    expect(y.totals.spent).toBe(total!.s);
    // and the report's own query, as printed in its appendix, gives the same rows
    const viaReportSql = await store.all<{ project_code: string; spent: string }>(SPENDING_SQL, { year: '2025', as_of: '2025-12-31' });
    expect(viaReportSql.map((r) => ({ project_code: r.project_code, spent: r.spent }))).toEqual(direct);
  });

  it('every step is in the keyed log, which verifies', async () => {
    const rec = await readFlagEvents(store, { flagId: recordFlagId(YEAR, P1.code) });
    expect(rec.map((e) => e.event_type)).toEqual([
      'flag.discovered', 'project.voted', 'project.progress_reported', 'project.progress_reported', 'project.progress_reported', 'project.graded', 'project.satisfaction_voted',
    ]);
    expect(JSON.parse(rec[1]!.data!)).toMatchObject({ vote_result: 'passed', votes_for: 305, votes_against: 4, votes_abstain: 3 });
    expect(JSON.parse(rec[5]!.data!)).toMatchObject({ group_id: 'G2025-03', grade: '一般' });
    const p2 = await readFlagEvents(store, { flagId: ids.p2 });
    expect(p2.map((e) => e.event_type)).toEqual(['flag.discovered', 'flag.confirmed', 'flag.assigned', 'flag.overdue']);
    const c2 = await readFlagEvents(store, { flagId: ids.c2 });
    expect(c2.map((e) => e.event_type)).toEqual(['flag.discovered', 'flag.confirmed', 'flag.assigned']);
    expect(JSON.parse(c2[2]!.data!)).toMatchObject({ due_date: '2025-08-15', assigned_to: 'A0111' });
    const check = await verifyLog(store);
    expect(check.problems).toEqual([]);
    expect(check.ok).toBe(true);
  });
});

describe('project records stay out of the findings', () => {
  it('are not listed as findings, but the feed and the record keep them', async () => {
    const { listTracked, trackStats } = await import('../../tracker/index.ts');
    const open = await listTracked(store, { fiscal_year: YEAR });
    expect(open.some((f) => f.rule_id === 'project.record')).toBe(false);
    expect((await listTracked(store, { rule: ['project.record'] })).length).toBe(10);
    const stats = await trackStats(store, {}, { today: '2025-12-31' });
    // the five deputy/checklist flags of this file, none of the ten records
    expect(stats.totals.discovered).toBe(5);
    expect(stats.by_rule.map((r) => r.rule_id).sort()).toEqual(['deputy.checklist', 'deputy.report']);
  });

  it('allow no tracker action: a record never changes state, so confirming one is refused and nothing is written', async () => {
    const { listTracked } = await import('../../tracker/index.ts');
    const [record] = await listTracked(store, { rule: ['project.record'] });
    expect(record!.allowed_actions).toEqual([]);
    const before = (await readFlagEvents(store)).length;
    const err = await performAction(store, record!.flag_id, { action: 'confirm' }, { name: '委员会', role: 'committee' }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'NOT_A_FINDING', httpStatus: 409 });
    expect((err as Error).message).toContain('不是问题线索');
    expect((err as Error).message).toContain('fiscus projects');
    expect((await readFlagEvents(store)).length).toBe(before);
    expect((await listTracked(store, { rule: ['project.record'] }))[0]!.status).toBe('discovered');
  });
});
