/**
 * The working-day calendar shared by the rules (非工作日支付, deadlines) and the
 * tracker (overdue in working days).
 *
 * Built in: the official PRC holidays and adjusted working days (调休) for
 * 2019–2026 from `chinese-days`; outside those years a day is a working day
 * when it is Monday–Friday. `ref.calendar` rows override both (FEEDS.md).
 * The merged result is materialised in `fiscus.calendar_days` so rules can
 * join it in SQL; `WorkCalendar` is the same data in memory for JS callers.
 */
import chineseDays from 'chinese-days';
import type { Store } from './db.ts';

export const CALENDAR_FIRST_YEAR = 2019;
export const CALENDAR_BUILTIN_LAST_YEAR = 2026;
/** Days beyond the built-in years still get weekday/weekend, so deadlines can run ahead. */
export const CALENDAR_LAST_YEAR = 2030;

/** ISO date string YYYY-MM-DD. */
export type IsoDate = string;

function* daysOf(fromYear: number, toYear: number): Generator<IsoDate> {
  const d = new Date(Date.UTC(fromYear, 0, 1));
  const end = Date.UTC(toYear, 11, 31);
  while (d.getTime() <= end) {
    yield d.toISOString().slice(0, 10);
    d.setUTCDate(d.getUTCDate() + 1);
  }
}

function isWeekend(day: IsoDate): boolean {
  const dow = new Date(`${day}T00:00:00Z`).getUTCDay();
  return dow === 0 || dow === 6;
}

/** Days where the official calendar differs from plain Monday–Friday. */
export function builtinExceptions(): { holidays: IsoDate[]; workdays: IsoDate[] } {
  const holidays: IsoDate[] = [];
  const workdays: IsoDate[] = [];
  for (const day of daysOf(CALENDAR_FIRST_YEAR, CALENDAR_BUILTIN_LAST_YEAR)) {
    const official = chineseDays.isWorkday(day);
    const weekend = isWeekend(day);
    if (weekend && official) workdays.push(day);
    if (!weekend && !official) holidays.push(day);
  }
  return { holidays, workdays };
}

const ISO = /^\d{4}-\d{2}-\d{2}$/;
function dateList(days: IsoDate[]): string {
  // Values come from our own calendar generator, validated here, so inlining is safe.
  for (const d of days) if (!ISO.test(d)) throw new Error(`calendar: bad date ${d}`);
  return days.length === 0 ? '[]::DATE[]' : `[${days.map((d) => `DATE '${d}'`).join(',')}]`;
}

/** Rebuild `fiscus.calendar_days`. Call after ingesting `ref.calendar`. */
export async function refreshCalendar(store: Store): Promise<void> {
  const { holidays, workdays } = builtinExceptions();
  await store.transaction(async () => {
    await store.run('DELETE FROM fiscus.calendar_days');
    await store.run(`
      INSERT INTO fiscus.calendar_days
      WITH days AS (
        SELECT range::DATE AS day
        FROM range(DATE '${CALENDAR_FIRST_YEAR}-01-01', DATE '${CALENDAR_LAST_YEAR}-12-31' + INTERVAL 1 DAY, INTERVAL 1 DAY)
      )
      SELECT d.day,
        CASE
          WHEN o.kind = 'workday' THEN true
          WHEN o.kind = 'holiday' THEN false
          WHEN list_contains(${dateList(workdays)}, d.day) THEN true
          WHEN list_contains(${dateList(holidays)}, d.day) THEN false
          ELSE isodow(d.day) <= 5
        END,
        CASE
          WHEN o.kind IS NOT NULL THEN 'ref.calendar'
          WHEN year(d.day) <= ${CALENDAR_BUILTIN_LAST_YEAR} THEN 'builtin'
          ELSE 'weekday'
        END
      FROM days d LEFT JOIN ref.calendar o ON o.date = d.day`);
  });
}

/** In-memory view of `fiscus.calendar_days` for deadline arithmetic in JS. */
export class WorkCalendar {
  private constructor(private readonly workday: Map<IsoDate, boolean>) {}

  static async load(store: Store): Promise<WorkCalendar> {
    const rows = await store.all<{ day: string; is_workday: boolean }>(
      'SELECT strftime(day, \'%Y-%m-%d\') AS day, is_workday FROM fiscus.calendar_days',
    );
    return new WorkCalendar(new Map(rows.map((r) => [r.day, r.is_workday])));
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

/** Today's date in Asia/Shanghai, the date users see. */
export function todayInShanghai(now: Date = new Date()): IsoDate {
  return new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai', year: 'numeric', month: '2-digit', day: '2-digit' }).format(now);
}
