/**
 * The same year through the command line (in-process `fiscus`, a real DuckDB file): the
 * department's and committee's steps are the ordinary `fiscus track` actions; the project
 * report written as HTML, Markdown and JSON carries the hand-counted figures.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.ts';
import { CHECKLIST, GRADES, GROUP, P1, P2, PROJECTS, TOTAL_BUDGET, TOTAL_SPENT, VOTES, VOTE_TOTALS } from './scenario.ts';

const SAMPLE = join(import.meta.dirname, '..', '..', 'fixtures', 'sample');
let dir: string;
let db: string;
const f = async (...args: string[]) => {
  const r = await runCli(['--db', db, ...args]);
  if (r.code !== 0) throw new Error(`fiscus ${args.join(' ')} → ${r.code}\n${r.stderr}`);
  return r;
};
const json = async (...args: string[]) => JSON.parse((await f(...args)).stdout);
const unit = (code: string) => ['--role', 'agency', '--agency-code', code, '--actor', `unit-${code}`];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'fiscus-projects-cli-'));
  db = join(dir, 'db.duckdb');
  await f('ingest', SAMPLE);
}, 120_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('fiscus projects', () => {
  const ids = { p1: '', p2: '', c1: '', c2: '' };

  it('takes the year through the CLI', async () => {
    expect(await json('projects', 'sync', '--year', '2025')).toEqual({ year: 2025, records_created: 10, progress_logged: 30 });
    const photo = join(dir, 'fire-lane.jpg');
    writeFileSync(photo, 'jpeg bytes');
    const p1 = await json('projects', 'report-problem', '--year', '2025', '--project', P1.code, '--deputy', P1.deputy, '--text', P1.text, '--photo', photo, '--address', P1.address, '--actor', '预算工委');
    ids.p1 = p1.flag_id;
    const handed = await json('projects', 'hand-over', ids.p1, '--workdays', '10');
    expect(handed.map((h: { status: string }) => h.status)).toEqual(['confirmed', 'assigned']);
    await f('track', 'start-rectification', ids.p1, '--category', 'immediate', ...unit(P1.agency));
    await f('track', 'report-rectified', ids.p1, '--note', '围挡已移位', '--doc', photo, ...unit(P1.agency));
    await f('track', 'verify', ids.p1, '--note', '代表现场复核');

    ids.p2 = (await json('projects', 'report-problem', '--year', '2025', '--project', P2.code, '--deputy', P2.deputy, '--text', P2.text)).flag_id;
    const [, a2] = await json('projects', 'hand-over', ids.p2, '--workdays', '5');

    const c = await json('projects', 'checklist', '--year', '2025', '--id', 'DB2025-07', '--workdays', '30', ...CHECKLIST.flatMap((i) => ['--item', `${i.project_code}=${i.text}`]));
    expect(c.assigned.map((x: { assigned_to: string }) => x.assigned_to)).toEqual(CHECKLIST.map((i) => i.agency));
    [ids.c1, ids.c2] = c.flag_ids;
    await f('track', 'start-rectification', ids.c1, '--category', 'immediate', ...unit('A0113'));
    await f('track', 'report-rectified', ids.c1, '--note', '延长开放时间', ...unit('A0113'));
    await f('track', 'verify', ids.c1);

    // A week of working days after P2's deadline (the checklist's 30 working days have not run out)
    const scanDay = new Date(Date.parse(`${a2.due_date}T00:00:00Z`) + 10 * 86_400_000).toISOString().slice(0, 10);
    await f('track', 'scan', '--as-of', scanDay);

    for (const [code] of PROJECTS) {
      await f('projects', 'grade', '--year', '2025', '--project', code, '--group', GROUP(code), '--grade', GRADES[code]!);
      const [s, b, u] = VOTES[code]!.map(String);
      await f('projects', 'satisfaction', '--year', '2025', '--project', code, '--satisfied', s!, '--basic', b!, '--unsatisfied', u!);
    }
    const dup = await runCli(['--db', db, 'projects', 'grade', '--year', '2025', '--project', P1.code, '--group', 'G2025-03', '--grade', '好']);
    expect(dup.code).toBe(1);
    expect(dup.stderr).toMatch(/already graded/);
    const bad = await runCli(['--db', db, 'projects', 'checklist', '--year', '2025', '--workdays', '5', '--item', 'no-equals-sign']);
    expect(bad.code).toBe(2);
  });

  it('lists the year with the hand-counted figures, and every step is in the history', async () => {
    const y = await json('projects', 'list', '--year', '2025', '--as-of', '2027-06-30', '--format', 'json');
    expect(y.projects.map((p: { project_code: string; budget: string; spent: string }) => [p.project_code, p.budget, p.spent])).toEqual(PROJECTS.map((p) => [p[0], p[2], p[3]]));
    expect(y.totals).toMatchObject({ budget: TOTAL_BUDGET, spent: TOTAL_SPENT, problems_raised: 4, problems_fixed: 2, problems_overdue: 2, grades: { 好: 6, 较好: 3, 一般: 1, 差: 0 }, votes: VOTE_TOTALS });
    const rec = await json('projects', 'history', '--year', '2025', '--project', P1.code);
    expect(rec.map((e: { event_type: string }) => e.event_type)).toEqual([
      'flag.discovered', 'project.voted', 'project.progress_reported', 'project.progress_reported', 'project.progress_reported', 'project.graded', 'project.satisfaction_voted',
    ]);
    const show1 = await json('track', 'show', ids.p1, '--format', 'json');
    expect(show1.events.map((e: { type: string }) => e.type)).toEqual(['flag.discovered', 'flag.confirmed', 'flag.assigned', 'flag.rectification_started', 'flag.rectified', 'flag.verified']);
    const show2 = await json('track', 'show', ids.p2, '--format', 'json');
    expect(show2.events.map((e: { type: string }) => e.type)).toEqual(['flag.discovered', 'flag.confirmed', 'flag.assigned', 'flag.overdue']);
    await f('track', 'verify-log');
  });

  it('writes the project report', async () => {
    const out = join(dir, 'out');
    const r = await f('report', 'projects', '--year', '2025', '--as-of', '2027-06-30', '--out', out, '--format', 'html,md,json');
    expect(r.stdout.trim().split('\n').map((p) => p.slice(out.length + 1)).sort()).toEqual(['projects-2025-zh.html', 'projects-2025-zh.json', 'projects-2025-zh.md']);
    const md = readFileSync(join(out, 'projects-2025-zh.md'), 'utf8');
    for (const s of ['53,200,000.00', '49,964,472.59', '93.92%', '93.91%', '老旧小区改造', '督查督办清单', '已销号']) expect(md).toContain(s);
    const j = JSON.parse(readFileSync(join(out, 'projects-2025-zh.json'), 'utf8'));
    expect(j.headline).toMatchObject({ projects: 10, budget: TOTAL_BUDGET, spent: TOTAL_SPENT, problems_raised: 4, problems_fixed: 2, problems_overdue: 2, grade_好: 6, grade_较好: 3, grade_一般: 1, grade_差: 0, ballots: 3120, satisfaction_pct: '93.91' });
    const html = readFileSync(join(out, 'projects-2025-zh.html'), 'utf8');
    expect(html).toContain('FROM treasury.payments');
    expect((await runCli(['--db', db, 'report', 'projects', '--year', '25'])).code).toBe(2);
  });
});
