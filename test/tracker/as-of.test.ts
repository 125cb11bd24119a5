/**
 * Point-in-time state (tracker/as-of.ts): a varied history played day by day
 * on a real DuckDB file. At the end of every simulated day the CURRENT state
 * (fiscus.flags columns, listTracked, trackStats) is recorded; afterwards the
 * state reconstructed from the event log "as of" that day must equal what
 * was recorded then — for every day, after everything that came later.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import fs from 'node:fs';
import { openStore, type Store } from '../../engine/db.ts';
import { appendFlagEvents } from '../../engine/flag-events.ts';
import { loadRawFlagsAsOf } from '../../tracker/as-of.ts';
import { loadRawFlags, type RawFlag } from '../../tracker/flags.ts';
import {
  listTracked,
  performAction,
  scanDeadlines,
  trackStats,
  type Actor,
  type TrackAction,
  type TrackedFlag,
  type TrackStats,
} from '../../tracker/index.ts';
import { cli, insertAgencies, insertFlags, tempDb } from './helpers.ts';

const sup: Actor = { name: '王秘书', role: 'supervisor' };
const unit = (code: string): Actor => ({ name: '单位财务', role: 'agency', agencyCode: code });

/** One step of the history: a tracker action, a rule-run mark, or a deadline scan, at an exact instant. */
type Step =
  | { at: string; id: string; action: TrackAction; actor?: Actor }
  | { at: string; id: string; rules: 'flag.not_reproduced' | 'flag.reproduced' }
  | { at: string; scan: true };

// 10:00, 23:30 and (next day) 00:30 Beijing time on a day.
const am = (d: string) => `${d}T02:00:00Z`;
const late = (d: string) => `${d}T15:30:00Z`;
const afterMidnight = (d: string) => `${d}T16:30:00Z`;
const act = (at: string, id: string, action: TrackAction, actor?: Actor): Step => ({ at, id, action, actor });
const mark = (at: string, id: string, rules: 'flag.not_reproduced' | 'flag.reproduced'): Step => ({ at, id, rules });
const scan = (at: string): Step => ({ at, scan: true });

const steps: Step[] = ([
  // 2025 — G1: rectifying past its deadline at the year end; reported and verified in 2026.
  act(am('2025-11-12'), 'G1', { action: 'confirm' }),
  act(am('2025-11-13'), 'G1', { action: 'assign', due: '2025-12-15' }),
  act(am('2025-11-20'), 'G1', { action: 'start-rectification', category: 'immediate' }, unit('A01')),
  // G2: explained on time, explanation rejected with a new due date; explained again in 2026.
  act(am('2025-11-12'), 'G2', { action: 'confirm' }),
  act(am('2025-11-13'), 'G2', { action: 'assign', due: '2025-12-31', to: 'A02' }),
  act(am('2025-12-20'), 'G2', { action: 'explain', note: '说明' }, unit('A02')),
  act(am('2025-12-22'), 'G2', { action: 'reject-explanation', due: '2026-01-30', note: '理由不充分' }),
  // G3: extended, reported, failed a vote (back to rectifying, escalated) — all in 2025.
  act(am('2025-11-12'), 'G3', { action: 'confirm' }),
  act(am('2025-11-13'), 'G3', { action: 'assign', due: '2025-12-01' }),
  act(am('2025-11-28'), 'G3', { action: 'extend', due: '2025-12-19', note: '申请延期' }),
  act(am('2025-12-01'), 'G3', { action: 'start-rectification', category: 'phased' }),
  act(am('2025-12-18'), 'G3', { action: 'report-rectified', note: '整改完成', amount_recovered: '50.00', amount_regularised: '20.00' }),
  act(am('2025-12-25'), 'G3', { action: 'vote', satisfied: 3, basic: 2, unsatisfied: 6, members: 15 }),
  // G4 dismissed before confirmation; G5 confirmed (dismissed in 2026 after it stops reproducing).
  act(am('2025-11-15'), 'G4', { action: 'dismiss', note: '误报' }),
  act(am('2025-11-12'), 'G5', { action: 'confirm' }),
  // G6: stops reproducing, kept.
  act(am('2025-11-12'), 'G6', { action: 'confirm' }),
  mark(am('2025-12-05'), 'G6', 'flag.not_reproduced'),
  act(am('2025-12-06'), 'G6', { action: 'keep', note: '继续跟踪' }),
  // G8: assigned to another unit, reported on time, voted through; reopened in 2026.
  act(am('2025-11-12'), 'G8', { action: 'confirm' }),
  act(am('2025-12-01'), 'G8', { action: 'assign', due: '2026-01-10', to: 'B01' }),
  act(am('2025-12-03'), 'G8', { action: 'start-rectification', category: 'immediate' }, unit('B01')),
  act(am('2025-12-10'), 'G8', { action: 'report-rectified', note: '整改完成', amount_recovered: '300.00' }, unit('B01')),
  act(am('2025-12-12'), 'G8', { action: 'vote', satisfied: 10, basic: 2, unsatisfied: 1, members: 15 }),
  // G9: explained and accepted late in the evening of 12-30 (still that day in Beijing).
  act(am('2025-11-12'), 'G9', { action: 'confirm' }),
  act(am('2025-11-13'), 'G9', { action: 'assign', due: '2025-12-19' }),
  act(am('2025-12-29'), 'G9', { action: 'explain', note: '逾期说明' }),
  act(late('2025-12-30'), 'G9', { action: 'accept-explanation' }),
  scan(am('2025-12-30')),
  // 00:30 on 2026-01-01 in Beijing, 2025-12-31 in UTC: belongs to 2026.
  act(afterMidnight('2025-12-31'), 'G1', { action: 'report-rectified', note: '整改完成', amount_recovered: '100.00' }, unit('A01')),

  // 2026.
  act(am('2026-01-05'), 'G3', { action: 'report-rectified', note: '整改完成', amount_recovered: '80.00' }),
  act(am('2026-01-08'), 'G3', { action: 'vote', satisfied: 9, basic: 3, unsatisfied: 1, members: 15 }),
  act(am('2026-01-12'), 'G3', { action: 'verify' }),
  mark(am('2026-01-03'), 'G5', 'flag.not_reproduced'),
  act(am('2026-01-05'), 'G5', { action: 'dismiss', note: '数据已更正' }),
  mark(am('2026-01-03'), 'G6', 'flag.reproduced'),
  mark(am('2026-01-20'), 'G6', 'flag.not_reproduced'),
  act(am('2026-01-09'), 'G8', { action: 'verify' }),
  act(am('2026-01-20'), 'G8', { action: 'reopen', due: '2026-03-31', note: '复查反弹' }),
  act(am('2026-01-25'), 'G2', { action: 'explain', note: '补充说明' }, unit('A02')),
  act(am('2026-02-01'), 'G2', { action: 'accept-explanation' }),
  act(am('2026-01-10'), 'G9', { action: 'reopen', due: '2026-02-27', note: '重新核查' }),
  act(am('2026-02-10'), 'G1', { action: 'verify' }),
  act(am('2026-02-12'), 'G10', { action: 'confirm' }),
  scan(am('2026-03-02')),
] as Step[]).sort((a, b) => a.at.localeCompare(b.at));

const beijingDay = (iso: string) => new Date(new Date(iso).getTime() + 8 * 3600_000).toISOString().slice(0, 10);

let store: Store;
let db: string;
let dir: string;
/** What the current state said at the end of each Beijing day on which something happened. */
const recorded = new Map<string, { raw: RawFlag[]; list: TrackedFlag[]; stats2025: TrackStats; statsAll: TrackStats }>();

async function record(day: string) {
  recorded.set(day, {
    raw: await loadRawFlags(store),
    list: await listTracked(store, { today: day }),
    stats2025: await trackStats(store, { year: 2025, basis: 'period' }, { today: day }),
    statsAll: await trackStats(store, {}, { today: day }),
  });
}

async function runStep(s: Step) {
  if ('scan' in s) {
    await scanDeadlines(store, { at: new Date(s.at) });
  } else if ('rules' in s) {
    // As rules/run/store-flags.ts does: the column and its event in one transaction.
    await store.transaction(async () => {
      await store.run('UPDATE fiscus.flags SET reproduced = $r WHERE flag_id = $id', { r: s.rules === 'flag.reproduced', id: s.id });
      await appendFlagEvents(store, [{ flag_id: s.id, event_type: s.rules, actor: 'rules', role: 'system', at: new Date(s.at) }]);
    });
  } else {
    await performAction(store, s.id, s.action, s.actor ?? sup, { at: new Date(s.at) });
  }
}

beforeAll(async () => {
  ({ db, dir } = tempDb());
  store = await openStore(db);
  await insertAgencies(store);
  // Every flag is about fiscal 2025 (period basis: 2025-12-31); G10 is first seen only in 2026.
  await insertFlags(store, [
    ...['G1', 'G2', 'G3', 'G4', 'G5', 'G6', 'G8', 'G9'].map((flag_id, i) => ({
      flag_id,
      first_seen_at: '2025-11-10T02:00:00Z',
      amount: `${(i + 1) * 1000}.00`,
      severity: i % 2 ? ('medium' as const) : ('high' as const),
    })),
    { flag_id: 'G10', first_seen_at: '2026-02-11T02:00:00Z', amount: '777.00' },
  ]);
  await record('2025-11-10');
  let day = '';
  for (const s of steps) {
    const d = beijingDay(s.at);
    if (day && d !== day) await record(day);
    day = d;
    await runStep(s);
  }
  await record(day);
});
afterAll(async () => {
  await store.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('state as of a day equals the current state recorded at the end of that day', () => {
  test('flag rows: status, reproduced, assignee, due date, votes, marks, last event', async () => {
    expect(recorded.size).toBeGreaterThan(15);
    for (const [day, then] of recorded) {
      const asOf = (await loadRawFlagsAsOf(store, day)).map(({ ever_confirmed, ever_assigned, last_response, last_rectified, ...r }) => r);
      // Flags not yet first seen did not exist; the rest match field by field.
      const existed = then.raw.filter((r) => r.first_seen_day <= day);
      expect(asOf, day).toEqual(existed);
    }
  });

  test('listTracked({ asOf }) and trackStats as of the day', async () => {
    for (const [day, then] of recorded) {
      expect(await listTracked(store, { asOf: day }), day).toEqual(then.list.filter((f) => f.first_seen_at.slice(0, 10) <= day));
      expect(await trackStats(store, { year: 2025, basis: 'period' }, { today: day }), day).toEqual(then.stats2025);
      expect(await trackStats(store, {}, { today: day }), day).toEqual(then.statsAll);
    }
  });

  test('as of today it is the current state', async () => {
    const current = await loadRawFlags(store);
    const today = beijingDay(new Date().toISOString());
    const asOf = (await loadRawFlagsAsOf(store, today)).map(
      ({ ever_confirmed, ever_assigned, last_response, last_rectified, ...r }) => r,
    );
    expect(asOf).toEqual(current);
    expect(await listTracked(store, { asOf: today })).toEqual(await listTracked(store));
  });
});

describe('the year-end figures do not move after 2026', () => {
  test('a flag verified in February 2026 counts as rectifying, assigned and overdue on 2025-12-31', async () => {
    const s = await trackStats(store, { year: 2025, basis: 'period' }, { today: '2025-12-31' });
    expect(s.scope.as_of).toBe('2025-12-31');
    expect(s.totals).toMatchObject({
      discovered: 8, // G10 was first seen in 2026
      pending_confirmation: 0,
      confirmed: 7, // all but G4
      dismissed: 1, // G4 (G5 only in 2026)
      assigned: 5, // G1 G2 G3 G8 G9
      explained: 1, // G9, accepted 23:30 on 12-30
      awaiting_decision: 0, // G2's explanation was rejected
      rectifying: 2, // G1 (its report came at 00:30 on 01-01), G3 (failed vote)
      rectified: 1, // G8 (verified only in 2026)
      verified: 0,
      overdue: 2, // G1 due 12-15, G3 extended to 12-19; G2's due date was moved to 2026-01-30
      not_reproduced_pending: 0, // G6 kept on 12-06
      confirmed_and_dismissed: 0,
      rectification_rate: 0.1667, // 1 / (7 − 0 − 1)
      responses: 2, // G8 (report, on time), G9 (explained 12-29, due 12-19: late)
      on_time_responses: 1,
      money_recovered: '300.00', // G8; G3's 50.00 was sent back by the vote
      money_regularised: '0.00',
      votes: 2,
      votes_failed: 1,
      escalated: 1,
      inquiry: 0,
    });
    const g1 = (await listTracked(store, { asOf: '2025-12-31' })).find((f) => f.flag_id === 'G1')!;
    expect(g1).toMatchObject({ status: 'rectifying', overdue: true, due_date: '2025-12-15' });
    const now = (await listTracked(store)).find((f) => f.flag_id === 'G1')!;
    expect(now.status).toBe('verified');
  });

  test('filters apply to the state as of the day', async () => {
    const rectifying = await listTracked(store, { asOf: '2025-12-31', status: ['rectifying'] });
    expect(rectifying.map((f) => f.flag_id)).toEqual(['G1', 'G3']);
    const b01 = await listTracked(store, { asOf: '2025-11-30', agency: ['B01'] });
    expect(b01.map((f) => f.flag_id)).toEqual([]); // G8 was assigned to B01 only on 12-01
    expect((await listTracked(store, { asOf: '2025-12-01', agency: ['B01'] })).map((f) => f.flag_id)).toEqual(['G8']);
    const decide = await listTracked(store, { asOf: '2025-12-05', needsDecision: true });
    expect(decide.map((f) => f.flag_id)).toEqual(['G6']);
    expect(await listTracked(store, { asOf: '2025-11-09' })).toEqual([]);
  });

  test('the CLI: track stats and track list --as-of, and a bad date', async () => {
    await store.close();
    try {
      const st = await cli(db, 'track', 'stats', '--year', '2025', '--basis', 'period', '--as-of', '2025-12-31', '--format', 'json');
      expect(st.code, st.err).toBe(0);
      expect(JSON.parse(st.out).totals).toMatchObject({ discovered: 8, rectifying: 2, rectified: 1, verified: 0 });
      const ls = await cli(db, 'track', 'list', '--as-of', '2025-12-31', '--status', 'rectifying', '--format', 'json');
      expect(ls.code, ls.err).toBe(0);
      expect(JSON.parse(ls.out).map((f: TrackedFlag) => f.flag_id)).toEqual(['G1', 'G3']);
      const bad = await cli(db, 'track', 'stats', '--as-of', '2025-02-30');
      expect(bad.code).toBe(2);
    } finally {
      store = await openStore(db);
    }
  });
});

test('a date that is not a day is refused before any SQL runs', async () => {
  await expect(loadRawFlagsAsOf(store, "2025-12-31'; DROP TABLE fiscus.flags; --")).rejects.toThrow(/not a date/);
  await expect(trackStats(store, {}, { today: '2025-13-01' })).rejects.toMatchObject({ code: 'BAD_INPUT' });
});
