/**
 * The stored flag: the columns of fiscus.flags (engine/migrations.ts) as every
 * engine's Store returns them (engine/db.ts: DATE as 'YYYY-MM-DD', TIMESTAMPTZ as
 * UTC text, DECIMAL as a string, JSON as text), and the one mapping from that row
 * to the FLAGS.md object (flags/schema.ts). The SELECT list is plain columns, so it
 * reads the same on DuckDB and PostgreSQL; formatting happens here, in one place.
 */
import type { EntityType, FlagJson, FlagRecordJson, Severity } from './schema.ts';

export interface FlagRow {
  flag_id: string;
  rule_id: string;
  rule_version: number;
  severity: Severity;
  title: string;
  title_en: string;
  entity_type: EntityType;
  entity_id: string;
  entity_name: string | null;
  region_code: string | null;
  agency_code: string | null;
  fiscal_year: number | null;
  period_start: string | null;
  period_end: string | null;
  measure_name: string | null;
  /** Decimal string. */
  measure_value: string | null;
  measure_threshold: string | null;
  /** Money involved, yuan, DECIMAL(18,2) as a string. */
  amount: string | null;
  /** JSON text of [{table, key}]. */
  evidence: string;
  evidence_query: string | null;
  /** Tracker state, kept in step with fiscus.flag_events. */
  status: string;
  /** false: the last run no longer raised it. */
  reproduced: boolean;
  /** TIMESTAMPTZ text. */
  first_seen_at: string;
  last_seen_at: string;
  first_run_id: string | null;
  last_run_id: string | null;
  due_date: string | null;
  /** Agency code the flag is assigned to. */
  assigned_to: string | null;
}

/** What a rule run says about a finding: the columns the runner stages and merges (rules/run/store-flags.ts). */
export type FlagFinding = Pick<
  FlagRow,
  | 'flag_id' | 'rule_id' | 'rule_version' | 'severity' | 'title' | 'title_en' | 'entity_type' | 'entity_id'
  | 'entity_name' | 'region_code' | 'agency_code' | 'fiscal_year' | 'period_start' | 'period_end'
  | 'measure_name' | 'measure_value' | 'measure_threshold' | 'amount' | 'evidence' | 'evidence_query'
>;

/** Every column of fiscus.flags, in table order (engine/migrations.ts). */
export const FLAG_TABLE_COLUMNS = [
  'flag_id', 'rule_id', 'rule_version', 'severity', 'title', 'title_en', 'entity_type', 'entity_id', 'entity_name',
  'region_code', 'agency_code', 'fiscal_year', 'period_start', 'period_end', 'measure_name', 'measure_value',
  'measure_threshold', 'amount', 'evidence', 'evidence_query', 'status', 'reproduced', 'first_seen_at', 'last_seen_at',
  'first_run_id', 'last_run_id', 'due_date', 'assigned_to',
] as const satisfies readonly (keyof FlagRow)[];

/** The columns flagFromRow reads (every column but the run ids). */
export const FLAG_COLUMNS = [
  'flag_id', 'rule_id', 'rule_version', 'severity', 'title', 'title_en', 'entity_type', 'entity_id', 'entity_name',
  'region_code', 'agency_code', 'fiscal_year', 'period_start', 'period_end', 'measure_name', 'measure_value',
  'measure_threshold', 'amount', 'evidence', 'evidence_query', 'status', 'reproduced', 'first_seen_at', 'last_seen_at',
  'due_date', 'assigned_to',
] as const satisfies readonly (keyof FlagRow)[];

export type FlagRowRead = Pick<FlagRow, (typeof FLAG_COLUMNS)[number]>;

/** `f.flag_id, f.rule_id, …`: the SELECT list for flagFromRow (alias '' for none). */
export function flagColumns(alias = 'f'): string {
  const p = alias ? `${alias}.` : '';
  return FLAG_COLUMNS.map((c) => `${p}${c}`).join(', ');
}

/**
 * The one timestamp format of every output (flags/schema.ts ISO_UTC):
 * `2026-03-08T02:00:00.000Z`. Takes epoch milliseconds, a Date, or the text a
 * Store returns for a TIMESTAMPTZ ('2026-03-08 02:00:00.123456+00'); sub-millisecond
 * digits are dropped (truncated, as DuckDB's epoch_ms does).
 */
export function isoUtc(t: number | string | Date): string {
  if (t instanceof Date) return t.toISOString();
  if (typeof t === 'number') return new Date(t).toISOString();
  const m = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2})(?:\.(\d+))?(Z|[+-]\d{2}(?::?\d{2})?)?$/.exec(t.trim());
  if (!m) {
    if (/^-?\d+$/.test(t)) return new Date(Number(t)).toISOString();
    throw new Error(`not a timestamp: "${t}"`);
  }
  const ms = (m[3] ?? '').padEnd(3, '0').slice(0, 3);
  const zone = m[4] === undefined || m[4] === 'Z' ? 'Z' : m[4].length === 3 ? `${m[4]}:00` : m[4].includes(':') ? m[4] : `${m[4].slice(0, 3)}:${m[4].slice(3)}`;
  return new Date(`${m[1]}T${m[2]}.${ms}${zone}`).toISOString();
}

function str(v: unknown): string | null {
  return v === null || v === undefined ? null : String(v);
}

function parseEvidence(v: unknown): { table: string; key: string }[] {
  const list = typeof v === 'string' ? (JSON.parse(v) as unknown) : (v ?? []);
  if (!Array.isArray(list)) return [];
  return list.map((e: { table?: unknown; key?: unknown }) => ({ table: String(e.table), key: String(e.key) }));
}

/** A fiscus.flags row → the FLAGS.md flag. */
export function flagFromRow(r: FlagRowRead): FlagJson {
  return {
    flag_id: String(r.flag_id),
    rule_id: String(r.rule_id),
    rule_version: Number(r.rule_version),
    severity: r.severity,
    title: String(r.title),
    title_en: String(r.title_en),
    entity: { type: r.entity_type, id: String(r.entity_id), name: str(r.entity_name) },
    region_code: str(r.region_code),
    agency_code: str(r.agency_code),
    fiscal_year: r.fiscal_year === null || r.fiscal_year === undefined ? null : Number(r.fiscal_year),
    period: { start: str(r.period_start), end: str(r.period_end) },
    measure: { name: str(r.measure_name), value: str(r.measure_value), threshold: str(r.measure_threshold) },
    amount: str(r.amount),
    evidence: parseEvidence(r.evidence),
    evidence_query: str(r.evidence_query),
    first_seen_at: isoUtc(r.first_seen_at),
    status: String(r.status),
  };
}

/** A fiscus.flags row → the flag as the API serves it (FLAGS.md plus reproduced, last_seen_at, due_date, assigned_to). */
export function flagRecordFromRow(r: FlagRowRead): FlagRecordJson {
  return {
    ...flagFromRow(r),
    reproduced: r.reproduced === true || (r.reproduced as unknown) === 'true',
    last_seen_at: isoUtc(r.last_seen_at),
    due_date: str(r.due_date),
    assigned_to: str(r.assigned_to),
  };
}

/** The FLAGS.md fields of a richer flag object (drops the API's and tracker's additions), in FLAGS.md's order. */
export function contractFlag(f: FlagJson): FlagJson {
  return {
    flag_id: f.flag_id, rule_id: f.rule_id, rule_version: f.rule_version, severity: f.severity, title: f.title,
    title_en: f.title_en, entity: f.entity, region_code: f.region_code, agency_code: f.agency_code,
    fiscal_year: f.fiscal_year, period: f.period, measure: f.measure, amount: f.amount, evidence: f.evidence,
    evidence_query: f.evidence_query, first_seen_at: f.first_seen_at, status: f.status,
  };
}

/** Flat columns for table/csv output. */
export function flagToFlat(f: FlagRecordJson): Record<string, unknown> {
  return {
    flag_id: f.flag_id, rule_id: f.rule_id, severity: f.severity, status: f.status, reproduced: f.reproduced,
    agency_code: f.agency_code, entity: `${f.entity.type}:${f.entity.id}`, period: f.period.start ? `${f.period.start}..${f.period.end}` : '',
    measure: f.measure.value === null ? '' : `${f.measure.name}=${f.measure.value}${f.measure.threshold !== null ? `/${f.measure.threshold}` : ''}`,
    amount: f.amount, title: f.title, first_seen_at: f.first_seen_at,
  };
}
