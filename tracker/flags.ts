/**
 * Reading flags as the tracker sees them: the stored row, plus what the event
 * log says (votes, escalation, whether the committee has decided on a flag
 * that stopped reproducing), plus deadline figures for a given day.
 */
import type { IsoDate, WorkCalendar } from '../engine/calendar.ts';
import type { Params, Store } from '../engine/db.ts';
import type { TrackerConfig } from './config.ts';
import { effectiveDeadline, overdueWorkdays, reportDueDate, workdaysLeft } from './deadlines.ts';
import { allowedActions, CLOCK_STATUSES, OPEN_STATUSES, STATUS_LABELS, isStatus, type ActionName, type Status } from './states.ts';

export interface TrackedFlag {
  flag_id: string;
  rule_id: string;
  rule_version: number;
  severity: string;
  title: string;
  title_en: string;
  entity: { type: string; id: string; name: string | null };
  region_code: string | null;
  agency_code: string | null;
  fiscal_year: number | null;
  /** Money involved, yuan, decimal string. */
  amount: string | null;
  status: string;
  status_label: { zh: string; en: string };
  /** false: the last rule run no longer raised it. */
  reproduced: boolean;
  /** Not reproduced while open and the committee has not yet dismissed or kept it. */
  needs_decision: boolean;
  assigned_to: string | null;
  due_date: IsoDate | null;
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
  first_seen_at: string;
  last_seen_at: string;
  last_event_at: string | null;
  allowed_actions: ActionName[];
}

export interface RawFlag {
  flag_id: string;
  rule_id: string;
  rule_version: number;
  severity: string;
  title: string;
  title_en: string;
  entity_type: string;
  entity_id: string;
  entity_name: string | null;
  region_code: string | null;
  agency_code: string | null;
  fiscal_year: number | null;
  amount: string | null;
  status: string;
  reproduced: boolean;
  assigned_to: string | null;
  due_date: string | null;
  first_seen_ms: number | string;
  last_seen_ms: number | string;
  first_seen_day: string;
  nr_seq: number | string | null;
  kept_seq: number | string | null;
  votes: number | string | null;
  failing_votes: number | string | null;
  last_event_ms: number | string | null;
}

/** SQL: the flag's region is `$param` or a region below it (ref.regions parent chain). */
export function regionMatchSql(param: string): string {
  return `f.region_code IN (WITH RECURSIVE sub(c) AS (SELECT $${param} UNION SELECT r.region_code FROM ref.regions r JOIN sub ON r.parent_code = sub.c) SELECT c FROM sub)`;
}

/** SQL that matches flags of an agency: its own, assigned to it, or of a unit in its department (ref.agencies.dept_code). */
export function agencyMatchSql(param: string): string {
  return `($${param} IN (f.agency_code, f.assigned_to) OR $${param} IN (
    SELECT a.dept_code FROM ref.agencies a WHERE a.agency_code IN (f.agency_code, f.assigned_to)))`;
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
         ${store.dialect.epochMs('max(occurred_at)')} AS last_event_ms
       FROM fiscus.flag_events WHERE flag_id IN (SELECT flag_id FROM scope) GROUP BY flag_id)
     SELECT f.flag_id, f.rule_id, f.rule_version, f.severity, f.title, f.title_en, f.entity_type, f.entity_id, f.entity_name,
       f.region_code, f.agency_code, f.fiscal_year, f.amount::VARCHAR AS amount, f.status, f.reproduced, f.assigned_to,
       CAST(f.due_date AS VARCHAR) AS due_date, ${store.dialect.epochMs('f.first_seen_at')} AS first_seen_ms,
       ${store.dialect.epochMs('f.last_seen_at')} AS last_seen_ms,
       ${store.dialect.localDay('f.first_seen_at')} AS first_seen_day,
       ev.nr_seq, ev.kept_seq, ev.votes, ev.failing_votes, ev.last_event_ms
     FROM fiscus.flags f LEFT JOIN ev USING (flag_id)
     WHERE f.flag_id IN (SELECT flag_id FROM scope)
     ORDER BY f.first_seen_at, f.flag_id`,
    params,
  );
}

const iso = (ms: number | string) => new Date(Number(ms)).toISOString();

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
    flag_id: r.flag_id,
    rule_id: r.rule_id,
    rule_version: Number(r.rule_version),
    severity: r.severity,
    title: r.title,
    title_en: r.title_en,
    entity: { type: r.entity_type, id: r.entity_id, name: r.entity_name },
    region_code: r.region_code,
    agency_code: r.agency_code,
    fiscal_year: r.fiscal_year === null ? null : Number(r.fiscal_year),
    amount: r.amount,
    status: r.status,
    status_label: isStatus(r.status) ? STATUS_LABELS[r.status] : { zh: r.status, en: r.status },
    reproduced: r.reproduced,
    needs_decision: decide,
    assigned_to: r.assigned_to,
    due_date: r.due_date,
    deadline: due ? due.deadline : null,
    report_due: due ? due.report_due : null,
    clock_running: clock,
    overdue: od >= 1,
    overdue_workdays: od,
    workdays_left: clock ? due!.workdays_left : null,
    votes: Number(r.votes ?? 0),
    failing_votes: failing,
    escalation: failing >= 2 ? 'inquiry' : failing === 1 ? 'candidate' : null,
    first_seen_at: iso(r.first_seen_ms),
    last_seen_at: iso(r.last_seen_ms),
    last_event_at: r.last_event_ms === null ? null : iso(r.last_event_ms),
    allowed_actions: allowedActions(r.status, { reproduced: r.reproduced, needsDecision: decide }),
  };
}
