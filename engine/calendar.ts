/**
 * The working-day calendar shared by the rules (非工作日支付, deadlines) and the
 * tracker (overdue in working days).
 *
 * Built in: the official PRC holidays and adjusted working days (调休) for
 * 2019–2026 from `chinese-days` (1.5.7, its newest release, stops at 2026);
 * outside those years a day is a working day when it is Monday–Friday.
 * `ref.calendar` rows override both (FEEDS.md). The merged result is
 * materialised in `fiscus.calendar_days` so rules can join it in SQL;
 * `WorkCalendar` is the same data in memory for JS callers.
 *
 * The table spans CALENDAR_FIRST_YEAR to at least 30 years after the year it
 * is built in (and the last year of `ref.calendar`), so the working-day SQL is
 * defined for every date a rule or a deadline meets; JS falls back to
 * Monday–Friday outside it. A year with neither a built-in schedule nor
 * `ref.calendar` rows counts weekends only: `calendarWarning` says so, and how
 * to load one, wherever such a year is used (rules run, track, the report).
 */
import { createRequire } from 'node:module';
import { isIsoDate, isoWeekday, todayInShanghai, yearOf, type IsoDate } from './dates.ts';
import type { Store } from './db.ts';

export { todayInShanghai, type IsoDate };

/** First year of `fiscus.calendar_days` (years before the built-in ones count Monday–Friday). */
export const CALENDAR_FIRST_YEAR = 2000;
export const CALENDAR_BUILTIN_FIRST_YEAR = 2019;
export const CALENDAR_BUILTIN_LAST_YEAR = 2026;
/** The table reaches at least this year, and at least CALENDAR_YEARS_AHEAD years past the year it is built. */
export const CALENDAR_LAST_YEAR = 2030;
export const CALENDAR_YEARS_AHEAD = 30;

function isWeekend(day: IsoDate): boolean {
  return isoWeekday(day) >= 6;
}

interface ChineseDaysData {
  /** Official days off (weekends inside a holiday included), by ISO date. */
  holidays: Record<string, string>;
  /** Official working days (调休 weekends among them), by ISO date. */
  workdays: Record<string, string>;
}

let exceptions: { holidays: IsoDate[]; workdays: IsoDate[] } | undefined;

/**
 * Days where the official calendar differs from plain Monday–Friday. Read from
 * the package's own data file rather than by asking `isWorkday` of each of the
 * 2,900 days: that took 0.55 s, paid by every new database (the calendar is
 * built at creation) and so by every `fiscus` command that made one.
 */
export function builtinExceptions(): { holidays: IsoDate[]; workdays: IsoDate[] } {
  if (exceptions) return exceptions;
  const data = createRequire(import.meta.url)('chinese-days/dist/chinese-days.json') as ChineseDaysData;
  const builtin = (day: string): boolean => {
    const y = yearOf(day);
    return isIsoDate(day) && y >= CALENDAR_BUILTIN_FIRST_YEAR && y <= CALENDAR_BUILTIN_LAST_YEAR;
  };
  const holidays = Object.keys(data.holidays).filter((d) => builtin(d) && !isWeekend(d) && !(d in data.workdays));
  const workdays = Object.keys(data.workdays).filter((d) => builtin(d) && isWeekend(d));
  exceptions = { holidays: holidays.sort(), workdays: workdays.sort() };
  return exceptions;
}

function dateList(days: IsoDate[]): string[] {
  // Values come from our own calendar generator, validated here, so inlining is safe.
  for (const d of days) if (!isIsoDate(d)) throw new Error(`calendar: bad date ${d}`);
  return days.map((d) => `DATE '${d}'`);
}

function inDates(store: Store, day: string, days: IsoDate[]): string {
  return store.dialect.inList(day, dateList(days));
}

/** Rebuild `fiscus.calendar_days`. Call after ingesting `ref.calendar`. */
export async function refreshCalendar(store: Store): Promise<void> {
  const { holidays, workdays } = builtinExceptions();
  const sql = store.dialect;
  const lastLoaded = (await store.one<{ d: string | null }>('SELECT CAST(max(date) AS VARCHAR) AS d FROM ref.calendar'))?.d ?? null;
  const lastYear = Math.max(CALENDAR_LAST_YEAR, yearOf(todayInShanghai()) + CALENDAR_YEARS_AHEAD, lastLoaded ? yearOf(lastLoaded) : 0);
  await store.transaction(async () => {
    await store.run('DELETE FROM fiscus.calendar_days');
    // workday_ord: working days from the calendar's first day up to and including this one, so
    // "n working days after" and "working days between" are lookups by day (rules' fiscus_workdays).
    await store.run(`
      INSERT INTO fiscus.calendar_days (day, is_workday, source, workday_ord)
      WITH days AS (
        ${sql.dateSeries(`DATE '${CALENDAR_FIRST_YEAR}-01-01'`, `DATE '${lastYear}-12-31'`)}
      ), judged AS (
        SELECT d.day,
          CASE
            WHEN o.kind = 'workday' THEN true
            WHEN o.kind = 'holiday' THEN false
            WHEN ${inDates(store, 'd.day', workdays)} THEN true
            WHEN ${inDates(store, 'd.day', holidays)} THEN false
            ELSE ${sql.isoDow('d.day')} <= 5
          END AS is_workday,
          CASE
            WHEN o.kind IS NOT NULL THEN 'ref.calendar'
            WHEN ${sql.year('d.day')} BETWEEN ${CALENDAR_BUILTIN_FIRST_YEAR} AND ${CALENDAR_BUILTIN_LAST_YEAR} THEN 'builtin'
            ELSE 'weekday'
          END AS source
        FROM days d LEFT JOIN ref.calendar o ON o.date = d.day
      )
      SELECT day, is_workday, source, CAST(sum(CASE WHEN is_workday THEN 1 ELSE 0 END) OVER (ORDER BY day) AS INTEGER)
      FROM judged`);
  });
}

/** Whether `fiscus.calendar_days` ends before CALENDAR_YEARS_AHEAD / 2 years from now (then refresh it). */
export async function calendarTooShort(store: Store): Promise<boolean> {
  const r = await store.one<{ d: string | null }>('SELECT CAST(max(day) AS VARCHAR) AS d FROM fiscus.calendar_days');
  return !r?.d || yearOf(r.d) < yearOf(todayInShanghai()) + CALENDAR_YEARS_AHEAD / 2;
}

/** In-memory view of `fiscus.calendar_days` for deadline arithmetic in JS. */
export class WorkCalendar {
  private constructor(
    private readonly workday: Map<IsoDate, boolean>,
    /** Years with an official schedule: built in, or any `ref.calendar` row. */
    private readonly official: ReadonlySet<number>,
  ) {}

  static async load(store: Store): Promise<WorkCalendar> {
    const rows = await store.all<{ day: string; is_workday: boolean; source: string }>(
      'SELECT CAST(day AS VARCHAR) AS day, is_workday, source FROM fiscus.calendar_days',
    );
    const official = new Set<number>();
    for (const r of rows) if (r.source !== 'weekday') official.add(yearOf(r.day));
    return new WorkCalendar(new Map(rows.map((r) => [r.day, r.is_workday])), official);
  }

  /** Whether `year` has an official holiday schedule (built in or from `ref.calendar`). */
  hasOfficialSchedule(year: number): boolean {
    return this.official.has(year);
  }

  /** The years of `days` (nulls skipped) that count Monday–Friday only, ascending. */
  yearsWithoutSchedule(days: Iterable<IsoDate | null | undefined>): number[] {
    const out = new Set<number>();
    for (const d of days) {
      // Called with every due date of a listing: the year is all that matters, so no full parse.
      if (!d) continue;
      const y = yearOf(d);
      if (Number.isInteger(y) && !this.official.has(y)) out.add(y);
    }
    return [...out].sort((a, b) => a - b);
  }

  isWorkday(day: IsoDate): boolean {
    return this.workday.get(day) ?? !isWeekend(day);
  }

  /** The date `n` working days after `day` (n may be negative). */
  addWorkdays(day: IsoDate, n: number): IsoDate {
    const d = new Date(`${day}T00:00:00Z`);
    const step = n >= 0 ? 1 : -1;
    let left = Math.abs(n);
    while (left > 0) {
      d.setUTCDate(d.getUTCDate() + step);
      if (this.isWorkday(d.toISOString().slice(0, 10))) left--;
    }
    return d.toISOString().slice(0, 10);
  }

  /** Working days in (from, to]: how many working days `to` is after `from` (negative if before). */
  workdaysBetween(from: IsoDate, to: IsoDate): number {
    if (from === to) return 0;
    const sign = to > from ? 1 : -1;
    const [a, b] = sign > 0 ? [from, to] : [to, from];
    const d = new Date(`${a}T00:00:00Z`);
    let count = 0;
    for (;;) {
      d.setUTCDate(d.getUTCDate() + 1);
      const iso = d.toISOString().slice(0, 10);
      if (iso > b) break;
      if (this.isWorkday(iso)) count++;
    }
    return sign * count;
  }
}


/**
 * The warning for dates in years without an official schedule (`years` from
 * `WorkCalendar.yearsWithoutSchedule`), in the CLI's bilingual form or in one
 * language for the report; '' when there are none.
 */
export function calendarWarning(years: readonly number[], lang: 'zh' | 'en' | 'both' = 'both'): string {
  if (years.length === 0) return '';
  const ys = years.join(', ');
  const zh =
    `${years.join('、')} 年没有加载官方节假日安排，工作日按周一至周五计算（春节、国庆等假期会被算作工作日）。` +
    '请以 ref.calendar 行加载：fiscus ingest ref.calendar.csv（列 date, kind = holiday | workday）。';
  const en =
    `no official holiday schedule is loaded for ${ys}: working days count Monday–Friday only (the Spring Festival and other holidays count as working days). ` +
    'Load one as ref.calendar rows: fiscus ingest ref.calendar.csv (columns date, kind = holiday | workday).';
  return lang === 'zh' ? zh : lang === 'en' ? en : `${zh} / ${en}`;
}

/** `calendarWarning` for the years of `days`, from the calendar of `store`. */
export async function calendarWarningFor(store: Store, days: Iterable<IsoDate | null | undefined>, lang: 'zh' | 'en' | 'both' = 'both'): Promise<string> {
  const cal = await WorkCalendar.load(store);
  return calendarWarning(cal.yearsWithoutSchedule(days), lang);
}
