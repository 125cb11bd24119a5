import type { ComparePlan } from '../plan/types.ts';
import { EVIDENCE_LIMIT, evidenceQuery } from './evidence.ts';
import { emitExpr } from './expr.ts';
import { atDatesCte, emitGrouped, sameKey } from './grouped.ts';
import type { KindEmitter } from './kind.ts';
import { nullSafeCompareKeys } from '../passes/never-null.ts';

export const emitCompare: KindEmitter<ComparePlan> = (d, p) => {
  const l = emitGrouped(d, p.left, 'fiscus_l', p.at);
  const r = emitGrouped(d, p.right, 'fiscus_r', p.at);
  const ctes = [...(p.at ? [atDatesCte(d, p.at, p.left.source.primary.table)] : []), l.cte, r.cte];
  const nullSafe = nullSafeCompareKeys(p.left, p.right);
  const keys = [...(p.at ? [{ name: 'at', nullSafe: false }] : []), ...p.left.groups.map((g, i) => ({ name: g.name, nullSafe: nullSafe[i]! }))];
  const on = keys.map((k) => sameKey(`__l.${d.ident(k.name)}`, `__r.${d.ident(k.name)}`, k.nullSafe)).join(' AND ');
  const ctx = { d };
  const keysSql = `(coalesce(__l.__n, 0) + coalesce(__r.__n, 0))`;
  // The cap inside each key subquery too: see limitedEvidence (a finding above the limit costs no scan).
  const cap = `${keysSql} <= ${EVIDENCE_LIMIT}`;
  const ev = `CASE WHEN ${cap} THEN ${d.evidenceConcat([
    `coalesce(${d.evidence(p.left.source.primary.table.name, l.evidenceKeys('__l', cap))}, ${d.emptyEvidence()})`,
    `coalesce(${d.evidence(p.right.source.primary.table.name, r.evidenceKeys('__r', cap))}, ${d.emptyEvidence()})`,
  ])} ELSE ${d.emptyEvidence()} END`;
  const q = `CASE WHEN ${keysSql} > ${EVIDENCE_LIMIT} THEN ${evidenceQuery(d, p.right.source.primary.table, r.plain, p.join === 'full' ? '__r' : '__l')} END`;
  const jsql = p.join === 'left' ? 'LEFT JOIN' : p.join === 'inner' ? 'JOIN' : 'FULL JOIN';
  return {
    ctes, from: `fiscus_l AS __l ${jsql} fiscus_r AS __r ON ${on}`, where: p.having ? [emitExpr(p.having, ctx)] : [], ctx,
    evidence: ev, evidenceQuery: q, preconditions: [],
  };
};
