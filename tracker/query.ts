/** Reading the loop: one flag's history, and lists of tracked flags with deadline filters. */
import { todayInShanghai, WorkCalendar, type IsoDate } from '../engine/calendar.ts';
import type { Store } from '../engine/db.ts';
import { FiscusError } from '../engine/errors.ts';
import { readFlagEvents, type FlagEvent } from '../engine/flag-events.ts';
import { loadRawFlagsAsOf } from './as-of.ts';
import { resolveConfig, type TrackerConfig } from './config.ts';
import { agencyMatchSql, loadRawFlags, regionMatchSql, toTracked, type TrackedFlag } from './flags.ts';

export interface ReadOptions {
  /** The day deadlines are judged on (Asia/Shanghai); default today. */
  today?: IsoDate;
  config?: Partial<TrackerConfig>;
  calendar?: WorkCalendar;
}

export interface HistoryEvent {
  seq: number;
  event_id: string;
  flag_id: string;
  event_type: string;
  from_status: string | null;
  to_status: string | null;
  actor: string;
  role: string;
  /** ISO 8601 UTC. */
  at: string;
  note: string | null;
  data: unknown;
  hash: string;
}

export async function flagHistory(store: Store, flagId: string, opts: ReadOptions = {}): Promise<{ flag: TrackedFlag; events: HistoryEvent[] }> {
  const [raw] = await loadRawFlags(store, 'f.flag_id = $id', { id: flagId });
  if (!raw) throw new FiscusError(`标记不存在 / no flag ${flagId}`, { code: 'NOT_FOUND', httpStatus: 404 });
  const cal = opts.calendar ?? (await WorkCalendar.load(store));
  const flag = toTracked(raw, cal, resolveConfig(opts.config), opts.today ?? todayInShanghai());
  const events = (await readFlagEvents(store, { flagId })).map(historyEvent);
  return { flag, events };
}

/** A stored event as people and programs read it: ISO time, parsed data. */
export function historyEvent(e: FlagEvent): HistoryEvent {
  return {
    seq: e.seq,
    event_id: e.event_id,
    flag_id: e.flag_id,
    event_type: e.event_type,
    from_status: e.from_status,
    to_status: e.to_status,
    actor: e.actor,
    role: e.role,
    at: new Date(e.at_ms).toISOString(),
    note: e.note,
    data: e.data === null ? null : (JSON.parse(e.data) as unknown),
    hash: e.hash,
  };
}

export interface ListFilters extends ReadOptions {
  status?: string[];
  /** Agency or department code: the flag's agency, its assignee, or units under that department. */
  agency?: string;
  rule?: string;
  severity?: string;
  region?: string;
  overdue?: boolean;
  /** The deadline falls within N working days from today (and is not yet past). */
  dueWithin?: number;
  /** Only flags no longer reproduced. */
  notReproduced?: boolean;
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
  const conds: string[] = [];
  const params: Record<string, string> = {};
  if (filters.status?.length) {
    const names = filters.status.map((s, i) => {
      params[`s${i}`] = s;
      return `$s${i}`;
    });
    conds.push(`f.status IN (${names.join(', ')})`);
  }
  if (filters.agency) {
    conds.push(agencyMatchSql('agency'));
    params.agency = filters.agency;
  }
  if (filters.region) {
    conds.push(regionMatchSql('region'));
    params.region = filters.region;
  }
  for (const [key, col] of [['rule', 'rule_id'], ['severity', 'severity']] as const) {
    const v = filters[key];
    if (v) {
      conds.push(`f.${col} = $${key}`);
      params[key] = v;
    }
  }
  if (filters.notReproduced) conds.push('NOT f.reproduced');
  const where = conds.length ? conds.join(' AND ') : 'true';
  const raws = filters.asOf ? await loadRawFlagsAsOf(store, filters.asOf, where, params) : await loadRawFlags(store, where, params);
  const cal = filters.calendar ?? (await WorkCalendar.load(store));
  const cfg = resolveConfig(filters.config);
  const today = filters.today ?? filters.asOf ?? todayInShanghai();
  let out = raws.map((r) => toTracked(r, cal, cfg, today));
  if (filters.overdue) out = out.filter((f) => f.overdue);
  if (filters.dueWithin !== undefined) {
    const n = filters.dueWithin;
    out = out.filter((f) => f.clock_running && !f.overdue && f.workdays_left !== null && f.workdays_left <= n);
  }
  if (filters.needsDecision) out = out.filter((f) => f.needs_decision);
  if (filters.limit !== undefined) out = out.slice(0, filters.limit);
  return out;
}
