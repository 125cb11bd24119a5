/**
 * The one filter of flags, in one encoding: the same names and the same text form
 * (lists comma-separated) for `GET /v1/flags?…`, `fiscus flags --…`, `fiscus track
 * list --…`, the console and the report; turned into SQL over fiscus.flags aliased
 * `f` in one place. The SQL is plain (named parameters, IN lists, a recursive CTE):
 * the same text on DuckDB and PostgreSQL.
 *
 * - agency: a code matches the flags of that agency, the flags assigned to it, and
 *   those of the units of the department it heads (ref.agencies.dept_code) — the
 *   rule the tracker applies to actions and the API to agency tokens.
 * - region: the region and every region below it (ref.regions.parent_code).
 * - period_from/period_to: flags whose period overlaps [from, to].
 * - overdue: decided from one day the calendar computes (tracker/deadlines.ts
 *   overdueCutoff), so the SQL agrees with the tracker's definition.
 * - q: words in the title (zh or en) or the entity's name; or an exact entity id; or a flag
 *   id or its prefix (flags/short-id.ts: at least 6 hex characters, as tables print them).
 */
import { z } from 'zod';
import type { Params } from '../engine/db.ts';
import { isoDateSchema } from '../engine/dates.ts';
import { didYouMean } from '../engine/did-you-mean.ts';
import { STATUSES, type Status } from '../tracker/states.ts';
import { SEVERITIES, type Severity } from './schema.ts';
import { MIN_ID_PREFIX } from './short-id.ts';

export interface FlagFilter {
  flag_id?: string[];
  rule?: string[];
  severity?: Severity[];
  status?: Status[];
  /** Agency or department codes (subtree, see above). */
  agency?: string[];
  /** Region codes (subtree). */
  region?: string[];
  fiscal_year?: number;
  period_from?: string;
  period_to?: string;
  overdue?: boolean;
  reproduced?: boolean;
  q?: string;
}

const MAX_LIST = 200;
/** `a,b , c` → ['a', 'b', 'c']: the text form of every list filter. */
function list(what: string, item: z.ZodType<string> = z.string().min(1).max(200)) {
  return z
    .string()
    .max(10_000)
    .describe(`${what}, comma-separated`)
    .transform((s, ctx) => {
      const parts = s.split(',').map((p) => p.trim()).filter(Boolean);
      if (parts.length > MAX_LIST) ctx.addIssue({ code: 'custom', message: `at most ${MAX_LIST} values` });
      const out: string[] = [];
      for (const p of parts) {
        const r = item.safeParse(p);
        if (r.success) out.push(r.data);
        else ctx.addIssue({ code: 'custom', message: r.error.issues[0]?.message ?? `invalid value "${p}"` });
      }
      return out;
    });
}

function oneOf<T extends string>(name: string, values: readonly T[]): z.ZodType<T> {
  return z.string().refine((v): v is T => (values as readonly string[]).includes(v), {
    error: (iss) => `unknown ${name} "${String(iss.input)}" (one of ${values.join(', ')})${didYouMean(String(iss.input), values)}`,
  }) as unknown as z.ZodType<T>;
}

const day = isoDateSchema();
const bool = z.enum(['true', 'false']).transform((v) => v === 'true');

/**
 * The filter's text form (querystring / CLI option values) → FlagFilter. Unknown
 * severities and statuses are errors with a did-you-mean (400 in the API, exit 2 in the CLI).
 */
export const flagFilterQuery = z.object({
  flag_id: list('flag id(s)').optional(),
  rule: list('rule id(s)').optional(),
  severity: list('high, medium, low', oneOf('severity', SEVERITIES)).optional(),
  status: list('tracker status(es)', oneOf('status', STATUSES)).optional(),
  agency: list('agency or department code(s): their flags, flags assigned to them, their units’ flags').optional(),
  region: list('region code(s), with the regions below them').optional(),
  fiscal_year: z.coerce.number().int().min(1900).max(2100).optional(),
  period_from: day.optional().describe('flags whose period ends on or after this day'),
  period_to: day.optional().describe('flags whose period starts on or before this day'),
  overdue: bool.optional().describe('true: only overdue flags (assigned/rectifying past their deadline); false: none of them'),
  reproduced: bool.optional().describe('false: only flags the last rule run no longer raised'),
  q: z.string().max(200).optional().describe('words in the title or entity name, an exact entity id, or a flag id or its first 6+ characters'),
});

/** Drop empty lists and blank text: "no filter" has one form. */
export function normalizeFilter(f: z.output<typeof flagFilterQuery>): FlagFilter {
  const out: FlagFilter = {};
  for (const [k, v] of Object.entries(f) as [keyof FlagFilter, unknown][]) {
    if (v === undefined) continue;
    if (Array.isArray(v) && v.length === 0) continue;
    if (k === 'q' && typeof v === 'string' && !v.trim()) continue;
    (out as Record<string, unknown>)[k] = k === 'q' ? String(v).trim() : v;
  }
  return out;
}

/** SQL: the flag's region is `$param` or a region below it (ref.regions parent chain). */
export function regionMatchSql(param: string): string {
  return `f.region_code IN (WITH RECURSIVE sub(c) AS (SELECT CAST($${param} AS VARCHAR) UNION SELECT r.region_code FROM ref.regions r JOIN sub ON r.parent_code = sub.c) SELECT c FROM sub)`;
}

/** SQL that matches flags of an agency: its own, assigned to it, or of a unit in its department (ref.agencies.dept_code). */
export function agencyMatchSql(param: string): string {
  return `($${param} IN (f.agency_code, f.assigned_to) OR $${param} IN (
    SELECT a.dept_code FROM ref.agencies a WHERE a.agency_code IN (f.agency_code, f.assigned_to)))`;
}

/** Statuses in which the deadline clock runs (tracker/states.ts CLOCK_STATUSES). */
const CLOCK_SQL = `f.status IN ('assigned', 'rectifying')`;

/** SQL: overdue on the day whose cutoff (tracker/deadlines.ts overdueCutoff) is `$param`. */
export function overdueSql(param: string): string {
  return `(${CLOCK_SQL} AND f.due_date IS NOT NULL AND f.due_date <= CAST($${param} AS DATE))`;
}

const likeEscape = (s: string) => s.replace(/[\\%_]/g, (m) => `\\${m}`);

export interface FilterSql {
  /** Conditions to AND (over fiscus.flags or a row of the same columns aliased `f`). */
  conds: string[];
  params: Params;
}

/**
 * The filter as SQL conditions. Parameter names start with `ff_` so callers can add
 * their own. `overdueCutoff` is required when the filter has `overdue`.
 */
export function filterSql(filter: FlagFilter, opts: { overdueCutoff?: string } = {}): FilterSql {
  const conds: string[] = [];
  const params: Params = {};
  const inList = (col: string, key: string, values: readonly string[] | undefined) => {
    if (!values || values.length === 0) return;
    const names = values.map((v, i) => {
      params[`ff_${key}${i}`] = v;
      return `$ff_${key}${i}`;
    });
    conds.push(`f.${col} IN (${names.join(', ')})`);
  };
  inList('flag_id', 'id', filter.flag_id);
  inList('rule_id', 'rule', filter.rule);
  // A livelihood project's record (projects/records.ts) holds its steps in the event log; it is
  // not a finding, so lists and figures leave it out unless asked for by rule or id.
  if (!filter.rule?.includes('project.record') && !filter.flag_id?.length) conds.push("f.rule_id <> 'project.record'");
  inList('severity', 'sev', filter.severity);
  inList('status', 'st', filter.status);
  const anyOf = (key: string, values: readonly string[] | undefined, sql: (p: string) => string) => {
    if (!values || values.length === 0) return;
    conds.push(`(${values.map((v, i) => ((params[`ff_${key}${i}`] = v), sql(`ff_${key}${i}`))).join(' OR ')})`);
  };
  anyOf('ag', filter.agency, agencyMatchSql);
  anyOf('rg', filter.region, regionMatchSql);
  if (filter.fiscal_year !== undefined) (conds.push('f.fiscal_year = $ff_fy'), (params.ff_fy = filter.fiscal_year));
  if (filter.period_from) (conds.push('coalesce(f.period_end, f.period_start) >= CAST($ff_pfrom AS DATE)'), (params.ff_pfrom = filter.period_from));
  if (filter.period_to) (conds.push('coalesce(f.period_start, f.period_end) <= CAST($ff_pto AS DATE)'), (params.ff_pto = filter.period_to));
  if (filter.reproduced !== undefined) conds.push(filter.reproduced ? 'f.reproduced' : 'NOT f.reproduced');
  if (filter.overdue !== undefined) {
    if (opts.overdueCutoff === undefined) throw new Error('filterSql: the overdue filter needs overdueCutoff');
    params.ff_odcut = opts.overdueCutoff;
    conds.push(filter.overdue ? overdueSql('ff_odcut') : `NOT ${overdueSql('ff_odcut')}`);
  }
  if (filter.q && filter.q.trim()) {
    const text = filter.q.trim();
    params.ff_qlike = `%${likeEscape(text)}%`;
    params.ff_qexact = text;
    // A short id as the tables print it: the flag ids in [prefix, prefix + 'g').
    const idPrefix = new RegExp(`^[0-9a-fA-F]{${MIN_ID_PREFIX},32}$`).test(text);
    if (idPrefix) Object.assign(params, { ff_qidlo: text.toLowerCase(), ff_qidhi: `${text.toLowerCase()}g` });
    conds.push(`(f.title ILIKE $ff_qlike ESCAPE '\\' OR f.title_en ILIKE $ff_qlike ESCAPE '\\' OR coalesce(f.entity_name, '') ILIKE $ff_qlike ESCAPE '\\'
      OR f.entity_id = $ff_qexact OR ${idPrefix ? '(f.flag_id >= $ff_qidlo AND f.flag_id < $ff_qidhi)' : 'f.flag_id = $ff_qexact'})`);
  }
  return { conds, params };
}
