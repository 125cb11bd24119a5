/**
 * The envelope of a finding (entity, region/agency, fiscal year, period, severity,
 * measure, amount, evidence, title values) checked in the kind's finding scope,
 * after the rule-level lookups have joined their reference rows.
 */
import { feedTable } from '../../../engine/feeds.ts';
import { RESULT_COLUMNS, type Severity } from '../../types.ts';
import { parseExpr, type ExprSource } from '../ast.ts';
import { RuleError } from '../errors.ts';
import type { EnvelopePlan, EvidenceItem, IR } from '../plan/types.ts';
import { describeType, isNumeric } from '../scope.ts';
import { isScalar, isSeq, type Node } from '../yaml-doc.ts';
import type { CheckContext } from './context.ts';
import { ExprChecker } from './expr.ts';
import { hasName, type Scope } from './scope.ts';

/** Rule-level `lookup:`: reference rows joined to each finding (after grouping). */
function findingLookups(c: CheckContext, s: Scope): EnvelopePlan['lookups'] {
  const lk = c.y.get(c.root, 'lookup');
  if (!lk) return [];
  const out: EnvelopePlan['lookups'][number][] = [];
  const lm = c.attempt(() => c.y.map(lk, '`lookup`'));
  for (const item of lm?.items ?? []) {
    c.attempt(() => {
      const la = String((item.key as { value: unknown }).value);
      if (s.tables.has(la) || s.names.has(la)) throw c.y.err(item.key as Node, `alias \`${la}\` is already used`);
      const spec = c.y.map(item.value as Node, `lookup \`${la}\``);
      c.y.keys(spec, ['table', 'on'], `lookup \`${la}\``);
      const t = c.tableRef(c.y.required(spec, 'table', `lookup \`${la}\``), '`table`', false);
      s.tables.set(la, { alias: la, rel: la, quoted: true, table: t.def });
      const on = c.expr(c.y.required(spec, 'on', `lookup \`${la}\``), s, '`on`', 'boolean');
      out.push({ alias: la, rel: la, table: t.def, on });
    });
  }
  return out;
}

export function checkEnvelope(c: CheckContext, s: Scope): EnvelopePlan {
  const lookups = findingLookups(c, s);
  const root = c.root;
  const y = c.y;
  const entity = y.map(y.get(root, 'entity')!, '`entity`');
  const entityId = c.expr(y.required(entity, 'id', '`entity`'), s, '`entity.id`', 'any');
  const entityName = c.optExpr('name', s, 'any', entity);
  const regionCode = c.optExpr('region_code', s, 'string');
  const agencyCode = c.optExpr('agency_code', s, 'string');
  const fiscalYear = c.optExpr('fiscal_year', s, 'integer');
  let period: EnvelopePlan['period'];
  const pn = y.get(root, 'period');
  if (pn && !(isScalar(pn) && pn.value === null)) {
    c.attempt(() => {
      const pm = y.map(pn, '`period`');
      c.attempt(() => y.keys(pm, ['start', 'end', 'year'], '`period`'));
      const yr = c.optExpr('year', s, 'integer', pm);
      period = yr
        ? { year: yr }
        : { start: c.expr(y.required(pm, 'start', '`period`'), s, '`period.start`', 'date'), end: c.expr(y.required(pm, 'end', '`period`'), s, '`period.end`', 'date') };
    });
  }
  const severityIf: { severity: Severity; when: IR }[] = [];
  const si = y.get(root, 'severity_if');
  if (si) {
    c.attempt(() => {
      const sm = y.map(si, '`severity_if`');
      y.keys(sm, ['high', 'medium', 'low'], '`severity_if`');
      for (const item of sm.items) {
        const sev = String((item.key as { value: unknown }).value) as Severity;
        severityIf.push({ severity: sev, when: c.expr(item.value as Node, s, `\`severity_if.${sev}\``, 'boolean') });
      }
    });
  }
  const meas = y.map(y.required(root, 'measure', 'a rule'), '`measure`');
  c.attempt(() => y.keys(meas, ['name', 'label', 'value', 'threshold'], '`measure`'));
  const measureName = c.attempt(() => y.str(y.required(meas, 'name', '`measure`'), '`measure.name`')) ?? '';
  const measureValue = c.optExpr('value', s, 'any', meas);
  const threshold = c.optExpr('threshold', s, 'any', meas);
  for (const [t, k] of [[measureValue, 'value'], [threshold, 'threshold']] as const) {
    if (t && !t.poison && !isNumeric(t.type)) c.diagnostics.push(y.err(y.get(meas, k), `\`measure.${k}\` must be a number, got ${describeType(t.type)}`));
  }
  const amount = c.optExpr('amount', s, 'any');
  if (amount && !amount.poison && !isNumeric(amount.type)) c.diagnostics.push(y.err(y.get(root, 'amount'), `\`amount\` must be money, got ${describeType(amount.type)}`));
  return {
    entityType: c.def.meta.entityType, entityId,
    ...(entityName ? { entityName } : {}), ...(regionCode ? { regionCode } : {}), ...(agencyCode ? { agencyCode } : {}),
    ...(fiscalYear ? { fiscalYear } : {}), ...(period ? { period } : {}),
    severityIf, measureName,
    ...(measureValue ? { measureValue } : {}), ...(threshold ? { threshold } : {}), ...(amount ? { amount } : {}),
    ...evidenceList(c, s), vars: templateVars(c, s), lookups,
  };
}

/** `evidence:` list of `{table, key}` (and `auto` for the kind's own evidence) replaces the automatic evidence. */
function evidenceList(c: CheckContext, s: Scope): { evidence?: EvidenceItem[] } {
  const y = c.y;
  const n = y.get(c.root, 'evidence');
  if (!n || (isScalar(n) && n.value === 'auto')) return {};
  if (!isSeq(n)) {
    c.diagnostics.push(y.err(n, '`evidence` is `auto` or a list of `{table: schema.table, key: expression}` (and `auto`)'));
    return {};
  }
  const items: EvidenceItem[] = [];
  for (const item of n.items as Node[]) {
    if (isScalar(item) && item.value === 'auto') {
      items.push({ auto: true });
      continue;
    }
    c.attempt(() => {
      const m = y.map(item, 'an evidence entry');
      y.keys(m, ['table', 'key'], 'an evidence entry');
      const tn = y.required(m, 'table', 'an evidence entry');
      const t = y.str(tn, '`table`');
      if (!feedTable(t)) throw y.err(tn, `unknown table \`${t}\``);
      items.push({ table: t, key: c.expr(y.required(m, 'key', 'an evidence entry'), s, '`key`', 'any') });
    });
  }
  return { evidence: items };
}

/** `{name}` placeholders in the titles must be names of the rule (checked, with positions). */
function templateVars(c: CheckContext, s: Scope): EnvelopePlan['vars'] {
  const titleNode = c.y.map(c.y.get(c.root, 'title')!, '`title`');
  const out = new Map<string, IR>();
  const digits = new Map<string, number>();
  for (const lang of ['zh', 'en']) {
    const n = c.y.get(titleNode, lang)!;
    const src = c.y.expr(n, `\`title.${lang}\``);
    for (const m of src.text.matchAll(/\{([^{}]*)\}/g)) {
      // `{total}` or `{total:money}` (the runner's format hints: money, int, count, text, or 0–6 decimals of a number)
      const hint = /:(money|int|count|text|[0-6])$/.exec(m[1]!.trim())?.[1];
      const v = m[1]!.trim().replace(/:(money|int|count|text|[0-6])$/, '');
      if (hint && /^\d$/.test(hint) && !digits.has(v)) digits.set(v, Number(hint));
      if (out.has(v)) continue;
      // Standard columns are filled by the runner; a rule name of the same name wins.
      if ((RESULT_COLUMNS as readonly string[]).includes(v) && !hasName(s, v)) continue;
      const exprSrc: ExprSource = { text: v, pos: (off) => src.pos(m.index! + 1 + off) };
      c.attempt(() => {
        if (!/^[A-Za-z_]\w*(\.\w+)?$/.test(v)) throw new RuleError(exprSrc.pos(0), `title placeholder {${v}} must be a name defined in the rule`);
        out.set(v, new ExprChecker(c.env, exprSrc).check(parseExpr(exprSrc), s));
      });
      if (!out.has(v)) out.set(v, c.poison(n));
    }
  }
  return [...out.entries()].map(([k, v]) => (digits.has(k) ? [k, v, digits.get(k)!] as const : [k, v] as const));
}
