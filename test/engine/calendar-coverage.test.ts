/**
 * The working-day calendar past its official schedules: chinese-days 1.5.7 stops at
 * 2026. Every later day still has a working-day answer (SQL and JS), the years
 * without a schedule are known, and the warning says how to load one.
 */
import { describe, expect, it } from 'vitest';
import {
  CALENDAR_BUILTIN_LAST_YEAR, CALENDAR_YEARS_AHEAD, calendarTooShort, calendarWarning, calendarWarningFor, refreshCalendar, WorkCalendar,
} from '../../engine/calendar.ts';
import { todayInShanghai } from '../../engine/dates.ts';
import { openStore } from '../../engine/db.ts';
import { migrate } from '../../engine/migrations.ts';
import { duckdb, postgres } from '../../rules/language/dialects/index.ts';
import { freshDatabase } from '../helpers/postgres.ts';

const thisYear = Number(todayInShanghai().slice(0, 4));

describe('calendar coverage', () => {
  it('has a row for every day from 2000 to 30 years ahead, so working-day SQL is never null', async () => {
    const store = await openStore(':memory:');
    try {
      const r = await store.one<{ first: string; last: string; n: number; gaps: number }>(
        `SELECT CAST(min(day) AS VARCHAR) AS first, CAST(max(day) AS VARCHAR) AS last, count(*)::INTEGER AS n,
                (max(day) - min(day) + 1 - count(*))::INTEGER AS gaps FROM fiscus.calendar_days`,
      );
      expect(r!.first).toBe('2000-01-01');
      expect(Number(r!.last.slice(0, 4))).toBeGreaterThanOrEqual(Math.max(2030, thisYear + CALENDAR_YEARS_AHEAD));
      expect(r!.gaps).toBe(0);
      // The stored ordinal is the running count of working days, every day of the table.
      const off = await store.one<{ n: number }>(`
        SELECT count(*)::INTEGER AS n FROM (
          SELECT workday_ord, CAST(sum(CASE WHEN is_workday THEN 1 ELSE 0 END) OVER (ORDER BY day) AS INTEGER) AS counted FROM fiscus.calendar_days
        ) WHERE workday_ord IS DISTINCT FROM counted`);
      expect(off).toEqual({ n: 0 });
      // The CTE the rule language uses for workdays_between / add_workdays: an ordinal per day.
      const w = await store.one<{ between: number | null; plus: string | null }>(`
        WITH ${duckdb.workdayCte()}
        SELECT (SELECT ord FROM fiscus_workdays WHERE day = DATE '2035-03-30') - (SELECT ord FROM fiscus_workdays WHERE day = DATE '2035-03-23') AS between,
               CAST((SELECT min(w2.day) FROM fiscus_workdays w2 WHERE w2.is_workday AND w2.ord = (SELECT ord FROM fiscus_workdays WHERE day = DATE '2031-12-31') + 1) AS VARCHAR) AS plus`);
      expect(w).toEqual({ between: 5, plus: '2032-01-01' }); // 2035-03-23 and -30 are Fridays; 2032-01-01 a Thursday, no schedule
      const cal = await WorkCalendar.load(store);
      expect(cal.isWorkday('2031-01-01')).toBe(true); // a Wednesday: no schedule, so a working day
      expect(cal.isWorkday('2099-01-03')).toBe(false); // Saturday beyond the table: weekends still rest
      expect(cal.workdaysBetween('2099-01-02', '2099-01-09')).toBe(5);
    } finally {
      await store.close();
    }
  });

  it('knows which years have an official schedule; ref.calendar rows make a year official', async () => {
    const store = await openStore(':memory:');
    try {
      let cal = await WorkCalendar.load(store);
      expect(cal.hasOfficialSchedule(2025)).toBe(true);
      expect(cal.hasOfficialSchedule(CALENDAR_BUILTIN_LAST_YEAR)).toBe(true);
      expect(cal.hasOfficialSchedule(2027)).toBe(false);
      expect(cal.yearsWithoutSchedule(['2026-12-31', '2027-02-10', null, '2028-01-01', '2027-05-01', undefined])).toEqual([2027, 2028]);
      // 2027's Spring Festival counts as working days until a schedule is loaded …
      expect(cal.isWorkday('2027-02-08')).toBe(true);
      await store.run(`INSERT INTO ref.calendar VALUES (DATE '2027-02-08', 'holiday', NULL, 't', '1', now()), (DATE '2027-02-20', 'workday', NULL, 't', '1', now())`);
      await refreshCalendar(store);
      cal = await WorkCalendar.load(store);
      expect(cal.isWorkday('2027-02-08')).toBe(false);
      expect(cal.isWorkday('2027-02-20')).toBe(true);
      expect(cal.hasOfficialSchedule(2027)).toBe(true);
      expect(await calendarWarningFor(store, ['2027-03-01'])).toBe('');
      expect(await calendarWarningFor(store, ['2028-03-01'], 'en')).toMatch(/2028/);
    } finally {
      await store.close();
    }
  });

  it.skipIf(!process.env.FISCUS_TEST_PG_URL)('on PostgreSQL the working-day lookups give the same answers, by the calendar key', async () => {
    const store = await openStore(await freshDatabase('workdays'));
    try {
      const q = `WITH ${postgres.workdayCte()}
        SELECT (SELECT w.ord FROM fiscus_workdays w WHERE w.day = DATE '2035-03-30') - (SELECT w.ord FROM fiscus_workdays w WHERE w.day = DATE '2035-03-23') AS between,
               CAST((SELECT min(w2.day) FROM fiscus_workdays w2 WHERE w2.is_workday AND w2.ord = (SELECT w.ord FROM fiscus_workdays w WHERE w.day = DATE '2031-12-31') + 1) AS VARCHAR) AS plus,
               (SELECT w.is_workday FROM fiscus_workdays w WHERE w.day = DATE '2025-10-01') AS national_day`;
      expect(await store.one(q)).toEqual({ between: 5, plus: '2032-01-01', national_day: false });
      // Inlined, not materialised: a per-row lookup is an index scan, not a scan of the whole calendar.
      const plan = (await store.all<{ 'QUERY PLAN': string }>(`EXPLAIN ${q}`)).map((r) => r['QUERY PLAN']).join('\n');
      expect(plan).toContain('calendar_days_pkey');
      expect(plan).not.toMatch(/CTE Scan/);
    } finally {
      await store.close();
    }
  });

  it('warns in zh and en, naming the years and how to load a schedule', () => {
    expect(calendarWarning([])).toBe('');
    const zh = calendarWarning([2027, 2028], 'zh');
    expect(zh).toContain('2027、2028 年没有加载官方节假日安排');
    expect(zh).toContain('fiscus ingest ref.calendar.csv');
    const en = calendarWarning([2027], 'en');
    expect(en).toContain('no official holiday schedule is loaded for 2027');
    expect(en).toContain('ref.calendar');
    expect(calendarWarning([2027])).toContain(' / ');
  });

  it('a table made by an older fiscus (to 2030) is extended when the database is opened', async () => {
    const store = await openStore(':memory:');
    try {
      await store.run("DELETE FROM fiscus.calendar_days WHERE day > DATE '2030-12-31'");
      expect(await calendarTooShort(store)).toBe(true);
      await migrate(store);
      expect(await calendarTooShort(store)).toBe(false);
      expect((await store.one<{ n: number }>("SELECT count(*)::INTEGER AS n FROM fiscus.calendar_days WHERE day = DATE '2040-06-01'"))?.n).toBe(1);
    } finally {
      await store.close();
    }
  });
});
