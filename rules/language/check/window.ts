/** window — sliding windows of `within` days per partition; maximal windows only. */
import type { WindowPlan } from '../plan/types.ts';
import type { KindChecker } from './kind.ts';
import { newScope, type Scope } from './scope.ts';

export const checkWindow: KindChecker<WindowPlan> = (c, m) => {
  let src = c.source(m, '`window`', (s) => c.globals(s), ['partition_by', 'date', 'within', 'compute', 'having']);
  src = c.where(m, src);
  const s = src.scope;
  const partitions = c.namedExprs(c.y.required(m, 'partition_by', '`window`'), '`partition_by`', s);
  const date = c.expr(c.y.required(m, 'date', '`window`'), s, '`date`', 'date');
  const withinNode = c.y.required(m, 'within', '`window`');
  const within = c.expr(withinNode, s, '`within`', 'any');
  if (!within.poison && within.type !== 'days') {
    c.diagnostics.push(c.y.err(withinNode, '`within` is a number of calendar days, e.g. `7 days` (first and last date at most 6 days apart)'));
  } else if (within.agg) c.diagnostics.push(c.y.err(withinNode, '`within` cannot aggregate'));
  const aggScope: Scope = { ...s, aggregates: true, where: 'in `compute`' };
  const cn = c.y.get(m, 'compute');
  const computes = cn ? c.namedExprs(cn, '`compute`', aggScope) : [];
  const scope = newScope('in `having`');
  c.globals(scope);
  for (const p of partitions) c.slot(scope, p.name, 'w', p.name, p.expr.type, true, p.expr.enumValues);
  for (const x of computes) c.slot(scope, x.name, 'w', x.name, x.expr.type);
  c.slot(scope, 'window_start', 'w', '__start', 'date', false);
  c.slot(scope, 'window_end', 'w', '__end', 'date', false);
  c.lets(scope);
  const h = c.y.get(m, 'having');
  const having = h ? c.expr(h, scope, '`having`', 'boolean') : undefined;
  return { plan: { kind: 'window', source: src.plan, partitions, date, within, computes, ...(having ? { having } : {}) }, scope };
};
