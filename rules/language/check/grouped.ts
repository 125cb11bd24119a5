/** A grouped side: the aggregate kind and each side of compare (`from`, `where`, `group_by`, `compute`). */
import type { GroupedPlan, IR, Named } from '../plan/types.ts';
import type { YAMLMap, Node } from '../yaml-doc.ts';
import type { CheckContext, CheckedSource } from './context.ts';
import type { Scope } from './scope.ts';

export interface CheckedSide {
  plan: GroupedPlan;
  src: CheckedSource;
  groups: (Named & { node: Node })[];
  computes: (Named & { node: Node })[];
}

export const AT_SLOT: IR = { k: 'slot', rel: 'fiscus_at', name: 'at', quoted: false, type: 'date', agg: false, span: { file: '', line: 1, column: 1 } };

export function checkGrouped(c: CheckContext, m: YAMLMap, what: string, opts: { at?: boolean; extraAllowed?: string[] } = {}): CheckedSide {
  let src = c.source(m, what, (s) => {
    if (opts.at) s.names.set('at', { kind: 'ir', ir: AT_SLOT });
    c.globals(s);
  }, ['group_by', 'compute', ...(opts.extraAllowed ?? [])]);
  src = c.where(m, src);
  const groups = c.namedExprs(c.y.required(m, 'group_by', what), '`group_by`', src.scope);
  for (const g of groups) if (g.expr.agg) c.diagnostics.push(c.y.err(g.node, '`group_by` cannot aggregate'));
  const aggScope: Scope = { ...src.scope, aggregates: true, where: 'in `compute`' };
  const cn = c.y.get(m, 'compute');
  const computes = cn ? c.namedExprs(cn, '`compute`', aggScope) : [];
  const seen = new Set<string>();
  for (const x of [...groups, ...computes]) {
    if (seen.has(x.name)) c.diagnostics.push(c.y.err(x.node, `name \`${x.name}\` is defined twice`));
    seen.add(x.name);
  }
  return { plan: { source: src.plan, groups, computes }, src, groups, computes };
}

/** Bind a side's group keys and computes to the columns of its CTE (`__g."name"`). */
export function bindSide(c: CheckContext, side: CheckedSide, rel: string, scope: Scope): void {
  for (const g of side.groups) c.slot(scope, g.name, rel, g.name, g.expr.type, true, g.expr.enumValues);
  for (const x of side.computes) c.slot(scope, x.name, rel, x.name, x.expr.type, true, x.expr.enumValues);
}
