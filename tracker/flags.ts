/**
 * Reading flags as the tracker sees them: the stored row, plus what the event
 * log says (votes, escalation, whether the committee has decided on a flag
 * that stopped reproducing), plus deadline figures for a given day.
 */
import type { IsoDate, WorkCalendar } from '../engine/calendar.ts';
import type { Params, Store } from '../engine/db.ts';
import { flagColumns, flagRecordFromRow, isoUtc, type FlagRowRead } from '../flags/row.ts';
import type { FlagRecordJson } from '../flags/schema.ts';
import { RECORD_RULE } from '../projects/records.ts';
import type { TrackerConfig } from './config.ts';
import { effectiveDeadline, overdueWorkdays, reportDueDate, workdaysLeft } from './deadlines.ts';
import { allowedActions, CLOCK_STATUSES, OPEN_STATUSES, STATUS_LABELS, isStatus, type ActionName, type Status } from './states.ts';

/** What the tracker adds to the flag (flags/schema.ts FlagRecordJson) for a given day. */
export interface TrackerView {
  status_label: { zh: string; en: string };
  /** Not reproduced while open and the committee has not yet dismissed or kept it. */
  needs_decision: boolean;
  /** The due date, rolled to the next working day when it is a rest day. */
  deadline: IsoDate | null;
  /** The unit's report is due this day (deadline − report lead working days). */
  report_due: IsoDate | null;
  /** Whether the deadline clock runs (assigned, rectifying). */
  clock_running: boolean;
  overdue: boolean;
  overdue_workdays: number;
  /** Working days until the deadline (negative when past); null when no clock runs. */
  workdays_left: number | null;
  votes: number;
  failing_votes: number;
  /** null, candidate (first failing vote: 质询/特定问题调查 candidate) or inquiry (second failing vote). */
  escalation: 'candidate' | 'inquiry' | null;
  /** ISO 8601 UTC. */
  last_event_at: string | null;
  allowed_actions: ActionName[];
}

/** A flag as the tracker shows it: the API's flag object (FLAGS.md and the stored fields) plus the tracker's view. */
export type TrackedFlag = FlagRecordJson & TrackerView;

/** A fiscus.flags row (flags/row.ts) with the facts of its events the tracker needs. */
export interface RawFlag extends FlagRowRead {
  /** The day (Asia/Shanghai) it was first seen. */
  first_seen_day: string;
  nr_seq: number | string | null;
  kept_seq: number | string | null;
  votes: number | string | null;
  failing_votes: number | string | null;
  /** TIMESTAMPTZ text of its latest event. */
  last_event_at: string | null;
}

export async function loadRawFlags(store: Store, where = 'true', params: Params = {}): Promise<RawFlag[]> {
  return store.all<RawFlag & Record<string, unknown>>(
    `WITH scope AS (SELECT f.flag_id FROM fiscus.flags f WHERE ${where}),
     ev AS (
       SELECT flag_id,
         max(seq) FILTER (WHERE event_type = 'flag.not_reproduced') AS nr_seq,
         max(seq) FILTER (WHERE event_type = 'flag.kept') AS kept_seq,
         count(*) FILTER (WHERE event_type = 'flag.voted') AS votes,
         count(*) FILTER (WHERE event_type = 'flag.voted' AND ${store.dialect.jsonText('data', 'passed')} = 'false') AS failing_votes,
         max(occurred_at) AS last_event_at
       FROM fiscus.flag_events WHERE flag_id IN (SELECT flag_id FROM scope) GROUP BY flag_id)
     SELECT ${flagColumns('f')}, ${store.dialect.localDay('f.first_seen_at')} AS first_seen_day,
       ev.nr_seq, ev.kept_seq, ev.votes, ev.failing_votes, ev.last_event_at
     FROM fiscus.flags f LEFT JOIN ev USING (flag_id)
     WHERE f.flag_id IN (SELECT flag_id FROM scope)
     ORDER BY f.first_seen_at, f.flag_id`,
    params,
  );
}

export function needsDecision(r: Pick<RawFlag, 'reproduced' | 'status' | 'nr_seq' | 'kept_seq'>): boolean {
  if (r.reproduced || !OPEN_STATUSES.includes(r.status as Status)) return false;
  if (r.kept_seq === null || r.kept_seq === undefined) return true;
  return Number(r.kept_seq) < Number(r.nr_seq ?? 0);
}

interface DueFigures {
  deadline: IsoDate;
  report_due: IsoDate;
  overdue_workdays: number;
  workdays_left: number;
}

// Calendar walks day by day; thousands of flags share a handful of due dates, so compute each (due, today) once.
const dueCache = new WeakMap<WorkCalendar, Map<string, DueFigures>>();
function dueFigures(cal: WorkCalendar, due: IsoDate, today: IsoDate, lead: number): DueFigures {
  let m = dueCache.get(cal);
  if (!m) dueCache.set(cal, (m = new Map()));
  const key = `${due}|${today}|${lead}`;
  let f = m.get(key);
  if (!f) {
    if (m.size > 10_000) m.clear();
    f = {
      deadline: effectiveDeadline(cal, due),
      report_due: reportDueDate(cal, due, lead),
      overdue_workdays: overdueWorkdays(cal, due, today),
      workdays_left: workdaysLeft(cal, due, today),
    };
    m.set(key, f);
  }
  return f;
}

export function toTracked(r: RawFlag, cal: WorkCalendar, cfg: TrackerConfig, today: IsoDate): TrackedFlag {
  const clock = CLOCK_STATUSES.includes(r.status as Status) && r.due_date !== null;
  const decide = needsDecision(r);
  const failing = Number(r.failing_votes ?? 0);
  const due = r.due_date ? dueFigures(cal, r.due_date, today, cfg.reportLeadWorkdays) : null;
  const od = clock ? due!.overdue_workdays : 0;
  return {
    ...flagRecordFromRow(r),
    status_label: isStatus(r.status) ? STATUS_LABELS[r.status] : { zh: r.status, en: r.status },
    needs_decision: decide,
    deadline: due ? due.deadline : null,
    report_due: due ? due.report_due : null,
    clock_running: clock,
    overdue: od >= 1,
    overdue_workdays: od,
    workdays_left: clock ? due!.workdays_left : null,
    votes: Number(r.votes ?? 0),
    failing_votes: failing,
    escalation: failing >= 2 ? 'inquiry' : failing === 1 ? 'candidate' : null,
    last_event_at: r.last_event_at === null || r.last_event_at === undefined ? null : isoUtc(r.last_event_at),
    allowed_actions: actionsFor(r),
  };
}

/**
 * The actions a flag allows next, before role checks. A project's record (projects/records.ts)
 * is not a finding: it never changes state, so it allows none.
 */
export function actionsFor(r: Pick<RawFlag, 'rule_id' | 'status' | 'reproduced'> & Parameters<typeof needsDecision>[0]): ActionName[] {
  if (r.rule_id === RECORD_RULE) return [];
  return allowedActions(r.status, { reproduced: r.reproduced, needsDecision: needsDecision(r) });
}
