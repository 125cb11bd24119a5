import type { MatchPlan } from '../plan/types.ts';
import { envelopeExprs } from './envelope.ts';
import { emitExpr } from './expr.ts';
import { hoistRepeatedAggregates, joinedAfterSource } from './hoist.ts';
import type { KindEmitter } from './kind.ts';
import { emitSource } from './source.ts';

export const emitMatch: KindEmitter<MatchPlan> = (d, p, rule) => {
  const h = hoistRepeatedAggregates(d, [p.source.where, p.having, ...envelopeExprs(rule.envelope)], joinedAfterSource(rule));
  const s = emitSource(d, p.source, h.ctx);
  const ctx = h.ctx;
  return {
    ctes: [], from: s.from + h.joins, where: [...s.where, ...(p.having ? [emitExpr(p.having, ctx)] : [])], ctx,
    evidence: d.evidence(p.source.primary.table.name, d.listOf([s.key])), evidenceQuery: 'NULL', preconditions: [],
  };
};
