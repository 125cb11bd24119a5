/**
 * The console's inbox query: flags with filters (rule, severity, status, agency subtree,
 * overdue, period, text), four sort orders and keyset pagination, all in SQL.
 *
 * Keyset, not OFFSET: each page asks for the rows after the last one shown
 * (`(k1, k2, flag_id) < (…)` spelled out as OR-chains), so page 2,000 of 100,000 flags
 * costs the same top-N as page 1. The cursor is opaque (base64url JSON of the sort keys).
 * Overdue is decided in SQL from one day the calendar computes (see overdueCutoff), so
 * the filter and the count agree with the tracker's definition without loading every flag.
 */
import type { JsonRow, Params } from '../engine/db.ts';
import type { IsoDate, WorkCalendar } from '../engine/calendar.ts';
import { agencyMatchSql } from '../tracker/flags.ts';
import { effectiveDeadline, overdueWorkdays, workdaysLeft } from '../tracker/deadlines.ts';
import { FLAG_ROW_SELECT, flagRowToJson, type FlagJsonExtended } from './flag-json.ts';
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

export type InboxItem = FlagJsonExtended & { deadline: string | null; workdays_left: number | null; overdue: boolean; overdue_workdays: number };

interface Key {
  expr: string;
  dir: 'ASC' | 'DESC';
  /** How the cursor's string value is bound back. */
  cast: string;
}

const SEV_RANK = `CASE f.severity WHEN 'high' THEN 3 WHEN 'medium' THEN 2 ELSE 1 END`;
const ID: Key = { expr: 'f.flag_id', dir: 'DESC', cast: 'VARCHAR' };
const SORT_KEYS: Record<InboxSort, Key[]> = {
  newest: [{ expr: 'epoch_us(f.first_seen_at)', dir: 'DESC', cast: 'BIGINT' }, ID],
  severity: [{ expr: SEV_RANK, dir: 'DESC', cast: 'INTEGER' }, { expr: 'epoch_us(f.first_seen_at)', dir: 'DESC', cast: 'BIGINT' }, ID],
  amount: [{ expr: 'coalesce(f.amount, -1::DECIMAL(18,2))', dir: 'DESC', cast: 'DECIMAL(18,2)' }, ID],
  due: [{ expr: "coalesce(f.due_date, DATE '9999-12-31')", dir: 'ASC', cast: 'DATE' }, { ...ID, dir: 'ASC' }],
};

const CLOCK = `f.status IN ('assigned', 'rectifying')`;

/**
 * The latest due date that is overdue today. A flag is overdue when a working day after its
 * effective deadline (the due date, or the next working day) has begun (tracker/deadlines.ts):
 * that holds exactly when its due date is on or before the second-latest working day up to today.
 */
export function overdueCutoff(cal: WorkCalendar, today: IsoDate): IsoDate {
  const latest = cal.isWorkday(today) ? today : cal.addWorkdays(today, -1);
  return cal.addWorkdays(latest, -1);
}

function encodeCursor(vals: string[]): string {
  return Buffer.from(JSON.stringify(['i1', ...vals]), 'utf8').toString('base64url');
}

function decodeCursor(c: string, n: number): string[] {
  try {
    const v = JSON.parse(Buffer.from(c, 'base64url').toString('utf8')) as unknown;
    if (Array.isArray(v) && v[0] === 'i1' && v.length === n + 1 && v.slice(1).every((x) => typeof x === 'string' && x.length <= 300)) return v.slice(1) as string[];
  } catch {
    /* fall through */
  }
  throw new HttpProblem(400, 'VALIDATION', `invalid cursor "${c.slice(0, 80)}"`);
}

const likeEscape = (s: string) => s.replace(/[\\%_]/g, (m) => `\\${m}`);
const inList = (col: string, param: string) => `list_contains(string_split($${param}, ','), ${col})`;

export async function inboxPage(
  pool: ReadPool,
  who: Principal,
  q: InboxFilters,
  cal: WorkCalendar,
  today: IsoDate,
): Promise<{ items: InboxItem[]; next_cursor: string | null; total: number }> {
  const scope = flagScope(who);
  const conds = [scope.sql];
  const params: Params = { ...scope.params };
  if (q.rule) (conds.push(inList('f.rule_id', 'rule')), (params.rule = q.rule));
  if (q.severity) (conds.push(inList('f.severity', 'severity')), (params.severity = q.severity));
  if (q.status) (conds.push(inList('f.status', 'status')), (params.status = q.status));
  if (q.agency) (conds.push(agencyMatchSql('sub_agency')), (params.sub_agency = q.agency));
  if (q.overdue !== undefined) {
    params.od_cut = overdueCutoff(cal, today);
    const od = `(${CLOCK} AND f.due_date IS NOT NULL AND f.due_date <= $od_cut::DATE)`;
    conds.push(q.overdue ? od : `NOT ${od}`);
  }
  if (q.period_from) (conds.push('coalesce(f.period_end, f.period_start) >= $p_from::DATE'), (params.p_from = q.period_from));
  if (q.period_to) (conds.push('coalesce(f.period_start, f.period_end) <= $p_to::DATE'), (params.p_to = q.period_to));
  if (q.q && q.q.trim()) {
    const text = q.q.trim();
    params.q_like = `%${likeEscape(text)}%`;
    params.q_exact = text;
    conds.push(`(f.title ILIKE $q_like ESCAPE '\\' OR f.title_en ILIKE $q_like ESCAPE '\\' OR coalesce(f.entity_name, '') ILIKE $q_like ESCAPE '\\'
      OR f.entity_id = $q_exact OR f.flag_id = $q_exact)`);
  }
  const where = conds.join(' AND ');
  const countParams = { ...params };

  const keys = SORT_KEYS[q.sort];
  if (q.cursor) {
    const vals = decodeCursor(q.cursor, keys.length);
    // (k1, k2, …) after (v1, v2, …) in the sort's own directions.
    const ors: string[] = [];
    keys.forEach((k, i) => {
      const eqs = keys.slice(0, i).map((p, j) => `${p.expr} = $ck${j}::${p.cast}`);
      eqs.push(`${k.expr} ${k.dir === 'DESC' ? '<' : '>'} $ck${i}::${k.cast}`);
      ors.push(`(${eqs.join(' AND ')})`);
      params[`ck${i}`] = vals[i]!;
    });
    conds.push(`(${ors.join(' OR ')})`);
  }
  params.lim = q.limit + 1;
  const order = keys.map((k) => `${k.expr} ${k.dir}`).join(', ');
  const keySelect = keys.map((k, i) => `(${k.expr})::VARCHAR AS __k${i}`).join(', ');
  // Keys of the page first (narrow columns, top-N), then format only those rows.
  const [rows, count] = await Promise.all([
    pool.all<JsonRow>(
      `WITH k AS (SELECT f.flag_id, ${keySelect} FROM fiscus.flags f WHERE ${conds.join(' AND ')} ORDER BY ${order} LIMIT $lim)
       SELECT k.*, r.* FROM k JOIN (SELECT ${FLAG_ROW_SELECT} FROM fiscus.flags WHERE flag_id IN (SELECT flag_id FROM k)) r USING (flag_id)
       ORDER BY ${keys.map((k2, i) => `${k2.cast === 'VARCHAR' || k2.cast === 'DATE' ? `k.__k${i}` : `k.__k${i}::${k2.cast}`} ${k2.dir}`).join(', ')}`,
      params,
    ),
    pool.one<{ n: string }>(`SELECT count(*)::BIGINT AS n FROM fiscus.flags f WHERE ${where}`, countParams),
  ]);
  const more = rows.length > q.limit;
  const page = more ? rows.slice(0, q.limit) : rows;
  const last = page.at(-1);
  const items = page.map((r) => {
    const f = flagRowToJson(r, { extended: true });
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
  return {
    items,
    next_cursor: more && last ? encodeCursor(keys.map((_, i) => String(last[`__k${i}`]))) : null,
    total: Number(count?.n ?? 0),
  };
}
