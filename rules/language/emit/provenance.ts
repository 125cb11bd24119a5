/**
 * Which SQL texts the rule compiler itself wrote, per compiled rule.
 *
 * The runner checks every other SQL text with the full read-only guard (engine/sql-guard.ts:
 * DuckDB's parse tree, serialised and walked). The compiler's own output does not need the
 * tree walk: it names catalog tables only and calls functions of the language's closed list
 * (check/functions.ts), so it cannot reach a file, a setting or a sequence; the runner still
 * prepares it as one statement and refuses any type but SELECT. That walk was a quarter of
 * the pack's evaluation time at 100k payments (json_serialize_sql of ~18 KB per query).
 * test/rules/language/provenance.test.ts runs the full guard over every text the built-in
 * pack compiles to, so the verdict skipped here is checked on every CI run.
 *
 * The record is by object identity and exact text: a copy of a compiled rule (`{ ...rule }`)
 * or a rule whose SQL was changed after compiling gets the full guard again.
 */
import type { CompiledRule } from '../../types.ts';

const emitted = new WeakMap<CompiledRule, ReadonlySet<string>>();

/** Every SQL text of a compiled rule: its findings query, its delta variant, preconditions and input counts. */
export function sqlTextsOf(rule: CompiledRule): string[] {
  return [rule.sql, ...(rule.delta ? [rule.delta.sql] : []), ...rule.preconditions.map((p) => p.sql), ...(rule.inputs ?? []).map((i) => i.sql)];
}

/** Remember the texts of a rule the compiler has just emitted. */
export function recordEmitted(rule: CompiledRule): CompiledRule {
  emitted.set(rule, new Set(sqlTextsOf(rule)));
  return rule;
}

/** Did the compiler write exactly this text for exactly this rule object? */
export function emittedByCompiler(rule: CompiledRule, sql: string): boolean {
  return emitted.get(rule)?.has(sql) ?? false;
}
