import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import fs from 'node:fs';
import type { Store } from '../../engine/db.ts';
import { openStore } from '../../engine/db.ts';
import { appendFlagEvents } from '../../engine/flag-events.ts';
import { FiscusError } from '../../engine/errors.ts';
import { actionsForRole, assignAll, flagHistory, listTracked, performAction, trackActionSchema, verifyLog, type Actor } from '../../tracker/index.ts';
import { insertAgencies, insertFlags, tempDb } from './helpers.ts';

const sup: Actor = { name: '王秘书', role: 'supervisor' };
const committee: Actor = { name: '李主任', role: 'committee' };
const unitA01: Actor = { name: '一中财务', role: 'agency', agencyCode: 'A01' };
const deptD1: Actor = { name: '教育局', role: 'agency', agencyCode: 'D1' };
const unitB01: Actor = { name: '医院', role: 'agency', agencyCode: 'B01' };
const analyst: Actor = { name: '分析员', role: 'analyst' };

let store: Store;
let dir: string;

beforeAll(async () => {
  const t = tempDb();
  dir = t.dir;
  store = await openStore(t.db);
  await insertAgencies(store);
});
afterAll(async () => {
  await store.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

async function fresh(id: string, extra: Parameters<typeof insertFlags>[1][number] = { flag_id: id }): Promise<string> {
  await insertFlags(store, [{ ...extra, flag_id: id }]);
  return id;
}

async function errorOf(p: Promise<unknown>): Promise<FiscusError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(FiscusError);
    return err as FiscusError;
  }
  throw new Error('expected an error');
}

describe('state machine', () => {
  test('explained path: accept closes as explained; every step is in the history with actor, role and time', async () => {
    const id = await fresh('SM-EXPL');
    await performAction(store, id, { action: 'confirm', note: '值得追踪' }, analyst);
    const a = await performAction(store, id, { action: 'assign', due: '2030-06-28' }, sup);
    expect(a.flag).toMatchObject({ status: 'assigned', assigned_to: 'A01', due_date: '2030-06-28' });
    await performAction(store, id, { action: 'explain', note: '系合同分期付款', documents: [{ name: '合同.pdf', sha256: 'a'.repeat(64) }] }, unitA01);
    const r = await performAction(store, id, { action: 'accept-explanation', note: '说清' }, committee);
    expect(r.flag.status).toBe('closed_explained');
    expect(r.flag.allowed_actions).toEqual(['reopen']);
    const h = await flagHistory(store, id);
    expect(h.events.map((e) => [e.type, e.from_status, e.to_status, e.actor, e.role])).toEqual([
      ['flag.discovered', null, 'discovered', 'rules', 'system'],
      ['flag.confirmed', 'discovered', 'confirmed', '分析员', 'analyst'],
      ['flag.assigned', 'confirmed', 'assigned', '王秘书', 'supervisor'],
      ['flag.explained', 'assigned', 'explained', '一中财务', 'agency'],
      ['flag.explanation_accepted', 'explained', 'closed_explained', '李主任', 'committee'],
    ]);
    for (const e of h.events) expect(e.at).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    expect(h.events[3].data).toMatchObject({ documents: [{ name: '合同.pdf', sha256: 'a'.repeat(64) }], due_date: '2030-06-28', on_time: true, actor_agency: 'A01' });
  });

  test('rejected explanation goes back to assigned, then rectification, vote, verify and reopen', async () => {
    const id = await fresh('SM-RECT');
    await performAction(store, id, { action: 'confirm' }, sup);
    await performAction(store, id, { action: 'assign', to: 'A01', due: '2030-06-28' }, sup);
    await performAction(store, id, { action: 'explain', note: '不是问题' }, unitA01);
    const rej = await performAction(store, id, { action: 'reject-explanation', note: '理由不充分', due: '2030-07-31' }, committee);
    expect(rej.flag).toMatchObject({ status: 'assigned', due_date: '2030-07-31' });
    await performAction(store, id, { action: 'start-rectification', category: 'ongoing', timetable: [{ date: '2030-09-30', task: '修订制度' }] }, deptD1);
    const rep = await performAction(
      store,
      id,
      { action: 'report-rectified', note: '已收回资金', amount_recovered: '1200.5', amount_regularised: '300' },
      unitA01,
    );
    expect(rep.flag.status).toBe('rectified');
    expect(JSON.parse(rep.event.data!)).toMatchObject({ amount_recovered: '1200.50', amount_regularised: '300.00' });
    const vote = await performAction(store, id, { action: 'vote', satisfied: 8, basic: 1, unsatisfied: 2, members: 15 }, committee);
    expect(vote.flag.status).toBe('rectified');
    expect(vote.events).toHaveLength(1);
    expect(JSON.parse(vote.event.data!)).toMatchObject({ passed: true, present: 11 });
    const v = await performAction(store, id, { action: 'verify', note: '验收通过' }, committee);
    expect(v.flag.status).toBe('verified');
    const re = await performAction(store, id, { action: 'reopen', note: '复查发现问题反弹', due: '2030-12-31' }, committee);
    expect(re.event.event_type).toBe('flag.reopened');
    expect(re.flag).toMatchObject({ status: 'assigned', assigned_to: 'A01', due_date: '2030-12-31' });
  });

  test('an illegal step is refused with 409 naming the current state and the allowed next actions (zh and en)', async () => {
    const id = await fresh('SM-ILLEGAL');
    const e = await errorOf(performAction(store, id, { action: 'verify' }, committee));
    expect(e.httpStatus).toBe(409);
    expect(e.code).toBe('ILLEGAL_TRANSITION');
    expect(e.message).toContain('「发现」(discovered)');
    expect(e.message).toContain('确认(confirm)、排除(dismiss)');
    expect(e.message).toContain('Flag SM-ILLEGAL is discovered; "verify" is not allowed. Allowed next: confirm, dismiss.');
    await performAction(store, id, { action: 'confirm' }, sup);
    await performAction(store, id, { action: 'assign', due: '2030-06-28' }, sup);
    const e2 = await errorOf(performAction(store, id, { action: 'report-rectified', note: 'x' }, unitA01));
    expect(e2.message).toContain('Allowed next: explain, start-rectification, extend.');
    // Nothing was written by the refused steps.
    const h = await flagHistory(store, id);
    expect(h.events.map((x) => x.type)).toEqual(['flag.discovered', 'flag.confirmed', 'flag.assigned']);
  });

  test('404 for an unknown flag, 400 for bad input', async () => {
    expect((await errorOf(performAction(store, 'NOPE', { action: 'confirm' }, sup))).httpStatus).toBe(404);
    const id = await fresh('SM-BAD');
    const bad = [
      { action: 'dismiss' },
      { action: 'fly' },
      { action: 'assign', due: '2030-02-30' },
      { action: 'start-rectification', category: 'ongoing' },
      { action: 'report-rectified', note: 'x', amount_recovered: '12.345' },
      { action: 'vote', satisfied: 10, basic: 3, unsatisfied: 3, members: 15 },
      { action: 'explain', note: 'x', documents: [{ name: 'a', sha256: 'xyz' }] },
    ];
    for (const input of bad) {
      expect(trackActionSchema.safeParse(input).success).toBe(false);
      const e = await errorOf(performAction(store, id, input, sup));
      expect(e.httpStatus).toBe(400);
    }
    const e = await errorOf(performAction(store, id, { action: 'confirm' }, { name: '', role: 'supervisor' }));
    expect(e.httpStatus).toBe(400);
    await performAction(store, id, { action: 'confirm' }, sup);
    // A due date in the past, or an agency not in ref.agencies.
    expect((await errorOf(performAction(store, id, { action: 'assign', due: '2020-01-01' }, sup))).httpStatus).toBe(400);
    expect((await errorOf(performAction(store, id, { action: 'assign', to: 'ZZZ' }, sup))).message).toContain('ZZZ');
  });

  test('roles: an agency acts only on its own (or its department’s) flags and only the unit’s steps', async () => {
    const id = await fresh('SM-ROLE');
    expect((await errorOf(performAction(store, id, { action: 'confirm' }, unitA01))).httpStatus).toBe(403);
    await performAction(store, id, { action: 'confirm' }, sup);
    expect((await errorOf(performAction(store, id, { action: 'assign' }, analyst))).httpStatus).toBe(403);
    await performAction(store, id, { action: 'assign', due: '2030-06-28' }, sup);
    // B01 belongs to department D2, not D1: refused even though the step itself would be legal.
    const e = await errorOf(performAction(store, id, { action: 'explain', note: 'x' }, unitB01));
    expect(e.httpStatus).toBe(403);
    expect((await errorOf(performAction(store, id, { action: 'explain', note: 'x' }, { name: 'n', role: 'agency' }))).httpStatus).toBe(400);
    // The department D1 may act for its unit A01.
    const ok = await performAction(store, id, { action: 'start-rectification', category: 'immediate' }, deptD1);
    expect(ok.flag.status).toBe('rectifying');
    // The unit may not verify its own rectification.
    await performAction(store, id, { action: 'report-rectified', note: '已整改' }, unitA01);
    expect((await errorOf(performAction(store, id, { action: 'verify' }, unitA01))).httpStatus).toBe(403);
    // A supervisor may record a unit's step on its behalf; the event says so.
    const id2 = await fresh('SM-ROLE2');
    await performAction(store, id2, { action: 'confirm' }, sup);
    await performAction(store, id2, { action: 'assign', to: 'B01', due: '2030-06-28' }, sup);
    const behalf = await performAction(store, id2, { action: 'explain', note: '书面说明' }, sup);
    expect(JSON.parse(behalf.event.data!)).toMatchObject({ on_behalf_of: 'B01' });
  });

  test('votes: Fuxin half-of-members rule, a first failure returns the report, a second marks for inquiry', async () => {
    const id = await fresh('SM-VOTE');
    await performAction(store, id, { action: 'confirm' }, sup);
    await performAction(store, id, { action: 'assign', due: '2030-06-28' }, sup);
    await performAction(store, id, { action: 'start-rectification', category: 'phased' }, unitA01);
    await performAction(store, id, { action: 'report-rectified', note: '第一次报告' }, unitA01);
    // 4 + 3 = 7 of 14 members: exactly half does not exceed half → fails.
    const v1 = await performAction(store, id, { action: 'vote', satisfied: 4, basic: 3, unsatisfied: 5, members: 14 }, committee);
    expect(v1.events.map((e) => [e.event_type, e.from_status, e.to_status])).toEqual([
      ['flag.voted', 'rectified', 'rectifying'],
      ['flag.escalated', null, null],
    ]);
    expect(JSON.parse(v1.events[1].data!)).toMatchObject({ level: 'candidate', failing_votes: 1 });
    expect(v1.flag).toMatchObject({ status: 'rectifying', escalation: 'candidate', failing_votes: 1, votes: 1 });
    // Must be re-reported before it can be voted or verified again.
    expect((await errorOf(performAction(store, id, { action: 'verify' }, committee))).httpStatus).toBe(409);
    await performAction(store, id, { action: 'report-rectified', note: '第二次报告' }, unitA01);
    const v2 = await performAction(store, id, { action: 'vote', satisfied: 2, basic: 2, unsatisfied: 10, members: 14 }, committee);
    expect(JSON.parse(v2.events[1].data!)).toMatchObject({ level: 'inquiry', failing_votes: 2 });
    expect(v2.flag).toMatchObject({ status: 'rectifying', escalation: 'inquiry', failing_votes: 2, votes: 2 });
    await performAction(store, id, { action: 'report-rectified', note: '第三次报告' }, unitA01);
    // 8 of 14 exceeds half → passes; status stays rectified and can be verified.
    const v3 = await performAction(store, id, { action: 'vote', satisfied: 5, basic: 3, unsatisfied: 6, members: 14 }, committee);
    expect(v3.flag.status).toBe('rectified');
    expect(v3.event.to_status).toBeNull();
    expect((await performAction(store, id, { action: 'verify' }, committee)).flag.status).toBe('verified');
  });

  test('extensions are events with a reason and must move the due date later', async () => {
    const id = await fresh('SM-EXT');
    await performAction(store, id, { action: 'confirm' }, sup);
    await performAction(store, id, { action: 'assign', due: '2030-06-28' }, sup);
    expect((await errorOf(performAction(store, id, { action: 'extend', due: '2030-06-01', note: '需要时间' }, sup))).httpStatus).toBe(400);
    expect((await errorOf(performAction(store, id, { action: 'extend', due: '2030-07-31' }, sup))).httpStatus).toBe(400);
    const r = await performAction(store, id, { action: 'extend', due: '2030-07-31', note: '涉及跨年度资金清理' }, sup);
    expect(r.flag.due_date).toBe('2030-07-31');
    expect(r.event).toMatchObject({ event_type: 'flag.extended', from_status: 'assigned', to_status: null, note: '涉及跨年度资金清理' });
    expect(JSON.parse(r.event.data!)).toEqual({ from_due: '2030-06-28', to_due: '2030-07-31' });
  });

  test('a flag no longer reproduced while open is shown and waits for the committee: dismiss with a reason or keep', async () => {
    await fresh('SM-NR1');
    await fresh('SM-NR2');
    for (const id of ['SM-NR1', 'SM-NR2']) {
      await performAction(store, id, { action: 'confirm' }, sup);
      await performAction(store, id, { action: 'assign', due: '2030-06-28' }, sup);
      await performAction(store, id, { action: 'start-rectification', category: 'immediate' }, unitA01);
    }
    // What the rule runner does on a re-run that no longer raises them.
    await store.transaction(async () => {
      await store.run("UPDATE fiscus.flags SET reproduced = false WHERE flag_id IN ('SM-NR1', 'SM-NR2')");
      await appendFlagEvents(store, [
        { flag_id: 'SM-NR1', event_type: 'flag.not_reproduced', actor: 'rules', role: 'system' },
        { flag_id: 'SM-NR2', event_type: 'flag.not_reproduced', actor: 'rules', role: 'system' },
      ]);
    });
    const pending = await listTracked(store, { needsDecision: true });
    expect(pending.map((f) => f.flag_id).sort()).toEqual(['SM-NR1', 'SM-NR2']);
    expect(pending[0].allowed_actions).toEqual(expect.arrayContaining(['dismiss', 'keep', 'report-rectified']));
    // Never closed silently: status unchanged.
    expect(pending.every((f) => f.status === 'rectifying' && !f.reproduced)).toBe(true);

    const d = await performAction(store, 'SM-NR1', { action: 'dismiss', note: '数据已更正，不再构成问题' }, committee);
    expect(d.flag).toMatchObject({ status: 'dismissed', needs_decision: false });
    expect(JSON.parse(d.event.data!)).toEqual({ reproduced: false });
    const k = await performAction(store, 'SM-NR2', { action: 'keep', note: '整改尚未验收，继续跟踪' }, committee);
    expect(k.flag).toMatchObject({ status: 'rectifying', needs_decision: false, reproduced: false });
    expect((await listTracked(store, { needsDecision: true })).map((f) => f.flag_id)).not.toContain('SM-NR2');
    // Keeping twice is refused: the decision was made.
    expect((await errorOf(performAction(store, 'SM-NR2', { action: 'keep', note: 'again' }, committee))).httpStatus).toBe(409);
    // A reproduced flag past confirmation cannot be dismissed.
    const id = await fresh('SM-NR3');
    await performAction(store, id, { action: 'confirm' }, sup);
    await performAction(store, id, { action: 'assign', due: '2030-06-28' }, sup);
    expect((await errorOf(performAction(store, id, { action: 'dismiss', note: 'x' }, committee))).httpStatus).toBe(409);
  });

  test('bulk assign: every confirmed flag of a rule or agency, each its own event', async () => {
    await insertFlags(store, [
      { flag_id: 'BULK-1', rule_id: 'treasury.split_payment', agency_code: 'A01' },
      { flag_id: 'BULK-2', rule_id: 'treasury.split_payment', agency_code: 'A02' },
      { flag_id: 'BULK-3', rule_id: 'treasury.split_payment', agency_code: 'B01' },
      { flag_id: 'BULK-4', rule_id: 'treasury.no_budget', agency_code: 'A02' },
      { flag_id: 'BULK-5', rule_id: 'treasury.split_payment', agency_code: 'A01' },
    ]);
    for (const id of ['BULK-1', 'BULK-2', 'BULK-3', 'BULK-4']) await performAction(store, id, { action: 'confirm' }, sup);
    // BULK-5 stays discovered, so it is not assigned.
    const byRuleAndDept = await assignAll(store, { rule: 'treasury.split_payment', agency: 'D1', due: '2030-06-28' }, sup);
    expect(byRuleAndDept.map((r) => [r.flag.flag_id, r.flag.assigned_to, r.flag.status])).toEqual([
      ['BULK-1', 'A01', 'assigned'],
      ['BULK-2', 'A02', 'assigned'],
    ]);
    expect(new Set(byRuleAndDept.map((r) => r.event.seq)).size).toBe(2);
    const toDept = await assignAll(store, { agency: 'A02', to: 'D1', due: '2030-06-28' }, sup);
    expect(toDept.map((r) => [r.flag.flag_id, r.flag.assigned_to])).toEqual([['BULK-4', 'D1']]);
    expect((await errorOf(assignAll(store, {}, sup))).httpStatus).toBe(400);
    expect((await verifyLog(store)).ok).toBe(true);
  });

  test('default due dates per severity are configurable (working days from the day of assignment)', async () => {
    await insertFlags(store, [
      { flag_id: 'CFG-H', severity: 'high' },
      { flag_id: 'CFG-L', severity: 'low' },
    ]);
    const at = new Date('2030-06-03T02:00:00Z'); // Monday; 2030 has no built-in holidays: plain weekdays
    for (const id of ['CFG-H', 'CFG-L']) await performAction(store, id, { action: 'confirm' }, sup, { at });
    const h = await performAction(store, 'CFG-H', { action: 'assign' }, sup, { at, config: { dueWorkdays: { high: 3 } } });
    expect(h.flag.due_date).toBe('2030-06-06');
    // Built-in default for low: 30 working days = six weeks.
    const l = await performAction(store, 'CFG-L', { action: 'assign' }, sup, { at });
    expect(l.flag.due_date).toBe('2030-07-15');
    expect(JSON.parse(l.event.data!)).toMatchObject({ due_default: true, due_date: '2030-07-15' });
  });

  test('concurrent actions on one store are serialised: the second sees the first and is refused, nothing interleaves', async () => {
    const id = await fresh('SM-RACE');
    const results = await Promise.allSettled([
      performAction(store, id, { action: 'confirm' }, sup),
      performAction(store, id, { action: 'confirm' }, committee),
      performAction(store, id, { action: 'dismiss', note: '重复' }, committee),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(((results[1] as PromiseRejectedResult).reason as FiscusError).httpStatus).toBe(409);
    const h = await flagHistory(store, id);
    expect(h.flag.status).toBe('dismissed');
    expect(h.events.map((e) => e.type)).toEqual(['flag.discovered', 'flag.confirmed', 'flag.dismissed']);
    expect((await verifyLog(store)).ok).toBe(true);
  });

  test('actionsForRole narrows the allowed actions to what a role may press', async () => {
    const id = await fresh('SM-BTN');
    await performAction(store, id, { action: 'confirm' }, sup);
    await performAction(store, id, { action: 'assign', due: '2030-06-28' }, sup);
    const { flag } = await flagHistory(store, id);
    expect(actionsForRole(flag.allowed_actions, 'agency')).toEqual(['explain', 'start-rectification']);
    expect(actionsForRole(flag.allowed_actions, 'committee')).toEqual(['extend']);
    expect(actionsForRole(flag.allowed_actions, 'analyst')).toEqual([]);
  });
});
