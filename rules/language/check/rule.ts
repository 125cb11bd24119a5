/**
 * Check a rule: its logic (by kind, through the registry), its envelope, `reads:`
 * and the parameters, into a RulePlan, collecting every diagnostic of the file.
 */
import { feedTable } from '../../../engine/feeds.ts';
import type { RuleDefinition } from '../definition.ts';
import type { Dialect } from '../dialects/types.ts';
import { RuleError, didYouMean } from '../errors.ts';
import { kindModule } from '../kinds.ts';
import type { RulePlan } from '../plan/types.ts';
import { deltaPlan } from '../passes/delta.ts';
import { scopePass } from '../passes/scope.ts';
import { CheckContext } from './context.ts';
import { checkEnvelope } from './envelope.ts';
import type { CheckedLogic } from './kind.ts';
import type { Scope } from './scope.ts';

export interface CheckResult {
  /** Undefined when the logic could not be read at all (its diagnostics say why). */
  plan?: RulePlan;
  /** Errors and warnings, in file order. */
  diagnostics: RuleError[];
}

export function checkRule(def: RuleDefinition, dialect: Dialect): CheckResult {
  const c = new CheckContext(def, dialect);
  const logicNode = c.y.get(c.root, def.kind)!;
  const logic: CheckedLogic | undefined = c.attempt(() => kindModule(def.kind).check(c, c.y.map(logicNode, `\`${def.kind}\``)));
  let plan: RulePlan | undefined;
  if (logic) {
    const envelope = c.attempt(() => checkEnvelope(c, logic.scope));
    if (envelope) {
      plan = {
        id: def.meta.id, kind: def.kind, logic: logic.plan, envelope, inputs: c.inputs,
        tables: new Map([...c.env.usedTables].map(([t, u]) => [t, { required: u.required }])), workdays: c.env.workdays,
      };
      unusedLets(c, logic.scope);
    }
  }
  checkReads(c);
  // A logic that could not be read leaves its parameters unseen: calling them unused would mislead.
  if (logic) checkUnusedParams(c);
  const sc = c.y.get(c.root, 'scope');
  if (plan && sc) {
    const column = c.attempt(() => c.y.str(sc, '`scope`'));
    if (column) {
      const r = scopePass(plan, column, c.y.nodePos(sc));
      c.diagnostics.push(...r.diagnostics);
      plan = r.plan;
    }
  }
  if (plan) {
    const delta = deltaPlan(plan);
    if (delta) plan = { ...plan, delta };
  }
  const diagnostics = [...c.diagnostics].sort((a, b) => a.line - b.line || a.column - b.column);
  return { ...(plan ? { plan } : {}), diagnostics };
}

/** `reads:` must list exactly the tables the logic uses. */
function checkReads(c: CheckContext): void {
  const readsNode = c.y.get(c.root, 'reads')!;
  const reads = c.attempt(() => c.y.strList(readsNode, 'a table name')) ?? [];
  // After an error a table may be unseen because its expression failed: do not call it unused then.
  const complete = c.diagnostics.length === 0;
  for (const r of reads) {
    if (!feedTable(r.value)) c.diagnostics.push(c.y.err(r.node, `\`reads\`: unknown table \`${r.value}\`${didYouMean(r.value, [...c.env.usedTables.keys()])}`));
    else if (complete && !c.env.usedTables.has(r.value)) c.diagnostics.push(c.y.err(r.node, `\`reads\` lists ${r.value} but the rule does not use it`));
  }
  for (const [t, pos] of c.env.usedTables) {
    if (!reads.some((r) => r.value === t)) c.diagnostics.push(new RuleError(pos, `${t} is used but not listed in \`reads:\``));
  }
}

function checkUnusedParams(c: CheckContext): void {
  for (const [name, node] of c.def.paramNodes) {
    if (!c.env.usedParams.has(name)) c.diagnostics.push(c.y.err(node, `parameter \`${name}\` is declared but never used`));
  }
}

/** A `let:` name nothing refers to is probably a leftover or a typo elsewhere: a warning. */
function unusedLets(c: CheckContext, s: Scope): void {
  for (const [name, b] of s.names) {
    if (b.kind === 'let' && b.scope === s && !b.cached && !b.busy) {
      const n = c.y.get(c.y.map(c.y.get(c.root, 'let')!, '`let`'), name);
      c.diagnostics.push(new RuleError(c.y.nodePos(n), `\`let\` name \`${name}\` is never used`, 'unused-let', 'warning'));
    }
  }
}
