import { afterAll, beforeAll, expect, test } from 'vitest';
import fs from 'node:fs';
import { openStore, type Store } from '../../engine/db.ts';
import { refreshCalendar } from '../../engine/calendar.ts';
import { listTracked, performAction, scanDeadlines, flagHistory, type Actor } from '../../tracker/index.ts';
import { insertFlags, tempDb } from './helpers.ts';

// June 2030 is past the built-in holiday years: plain Monday–Friday, plus these ref.calendar overrides.
// Mon 2030-06-10 and Fri 2030-06-14 are holidays; Sat 2030-06-22 is an adjusted working day (调休).
const sup: Actor = { name: '王秘书', role: 'supervisor' };
const at = (day: string) => new Date(`${day}T02:00:00Z`); // 10:00 in Asia/Shanghai

let store: Store;
let dir: string;

beforeAll(async () => {
  const t = tempDb();
  dir = t.dir;
  store = await openStore(t.db);
  await store.run(`INSERT INTO ref.calendar (date, kind, _batch_id, _row_hash, _ingested_at) VALUES
    ('2030-06-10', 'holiday', 'b', '1', now()), ('2030-06-14', 'holiday', 'b', '2', now()), ('2030-06-22', 'workday', 'b', '3', now())`);
  await refreshCalendar(store);
  await insertFlags(store, [
    { flag_id: 'D1', first_seen_at: '2030-06-01T02:00:00Z' },
    { flag_id: 'D2', first_seen_at: '2030-06-01T02:00:00Z' },
    { flag_id: 'D3', first_seen_at: '2030-06-01T02:00:00Z' },
  ]);
  for (const [id, due] of [['D1', '2030-06-14'], ['D2', '2030-06-07'], ['D3', '2030-06-07']]) {
    await performAction(store, id, { action: 'confirm' }, sup, { at: at('2030-06-03') });
    await performAction(store, id, { action: 'assign', due }, sup, { at: at('2030-06-03') });
  }
});
afterAll(async () => {
  await store.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

async function flag(id: string, today: string) {
  return (await listTracked(store, { today })).find((f) => f.flag_id === id)!;
}

test('a due date on a holiday rolls to the next working day; the report falls due 5 working days before it', async () => {
  const d1 = await flag('D1', '2030-06-05');
  // Fri 06-14 is a holiday → Mon 06-17. Five working days back: 13, 12, 11, (10 holiday), 07, 06.
  expect(d1).toMatchObject({ due_date: '2030-06-14', deadline: '2030-06-17', report_due: '2030-06-06', overdue: false });
  // Working days left from Wed 06-05: 06, 07, 11, 12, 13, 17 = 6.
  expect(d1.workdays_left).toBe(6);
});

test('overdue counts working days after the deadline; a weekend or holiday right after it is not yet overdue', async () => {
  // D2 due Fri 06-07: Sat 06-08, Sun 06-09 and the holiday Mon 06-10 are not working days.
  for (const day of ['2030-06-07', '2030-06-08', '2030-06-10']) expect((await flag('D2', day)).overdue).toBe(false);
  expect(await flag('D2', '2030-06-11')).toMatchObject({ overdue: true, overdue_workdays: 1 });
  // 11, 12, 13, (14 holiday), 17, 18 → 5 working days by Tue 06-18.
  expect(await flag('D2', '2030-06-18')).toMatchObject({ overdue: true, overdue_workdays: 5 });
  expect((await listTracked(store, { today: '2030-06-11', overdue: true })).map((f) => f.flag_id)).toEqual(['D2', 'D3']);
  // Due within 3 working days of Wed 06-12: D1 (deadline 06-17: 13, 17 → 2 left); D2/D3 are overdue, not "due soon".
  expect((await listTracked(store, { today: '2030-06-12', dueWithin: 3 })).map((f) => [f.flag_id, f.workdays_left])).toEqual([['D1', 2]]);
  expect((await listTracked(store, { today: '2030-06-12', dueWithin: 1 })).map((f) => f.flag_id)).toEqual([]);
});

test('on-time is judged by the same rule: a response on the Saturday after the deadline is on time, the next working day is late', async () => {
  const early = await performAction(store, 'D2', { action: 'explain', note: '周六报送的说明' }, sup, { at: at('2030-06-08') });
  expect(JSON.parse(early.event.data!)).toMatchObject({ on_time: true, due_date: '2030-06-07' });
  const late = await performAction(store, 'D3', { action: 'explain', note: '逾期报送' }, sup, { at: at('2030-06-11') });
  expect(JSON.parse(late.event.data!)).toMatchObject({ on_time: false });
  // The clock stops once the unit has responded.
  expect(await flag('D3', '2030-06-20')).toMatchObject({ status: 'explained', overdue: false, clock_running: false });
  await performAction(store, 'D3', { action: 'reject-explanation', note: '说明不成立' }, sup, { at: at('2030-06-12') });
  expect(await flag('D3', '2030-06-20')).toMatchObject({ status: 'assigned', overdue: true, clock_running: true });
});

test('scanDeadlines appends due_soon and overdue once per flag per due date; an extension re-arms them', async () => {
  // D3 went back to assigned with its old due date (Fri 06-07): its report fell due Fri 05-31.
  const s1 = await scanDeadlines(store, { today: '2030-06-05' });
  expect(s1.overdue).toEqual([]);
  expect(s1.due_soon.map((e) => e.flag_id)).toEqual(['D3']);
  const s2 = await scanDeadlines(store, { today: '2030-06-06' });
  expect(s2.overdue).toEqual([]);
  expect(s2.due_soon.map((e) => e.flag_id)).toEqual(['D1']);
  expect(JSON.parse(s2.due_soon[0].data!)).toMatchObject({ due_date: '2030-06-14', deadline: '2030-06-17', report_due: '2030-06-06' });
  const again = await scanDeadlines(store, { today: '2030-06-07' });
  expect([again.overdue.length, again.due_soon.length]).toEqual([0, 0]);
  expect((await scanDeadlines(store, { today: '2030-06-10' })).overdue).toEqual([]);
  expect((await scanDeadlines(store, { today: '2030-06-11' })).overdue.map((e) => e.flag_id)).toEqual(['D3']);
  // D1 overdue on Tue 06-18 (the day after its effective deadline), once.
  expect((await scanDeadlines(store, { today: '2030-06-17' })).overdue).toEqual([]);
  const s3 = await scanDeadlines(store, { today: '2030-06-18' });
  expect(s3.overdue.map((e) => [e.flag_id, JSON.parse(e.data!).overdue_workdays])).toEqual([['D1', 1]]);
  expect((await scanDeadlines(store, { today: '2030-06-19' })).overdue).toEqual([]);

  // Extend D1 to Fri 06-28: the report falls due 5 working days before: 27, 26, 25, 24, 22 (调休 Saturday) → 06-22.
  await performAction(store, 'D1', { action: 'extend', due: '2030-06-28', note: '需协调财政局' }, sup, { at: at('2030-06-19') });
  expect((await flag('D1', '2030-06-19')).report_due).toBe('2030-06-22');
  expect((await scanDeadlines(store, { today: '2030-06-21' })).due_soon).toEqual([]);
  expect((await scanDeadlines(store, { today: '2030-06-22' })).due_soon.map((e) => e.flag_id)).toEqual(['D1']);
  expect((await scanDeadlines(store, { today: '2030-07-01' })).overdue.map((e) => e.flag_id)).toEqual(['D1']);

  const h = await flagHistory(store, 'D1', { today: '2030-07-01' });
  expect(h.events.filter((e) => ['flag.due_soon', 'flag.overdue', 'flag.extended'].includes(e.type)).map((e) => e.type)).toEqual([
    'flag.due_soon',
    'flag.overdue',
    'flag.extended',
    'flag.due_soon',
    'flag.overdue',
  ]);
  expect(h.events.find((e) => e.type === 'flag.overdue')).toMatchObject({ actor: 'fiscus', role: 'system', from_status: null, to_status: null });
});
