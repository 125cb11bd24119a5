/** The sources of a logic plan (each `from` with its lookups), to read or to rewrite. */
import type { LogicPlan, SourcePlan } from '../plan/types.ts';

export function sourcesOf(p: LogicPlan): SourcePlan[] {
  switch (p.kind) {
    case 'aggregate':
      return [p.side.source];
    case 'compare':
      return [p.left.source, p.right.source];
    default:
      return [p.source];
  }
}

/** A copy of the plan with every source replaced by `f(source)`. */
export function mapSources(p: LogicPlan, f: (s: SourcePlan) => SourcePlan): LogicPlan {
  switch (p.kind) {
    case 'aggregate':
      return { ...p, side: { ...p.side, source: f(p.side.source) } };
    case 'compare':
      return { ...p, left: { ...p.left, source: f(p.left.source) }, right: { ...p.right, source: f(p.right.source) } };
    default:
      return { ...p, source: f(p.source) };
  }
}
