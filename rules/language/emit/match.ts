import type { MatchPlan } from '../plan/types.ts';
import { emitExpr } from './expr.ts';
import type { KindEmitter } from './kind.ts';
import { emitSource } from './source.ts';

export const emitMatch: KindEmitter<MatchPlan> = (d, p) => {
  const s = emitSource(d, p.source);
  const ctx = { d };
  return {
    ctes: [], from: s.from, where: [...s.where, ...(p.having ? [emitExpr(p.having, ctx)] : [])], ctx,
    evidence: d.evidence(p.source.primary.table.name, d.listOf([s.key])), evidenceQuery: 'NULL', preconditions: [],
  };
};
