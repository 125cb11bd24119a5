/**
 * Tracker settings a deployment may change: the default due date per severity
 * (working days from the day of assignment) and how many working days before
 * the deadline the unit's report falls due (Fuxin: 5).
 *
 * Sources, later wins: built-in defaults, env FISCUS_TRACK_DUE_DAYS
 * ("high=10,medium=20,low=30") and FISCUS_TRACK_REPORT_LEAD ("5"), then what
 * the caller passes.
 */
import { UsageError } from '../engine/errors.ts';

export interface TrackerConfig {
  /** Working days from assignment to the due date, by severity. */
  dueWorkdays: Record<string, number>;
  /** The unit's report is due this many working days before the deadline. */
  reportLeadWorkdays: number;
}

export const DEFAULT_CONFIG: TrackerConfig = {
  dueWorkdays: { high: 10, medium: 20, low: 30 },
  reportLeadWorkdays: 5,
};

export function parseDueDays(spec: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const part of spec.split(',').map((s) => s.trim()).filter(Boolean)) {
    const m = /^(high|medium|low)=(\d{1,4})$/.exec(part);
    if (!m) throw new UsageError(`due days must look like "high=10,medium=20,low=30" (got "${part}")`);
    out[m[1]] = Number(m[2]);
  }
  return out;
}

export function resolveConfig(over: Partial<TrackerConfig> = {}, env: NodeJS.ProcessEnv = process.env): TrackerConfig {
  const dueWorkdays = { ...DEFAULT_CONFIG.dueWorkdays };
  if (env.FISCUS_TRACK_DUE_DAYS) Object.assign(dueWorkdays, parseDueDays(env.FISCUS_TRACK_DUE_DAYS));
  if (over.dueWorkdays) Object.assign(dueWorkdays, over.dueWorkdays);
  let lead = DEFAULT_CONFIG.reportLeadWorkdays;
  if (env.FISCUS_TRACK_REPORT_LEAD) {
    if (!/^\d{1,3}$/.test(env.FISCUS_TRACK_REPORT_LEAD)) throw new UsageError('FISCUS_TRACK_REPORT_LEAD must be a whole number of working days');
    lead = Number(env.FISCUS_TRACK_REPORT_LEAD);
  }
  if (over.reportLeadWorkdays !== undefined) lead = over.reportLeadWorkdays;
  return { dueWorkdays, reportLeadWorkdays: lead };
}
