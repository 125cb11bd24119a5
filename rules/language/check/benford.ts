/** benford — first-digit test per group (mean absolute deviation from log10(1 + 1/d)). */
import type { BenfordPlan } from '../plan/types.ts';
import type { KindChecker } from './kind.ts';
import { newScope } from './scope.ts';

export const checkBenford: KindChecker<BenfordPlan> = (c, m) => {
  let src = c.source(m, '`benford`', (s) => c.globals(s), ['group_by', 'value', 'min_count', 'having']);
  src = c.where(m, src);
  const s = src.scope;
  const groups = c.namedExprs(c.y.required(m, 'group_by', '`benford`'), '`group_by`', s);
  const value = c.expr(c.y.required(m, 'value', '`benford`'), s, '`value`', 'numeric');
  const minCount = c.expr(c.y.required(m, 'min_count', '`benford`'), s, '`min_count`', 'integer');
  const scope = newScope('in `having`');
  c.globals(scope);
  for (const g of groups) c.slot(scope, g.name, '__b', g.name, g.expr.type, true, g.expr.enumValues);
  c.slot(scope, 'n', '__b', '__n', 'integer', false);
  c.slot(scope, 'mad', '__b', '__mad', 'number', false);
  c.lets(scope);
  const h = c.y.get(m, 'having');
  const having = h ? c.expr(h, scope, '`having`', 'boolean') : undefined;
  return { plan: { kind: 'benford', source: src.plan, groups, value, minCount, ...(having ? { having } : {}) }, scope };
};
