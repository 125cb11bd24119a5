/**
 * Point-in-time state: every flag's closed-loop state as of the END of a day
 * D (Asia/Shanghai), reconstructed from the hash-chained event log
 * (fiscus.flag_events) alone — never from the current columns of
 * fiscus.flags, which only ever say where a flag stands NOW.
 *
 * A flag exists as of D when it was first seen on or before D. Of its events,
 * those that occurred before D+1 00:00 Beijing time count, in log order (seq),
 * exactly as tracker/perform.ts and rules/run/store-flags.ts write them:
 * - status: the `to_status` of the last state event (flag.discovered writes
 *   `discovered`; a passing vote, keep and extend write none);
 * - reproduced: the last of flag.not_reproduced / flag.reproduced (true before any);
 * - assigned_to: `data.assigned_to` of the last flag.assigned / flag.reopened;
 * - due_date: `data.due_date` of the last flag.assigned / flag.reopened /
 *   flag.explanation_rejected, or `data.to_due` of a later flag.extended;
 * - ever confirmed / assigned, the last response (explain / report-rectified,
 *   with its recorded `on_time`), the last report-rectified (amounts), votes and
 *   failing votes, the latest not_reproduced and kept marks.
 * What the rules say about a finding (title, amount, severity, last_seen_at) is
 * not in the log and is read as stored.
 *
 * One SQL text (`flagsAsOfCte`) serves `trackStats`, `listTracked({ asOf })`
 * and the quarterly report's own recorded queries, so they cannot disagree.
 * As of today it gives exactly the current columns (test/tracker/as-of.test.ts).
 */
import type { IsoDate } from '../engine/calendar.ts';
import type { Params, Store } from '../engine/db.ts';
import { DUCKDB_SQL, type EngineSql } from '../engine/sql-dialect.ts';
import { isIsoDate } from '../engine/dates.ts';
import { FiscusError } from '../engine/errors.ts';
import { FLAG_TABLE_COLUMNS, flagColumns } from '../flags/row.ts';
import type { RawFlag } from './flags.ts';

/** A calendar day YYYY-MM-DD that exists; anything else is the caller's mistake (400 / exit 2). */
export function checkDay(day: string): void {
  if (!isIsoDate(day)) throw new FiscusError(`日期无效 / not a date (YYYY-MM-DD): "${day}"`, { code: 'BAD_INPUT', httpStatus: 400, exitCode: 2 });
}

/** The instant D+1 00:00 Asia/Shanghai for a DATE parameter: everything before it happened on or before D. */
export function endOfDaySql(param: string): string {
  return `timezone('Asia/Shanghai', ($${param}::DATE + 1)::TIMESTAMP)`;
}

/**
 * Two CTEs (without the leading WITH): `asof_events`, one row of facts per flag
 * from its events before the end of day `$param`, and `flags_asof`: the
 * fiscus.flags rows first seen by then, their tracker columns (status,
 * reproduced, assigned_to, due_date) replaced by their values at that instant,
 * plus the event facts.
 */
export function flagsAsOfCte(param = 'as_of_day', sql: EngineSql = DUCKDB_SQL): string {
  const cutoff = endOfDaySql(param);
  const j = (key: string) => sql.jsonText('e.data', key);
  return `asof_events AS (
    SELECT e.flag_id,
      ${sql.argMax('e.to_status', 'e.seq', 'e.to_status IS NOT NULL')} AS status,
      ${sql.argMax("e.event_type = 'flag.reproduced'", 'e.seq', "e.event_type IN ('flag.reproduced', 'flag.not_reproduced')")} AS reproduced,
      ${sql.argMax(j('assigned_to'), 'e.seq', "e.event_type IN ('flag.assigned', 'flag.reopened')")} AS assigned_to,
      ${sql.argMax(`CASE WHEN e.event_type = 'flag.extended' THEN ${j('to_due')} ELSE ${j('due_date')} END`, 'e.seq',
        "e.event_type IN ('flag.assigned', 'flag.reopened', 'flag.explanation_rejected', 'flag.extended')")} AS due_date,
      bool_or(e.event_type = 'flag.confirmed') AS ever_confirmed,
      bool_or(e.event_type = 'flag.assigned') AS ever_assigned,
      max(e.seq) FILTER (WHERE e.event_type = 'flag.not_reproduced') AS nr_seq,
      max(e.seq) FILTER (WHERE e.event_type = 'flag.kept') AS kept_seq,
      count(*) FILTER (WHERE e.event_type = 'flag.voted') AS votes,
      count(*) FILTER (WHERE e.event_type = 'flag.voted' AND ${j('passed')} = 'false') AS failing_votes,
      ${sql.argMax('CAST(e.data AS VARCHAR)', 'e.seq', "e.event_type IN ('flag.explained', 'flag.rectified')")} AS last_response,
      ${sql.argMax('CAST(e.data AS VARCHAR)', 'e.seq', "e.event_type = 'flag.rectified'")} AS last_rectified,
      max(e.occurred_at) AS last_event_at
    FROM fiscus.flag_events e
    WHERE e.occurred_at < ${cutoff}
    GROUP BY e.flag_id
  ),
  flags_asof AS (
    SELECT ${FLAG_TABLE_COLUMNS.map((c) => ASOF_REPLACED[c] ?? `fl.${c}`).join(', ')},
      coalesce(ae.ever_confirmed, false) AS ever_confirmed, coalesce(ae.ever_assigned, false) AS ever_assigned,
      ae.nr_seq, ae.kept_seq, coalesce(ae.votes, 0) AS votes, coalesce(ae.failing_votes, 0) AS failing_votes,
      ae.last_response, ae.last_rectified, ae.last_event_at
    FROM fiscus.flags fl LEFT JOIN asof_events ae ON ae.flag_id = fl.flag_id
    WHERE fl.first_seen_at < ${cutoff}
  )`;
}

/** The tracker columns as of the day, in place of the current ones. */
const ASOF_REPLACED: Partial<Record<(typeof FLAG_TABLE_COLUMNS)[number], string>> = {
  status: "coalesce(ae.status, 'discovered') AS status",
  reproduced: 'coalesce(ae.reproduced, true) AS reproduced',
  assigned_to: 'ae.assigned_to AS assigned_to',
  due_date: 'CAST(ae.due_date AS DATE) AS due_date',
};

/** A flag row as of a day, with the event facts the headline figures need. */
export interface RawFlagAsOf extends RawFlag {
  ever_confirmed: boolean;
  ever_assigned: boolean;
  /** Canonical JSON of the last explain / report-rectified event's data. */
  last_response: string | null;
  /** Canonical JSON of the last report-rectified event's data. */
  last_rectified: string | null;
}

/**
 * The flags that existed at the end of `asOf`, in their state then. `where`
 * is SQL over the reconstructed rows aliased `f` (so `f.status`,
 * `f.assigned_to` are the values as of that day), as for `loadRawFlags`.
 */
export async function loadRawFlagsAsOf(store: Store, asOf: IsoDate, where = 'true', params: Params = {}): Promise<RawFlagAsOf[]> {
  if ('as_of_day' in params) throw new Error('as_of_day is reserved for the as-of day');
  checkDay(asOf);
  return store.all<RawFlagAsOf & Record<string, unknown>>(
    `WITH ${flagsAsOfCte('as_of_day', store.dialect)}
     SELECT ${flagColumns('f')}, ${store.dialect.localDay('f.first_seen_at')} AS first_seen_day,
       f.nr_seq, f.kept_seq, f.votes, f.failing_votes, f.last_event_at,
       f.ever_confirmed, f.ever_assigned, f.last_response, f.last_rectified
     FROM flags_asof f
     WHERE ${where}
     ORDER BY f.first_seen_at, f.flag_id`,
    { ...params, as_of_day: asOf },
  );
}
