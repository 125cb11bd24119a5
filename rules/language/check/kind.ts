/** What checking a logic kind gives: its plan and the scope findings are described in (envelope, titles). */
import type { LogicPlan } from '../plan/types.ts';
import type { YAMLMap } from '../yaml-doc.ts';
import type { CheckContext } from './context.ts';
import type { Scope } from './scope.ts';

export interface CheckedLogic<P extends LogicPlan = LogicPlan> {
  plan: P;
  scope: Scope;
}

export type KindChecker<P extends LogicPlan = LogicPlan> = (c: CheckContext, m: YAMLMap) => CheckedLogic<P>;
