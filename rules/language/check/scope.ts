/**
 * Name resolution while checking: which tables (aliases) and names (let, compute,
 * group keys, kind-specific names such as `due` or `window_start`) an expression sees.
 * Names are bound to typed IR nodes, never to SQL.
 */
import type { Expr, ExprSource } from '../ast.ts';
import type { IR, RowRef } from '../plan/types.ts';

export type NameBinding =
  | { kind: 'ir'; ir: IR }
  | { kind: 'let'; expr: Expr; src: ExprSource; scope: Scope; cached?: IR; busy?: boolean };

export interface Scope {
  tables: Map<string, RowRef>;
  /** Alias whose columns are found without qualification first. */
  primary?: string;
  names: Map<string, NameBinding>;
  /** May this expression aggregate rows (group context)? */
  aggregates: boolean;
  /** What kind of place this is, for messages ("in `having`"). */
  where: string;
  parent?: Scope;
}

export function newScope(where: string, opts: Partial<Scope> = {}): Scope {
  return { tables: new Map(), names: new Map(), aggregates: false, where, ...opts };
}

export function hasName(s: Scope, name: string): boolean {
  for (let x: Scope | undefined = s; x; x = x.parent) if (x.names.has(name)) return true;
  return false;
}
