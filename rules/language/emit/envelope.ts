/** The standard projection of a finding (RESULT_COLUMNS), from the envelope plan. */
import { RESULT_COLUMNS } from '../../types.ts';
import type { Dialect } from '../dialects/types.ts';
import type { EnvelopePlan, IR } from '../plan/types.ts';
import { asOfFilter } from './as-of.ts';
import { emitExpr, tableFrom, type EmitCtx } from './expr.ts';
import type { Findings } from './kind.ts';
import { sqlTypeOf } from './types.ts';

/** Every expression of the envelope (for passes that look for the columns a finding reads). */
export function envelopeExprs(e: EnvelopePlan): (IR | undefined)[] {
  return [
    ...e.lookups.map((l) => l.on), e.entityId, e.entityName, e.regionCode, e.agencyCode, e.fiscalYear,
    ...(e.period ? ('year' in e.period ? [e.period.year] : [e.period.start, e.period.end]) : []),
    ...e.severityIf.map((s) => s.when), e.measureValue, e.threshold, e.amount,
    ...(e.evidence ?? []).map((x) => ('key' in x ? x.key : undefined)),
    ...e.vars.map(([, v]) => v),
  ];
}

/** Rule-level lookups joined to each finding (after grouping): appended to the findings' FROM. */
export function findingLookupsFrom(d: Dialect, e: EnvelopePlan, f: Findings): string {
  let from = f.from;
  for (const l of e.lookups) {
    const rel = d.ident(l.rel);
    const asOf = asOfFilter(d, l.table, rel);
    from += ` LEFT JOIN ${tableFrom(d, l.table, rel)} ON ${[emitExpr(l.on, f.ctx), ...(asOf ? [asOf] : [])].join(' AND ')}`;
  }
  return from;
}

function varSql(d: Dialect, x: string, t: IR['type'], digits = 2): string {
  switch (t) {
    case 'money':
      // A decimal string (612000.00); the runner's template groups the digits exactly.
      return `CAST(CAST(${x} AS DECIMAL(18,2)) AS VARCHAR)`;
    case 'integer':
      return `CAST(${x} AS BIGINT)`;
    case 'number':
      return d.roundedText(x, digits);
    default:
      return `CAST(${x} AS VARCHAR)`;
  }
}

export function emitEnvelope(d: Dialect, e: EnvelopePlan, f: Findings): string[] {
  const c: EmitCtx = f.ctx;
  const r = (x: IR) => emitExpr(x, c);
  const str = (t: IR | undefined) => (t ? `CAST(${r(t)} AS VARCHAR)` : 'CAST(NULL AS VARCHAR)');
  const dec = (t: IR | undefined) => (t ? d.decimalString(r(t), t.type === 'null' ? 'number' : sqlTypeOf(t.type)) : 'CAST(NULL AS VARCHAR)');
  let ps = 'NULL';
  let pe = 'NULL';
  if (e.period) {
    if ('year' in e.period) {
      ps = d.makeDate(r(e.period.year), '1', '1');
      pe = d.makeDate(r(e.period.year), '12', '31');
    } else {
      ps = r(e.period.start);
      pe = r(e.period.end);
    }
  }
  const severity = e.severityIf.length ? `CASE ${e.severityIf.map((s) => `WHEN ${r(s.when)} THEN '${s.severity}'`).join(' ')} END` : 'CAST(NULL AS VARCHAR)';
  const money = d.typeName('money');
  const cols: Record<(typeof RESULT_COLUMNS)[number], string> = {
    entity_type: `'${e.entityType}'`,
    entity_id: str(e.entityId),
    entity_name: str(e.entityName),
    region_code: str(e.regionCode),
    agency_code: str(e.agencyCode),
    fiscal_year: e.fiscalYear ? `CAST(${r(e.fiscalYear)} AS INTEGER)` : 'CAST(NULL AS INTEGER)',
    period_start: `CAST(${ps} AS DATE)`,
    period_end: `CAST(${pe} AS DATE)`,
    severity,
    measure_name: d.stringLiteral(e.measureName),
    measure_value: dec(e.measureValue),
    threshold: dec(e.threshold),
    amount: e.amount ? `CAST(${r(e.amount)} AS ${money})` : `CAST(NULL AS ${money})`,
    evidence: d.evidenceColumn(
      e.evidence
        ? d.evidenceConcat(e.evidence.map((x) => ('key' in x ? d.evidenceOne(x.table, d.cast(r(x.key), 'string')) : f.evidence)))
        : f.evidence,
    ),
    evidence_query: `CAST(${f.evidenceQuery} AS VARCHAR)`,
    vars: d.jsonObject(e.vars.map(([k, v, digits]) => [k, varSql(d, r(v), v.type, digits)])),
  };
  return RESULT_COLUMNS.map((k) => `${cols[k]} AS ${d.ident(k)}`);
}
