/**
 * Calendar dates: the one parser and validator of YYYY-MM-DD used by every
 * command option (`--as-of`, `--from`, `--to`, `--due` …), the tracker, the API
 * and ingest. A date is valid when date-fns parses it with the strict pattern
 * and formats it back to the same text: "2026-02-30", "2026-13-01", "2026-1-5"
 * and "20260101" are all refused.
 *
 * Days people see are Asia/Shanghai days; `todayInShanghai` computes one with
 * @date-fns/tz, whatever the process's own time zone is.
 */
import { tz } from '@date-fns/tz';
import { addDays, format } from 'date-fns';
import { z } from 'zod';
import { UsageError } from './errors.ts';

/** ISO date string YYYY-MM-DD. */
export type IsoDate = string;

export const ISO_DATE_PATTERN = 'yyyy-MM-dd';
/** The shape alone (for OpenAPI `pattern` and for finding a date inside a longer text); validity is `isIsoDate`. */
export const ISO_DATE_SHAPE = /^\d{4}-\d{2}-\d{2}$/;

/** Calendar arithmetic happens in UTC, so no local time zone or DST can shift a day. */
const utc = tz('UTC');

/**
 * The date YYYY-MM-DD as a Date at 00:00 UTC, or null when it is not a real calendar date.
 * Plain UTC arithmetic, not date-fns `parse` + `format`: every result row's period dates and
 * every calendar day pass through here, and the round trip cost ~25 ms per pack run and
 * ~100 ms per opened database (CPU profile, 2026-12-03).
 */
export function parseIsoDate(value: string): Date | null {
  if (typeof value !== 'string' || !ISO_DATE_SHAPE.test(value)) return null;
  const y = Number(value.slice(0, 4));
  const m = Number(value.slice(5, 7));
  const d = Number(value.slice(8, 10));
  const out = new Date(0);
  // setUTCFullYear, not Date.UTC: Date.UTC reads years 0-99 as 1900-1999.
  out.setUTCFullYear(y, m - 1, d);
  // A day or month out of range rolls over (2025-02-30 -> March 2): not a real date.
  if (out.getUTCFullYear() !== y || out.getUTCMonth() !== m - 1 || out.getUTCDate() !== d) return null;
  return out;
}

export function isIsoDate(value: unknown): value is IsoDate {
  return typeof value === 'string' && parseIsoDate(value) !== null;
}

/** The message every refusal of a date uses. */
export function invalidDateMessage(what: string, value: string): string {
  return `${what} must be a date YYYY-MM-DD (got "${value}")`;
}

/** `value` if it is a real date, else a usage error (exit 2 / HTTP 400) naming `what`, e.g. "--as-of". */
export function checkIsoDate(value: string, what: string): IsoDate {
  if (!isIsoDate(value)) throw new UsageError(invalidDateMessage(what, value));
  return value;
}

/** A zod string that is a real date YYYY-MM-DD (the API's and the config file's dates). */
export function isoDateSchema(message = 'must be a date YYYY-MM-DD') {
  return z.string().regex(ISO_DATE_SHAPE, message).refine((s) => isIsoDate(s), 'is not a real date');
}

/** Format a Date as the YYYY-MM-DD of its UTC day. */
export function formatIsoDate(d: Date): IsoDate {
  return format(d, ISO_DATE_PATTERN, { in: utc });
}

function mustParse(day: IsoDate): Date {
  const d = parseIsoDate(day);
  if (!d) throw new RangeError(invalidDateMessage('date', day));
  return d;
}

/** `day` plus `n` calendar days (n may be negative). */
export function addDaysIso(day: IsoDate, n: number): IsoDate {
  return formatIsoDate(addDays(mustParse(day), n, { in: utc }));
}

/** ISO weekday: 1 Monday … 7 Sunday. */
export function isoWeekday(day: IsoDate): number {
  // getUTCDay, not date-fns getISODay in UTC: a TZDate per day cost an opened database's calendar
  // (every day of its years) ~18 ms (CPU profile, 2026-12-07). Sunday is 0 there and 7 in ISO.
  const d = mustParse(day).getUTCDay();
  return d === 0 ? 7 : d;
}

export function yearOf(day: IsoDate): number {
  return Number(day.slice(0, 4));
}

/** Today's date in Asia/Shanghai, the date users see. */
export function todayInShanghai(now: Date = new Date()): IsoDate {
  return format(now, ISO_DATE_PATTERN, { in: tz('Asia/Shanghai') });
}
