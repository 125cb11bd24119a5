/**
 * Deadline events for the portal's alert feed. `scanDeadlines` is idempotent:
 * it appends `flag.overdue` once per flag per due date when the flag becomes
 * overdue, and `flag.due_soon` once per due date when the unit's report falls
 * due (report lead working days before the deadline) — an extension (new due
 * date) arms both again. Run it daily (`fiscus track scan`).
 */
import { todayInShanghai, WorkCalendar } from '../engine/calendar.ts';
import type { Store } from '../engine/db.ts';
import { appendFlagEvents, type FlagEvent, type NewFlagEvent } from '../engine/flag-events.ts';
import { resolveConfig } from './config.ts';
import { loadRawFlags, toTracked } from './flags.ts';
import type { ReadOptions } from './query.ts';
import { CLOCK_STATUSES } from './states.ts';

export interface ScanResult {
  today: string;
  overdue: FlagEvent[];
  due_soon: FlagEvent[];
}

export async function scanDeadlines(store: Store, opts: ReadOptions & { at?: Date } = {}): Promise<ScanResult> {
  // Read-decide-write (which deadline events exist → append the missing ones): the Store's exclusive section.
  return store.exclusive(async () => {
    const today = opts.today ?? todayInShanghai(opts.at);
    const cal = opts.calendar ?? (await WorkCalendar.load(store));
    const cfg = resolveConfig(opts.config);
    const statuses = CLOCK_STATUSES.map((s) => `'${s}'`).join(', ');
    const raws = await loadRawFlags(store, `f.status IN (${statuses}) AND f.due_date IS NOT NULL`);
    const seen = new Set(
      (
        await store.all<{ k: string }>(
          `SELECT flag_id || '|' || event_type || '|' || coalesce(${store.dialect.jsonText('data', 'due_date')}, '') AS k
           FROM fiscus.flag_events WHERE event_type IN ('flag.overdue', 'flag.due_soon')`,
        )
      ).map((r) => r.k),
    );
    const overdue: NewFlagEvent[] = [];
    const soon: NewFlagEvent[] = [];
    for (const r of raws) {
      const f = toTracked(r, cal, cfg, today);
      const base = { flag_id: f.flag_id, from_status: null, to_status: null, actor: 'fiscus', role: 'system', at: opts.at };
      const data = { due_date: f.due_date, deadline: f.deadline, report_due: f.report_due, as_of: today, assigned_to: f.assigned_to };
      if (f.overdue) {
        if (seen.has(`${f.flag_id}|flag.overdue|${f.due_date}`)) continue;
        overdue.push({
          ...base,
          event_type: 'flag.overdue',
          note: `已逾期 ${f.overdue_workdays} 个工作日(截止 ${f.deadline}) / overdue by ${f.overdue_workdays} working day(s), deadline ${f.deadline}`,
          data: { ...data, overdue_workdays: f.overdue_workdays },
        });
      } else if (f.report_due !== null && today >= f.report_due) {
        if (seen.has(`${f.flag_id}|flag.due_soon|${f.due_date}`)) continue;
        soon.push({
          ...base,
          event_type: 'flag.due_soon',
          note: `整改报告应于 ${f.report_due} 前报送(截止 ${f.deadline}) / report due ${f.report_due}, deadline ${f.deadline}`,
          data: { ...data, workdays_left: f.workdays_left },
        });
      }
    }
    const appended = await store.transaction(() => appendFlagEvents(store, [...overdue, ...soon]));
    return {
      today,
      overdue: appended.filter((e) => e.event_type === 'flag.overdue'),
      due_soon: appended.filter((e) => e.event_type === 'flag.due_soon'),
    };
  });
}
