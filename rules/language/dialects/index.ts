/** The dialects the rule language can emit, by name (`compileRule(def, { dialect: 'postgres' })`). */
import { duckdb } from './duckdb.ts';
import { postgres } from './postgres.ts';
import type { Dialect, DialectName } from './types.ts';

export const DIALECTS: Record<DialectName, Dialect> = { duckdb, postgres };

export function dialectOf(d: DialectName | Dialect | undefined): Dialect {
  if (d === undefined) return duckdb;
  if (typeof d !== 'string') return d;
  const hit = DIALECTS[d];
  if (!hit) throw new Error(`unknown SQL dialect ${String(d)}; one of ${Object.keys(DIALECTS).join(', ')}`);
  return hit;
}

export { duckdb, postgres };
export type * from './types.ts';
