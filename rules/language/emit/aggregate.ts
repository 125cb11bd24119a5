import type { AggregatePlan } from '../plan/types.ts';
import { evidenceQuery, limitedEvidence } from './evidence.ts';
import { emitExpr } from './expr.ts';
import { atDatesCte, emitGrouped } from './grouped.ts';
import type { KindEmitter } from './kind.ts';

export const emitAggregate: KindEmitter<AggregatePlan> = (d, p) => {
  const side = emitGrouped(d, p.side, 'fiscus_g', p.at);
  const primary = p.side.source.primary.table;
  const ctes = [...(p.at ? [atDatesCte(d, p.at, primary)] : []), side.cte];
  const ctx = { d };
  const ev = limitedEvidence(d, primary.name, '__g.__n', (cap) => side.evidenceKeys('__g', cap), evidenceQuery(d, primary, side.plain, '__g'));
  return { ctes, from: 'fiscus_g AS __g', where: p.having ? [emitExpr(p.having, ctx)] : [], ctx, ...ev, preconditions: [] };
};
