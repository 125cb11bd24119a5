/** sequence — each row with the previous row of its partition (`prev.<column>`). */
import type { SequencePlan } from '../plan/types.ts';
import type { KindChecker } from './kind.ts';

export const checkSequence: KindChecker<SequencePlan> = (c, m) => {
  c.needs(c.y.get(m, 'order_by'), 'window_functions', '`sequence` (lag over the rows of a partition)');
  let src = c.source(m, '`sequence`', (s) => c.globals(s), ['partition_by', 'order_by', 'having']);
  src = c.where(m, src);
  const s = src.scope;
  const partitions = c.namedExprs(c.y.required(m, 'partition_by', '`sequence`'), '`partition_by`', s);
  const order = c.namedExprs(c.y.required(m, 'order_by', '`sequence`'), '`order_by`', s);
  s.tables.set('prev', { alias: 'prev', rel: '__prev__', quoted: false, table: src.plan.primary.table });
  c.lets(s);
  const h = c.y.get(m, 'having');
  const having = h ? c.expr(h, s, '`having`', 'boolean') : undefined;
  return { plan: { kind: 'sequence', source: src.plan, partitions, order, ...(having ? { having } : {}) }, scope: s };
};
