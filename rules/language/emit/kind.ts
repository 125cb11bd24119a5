/** What emitting a logic kind gives the rule emitter: CTEs, the FROM and WHERE of the findings, their evidence. */
import type { Dialect } from '../dialects/types.ts';
import type { LogicPlan, RulePlan } from '../plan/types.ts';
import type { EmitCtx } from './expr.ts';

export interface Findings {
  ctes: string[];
  from: string;
  where: string[];
  /** The kind's automatic evidence (a list of `{table, key}` in the dialect's form). */
  evidence: string;
  evidenceQuery: string;
  /** Statistical kinds: "some group reaches the minimum size" (CTEs + a SELECT of `ok`). */
  preconditions: { ctes: string[]; sql: string }[];
  /** How finding-level expressions (having, envelope) are rendered. */
  ctx: EmitCtx;
}

export type KindEmitter<P extends LogicPlan = LogicPlan> = (d: Dialect, plan: P, rule: RulePlan) => Findings;
