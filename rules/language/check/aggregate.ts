/** aggregate — grouped aggregates with a threshold (optionally at every quarter/month/year end). */
import type { AggregatePlan } from '../plan/types.ts';
import { newScope } from './scope.ts';
import { bindSide, checkGrouped } from './grouped.ts';
import type { KindChecker } from './kind.ts';

export const checkAggregate: KindChecker<AggregatePlan> = (c, m) => {
  const atNode = c.y.get(m, 'at');
  const side = checkGrouped(c, m, '`aggregate`', { at: !!atNode, extraAllowed: ['having', 'at'] });
  const at = atNode ? c.atDates(atNode, side.src.plan.primary.table) : undefined;
  const scope = newScope('in `having`');
  c.globals(scope);
  if (atNode) c.slot(scope, 'at', '__g', 'at', 'date');
  bindSide(c, side, '__g', scope);
  c.lets(scope);
  const h = c.y.get(m, 'having');
  const having = h ? c.expr(h, scope, '`having`', 'boolean') : undefined;
  return { plan: { kind: 'aggregate', side: side.plan, ...(at ? { at } : {}), ...(having ? { having } : {}) }, scope };
};
