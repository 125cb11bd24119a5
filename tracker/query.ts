/** Reading the loop: one flag's history, and lists of tracked flags with deadline filters. */
import { todayInShanghai, WorkCalendar, type IsoDate } from '../engine/calendar.ts';
import type { Store } from '../engine/db.ts';
import { FiscusError } from '../engine/errors.ts';
import { readFlagEvents } from '../engine/flag-events.ts';
import { eventJson } from '../flags/events.ts';
import { filterSql, type FlagFilter } from '../flags/filter.ts';
import type { FlagEventJson } from '../flags/schema.ts';
import { loadRawFlagsAsOf } from './as-of.ts';
import { resolveConfig, type TrackerConfig } from './config.ts';
import { overdueCutoff } from './deadlines.ts';
import { loadRawFlags, toTracked, type TrackedFlag } from './flags.ts';

export interface ReadOptions {
  /** The day deadlines are judged on (Asia/Shanghai); default today. */
  today?: IsoDate;
  config?: Partial<TrackerConfig>;
  calendar?: WorkCalendar;
}

export async function flagHistory(store: Store, flagId: string, opts: ReadOptions = {}): Promise<{ flag: TrackedFlag; events: FlagEventJson[] }> {
  const [raw] = await loadRawFlags(store, 'f.flag_id = $id', { id: flagId });
  if (!raw) throw new FiscusError(`标记不存在 / no flag ${flagId}`, { code: 'NOT_FOUND', httpStatus: 404 });
  const cal = opts.calendar ?? (await WorkCalendar.load(store));
  const flag = toTracked(raw, cal, resolveConfig(opts.config), opts.today ?? todayInShanghai());
  // The alert's event shape (FLAGS.md), as the feed and the API give it.
  const events = (await readFlagEvents(store, { flagId })).map(eventJson);
  return { flag, events };
}

/**
 * The flags filter (flags/filter.ts: the same names and meaning as `fiscus flags` and
 * GET /v1/flags), plus what only the tracker knows.
 */
export interface ListFilters extends ReadOptions, FlagFilter {
  /** The deadline falls within N working days from today (and is not yet past). */
  dueWithin?: number;
  /** Only flags awaiting the committee's dismiss-or-keep decision. */
  needsDecision?: boolean;
  /**
   * List the flags as they stood at the end of this day (Asia/Shanghai): only those first seen by
   * then, in their state then, reconstructed from the event log (tracker/as-of.ts); every filter
   * applies to that state, and deadlines are judged on this day unless `today` says otherwise.
   * Without it: the current state.
   */
  asOf?: IsoDate;
  limit?: number;
}

export async function listTracked(store: Store, filters: ListFilters = {}): Promise<TrackedFlag[]> {
  const { today: t, config, calendar, dueWithin, needsDecision, asOf, limit, ...flagFilter } = filters;
  const cal = calendar ?? (await WorkCalendar.load(store));
  const cfg = resolveConfig(config);
  const today = t ?? asOf ?? todayInShanghai();
  // The one filter SQL, over the current rows or the rows rebuilt as of the day (both aliased f).
  const sql = filterSql(flagFilter, { overdueCutoff: flagFilter.overdue === undefined ? undefined : overdueCutoff(cal, today) });
  const where = sql.conds.length ? sql.conds.join(' AND ') : 'true';
  const raws = asOf ? await loadRawFlagsAsOf(store, asOf, where, sql.params) : await loadRawFlags(store, where, sql.params);
  let out = raws.map((r) => toTracked(r, cal, cfg, today));
  if (dueWithin !== undefined) {
    out = out.filter((f) => f.clock_running && !f.overdue && f.workdays_left !== null && f.workdays_left <= dueWithin);
  }
  if (needsDecision) out = out.filter((f) => f.needs_decision);
  if (limit !== undefined) out = out.slice(0, limit);
  return out;
}
