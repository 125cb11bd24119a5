/**
 * The logic kinds: for each, how it is checked (check/<kind>.ts: YAML → plan) and how
 * it is emitted (emit/<kind>.ts: plan → SQL through a dialect). A new kind is two new
 * files, its plan type in plan/types.ts, its name in LOGIC_KINDS and one line here.
 */
import { checkAggregate } from './check/aggregate.ts';
import { checkBenford } from './check/benford.ts';
import { checkCluster } from './check/cluster.ts';
import { checkCompare } from './check/compare.ts';
import { checkDeadline } from './check/deadline.ts';
import type { KindChecker } from './check/kind.ts';
import { checkMatch } from './check/match.ts';
import { checkRobustZ } from './check/robust-z.ts';
import { checkSequence } from './check/sequence.ts';
import { checkWindow } from './check/window.ts';
import type { LogicKind } from './definition.ts';
import { emitAggregate } from './emit/aggregate.ts';
import { emitBenford } from './emit/benford.ts';
import { emitCluster } from './emit/cluster.ts';
import { emitCompare } from './emit/compare.ts';
import { emitDeadline } from './emit/deadline.ts';
import type { KindEmitter } from './emit/kind.ts';
import { emitMatch } from './emit/match.ts';
import { emitRobustZ } from './emit/robust-z.ts';
import { emitSequence } from './emit/sequence.ts';
import { emitWindow } from './emit/window.ts';
import type { LogicPlan } from './plan/types.ts';

interface KindModule<P extends LogicPlan> {
  check: KindChecker<P>;
  emit: KindEmitter<P>;
}

type Registry = { [K in LogicKind]: KindModule<Extract<LogicPlan, { kind: K }>> };

export const KINDS: Registry = {
  match: { check: checkMatch, emit: emitMatch },
  aggregate: { check: checkAggregate, emit: emitAggregate },
  window: { check: checkWindow, emit: emitWindow },
  sequence: { check: checkSequence, emit: emitSequence },
  cluster: { check: checkCluster, emit: emitCluster },
  compare: { check: checkCompare, emit: emitCompare },
  deadline: { check: checkDeadline, emit: emitDeadline },
  benford: { check: checkBenford, emit: emitBenford },
  robust_z: { check: checkRobustZ, emit: emitRobustZ },
};

export function kindModule(kind: LogicKind): KindModule<LogicPlan> {
  return KINDS[kind] as unknown as KindModule<LogicPlan>;
}
