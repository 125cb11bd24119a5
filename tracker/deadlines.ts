/**
 * Deadline arithmetic in working days, on the same calendar as the rules
 * (engine/calendar.ts WorkCalendar: PRC holidays, 调休, ref.calendar overrides).
 *
 * - The effective deadline is the due date, or the next working day when the
 *   due date is not one (a deadline that ends on a rest day rolls forward).
 * - A flag is overdue once a working day after the effective deadline has
 *   begun without the unit's response: workdaysBetween(deadline, today) ≥ 1.
 *   Only while the unit owes a response (assigned, rectifying).
 * - The unit's report falls due `reportLeadWorkdays` working days before the
 *   effective deadline (Fuxin: 5).
 * - A response (explain / report-rectified) dated D is on time when D would
 *   not have been overdue: workdaysBetween(deadline, D) < 1.
 */
import type { IsoDate, WorkCalendar } from '../engine/calendar.ts';

export function effectiveDeadline(cal: WorkCalendar, due: IsoDate): IsoDate {
  return cal.isWorkday(due) ? due : cal.addWorkdays(due, 1);
}

export function reportDueDate(cal: WorkCalendar, due: IsoDate, leadWorkdays: number): IsoDate {
  return cal.addWorkdays(effectiveDeadline(cal, due), -leadWorkdays);
}

/** Working days past the effective deadline (0 when not past). */
export function overdueWorkdays(cal: WorkCalendar, due: IsoDate, today: IsoDate): number {
  return Math.max(0, cal.workdaysBetween(effectiveDeadline(cal, due), today));
}

/** Working days left until the effective deadline (negative when past, never -0). */
export function workdaysLeft(cal: WorkCalendar, due: IsoDate, today: IsoDate): number {
  return cal.workdaysBetween(today, effectiveDeadline(cal, due)) || 0;
}

export function isOnTime(cal: WorkCalendar, due: IsoDate, respondedOn: IsoDate): boolean {
  return overdueWorkdays(cal, due, respondedOn) < 1;
}

/**
 * The latest due date that is overdue on `today`, for SQL (flags/filter.ts overdueSql):
 * a flag is overdue once a working day after its effective deadline has begun, which
 * holds exactly when its due date is on or before the second-latest working day up to today.
 */
export function overdueCutoff(cal: WorkCalendar, today: IsoDate): IsoDate {
  const latest = cal.isWorkday(today) ? today : cal.addWorkdays(today, -1);
  return cal.addWorkdays(latest, -1);
}
