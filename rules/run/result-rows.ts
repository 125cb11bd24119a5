/**
 * From what a compiled rule's SELECT returns to `RuleResultRow`s, and from a
 * finding to its stable flag id.
 *
 * The compiler may return `evidence` as LIST(STRUCT(table, key)) or JSON, and
 * `vars` as STRUCT, MAP or JSON; all arrive here through getRowObjectsJson
 * (DECIMAL as strings) and are normalised once.
 */
import { createHash } from 'node:crypto';
import { isIsoDate } from '../../engine/dates.ts';
import { RESULT_COLUMNS, type EntityType, type RuleResultRow, type Severity } from '../types.ts';

const SEVERITIES: readonly Severity[] = ['high', 'medium', 'low'];

/**
 * FLAGS.md: the same rule on the same entity and period gives the same id on
 * every run. Version and as-of are deliberately not part of it.
 */
export function flagId(ruleId: string, entityType: string, entityId: string, periodStart: string | null, periodEnd: string | null): string {
  const body = [ruleId, entityType, entityId, periodStart ?? '', periodEnd ?? ''].join('\u001f');
  return createHash('sha256').update(body).digest('hex').slice(0, 32);
}

export class ResultShapeError extends Error {}

/** Check the rule's columns before reading any row, so a wrong SELECT fails with one clear message. */
export function checkResultColumns(columns: readonly string[]): void {
  const missing = RESULT_COLUMNS.filter((c) => !columns.includes(c));
  if (missing.length) {
    throw new ResultShapeError(`rule result lacks column(s) ${missing.join(', ')}; expected ${RESULT_COLUMNS.join(', ')}`);
  }
}

function str(v: unknown): string | null {
  if (v === null || v === undefined) return null;
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

function parseMaybeJson(v: unknown): unknown {
  if (typeof v === 'string') {
    try {
      return JSON.parse(v);
    } catch {
      throw new ResultShapeError(`not JSON: ${v.slice(0, 80)}`);
    }
  }
  return v;
}

function evidenceOf(v: unknown): { table: string; key: string }[] {
  const parsed = parseMaybeJson(v);
  if (parsed === null || parsed === undefined) return [];
  if (!Array.isArray(parsed)) throw new ResultShapeError('evidence must be a list of {table, key}');
  return parsed.map((e) => {
    if (!e || typeof e !== 'object') throw new ResultShapeError('evidence item must be {table, key}');
    const o = e as Record<string, unknown>;
    if (o.table === null || o.table === undefined || o.key === null || o.key === undefined) {
      throw new ResultShapeError('evidence item must have table and key');
    }
    return { table: String(o.table), key: String(o.key) };
  });
}

function varsOf(v: unknown): Record<string, string | number | null> {
  const parsed = parseMaybeJson(v);
  if (parsed === null || parsed === undefined) return {};
  const out: Record<string, string | number | null> = {};
  // A DuckDB MAP arrives as [{key, value}, …].
  const entries: [string, unknown][] = Array.isArray(parsed)
    ? parsed.map((kv) => [String((kv as { key: unknown }).key), (kv as { value: unknown }).value])
    : Object.entries(parsed as Record<string, unknown>);
  for (const [k, val] of entries) {
    out[k] = val === null || val === undefined ? null : typeof val === 'number' ? val : typeof val === 'object' ? JSON.stringify(val) : String(val);
  }
  return out;
}

function isoDate(v: unknown): string | null {
  const s = str(v);
  if (s === null) return null;
  // A DATE, or a timestamp whose day is meant: the leading YYYY-MM-DD.
  const day = s.slice(0, 10);
  if (!isIsoDate(day)) throw new ResultShapeError(`not a date: ${s}`);
  return day;
}

/**
 * The table whose row an entity is, for evidence that names the entity instead of
 * thousands of rows (FLAGS.md: "the budget-line or agency key plus a query").
 * A budget line (or an enterprise, whose rows are monthly) is not one row of a table: its key is cited under the entity type.
 */
const ENTITY_TABLE: Record<string, string> = {
  agency: 'ref.agencies', region: 'ref.regions', payment: 'treasury.payments', bond: 'debt.bonds',
  allocation: 'debt.allocations', debt_service: 'debt.service', transfer: 'transfers.grants',
  asset: 'assets.cards', asset_change: 'assets.changes',
};

/** One raw row (getRowObjectsJson) → RuleResultRow. Throws ResultShapeError naming the column. */
export function toResultRow(raw: Record<string, unknown>): RuleResultRow {
  const col = <T>(name: string, f: (v: unknown) => T): T => {
    try {
      return f(raw[name]);
    } catch (err) {
      throw new ResultShapeError(`column ${name}: ${err instanceof Error ? err.message : String(err)}`);
    }
  };
  const entityId = str(raw.entity_id);
  if (entityId === null || entityId === '') throw new ResultShapeError('column entity_id: is null');
  const entityType = str(raw.entity_type);
  if (entityType === null) throw new ResultShapeError('column entity_type: is null');
  const sev = str(raw.severity);
  if (sev !== null && !SEVERITIES.includes(sev as Severity)) {
    throw new ResultShapeError(`column severity: "${sev}" is not high|medium|low`);
  }
  const fy = raw.fiscal_year;
  const evidenceQuery = str(raw.evidence_query);
  let evidence = col('evidence', evidenceOf);
  if (evidence.length === 0 && evidenceQuery !== null) {
    evidence = [{ table: ENTITY_TABLE[entityType] ?? entityType, key: entityId }];
  }
  return {
    entity_type: entityType as EntityType,
    entity_id: entityId,
    entity_name: str(raw.entity_name),
    region_code: str(raw.region_code),
    agency_code: str(raw.agency_code),
    fiscal_year: fy === null || fy === undefined ? null : Number(fy),
    period_start: col('period_start', isoDate),
    period_end: col('period_end', isoDate),
    severity: sev as Severity | null,
    measure_name: str(raw.measure_name) ?? '',
    measure_value: str(raw.measure_value),
    threshold: str(raw.threshold),
    amount: str(raw.amount),
    evidence,
    evidence_query: evidenceQuery,
    vars: col('vars', varsOf),
  };
}
