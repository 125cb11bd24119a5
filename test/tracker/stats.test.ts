/**
 * A dataset of 22 flags in Q1 2026 (plus two just outside it), walked to different states
 * with controlled event times, and every headline figure counted by hand below.
 */
import { afterAll, beforeAll, expect, test } from 'vitest';
import fs from 'node:fs';
import { openStore, type Store } from '../../engine/db.ts';
import { appendFlagEvents } from '../../engine/flag-events.ts';
import { performAction, trackStats, type Actor, type Figures, type TrackAction } from '../../tracker/index.ts';
import { cli, insertAgencies, insertFlags, tempDb, type FlagSeed } from './helpers.ts';

const R1 = 'treasury.split_payment';
const R2 = 'treasury.no_budget';
const R3 = 'debt.idle_proceeds';
const sup: Actor = { name: '王秘书', role: 'supervisor' };
const AS_OF = '2026-06-30';

let store: Store;
let db: string;
let dir: string;

const seeds: FlagSeed[] = [
  // In scope: first seen in Q1 2026, Asia/Shanghai. F01 is 2026-01-01 00:00 in Shanghai (still 2025 in UTC).
  { flag_id: 'F01', severity: 'high', rule_id: R1, agency_code: 'A01', amount: '100000.00', first_seen_at: '2025-12-31T16:00:00Z' },
  { flag_id: 'F02', severity: 'low', rule_id: R2, agency_code: 'A02', amount: '500.05' },
  { flag_id: 'F03', severity: 'medium', rule_id: R1, agency_code: 'A01', amount: '2000.00' },
  { flag_id: 'F04', severity: 'high', rule_id: R2, agency_code: 'B01', amount: '3000.00' },
  { flag_id: 'F05', severity: 'high', rule_id: R1, agency_code: 'A01', amount: '10000.00' },
  { flag_id: 'F06', severity: 'medium', rule_id: R3, agency_code: 'B01', amount: '20000.00' },
  { flag_id: 'F07', severity: 'medium', rule_id: R3, agency_code: 'A02', amount: '30000.00' },
  { flag_id: 'F08', severity: 'high', rule_id: R1, agency_code: 'A01', amount: '40000.00' },
  { flag_id: 'F09', severity: 'high', rule_id: R2, agency_code: 'A02', amount: '50000.00' },
  { flag_id: 'F10', severity: 'low', rule_id: R2, agency_code: 'B01', amount: '60000.00' },
  { flag_id: 'F11', severity: 'medium', rule_id: R1, agency_code: 'A01', amount: '70000.00' },
  { flag_id: 'F12', severity: 'high', rule_id: R3, agency_code: 'B01', amount: '80000.00' },
  { flag_id: 'F13', severity: 'high', rule_id: R1, agency_code: 'A02', amount: '90000.00' },
  { flag_id: 'F14', severity: 'medium', rule_id: R2, agency_code: 'A01', amount: '11000.00' },
  { flag_id: 'F15', severity: 'low', rule_id: R3, agency_code: 'A02', amount: '12000.10' },
  { flag_id: 'F16', severity: 'high', rule_id: R1, agency_code: 'B01', amount: '13000.00' },
  { flag_id: 'F17', severity: 'medium', rule_id: R2, agency_code: 'A02', amount: '14000.00' },
  { flag_id: 'F18', severity: 'low', rule_id: R1, agency_code: 'A01', amount: '15000.00' },
  { flag_id: 'F19', severity: 'high', rule_id: R3, agency_code: 'B01', amount: null },
  { flag_id: 'F20', severity: 'medium', rule_id: R2, agency_code: 'A01', amount: '16000.00', reproduced: false },
  { flag_id: 'F21', severity: 'medium', rule_id: R1, agency_code: 'A02', amount: '17000.00', reproduced: false },
  { flag_id: 'F22', severity: 'low', rule_id: R2, agency_code: 'B01', amount: '18000.00', reproduced: false },
  // Out of scope: 2026-04-01 01:00 in Shanghai (Q2), and 2025-12-31 23:59 in Shanghai.
  { flag_id: 'X1', severity: 'high', rule_id: R1, agency_code: 'A01', amount: '999.00', first_seen_at: '2026-03-31T17:00:00Z' },
  { flag_id: 'X2', severity: 'high', rule_id: R1, agency_code: 'A01', amount: '999.00', first_seen_at: '2025-12-31T15:59:00Z' },
];

type Step = [string, string, TrackAction];
const confirm: TrackAction = { action: 'confirm' };
const assign = (due: string, to?: string): TrackAction => ({ action: 'assign', due, to });
const explain: TrackAction = { action: 'explain', note: '情况说明' };
const accept: TrackAction = { action: 'accept-explanation' };
const start = (category: 'immediate' | 'phased' | 'ongoing' = 'immediate'): TrackAction =>
  category === 'ongoing' ? { action: 'start-rectification', category, timetable: [{ date: '2026-09-30', task: '完善制度' }] } : { action: 'start-rectification', category };
const report = (rec?: string, reg?: string): TrackAction => ({ action: 'report-rectified', note: '整改完成', amount_recovered: rec, amount_regularised: reg });
const verify: TrackAction = { action: 'verify' };
const vote = (satisfied: number, basic: number, unsatisfied: number, members: number): TrackAction => ({ action: 'vote', satisfied, basic, unsatisfied, members });

const steps: Step[] = [
  ['F03', '2026-01-10', { action: 'dismiss', note: '误报' }],
  ['F04', '2026-01-10', confirm], ['F04', '2026-01-12', { action: 'dismiss', note: '已核实无问题' }],
  ['F05', '2026-01-10', confirm],
  ['F06', '2026-01-10', confirm], ['F06', '2026-01-12', assign('2026-03-31', 'D2')],
  ['F07', '2026-01-10', confirm], ['F07', '2026-01-12', assign('2026-12-31')],
  ['F08', '2026-01-10', confirm], ['F08', '2026-01-12', assign('2026-03-31')], ['F08', '2026-03-10', explain],
  ['F09', '2026-01-10', confirm], ['F09', '2026-01-12', assign('2026-02-27')], ['F09', '2026-02-10', explain], ['F09', '2026-02-20', accept],
  ['F10', '2026-01-10', confirm], ['F10', '2026-01-12', assign('2026-02-27')], ['F10', '2026-03-20', explain], ['F10', '2026-03-25', accept],
  ['F11', '2026-01-10', confirm], ['F11', '2026-01-12', assign('2026-03-31')], ['F11', '2026-01-20', start()],
  ['F12', '2026-01-10', confirm], ['F12', '2026-01-12', assign('2026-12-31')], ['F12', '2026-01-20', start('phased')],
  ['F13', '2026-01-10', confirm], ['F13', '2026-01-12', assign('2026-03-31')], ['F13', '2026-01-20', start()], ['F13', '2026-03-15', report('1000.00', '500.00')],
  ['F14', '2026-01-10', confirm], ['F14', '2026-01-12', assign('2026-02-27')], ['F14', '2026-01-20', start()], ['F14', '2026-03-16', report('2000')], ['F14', '2026-03-20', verify],
  ['F15', '2026-01-10', confirm], ['F15', '2026-01-12', assign('2026-03-31')], ['F15', '2026-01-20', start('ongoing')], ['F15', '2026-03-01', report('300.5')],
  ['F15', '2026-03-05', vote(6, 3, 1, 15)], ['F15', '2026-03-06', verify],
  ['F16', '2026-01-10', confirm], ['F16', '2026-01-12', assign('2026-03-31')], ['F16', '2026-01-20', start()], ['F16', '2026-03-02', report('999.99')],
  ['F16', '2026-03-05', vote(4, 3, 5, 15)], ['F16', '2026-04-10', report('1500.00')], ['F16', '2026-04-20', vote(5, 2, 7, 14)],
  ['F17', '2026-01-10', confirm], ['F17', '2026-01-12', assign('2026-03-31')], ['F17', '2026-02-01', explain],
  ['F17', '2026-02-05', { action: 'reject-explanation', note: '不予认定' }], ['F17', '2026-02-10', start()], ['F17', '2026-03-20', report(undefined, '4000.00')],
  ['F17', '2026-03-25', verify], ['F17', '2026-04-01', { action: 'reopen', note: '复查反弹', due: '2026-12-31' }],
  ['F18', '2026-01-10', confirm], ['F18', '2026-01-12', assign('2026-03-31')], ['F18', '2026-03-05', explain], ['F18', '2026-03-10', accept],
  ['F18', '2026-04-01', { action: 'reopen', note: '重新核查', due: '2026-12-31' }], ['F18', '2026-05-06', explain], ['F18', '2026-05-10', accept],
  ['F19', '2026-01-10', confirm], ['F19', '2026-01-12', assign('2026-03-31')], ['F19', '2026-01-20', start()], ['F19', '2026-03-20', report()],
  ['F19', '2026-03-25', vote(4, 2, 4, 10)],
  ['F20', '2026-01-10', confirm],
  ['F21', '2026-01-10', confirm], ['F21', '2026-01-12', assign('2026-12-31')],
  ['F22', '2026-01-10', confirm], ['F22', '2026-01-12', assign('2026-12-31')], ['F22', '2026-01-20', start()],
  ['X1', '2026-04-02', confirm], ['X2', '2026-01-10', confirm],
];

beforeAll(async () => {
  ({ db, dir } = tempDb());
  store = await openStore(db);
  await insertAgencies(store);
  await insertFlags(store, seeds.map((s) => ({ first_seen_at: '2026-02-01T02:00:00Z', ...s })));
  for (const [id, day, action] of steps) await performAction(store, id, action, sup, { at: new Date(`${day}T02:00:00Z`) });
  // The rules stop reproducing F20–F22; the committee keeps F21 and dismisses F22.
  await appendFlagEvents(store, ['F20', 'F21', 'F22'].map((flag_id) => ({ flag_id, event_type: 'flag.not_reproduced', actor: 'rules', role: 'system', at: new Date('2026-04-05T02:00:00Z') })));
  await performAction(store, 'F21', { action: 'keep', note: '继续跟踪' }, sup, { at: new Date('2026-04-06T02:00:00Z') });
  await performAction(store, 'F22', { action: 'dismiss', note: '数据已更正' }, sup, { at: new Date('2026-04-06T02:00:00Z') });
});
afterAll(async () => {
  await store.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

// Hand counts (see the step list): ids per figure are written out so they can be checked by eye.
const TOTALS: Figures = {
  discovered: 22, // F01–F22
  pending_confirmation: 2, // F01 F02
  confirmed: 19, // all but F01 F02 F03
  dismissed: 3, // F03 F04 F22
  assigned: 16, // F06–F19, F21, F22
  explained: 3, // F09 F10 F18
  awaiting_decision: 1, // F08
  rectifying: 3, // F11 F12 F16
  rectified: 4, // F13 F14 F15 F19
  verified: 2, // F14 F15
  overdue: 3, // as of 06-30, due 03-31: F06 (assigned), F11, F16 (rectifying)
  not_reproduced_pending: 1, // F20 (F21 kept, F22 dismissed)
  confirmed_and_dismissed: 2, // F04 F22
  rectification_rate: 0.2857, // 4 / (19 − 2 − 3) = 4/14
  responses: 8, // F08 F09 F10 F18 (explain) F13 F14 F15 F19 (report)
  on_time_responses: 6, // late: F10 (explained 03-20, due 02-27), F14 (reported 03-16, due 02-27)
  on_time_rate: 0.75,
  money_involved: '648500.15', // Σ all but F03 F04 F22 (F19 has none)
  money_recovered: '3300.50', // F13 1000 + F14 2000 + F15 300.50 (+ F19 0); F16 is back in rectification
  money_regularised: '500.00', // F13; F17 was reopened
  votes: 4, // F15 1, F16 2, F19 1
  votes_failed: 2, // F16: 7 of 15, then 7 of 14 (exactly half is not more than half)
  satisfaction_rate: 0.5, // 2 of 4 passed
  escalated: 1, // F16
  inquiry: 1, // F16
};

const HIGH: Figures = {
  discovered: 9, // F01 F04 F05 F08 F09 F12 F13 F16 F19
  pending_confirmation: 1,
  confirmed: 8,
  dismissed: 1,
  assigned: 6, // F08 F09 F12 F13 F16 F19
  explained: 1,
  awaiting_decision: 1,
  rectifying: 2, // F12 F16
  rectified: 2, // F13 F19
  verified: 0,
  overdue: 1, // F16
  not_reproduced_pending: 0,
  confirmed_and_dismissed: 1,
  rectification_rate: 0.3333, // 2 / (8 − 1 − 1)
  responses: 4, // F08 F09 F13 F19
  on_time_responses: 4,
  on_time_rate: 1,
  money_involved: '383000.00',
  money_recovered: '1000.00',
  money_regularised: '500.00',
  votes: 3,
  votes_failed: 2,
  satisfaction_rate: 0.3333, // F16 ×2 failed, F19 passed
  escalated: 1,
  inquiry: 1,
};

const LOW: Figures = {
  discovered: 5, // F02 F10 F15 F18 F22
  pending_confirmation: 1,
  confirmed: 4,
  dismissed: 1,
  assigned: 4,
  explained: 2, // F10 F18
  awaiting_decision: 0,
  rectifying: 0,
  rectified: 1, // F15
  verified: 1,
  overdue: 0,
  not_reproduced_pending: 0,
  confirmed_and_dismissed: 1, // F22
  rectification_rate: 1, // 1 / (4 − 1 − 2)
  responses: 3, // F10 (late) F15 F18
  on_time_responses: 2,
  on_time_rate: 0.6667,
  money_involved: '87500.15', // 500.05 + 60000 + 12000.10 + 15000
  money_recovered: '300.50',
  money_regularised: '0.00',
  votes: 1,
  votes_failed: 0,
  satisfaction_rate: 1,
  escalated: 0,
  inquiry: 0,
};

const MEDIUM: Figures = {
  discovered: 8, // F03 F06 F07 F11 F14 F17 F20 F21
  pending_confirmation: 0,
  confirmed: 7,
  dismissed: 1, // F03, before confirmation
  assigned: 6, // F06 F07 F11 F14 F17 F21
  explained: 0,
  awaiting_decision: 0,
  rectifying: 1, // F11
  rectified: 1, // F14
  verified: 1,
  overdue: 2, // F06 F11
  not_reproduced_pending: 1, // F20
  confirmed_and_dismissed: 0,
  rectification_rate: 0.1429, // 1 / 7
  responses: 1, // F14 (late)
  on_time_responses: 0,
  on_time_rate: 0,
  money_involved: '178000.00',
  money_recovered: '2000.00',
  money_regularised: '0.00',
  votes: 0,
  votes_failed: 0,
  satisfaction_rate: null,
  escalated: 0,
  inquiry: 0,
};

test('Q1 2026 totals and by-severity figures match the hand count', async () => {
  const s = await trackStats(store, { year: 2026, quarter: 1 }, { today: AS_OF });
  expect(s.scope).toMatchObject({ year: 2026, quarter: 1, as_of: AS_OF });
  expect(s.totals).toEqual(TOTALS);
  expect(s.by_severity).toEqual([
    { severity: 'high', ...HIGH },
    { severity: 'low', ...LOW },
    { severity: 'medium', ...MEDIUM },
  ]);
});

test('by rule and by agency: counts per group match the hand count and add up to the totals', async () => {
  const s = await trackStats(store, { year: 2026, quarter: 1 }, { today: AS_OF });
  expect(s.by_rule.map((g) => [g.rule_id, g.discovered, g.rectified, g.overdue, g.money_involved])).toEqual([
    // Sorted by rule id. R3: F06 F07 F12 F15 F19 — rectified F15 F19; overdue F06; 20000+30000+80000+12000.10
    [R3, 5, 2, 1, '142000.10'],
    // R2: F02 F04 F09 F10 F14 F17 F20 F22 — rectified F14; 500.05+50000+60000+11000+14000+16000
    [R2, 8, 1, 0, '151500.05'],
    // R1: F01 F03 F05 F08 F11 F13 F16 F18 F21 — rectified F13; overdue F11 F16; all but F03:
    // 100000+10000+40000+70000+90000+13000+15000+17000
    [R1, 9, 1, 2, '355000.00'],
  ]);
  // Agency = the assignee, else the flag's agency. F06 was assigned to department D2.
  expect(s.by_agency.map((g) => [g.agency, g.discovered, g.explained, g.rectifying, g.dismissed])).toEqual([
    ['A01', 8, 1, 1, 1], // F01 F03 F05 F08 F11 F14 F18 F20; explained F18; rectifying F11; dismissed F03
    ['A02', 7, 1, 0, 0], // F02 F07 F09 F13 F15 F17 F21; explained F09
    ['B01', 6, 1, 2, 2], // F04 F10 F12 F16 F19 F22; explained F10; rectifying F12 F16; dismissed F04 F22
    ['D2', 1, 0, 0, 0], // F06
  ]);
  for (const groups of [s.by_rule, s.by_agency, s.by_severity]) {
    expect(groups.reduce((n, g) => n + g.discovered, 0)).toBe(TOTALS.discovered);
    expect(groups.reduce((n, g) => n + g.overdue, 0)).toBe(TOTALS.overdue);
  }
});

test('scope: a year without a quarter, another quarter, region, and the flags outside', async () => {
  const year = await trackStats(store, { year: 2026 }, { today: AS_OF });
  expect(year.totals.discovered).toBe(23); // + X1
  const q2 = await trackStats(store, { year: 2026, quarter: 2 }, { today: AS_OF });
  expect(q2.totals).toMatchObject({ discovered: 1, confirmed: 1, money_involved: '999.00' });
  const y2025 = await trackStats(store, { year: 2025 }, { today: AS_OF });
  expect(y2025.totals.discovered).toBe(1); // X2
  expect((await trackStats(store, { year: 2026, quarter: 1, region: '999999' }, { today: AS_OF })).totals.discovered).toBe(0);
  expect((await trackStats(store, { year: 2026, quarter: 1, region: '370811' }, { today: AS_OF })).totals).toEqual(TOTALS);
  // On 2026-03-31 (the deadline of most) nothing is overdue yet.
  expect((await trackStats(store, { year: 2026, quarter: 1 }, { today: '2026-03-31' })).totals.overdue).toBe(0);
});

test('as of March 31 every flag counts in its state that day, whatever happened in April', async () => {
  const s = await trackStats(store, { year: 2026, quarter: 1 }, { today: '2026-03-31' });
  expect(s.scope.as_of).toBe('2026-03-31');
  expect(s.totals).toMatchObject({
    discovered: 22,
    dismissed: 2, // F03 F04 (F22 only on 04-06)
    explained: 3, // F09 F10 F18 (F18 reopened on 04-01)
    rectifying: 4, // F11 F12 F16 (failed vote 03-05) F22
    rectified: 5, // F13 F14 F15 F17 F19 (F17 reopened on 04-01)
    verified: 3, // F14 F15 F17
    overdue: 0,
    not_reproduced_pending: 0, // F20–F22 stopped reproducing on 04-05
    votes: 3, // F15 F16 F19 (F16's second vote on 04-20)
    votes_failed: 1,
    escalated: 1,
    inquiry: 0,
    money_recovered: '3300.50', // F13 1000 + F14 2000 + F15 300.50 (F16 back in rectification)
    money_regularised: '4500.00', // F13 500 + F17 4000 (reopened only in April)
  });
  // X1 was first seen at 01:00 on 04-01 in Beijing: it did not exist yet.
  expect((await trackStats(store, { year: 2026 }, { today: '2026-03-31' })).totals.discovered).toBe(22);
  expect((await trackStats(store, { year: 2026 }, { today: '2026-04-01' })).totals.discovered).toBe(23);
});

test('the CLI prints the same figures', async () => {
  await store.close();
  try {
    const r = await cli(db, 'track', 'stats', '--year', '2026', '--quarter', '1', '--as-of', AS_OF, '--format', 'json');
    expect(r.code).toBe(0);
    const s = JSON.parse(r.out);
    expect(s.totals).toEqual(TOTALS);
    expect(s.by_severity[0]).toEqual({ severity: 'high', ...HIGH });
    const bad = await cli(db, 'track', 'stats', '--quarter', '2');
    expect(bad.code).toBe(2);
  } finally {
    store = await openStore(db);
  }
});
