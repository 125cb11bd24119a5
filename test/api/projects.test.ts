/**
 * Livelihood projects over real HTTP, on the bundled sample: the year through the API
 * (sync, a deputy's problems, hand-over, the department's answers through the ordinary
 * flag actions, the mid-year checklist, grades and vote), the hand-counted year view,
 * every step in the portal's alert feed, and the doors: roles, agency scope, strict bodies,
 * problem+json.
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Store } from '../../engine/db.ts';
import { ingestPath } from '../../ingest/index.ts';
import { verifyLog } from '../../tracker/index.ts';
import { CHECKLIST, GRADES, GROUP, P1, P2, PROJECTS, TOTAL_BUDGET, TOTAL_SPENT, VOTES, VOTE_TOTALS } from '../projects/scenario.ts';
import { getJson, startServer, T, tempStore, TOKENS } from './helpers.ts';

const SAMPLE = join(import.meta.dirname, '..', '..', 'fixtures', 'sample');
const UNIT = { a0105: 'unit-a0105-token-0123456789', a0113: 'unit-a0113-token-0123456789', a0107: 'unit-a0107-token-0123456789' };

let store: Store;
let cleanup: () => Promise<void>;
let app: FastifyInstance;
let url: string;

const post = (path: string, token: string, body: unknown) =>
  getJson(`${url}${path}`, token, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
const act = (flag: string, token: string, body: unknown) => post(`/v1/flags/${flag}/actions`, token, body);

beforeAll(async () => {
  ({ store, cleanup } = await tempStore());
  await ingestPath(store, SAMPLE);
  ({ app, url } = await startServer(store, {
    tokens: [
      ...TOKENS,
      { token: UNIT.a0105, role: 'agency', agency_code: 'A0105', name: '住建局' },
      { token: UNIT.a0113, role: 'agency', agency_code: 'A0113', name: '文旅局' },
      { token: UNIT.a0107, role: 'agency', agency_code: 'A0107', name: '城管局' },
    ],
  }));
}, 120_000);
afterAll(async () => {
  await app?.close();
  await cleanup?.();
});

describe('livelihood projects over the API', () => {
  const ids = { p1: '', p2: '', c1: '', c2: '' };

  it('goes through the year', async () => {
    let r = await post('/v1/projects/2025/sync', T.supervisor, {});
    expect([r.status, r.body]).toEqual([200, { year: 2025, records_created: 10, progress_logged: 30 }]);

    // P1: reported, handed over, rectified by the department, verified
    const sha = createHash('sha256').update('photo').digest('hex');
    r = await post(`/v1/projects/2025/${P1.code}/problems`, T.supervisor, { deputy_id: P1.deputy, text: P1.text, photos: [{ name: 'a.jpg', sha256: sha }], location: { address: P1.address } });
    expect(r.status).toBe(201);
    ids.p1 = r.body.flag_id;
    r = await post(`/v1/projects/problems/${ids.p1}/hand-over`, T.supervisor, { workdays: 10 });
    expect([r.status, r.body[1].flag.status, r.body[1].flag.assigned_to]).toEqual([200, 'assigned', P1.agency]);
    expect((await act(ids.p1, UNIT.a0105, { action: 'start-rectification', category: 'immediate' })).status).toBe(200);
    expect((await act(ids.p1, UNIT.a0105, { action: 'report-rectified', note: '围挡已移位', documents: [{ name: 'after.jpg', sha256: sha }] })).status).toBe(200);
    expect((await act(ids.p1, T.supervisor, { action: 'verify' })).body.flag.status).toBe('verified');

    // P2: reported and handed over; nobody answers
    r = await post(`/v1/projects/2025/${P2.code}/problems`, T.supervisor, { deputy_id: P2.deputy, text: P2.text });
    ids.p2 = r.body.flag_id;
    r = await post(`/v1/projects/problems/${ids.p2}/hand-over`, T.supervisor, { workdays: 5 });
    expect(r.status).toBe(200);

    // The mid-year checklist: one deadline for both items; item 1 fixed
    r = await post('/v1/projects/2025/checklists', T.supervisor, { checklist_id: 'DB2025-07', workdays: 10, items: CHECKLIST.map(({ project_code, text }) => ({ project_code, text })) });
    expect(r.status).toBe(201);
    expect(new Set(r.body.assigned.map((f: { due_date: string }) => f.due_date))).toEqual(new Set([r.body.due]));
    [ids.c1, ids.c2] = r.body.flag_ids;
    expect((await act(ids.c1, UNIT.a0113, { action: 'start-rectification', category: 'immediate' })).status).toBe(200);
    expect((await act(ids.c1, UNIT.a0113, { action: 'report-rectified', note: '延长开放时间' })).status).toBe(200);
    expect((await act(ids.c1, T.supervisor, { action: 'verify' })).status).toBe(200);

    // Year end: every group's grade and every project's vote
    for (const [code] of PROJECTS) {
      expect((await post(`/v1/projects/2025/${code}/grades`, T.supervisor, { group_id: GROUP(code), grade: GRADES[code] })).status).toBe(201);
      const [satisfied, basic, unsatisfied] = VOTES[code]!;
      expect((await post(`/v1/projects/2025/${code}/satisfaction`, T.supervisor, { satisfied, basic, unsatisfied })).status).toBe(201);
    }
  });

  it('the year view has the hand-counted figures', async () => {
    // As of a day after every deadline: P2 and checklist item 2 are overdue.
    const r = await getJson(`${url}/v1/projects?year=2025&as_of=2027-06-30`, T.analyst);
    expect(r.status).toBe(200);
    expect(r.body.projects.map((p: { project_code: string; spent: string }) => [p.project_code, p.spent])).toEqual(PROJECTS.map((p) => [p[0], p[3]]));
    expect(r.body.totals).toMatchObject({
      projects: 10, budget: TOTAL_BUDGET, spent: TOTAL_SPENT, problems_raised: 4, problems_fixed: 2, problems_overdue: 2,
      grades: { 好: 6, 较好: 3, 一般: 1, 差: 0 }, votes: VOTE_TOTALS,
    });
    const direct = await store.one<{ s: string }>(`SELECT CAST(sum(amount) AS VARCHAR) AS s FROM treasury.payments
      WHERE fiscal_year = 2025 AND project_code IN (SELECT project_code FROM projects.projects WHERE fiscal_year = 2025)`);
    expect(r.body.totals.spent).toBe(direct!.s);
  });

  it('the portal feed carries every step, and the log verifies', async () => {
    const types: string[] = [];
    const flags = new Set<string>();
    let cursor = '';
    for (;;) {
      const r = await getJson(`${url}/v1/alerts?limit=1000${cursor ? `&cursor=${cursor}` : ''}`, T.portal);
      expect(r.status).toBe(200);
      for (const a of r.body.items) {
        types.push(a.event.type);
        flags.add(a.flag_id);
      }
      if (r.body.items.length < 1000) break;
      cursor = r.body.next_cursor;
    }
    const count = (t: string) => types.filter((x) => x === t).length;
    expect([count('project.voted'), count('project.progress_reported'), count('project.graded'), count('project.satisfaction_voted')]).toEqual([10, 30, 10, 10]);
    for (const id of Object.values(ids)) expect(flags.has(id)).toBe(true);
    expect(count('flag.verified')).toBe(2);
    const h = await getJson(`${url}/v1/projects/2025/${P1.code}/history`, T.portal);
    expect(h.status).toBe(403); // the portal reads the feed, not the tracker's views
    const h2 = await getJson(`${url}/v1/projects/2025/${P1.code}/history`, T.analyst);
    expect(h2.body.events.map((e: { type: string }) => e.type)).toEqual([
      'flag.discovered', 'project.voted', 'project.progress_reported', 'project.progress_reported', 'project.progress_reported', 'project.graded', 'project.satisfaction_voted',
    ]);
    expect((await verifyLog(store)).ok).toBe(true);
  });

  it('the report over the API', async () => {
    const md = await fetch(`${url}/v1/reports/projects?year=2025&format=md`, { headers: { authorization: `Bearer ${T.analyst}` } });
    expect(md.status).toBe(200);
    expect(md.headers.get('content-type')).toMatch(/text\/markdown/);
    const text = await md.text();
    expect(text).toContain('49,964,472.59');
    expect(text).toContain('93.91%');
    const json = await getJson(`${url}/v1/reports/projects?year=2025`, T.analyst);
    expect(json.body.headline).toMatchObject({ projects: 10, spent: TOTAL_SPENT, problems_raised: 4, problems_fixed: 2, grade_好: 6, ballots: 3120 });
    expect((await getJson(`${url}/v1/reports/projects?year=2025&format=doc`, T.analyst)).status).toBe(400);
    expect((await getJson(`${url}/v1/reports/projects?year=2025`, UNIT.a0105)).status).toBe(403);
  });

  it('is in the OpenAPI document', async () => {
    const spec = (await getJson(`${url}/openapi.json`, undefined)).body;
    for (const p of ['/v1/projects', '/v1/projects/{year}/{code}/problems', '/v1/projects/problems/{id}/hand-over', '/v1/projects/{year}/checklists', '/v1/projects/{year}/{code}/grades', '/v1/projects/{year}/{code}/satisfaction', '/v1/reports/projects']) {
      expect(Object.keys(spec.paths)).toContain(p);
    }
    expect(spec.paths['/v1/projects/{year}/{code}/grades'].post.requestBody.content['application/json'].schema.properties.grade.enum).toEqual(['好', '较好', '一般', '差']);
  });

  it('keeps the doors shut', async () => {
    // who may write: not the portal, an analyst or a department
    for (const tok of [T.portal, T.analyst, UNIT.a0105]) {
      const r = await post(`/v1/projects/2025/${P1.code}/grades`, tok, { group_id: 'G2025-03', grade: '好' });
      expect(r.status).toBe(403);
      expect(r.type).toMatch(/application\/problem\+json/);
    }
    expect((await post(`/v1/projects/2025/${P1.code}/problems`, UNIT.a0105, { deputy_id: P1.deputy, text: 'x' })).status).toBe(403);
    expect((await getJson(`${url}/v1/projects?year=2025`, undefined)).status).toBe(401);
    // a second grade from the same group, a second vote: 409 problem+json
    const again = await post(`/v1/projects/2025/${P1.code}/grades`, T.supervisor, { group_id: 'G2025-03', grade: '好' });
    expect([again.status, again.type.startsWith('application/problem+json')]).toEqual([409, true]);
    expect((await post(`/v1/projects/2025/${P1.code}/satisfaction`, T.supervisor, { satisfied: 1, basic: 0, unsatisfied: 0 })).status).toBe(409);
    // unknown fields, a deputy outside the group, an unknown project, a forged photo hash
    expect((await post(`/v1/projects/2025/${P1.code}/problems`, T.supervisor, { deputy_id: P1.deputy, text: 'x', at: '2025-01-01' })).status).toBe(400);
    expect((await post(`/v1/projects/2025/${P1.code}/problems`, T.supervisor, { deputy_id: 'D001', text: 'x' })).status).toBe(400);
    expect((await post('/v1/projects/2025/NOPE/problems', T.supervisor, { deputy_id: 'D001', text: 'x' })).status).toBe(404);
    expect((await post(`/v1/projects/2025/${P1.code}/problems`, T.supervisor, { deputy_id: P1.deputy, text: 'x', photos: [{ name: 'a', sha256: 'zz' }] })).status).toBe(400);
    // hand-over of a flag that is not a deputy problem (a project record) is a 404
    const rec = (await getJson(`${url}/v1/projects/2025/${P1.code}/history`, T.analyst)).body.flag_id;
    expect((await post(`/v1/projects/problems/${rec}/hand-over`, T.supervisor, { workdays: 5 })).status).toBe(404);
    // a department sees its own project only
    const mine = await getJson(`${url}/v1/projects?year=2025`, UNIT.a0105);
    expect(mine.body.projects.map((p: { project_code: string }) => p.project_code)).toEqual([P1.code]);
    expect(mine.body.totals).toBeUndefined();
    expect((await getJson(`${url}/v1/projects/2025/${P2.code}/history`, UNIT.a0105)).status).toBe(404);
    expect((await getJson(`${url}/v1/projects/2025/${P1.code}/history`, UNIT.a0105)).status).toBe(200);
    // a department cannot act on another department's problem
    expect((await act(ids.p2, UNIT.a0105, { action: 'start-rectification', category: 'immediate' })).status).toBe(404);
  });
});
