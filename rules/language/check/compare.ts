/** compare — two grouped sides matched on their keys (left, inner or full join). */
import type { ComparePlan, IR } from '../plan/types.ts';
import { newScope } from './scope.ts';
import { checkGrouped } from './grouped.ts';
import type { KindChecker } from './kind.ts';
import { nullSafeCompareKeys } from '../passes/never-null.ts';

export const checkCompare: KindChecker<ComparePlan> = (c, m) => {
  c.attempt(() => c.y.keys(m, ['left', 'right', 'join', 'having', 'at'], '`compare`'));
  const atNode = c.y.get(m, 'at');
  const l = checkGrouped(c, c.y.map(c.y.required(m, 'left', '`compare`'), '`left`'), '`left`', { at: !!atNode });
  const r = checkGrouped(c, c.y.map(c.y.required(m, 'right', '`compare`'), '`right`'), '`right`', { at: !!atNode });
  const at = atNode ? c.atDates(atNode, l.src.plan.primary.table) : undefined;
  const joinNode = c.y.get(m, 'join');
  let join = (joinNode ? c.attempt(() => c.y.str(joinNode, '`join`')) : 'left') ?? 'left';
  if (!['left', 'inner', 'full'].includes(join)) {
    c.diagnostics.push(c.y.err(joinNode, '`join` is one of left (every left group, right may be missing), inner (both present), full (either)'));
    join = 'left';
  }
  // A key that may be NULL on both sides is matched null-safely, which some engines cannot FULL JOIN
  // on (emit/grouped.ts sameKey); keys the feed contract makes NOT NULL are plain `=`, which every engine can.
  if (join === 'full' && nullSafeCompareKeys(l.plan, r.plan).some(Boolean)) c.needs(joinNode, 'full_join_nullable_keys', '`join: full` on a key that can be missing on both sides');
  const ln = l.groups.map((g) => g.name);
  const rn = r.groups.map((g) => g.name);
  if (ln.join() !== rn.join()) {
    c.diagnostics.push(c.y.err(c.y.get(c.y.map(c.y.get(m, 'right')!, '`right`'), 'group_by'), `\`right.group_by\` must name the same keys as \`left.group_by\` (${ln.join(', ')}), in the same order; they are what the two sides are matched on`));
  }
  for (const x of r.computes) {
    if (l.computes.some((y) => y.name === x.name) || ln.includes(x.name)) c.diagnostics.push(c.y.err(x.node, `name \`${x.name}\` is used on both sides`));
  }
  const scope = newScope('in `having`');
  c.globals(scope);
  const info = { agg: false, span: c.y.nodePos(m) };
  const slot = (rel: string, name: string, type: IR['type'], quoted = true): IR => ({ k: 'slot', rel, name, quoted, type, ...info });
  const keyRef = (k: string, type: IR['type']): IR =>
    join === 'full' ? { k: 'call', fn: 'coalesce', args: [slot('__l', k, type), slot('__r', k, type)], distinct: false, type, ...info } : slot('__l', k, type);
  if (atNode) scope.names.set('at', { kind: 'ir', ir: keyRef('at', 'date') });
  for (const g of l.groups) {
    const ir = keyRef(g.name, g.expr.type);
    scope.names.set(g.name, { kind: 'ir', ir: g.expr.enumValues ? { ...ir, enumValues: g.expr.enumValues } : ir });
  }
  for (const x of l.computes) c.slot(scope, x.name, '__l', x.name, x.expr.type);
  for (const x of r.computes) c.slot(scope, x.name, '__r', x.name, x.expr.type);
  const found = (rel: string): IR => ({ k: 'isnull', arg: slot(rel, '__n', 'integer', false), negated: true, type: 'boolean', ...info });
  scope.names.set('left_found', { kind: 'ir', ir: found('__l') });
  scope.names.set('right_found', { kind: 'ir', ir: found('__r') });
  c.lets(scope);
  const h = c.y.get(m, 'having');
  const having = h ? c.expr(h, scope, '`having`', 'boolean') : undefined;
  return {
    plan: { kind: 'compare', left: l.plan, right: r.plan, join: join as ComparePlan['join'], ...(at ? { at } : {}), ...(having ? { having } : {}) },
    scope,
  };
};
