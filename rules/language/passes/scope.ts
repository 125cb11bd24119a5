/**
 * Incremental scoping (`scope: agency_code`): a pass over the plan that restricts every
 * source whose table has the column to the bound `$scope` list (NULL = everything), so an
 * incremental run re-evaluates only the partitions new batches touched. A source table
 * without the column is a diagnostic.
 */
import { RuleError, type SourcePos } from '../errors.ts';
import type { RulePlan } from '../plan/types.ts';
import { mapSources, sourcesOf } from './sources.ts';

export function scopePass(plan: RulePlan, column: string, pos: SourcePos): { plan: RulePlan; diagnostics: RuleError[] } {
  const diagnostics: RuleError[] = [];
  const tables: string[] = [];
  for (const s of sourcesOf(plan.logic)) {
    const t = s.primary.table;
    if (!t.columns.some((c) => c.name === column)) diagnostics.push(new RuleError(pos, `\`scope: ${column}\`: ${t.name} has no such column`));
    else tables.push(t.name);
  }
  if (diagnostics.length) return { plan, diagnostics };
  const logic = mapSources(plan.logic, (s) => ({ ...s, scopeColumn: column }));
  return { plan: { ...plan, logic, scope: { table: tables[0]!, column } }, diagnostics };
}
