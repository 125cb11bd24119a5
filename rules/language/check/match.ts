/** match — one finding per row of the source that passes `where`. */
import type { MatchPlan } from '../plan/types.ts';
import type { KindChecker } from './kind.ts';

export const checkMatch: KindChecker<MatchPlan> = (c, m) => {
  let src = c.source(m, '`match`');
  c.globals(src.scope);
  c.lets(src.scope);
  src = c.where(m, src);
  return { plan: { kind: 'match', source: src.plan }, scope: src.scope };
};
