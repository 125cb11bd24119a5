/**
 * The console's inbox: the one listing query of flags (flags/list.ts: filters,
 * sort orders, keyset pages, total, all in SQL) within the caller's scope, plus the
 * deadline figures the inbox shows, from the working-day calendar.
 */
import type { IsoDate, WorkCalendar } from '../engine/calendar.ts';
import { flagFilterQuery, normalizeFilter } from '../flags/filter.ts';
import { listFlags } from '../flags/list.ts';
import type { FlagRecordJson } from '../flags/schema.ts';
import { effectiveDeadline, overdueCutoff, overdueWorkdays, workdaysLeft } from '../tracker/deadlines.ts';
import { HttpProblem } from './problem.ts';
import type { ReadPool } from './read-pool.ts';
import { flagScope } from './scope.ts';
import type { Principal } from './tokens.ts';

export const INBOX_SORTS = ['newest', 'severity', 'amount', 'due'] as const;
export type InboxSort = (typeof INBOX_SORTS)[number];

export interface InboxFilters {
  rule?: string;
  severity?: string;
  status?: string;
  /** An agency or department code: its flags and those of the units under it. */
  agency?: string;
  overdue?: boolean;
  /** Flags whose period overlaps [period_from, period_to]. */
  period_from?: string;
  period_to?: string;
  /** Words in the title (zh or en), the entity's name or id, or a flag id. */
  q?: string;
  sort: InboxSort;
  cursor?: string;
  limit: number;
}

export type InboxItem = FlagRecordJson & { deadline: string | null; workdays_left: number | null; overdue: boolean; overdue_workdays: number };

export async function inboxPage(
  pool: ReadPool,
  who: Principal,
  q: InboxFilters,
  cal: WorkCalendar,
  today: IsoDate,
): Promise<{ items: InboxItem[]; next_cursor: string | null; total: number }> {
  const parsed = flagFilterQuery.safeParse({
    rule: q.rule, severity: q.severity, status: q.status, agency: q.agency, period_from: q.period_from, period_to: q.period_to, q: q.q,
    overdue: q.overdue === undefined ? undefined : String(q.overdue),
  });
  if (!parsed.success) throw new HttpProblem(400, 'VALIDATION', parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
  const page = await listFlags(pool, normalizeFilter(parsed.data), {
    sort: q.sort, cursor: q.cursor, limit: q.limit, scope: flagScope(who), overdueCutoff: overdueCutoff(cal, today), total: true,
  });
  const items = page.items.map((f) => {
    const clock = f.status === 'assigned' || f.status === 'rectifying';
    const due = f.due_date;
    return {
      ...f,
      deadline: due ? effectiveDeadline(cal, due) : null,
      workdays_left: due && clock ? workdaysLeft(cal, due, today) : null,
      overdue: Boolean(due && clock && overdueWorkdays(cal, due, today) >= 1),
      overdue_workdays: due && clock ? overdueWorkdays(cal, due, today) : 0,
    };
  });
  return { items, next_cursor: page.next_cursor, total: page.total ?? 0 };
}
