/** cluster — gaps and islands: a partition's rows cut where consecutive dates are more than `gap` apart. */
import type { ClusterPlan } from '../plan/types.ts';
import type { KindChecker } from './kind.ts';
import { newScope, type Scope } from './scope.ts';

export const checkCluster: KindChecker<ClusterPlan> = (c, m) => {
  c.needs(c.y.get(m, 'gap'), 'window_functions', '`cluster` (gaps and islands over window functions)');
  c.needs(c.y.get(m, 'gap'), 'first_last', '`cluster` (the first and last row of each cluster)');
  let src = c.source(m, '`cluster`', (s) => c.globals(s), ['partition_by', 'date', 'gap', 'order_by', 'compute', 'having']);
  src = c.where(m, src);
  const s = src.scope;
  const primary = src.plan.primary;
  const partitions = c.namedExprs(c.y.required(m, 'partition_by', '`cluster`'), '`partition_by`', s);
  for (const p of partitions) if (p.expr.agg) c.diagnostics.push(c.y.err(p.node, '`partition_by` cannot aggregate'));
  const date = c.expr(c.y.required(m, 'date', '`cluster`'), s, '`date`', 'date');
  const gapNode = c.y.required(m, 'gap', '`cluster`');
  const gap = c.expr(gapNode, s, '`gap`', 'any');
  if (!gap.poison && (gap.type !== 'days' || gap.agg)) {
    c.diagnostics.push(c.y.err(gapNode, '`gap` is a number of calendar days, e.g. `30 days`: consecutive rows at most that far apart belong to one cluster'));
  }
  const obNode = c.y.get(m, 'order_by');
  const order = obNode ? c.namedExprs(obNode, '`order_by`', s) : [];
  const aggScope: Scope = { ...s, aggregates: true, where: 'in `compute`' };
  const cn = c.y.get(m, 'compute');
  const computes = cn ? c.namedExprs(cn, '`compute`', aggScope) : [];
  const reserved = new Set(['cluster_start', 'cluster_end', 'first', 'last', ...partitions.map((p) => p.name)]);
  for (const x of computes) {
    if (!x.expr.agg && !x.expr.poison) c.diagnostics.push(c.y.err(x.node, `\`${x.name}\` must aggregate the cluster's rows (e.g. count(), sum(amount), max(payee_name))`));
    if (reserved.has(x.name)) c.diagnostics.push(c.y.err(x.node, `name \`${x.name}\` is already used (partition keys, cluster_start, cluster_end, first, last)`));
  }
  // The finding scope: partition keys, computes, the cluster's dates, its first and last row.
  const scope = newScope('in `having`');
  c.globals(scope);
  partitions.forEach((p, i) => c.slot(scope, p.name, 'c', `__pk${i}`, p.expr.type, false, p.expr.enumValues));
  for (const x of computes) c.slot(scope, x.name, 'c', x.name, x.expr.type, true, x.expr.enumValues);
  c.slot(scope, 'cluster_start', 'c', '__start', 'date', false);
  c.slot(scope, 'cluster_end', 'c', '__end', 'date', false);
  scope.tables.set('first', { alias: 'first', rel: '__first__', quoted: false, table: primary.table });
  scope.tables.set('last', { alias: 'last', rel: '__last__', quoted: false, table: primary.table });
  c.lets(scope);
  const h = c.y.get(m, 'having');
  const having = h ? c.expr(h, scope, '`having`', 'boolean') : undefined;
  return { plan: { kind: 'cluster', source: src.plan, partitions, date, gap, order, computes, ...(having ? { having } : {}) }, scope };
};
