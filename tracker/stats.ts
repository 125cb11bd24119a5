/**
 * The quarterly headline figures of the closed loop.
 *
 * Scope: the flags FIRST SEEN (first_seen_at, calendar date in Asia/Shanghai)
 * in the given year / quarter (and region) — or, with basis `period`, whose
 * finding is dated in it — that existed by the end of the as-of day D
 * (`today`, default today), each counted in its state as of D, reconstructed
 * from the event log (tracker/as-of.ts): nothing that happened after D
 * changes a figure as of D. So "Q1 2026 as of June 30" answers: of what was
 * discovered in Q1, where did each item stand on June 30. A flag is counted
 * once per figure. As of today the figures are those of the current state.
 *
 * Figures (counts are numbers of flags; "status" is the status as of D):
 * - discovered: every flag in scope.
 * - pending_confirmation: status discovered.
 * - confirmed: flags with a flag.confirmed event on or before D (whatever happened after it).
 * - dismissed: status dismissed (before or after confirmation).
 * - assigned: flags with a flag.assigned event (交办) on or before D.
 * - explained: status closed_explained (explanation accepted, 说清销号).
 * - awaiting_decision: status explained (the unit explained; the committee has not decided).
 * - rectifying: status rectifying (整改中).
 * - rectified: status rectified or verified (the unit reported the rectification done).
 * - verified: status verified (验收销号).
 * - overdue: the unit owes a response (assigned or rectifying) and a working day after the
 *   effective deadline has begun (tracker/deadlines.ts), judged on D.
 * - not_reproduced_pending: open, no longer reproduced by the rules, committee not yet decided.
 * - rectification_rate = rectified ÷ (confirmed − confirmed_and_dismissed − explained), where
 *   confirmed_and_dismissed = confirmed flags dismissed as of D; null when the divisor is 0.
 * - on_time_rate = on_time_responses ÷ responses, over flags explained, closed_explained,
 *   rectified or verified as of D, judging the flag's LAST response event up to D
 *   (explain or report-rectified):
 *   on time when made before a working day after the deadline in force at that moment began.
 *   null when there are no responses.
 * - money_involved: Σ amount of flags in scope not dismissed.
 * - money_recovered / money_regularised: Σ amount_recovered / amount_regularised of the last
 *   report-rectified event (up to D) of flags rectified or verified as of D.
 * - votes / votes_failed: satisfaction votes taken up to D / those where 满意+基本满意 ≤ half the members.
 * - satisfaction_rate = (votes − votes_failed) ÷ votes: the share of votes passed; null when no votes.
 * - escalated: flags with at least one failing vote (质询/特定问题调查 candidates);
 *   inquiry: flags with two or more failing votes.
 * Rates are fractions rounded to 4 decimals; money is a decimal string (yuan). `displayFigures`
 * gives them as printed (percent, grouped yuan): the CLI table and the report read the same.
 * The same figures are given by severity, by rule and by agency (the assignee, else the flag's agency).
 */
import { todayInShanghai, WorkCalendar } from '../engine/calendar.ts';
import type { Store } from '../engine/db.ts';
import { resolveConfig } from './config.ts';
import { loadRawFlagsAsOf } from './as-of.ts';
import { filterSql } from '../flags/filter.ts';
import { toTracked, type TrackedFlag } from './flags.ts';
import { count, money, pct } from '../engine/numbers.ts';
import { fromFen, toFen } from './money.ts';
import { badInput } from './perform.ts';
import type { ReadOptions } from './query.ts';

export interface StatsScope {
  year?: number;
  quarter?: number;
  region?: string;
  /**
   * Which day places a flag in a year/quarter:
   * - `first_seen` (default): the day a rule run first raised it (Asia/Shanghai);
   * - `period`: the day the finding is about — its period end, else period start, else the end of
   *   its fiscal year, else the as-of day of the run that first raised it, else first seen
   *   (see `flagDaySql`). A report on last year's data written today still counts last year's findings.
   */
  basis?: 'first_seen' | 'period';
  /** With a quarter: count from January 1 through the quarter's end (year to date). */
  ytd?: boolean;
  /** Only flags of this agency or department (its own, assigned to it, or of its units). */
  agency?: string;
}

/**
 * SQL for the day a flag is about (the `period` basis), for a flags row aliased `alias`:
 * its period end, else start, else the end of its fiscal year, else — a finding about a
 * state with no period of its own, such as an idle asset — the as-of day of the rule run
 * that first raised it (the day of the data it was found in, not the day the run happened:
 * a run as of 2025-12-31 made in February counts in 2025), else the day it was first seen.
 * A flag always has a day, whatever its status, so no flag drops out of a year.
 */
export function flagDaySql(alias = 'f'): string {
  return `coalesce(${alias}.period_end, ${alias}.period_start, make_date(${alias}.fiscal_year, 12, 31), (SELECT fr.as_of FROM fiscus.rule_runs fr WHERE fr.run_id = ${alias}.first_run_id), timezone('Asia/Shanghai', ${alias}.first_seen_at)::DATE)`;
}

export interface Figures {
  discovered: number;
  pending_confirmation: number;
  confirmed: number;
  dismissed: number;
  assigned: number;
  explained: number;
  awaiting_decision: number;
  rectifying: number;
  rectified: number;
  verified: number;
  overdue: number;
  not_reproduced_pending: number;
  confirmed_and_dismissed: number;
  rectification_rate: number | null;
  responses: number;
  on_time_responses: number;
  on_time_rate: number | null;
  money_involved: string;
  money_recovered: string;
  money_regularised: string;
  votes: number;
  votes_failed: number;
  satisfaction_rate: number | null;
  escalated: number;
  inquiry: number;
}

export interface TrackStats {
  scope: { year: number | null; quarter: number | null; region: string | null; basis: string; as_of: string };
  totals: Figures;
  by_severity: ({ severity: string } & Figures)[];
  by_rule: ({ rule_id: string } & Figures)[];
  /** `agency_name`: from ref.agencies; an agency missing there shows as its code (as in rule titles). */
  by_agency: ({ agency: string; agency_name: string } & Figures)[];
}

/**
 * Figures as people read them (the CLI table; the report prints the same): rates as percent with
 * two decimals ("50.00%"), money as grouped yuan ("15,239,646,715.10"), counts grouped. The JSON
 * output keeps the machine values: rates as fractions 0–1 (null when undefined), money as exact
 * decimal strings.
 */
export function displayFigures(f: Figures): Record<keyof Figures, string> {
  const out = {} as Record<keyof Figures, string>;
  for (const k of Object.keys(figures([])) as (keyof Figures)[]) {
    const v = f[k];
    if (k.endsWith('_rate')) out[k] = pct(v as number | null);
    else if (k.startsWith('money_')) out[k] = money(v as string);
    else out[k] = count(v as number);
  }
  return out;
}

interface EventFacts {
  confirmed: boolean;
  assigned: boolean;
  lastResponse: { on_time: boolean | null } | null;
  lastRectified: { amount_recovered?: string; amount_regularised?: string } | null;
}

interface Item {
  f: TrackedFlag;
  ev: EventFacts;
}

const rate = (n: number, d: number): number | null => (d === 0 ? null : Math.round((n / d) * 10000) / 10000);

export function figures(items: readonly Item[]): Figures {
  const st = (...s: string[]) => items.filter((i) => s.includes(i.f.status)).length;
  const confirmed = items.filter((i) => i.ev.confirmed).length;
  const confirmedDismissed = items.filter((i) => i.ev.confirmed && i.f.status === 'dismissed').length;
  const explained = st('closed_explained');
  const rectified = st('rectified', 'verified');
  const responders = items.filter(
    (i) => ['explained', 'closed_explained', 'rectified', 'verified'].includes(i.f.status) && i.ev.lastResponse && i.ev.lastResponse.on_time !== null,
  );
  const onTime = responders.filter((i) => i.ev.lastResponse!.on_time === true).length;
  const votes = items.reduce((n, i) => n + i.f.votes, 0);
  const votesFailed = items.reduce((n, i) => n + i.f.failing_votes, 0);
  let involved = 0n;
  let recovered = 0n;
  let regularised = 0n;
  for (const i of items) {
    if (i.f.status !== 'dismissed') involved += toFen(i.f.amount);
    if ((i.f.status === 'rectified' || i.f.status === 'verified') && i.ev.lastRectified) {
      recovered += toFen(i.ev.lastRectified.amount_recovered);
      regularised += toFen(i.ev.lastRectified.amount_regularised);
    }
  }
  return {
    discovered: items.length,
    pending_confirmation: st('discovered'),
    confirmed,
    dismissed: st('dismissed'),
    assigned: items.filter((i) => i.ev.assigned).length,
    explained,
    awaiting_decision: st('explained'),
    rectifying: st('rectifying'),
    rectified,
    verified: st('verified'),
    overdue: items.filter((i) => i.f.overdue).length,
    not_reproduced_pending: items.filter((i) => i.f.needs_decision).length,
    confirmed_and_dismissed: confirmedDismissed,
    rectification_rate: rate(rectified, confirmed - confirmedDismissed - explained),
    responses: responders.length,
    on_time_responses: onTime,
    on_time_rate: rate(onTime, responders.length),
    money_involved: fromFen(involved),
    money_recovered: fromFen(recovered),
    money_regularised: fromFen(regularised),
    votes,
    votes_failed: votesFailed,
    satisfaction_rate: rate(votes - votesFailed, votes),
    escalated: items.filter((i) => i.f.failing_votes >= 1).length,
    inquiry: items.filter((i) => i.f.failing_votes >= 2).length,
  };
}

function groupBy<K extends string>(items: readonly Item[], key: K, pick: (i: Item) => string): ({ [P in K]: string } & Figures)[] {
  const groups = new Map<string, Item[]>();
  for (const i of items) {
    const k = pick(i);
    const g = groups.get(k);
    if (g) g.push(i);
    else groups.set(k, [i]);
  }
  return [...groups.keys()].sort().map((k) => ({ [key]: k, ...figures(groups.get(k)!) }) as { [P in K]: string } & Figures);
}

async function withAgencyNames<T extends { agency: string }>(store: Store, rows: T[]): Promise<(T & { agency_name: string })[]> {
  if (rows.length === 0) return [];
  const names = new Map(
    (await store.all<{ agency_code: string; agency_name: string }>('SELECT agency_code, agency_name FROM ref.agencies')).map((r) => [r.agency_code, r.agency_name]),
  );
  return rows.map((r) => ({ ...r, agency_name: names.get(r.agency) ?? r.agency }));
}

export async function trackStats(store: Store, scope: StatsScope = {}, opts: ReadOptions = {}): Promise<TrackStats> {
  if (scope.quarter !== undefined && scope.year === undefined) throw badInput('a quarter needs a year (--year)');
  if (scope.quarter !== undefined && ![1, 2, 3, 4].includes(scope.quarter)) throw badInput('quarter must be 1, 2, 3 or 4');
  const conds: string[] = [];
  const params: Record<string, string | number> = {};
  const basis = scope.basis ?? 'first_seen';
  if (basis !== 'first_seen' && basis !== 'period') throw badInput('basis must be first_seen or period');
  const local = basis === 'period' ? flagDaySql('f') : "timezone('Asia/Shanghai', f.first_seen_at)";
  if (scope.year !== undefined) {
    conds.push(`${store.dialect.year(local)} = $year`);
    params.year = scope.year;
  }
  if (scope.quarter !== undefined) {
    conds.push(`${store.dialect.quarter(local)} ${scope.ytd ? '<=' : '='} $quarter`);
    params.quarter = scope.quarter;
  }
  const sub = filterSql({ region: scope.region ? [scope.region] : undefined, agency: scope.agency ? [scope.agency] : undefined });
  conds.push(...sub.conds);
  Object.assign(params, sub.params);
  const where = conds.length ? conds.join(' AND ') : 'true';
  const cal = opts.calendar ?? (await WorkCalendar.load(store));
  const cfg = resolveConfig(opts.config);
  const today = opts.today ?? todayInShanghai();
  const raws = await loadRawFlagsAsOf(store, today, where, params);
  const items: Item[] = raws.map((r) => ({
    f: toTracked(r, cal, cfg, today),
    ev: {
      confirmed: Boolean(r.ever_confirmed),
      assigned: Boolean(r.ever_assigned),
      lastResponse: r.last_response ? (JSON.parse(r.last_response) as EventFacts['lastResponse']) : null,
      lastRectified: r.last_rectified ? (JSON.parse(r.last_rectified) as EventFacts['lastRectified']) : null,
    },
  }));
  return {
    scope: {
      year: scope.year ?? null,
      quarter: scope.quarter ?? null,
      region: scope.region ?? null,
      basis:
        (basis === 'period'
          ? 'flags whose finding is dated in the period (period end, else start, else fiscal year end, else the as-of day of the run that first raised it)'
          : 'flags first seen in the period (first_seen_at, Asia/Shanghai)') +
        `${scope.ytd && scope.quarter !== undefined ? ', year to date through the quarter' : ''}, in their state as of as_of`,
      as_of: today,
    },
    totals: figures(items),
    by_severity: groupBy(items, 'severity', (i) => i.f.severity),
    by_rule: groupBy(items, 'rule_id', (i) => i.f.rule_id),
    by_agency: await withAgencyNames(store, groupBy(items, 'agency', (i) => i.f.assigned_to ?? i.f.agency_code ?? '(none)')),
  };
}
