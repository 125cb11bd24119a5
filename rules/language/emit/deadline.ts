import type { DeadlinePlan } from '../plan/types.ts';
import { asOfParam } from './as-of.ts';
import { emitExpr } from './expr.ts';
import type { KindEmitter } from './kind.ts';
import { emitSource } from './source.ts';

export const emitDeadline: KindEmitter<DeadlinePlan> = (d, p) => {
  const s = emitSource(d, p.source);
  const ctx = { d };
  const due = emitExpr(p.due, ctx);
  const asOf = asOfParam(d);
  const where = [...s.where];
  if (p.end) {
    const end = emitExpr(p.end, ctx);
    where.push(`((${end} > ${due}) OR (${end} IS NULL AND ${due} < ${asOf}))`);
  } else if (p.met) {
    where.push(`(${due} <= ${asOf} AND NOT coalesce(${emitExpr(p.met, ctx)}, FALSE))`);
  }
  return {
    ctes: [], from: s.from, where, ctx,
    evidence: d.evidence(p.source.primary.table.name, d.listOf([s.key])), evidenceQuery: 'NULL', preconditions: [],
  };
};
