/**
 * Flags as the outside world reads them (../shared/FLAGS.md): the one mapping
 * from a fiscus.flags row to the contract object, shared by the CLI, the API
 * and the reports, plus the filtered listing query they all need.
 */
import type { Store } from '../../engine/db.ts';
import type { EntityType, Severity } from '../types.ts';

export interface FlagJson {
  flag_id: string;
  rule_id: string;
  rule_version: number;
  severity: Severity;
  title: string;
  title_en: string;
  entity: { type: EntityType; id: string; name: string | null };
  region_code: string | null;
  agency_code: string | null;
  fiscal_year: number | null;
  period: { start: string | null; end: string | null };
  measure: { name: string | null; value: string | null; threshold: string | null };
  amount: string | null;
  evidence: { table: string; key: string }[];
  /** When the evidence rows are thousands: the entity key is in `evidence` and this SELECT lists the rows. */
  evidence_query: string | null;
  first_seen_at: string;
  status: string;
}

/** Fields beyond FLAGS.md that API/report callers may ask for (`extended`). */
export interface FlagJsonExtended extends FlagJson {
  reproduced: boolean;
  last_seen_at: string;
  due_date: string | null;
  assigned_to: string | null;
}

/** The SELECT list that `flagRowToJson` expects (dates as text, timestamps as epoch ms). */
export const FLAG_ROW_SELECT = `flag_id, rule_id, rule_version, severity, title, title_en, entity_type, entity_id, entity_name,
  region_code, agency_code, fiscal_year, strftime(period_start, '%Y-%m-%d') AS period_start,
  strftime(period_end, '%Y-%m-%d') AS period_end, measure_name, measure_value, measure_threshold, amount,
  evidence::VARCHAR AS evidence, evidence_query, status, reproduced, epoch_ms(first_seen_at) AS first_seen_ms,
  epoch_ms(last_seen_at) AS last_seen_ms, strftime(due_date, '%Y-%m-%d') AS due_date, assigned_to`;

export type FlagRow = Record<string, unknown>;

/** ISO 8601 UTC, seconds precision unless there are milliseconds: 2026-03-08T02:00:00Z. */
export function isoUtc(ms: number): string {
  return new Date(ms).toISOString().replace('.000Z', 'Z');
}

function s(v: unknown): string | null {
  return v === null || v === undefined ? null : String(v);
}

export function flagRowToJson(r: FlagRow): FlagJson;
export function flagRowToJson(r: FlagRow, opts: { extended: true }): FlagJsonExtended;
export function flagRowToJson(r: FlagRow, opts: { extended?: boolean } = {}): FlagJson | FlagJsonExtended {
  const evidence = typeof r.evidence === 'string' ? (JSON.parse(r.evidence) as { table: string; key: string }[]) : ((r.evidence ?? []) as { table: string; key: string }[]);
  const base: FlagJson = {
    flag_id: String(r.flag_id),
    rule_id: String(r.rule_id),
    rule_version: Number(r.rule_version),
    severity: r.severity as Severity,
    title: String(r.title),
    title_en: String(r.title_en),
    entity: { type: r.entity_type as EntityType, id: String(r.entity_id), name: s(r.entity_name) },
    region_code: s(r.region_code),
    agency_code: s(r.agency_code),
    fiscal_year: r.fiscal_year === null || r.fiscal_year === undefined ? null : Number(r.fiscal_year),
    period: { start: s(r.period_start), end: s(r.period_end) },
    measure: { name: s(r.measure_name), value: s(r.measure_value), threshold: s(r.measure_threshold) },
    amount: s(r.amount),
    evidence: evidence.map((e) => ({ table: String(e.table), key: String(e.key) })),
    evidence_query: s(r.evidence_query),
    first_seen_at: isoUtc(Number(r.first_seen_ms)),
    status: String(r.status),
  };
  if (!opts.extended) return base;
  return {
    ...base,
    reproduced: Boolean(r.reproduced),
    last_seen_at: isoUtc(Number(r.last_seen_ms)),
    due_date: s(r.due_date),
    assigned_to: s(r.assigned_to),
  };
}

export interface FlagFilter {
  rule?: string[];
  severity?: Severity[];
  agency?: string[];
  status?: string[];
  reproduced?: boolean;
  flagId?: string[];
  limit?: number;
  offset?: number;
}

/** Flags matching `filter`, as raw rows (feed them to flagRowToJson). Ordered by rule, period, entity. */
export async function queryFlags(store: Store, filter: FlagFilter = {}): Promise<FlagRow[]> {
  const conds: string[] = [];
  const params: Record<string, string | boolean> = {};
  const inList = (col: string, key: string, values: string[] | undefined) => {
    if (!values || values.length === 0) return;
    conds.push(`list_contains(from_json($${key}, '["VARCHAR"]'), ${col})`);
    params[key] = JSON.stringify(values);
  };
  inList('rule_id', 'rules', filter.rule);
  inList('severity', 'sev', filter.severity);
  inList('agency_code', 'agency', filter.agency);
  inList('status', 'status', filter.status);
  inList('flag_id', 'ids', filter.flagId);
  if (filter.reproduced !== undefined) {
    conds.push('reproduced = $rep');
    params.rep = filter.reproduced;
  }
  const limit = filter.limit !== undefined ? ` LIMIT ${Math.max(0, Math.floor(filter.limit))}` : '';
  const offset = filter.offset !== undefined ? ` OFFSET ${Math.max(0, Math.floor(filter.offset))}` : '';
  return store.all(
    `SELECT ${FLAG_ROW_SELECT} FROM fiscus.flags ${conds.length ? `WHERE ${conds.join(' AND ')}` : ''}
     ORDER BY rule_id, period_start NULLS FIRST, entity_id, flag_id${limit}${offset}`,
    params,
  );
}

/** Flat columns for table/csv output. */
export function flagToFlat(f: FlagJsonExtended): Record<string, unknown> {
  return {
    flag_id: f.flag_id, rule_id: f.rule_id, severity: f.severity, status: f.status, reproduced: f.reproduced,
    agency_code: f.agency_code, entity: `${f.entity.type}:${f.entity.id}`, period: f.period.start ? `${f.period.start}..${f.period.end}` : '',
    measure: f.measure.value === null ? '' : `${f.measure.name}=${f.measure.value}${f.measure.threshold !== null ? `/${f.measure.threshold}` : ''}`,
    amount: f.amount, title: f.title, first_seen_at: f.first_seen_at,
  };
}
