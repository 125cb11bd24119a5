import type { DeadlinePlan } from '../plan/types.ts';
import { asOfParam } from './as-of.ts';
import { envelopeExprs } from './envelope.ts';
import { emitExpr } from './expr.ts';
import { hoistRepeatedAggregates, joinedAfterSource } from './hoist.ts';
import type { KindEmitter } from './kind.ts';
import { emitSource } from './source.ts';

export const emitDeadline: KindEmitter<DeadlinePlan> = (d, p, rule) => {
  const h = hoistRepeatedAggregates(d, [p.source.where, p.due, p.end, p.met, ...envelopeExprs(rule.envelope)], joinedAfterSource(rule));
  const s = emitSource(d, p.source, h.ctx);
  const ctx = h.ctx;
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
    ctes: [], from: s.from + h.joins, where, ctx,
    evidence: d.evidence(p.source.primary.table.name, d.listOf([s.key])), evidenceQuery: 'NULL', preconditions: [],
  };
};
