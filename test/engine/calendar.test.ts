import { describe, expect, it } from 'vitest';
import { openStore } from '../../engine/db.ts';
import chineseDays from 'chinese-days';
import { builtinExceptions, CALENDAR_BUILTIN_FIRST_YEAR, CALENDAR_BUILTIN_LAST_YEAR, refreshCalendar, todayInShanghai, WorkCalendar } from '../../engine/calendar.ts';

describe('working-day calendar', () => {
  it('reads the same exceptions from the package data as its isWorkday answers, day by day', () => {
    const holidays: string[] = [];
    const workdays: string[] = [];
    const d = new Date(Date.UTC(CALENDAR_BUILTIN_FIRST_YEAR, 0, 1));
    while (d.getUTCFullYear() <= CALENDAR_BUILTIN_LAST_YEAR) {
      const day = d.toISOString().slice(0, 10);
      const weekend = d.getUTCDay() === 0 || d.getUTCDay() === 6;
      const official = chineseDays.isWorkday(day);
      if (weekend && official) workdays.push(day);
      if (!weekend && !official) holidays.push(day);
      d.setUTCDate(d.getUTCDate() + 1);
    }
    expect(builtinExceptions()).toEqual({ holidays, workdays });
    expect(holidays.length).toBeGreaterThan(100);
  });

  it('knows PRC holidays and adjusted working days (调休)', async () => {
    const store = await openStore(':memory:');
    try {
      const cal = await WorkCalendar.load(store);
      expect(cal.isWorkday('2025-10-01')).toBe(false); // National Day, a Wednesday
      expect(cal.isWorkday('2025-09-28')).toBe(true); // Sunday worked in lieu
      expect(cal.isWorkday('2025-10-11')).toBe(true); // Saturday worked in lieu
      expect(cal.isWorkday('2025-10-12')).toBe(false); // plain Sunday
      expect(cal.isWorkday('2025-10-13')).toBe(true); // plain Monday
      expect(cal.isWorkday('2028-01-05')).toBe(true); // beyond built-in years: Monday–Friday
      // 2025-09-30 (Tue) + 1 working day skips the National Day week to 2025-10-09 (Thu).
      expect(cal.addWorkdays('2025-09-30', 1)).toBe('2025-10-09');
      expect(cal.workdaysBetween('2025-09-30', '2025-10-09')).toBe(1);
      expect(cal.workdaysBetween('2025-10-09', '2025-09-30')).toBe(-1);
      expect(cal.addWorkdays('2025-10-09', -1)).toBe('2025-09-30');
    } finally {
      await store.close();
    }
  });

  it('lets ref.calendar override the built-in calendar', async () => {
    const store = await openStore(':memory:');
    try {
      await store.run(`INSERT INTO ref.calendar VALUES
        (DATE '2025-10-13', 'holiday', NULL, 't', '1', now()),
        (DATE '2025-10-12', 'workday', NULL, 't', '1', now())`);
      await refreshCalendar(store);
      const rows = await store.all<{ day: string; is_workday: boolean; source: string }>(
        "SELECT strftime(day, '%Y-%m-%d') AS day, is_workday, source FROM fiscus.calendar_days WHERE day IN ('2025-10-12', '2025-10-13') ORDER BY day",
      );
      expect(rows).toEqual([
        { day: '2025-10-12', is_workday: true, source: 'ref.calendar' },
        { day: '2025-10-13', is_workday: false, source: 'ref.calendar' },
      ]);
    } finally {
      await store.close();
    }
  });

  it('gives today in Asia/Shanghai', () => {
    // 2026-03-08T17:00Z is already March 9 in Shanghai (UTC+8).
    expect(todayInShanghai(new Date('2026-03-08T17:00:00Z'))).toBe('2026-03-09');
  });
});
