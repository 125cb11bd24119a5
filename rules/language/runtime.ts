/**
 * Binding values for a compiled rule the way DuckDB's node API needs them
 * (tests and tools; the runner has its own typed binder in rules/run/bind.ts).
 */
import { listValue, type DuckDBValue } from '@duckdb/node-api';
import type { CompiledRule } from '../types.ts';

/**
 * The named values for `compiled.sql` (and its preconditions): `$as_of`, every
 * `$p_<param>`, and `$scope` when the rule has one. Lists must be DuckDB list
 * values (a plain JS array cannot be bound).
 */
export function bindValues(
  rule: CompiledRule,
  asOf: string,
  scope?: string[] | null,
  /** Bind only the names this SQL uses (DuckDB refuses unknown names); default `rule.sql`. */
  sql: string = rule.sql,
): Record<string, DuckDBValue> {
  const used = new Set([...sql.matchAll(/\$([A-Za-z_]\w*)/g)].map((m) => m[1]));
  const all: Record<string, DuckDBValue> = { as_of: asOf };
  for (const [k, v] of Object.entries(rule.params)) all[k] = Array.isArray(v) ? listValue(v) : v;
  all.scope = scope && scope.length ? listValue(scope) : null;
  const out: Record<string, DuckDBValue> = {};
  for (const k of used) if (k in all) out[k] = all[k];
  return out;
}
