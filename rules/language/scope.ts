/**
 * Name resolution and types for the expression compiler.
 */
import type { ColumnDef, TableDef } from '../../engine/feeds.ts';
import type { Expr, ExprSource } from './ast.ts';

export type VType = 'money' | 'number' | 'integer' | 'string' | 'date' | 'boolean' | 'null' | 'days' | 'workdays' | 'list';

export interface Typed {
  sql: string;
  type: VType;
  /** Contains an aggregate call (only allowed where the kind aggregates). */
  agg: boolean;
  /** For enum columns: allowed values, so `fund_source = 'genral'` is caught. */
  enumValues?: readonly string[];
  /** A plain column reference (alias, column). */
  column?: { alias: string; col: ColumnDef; table: TableDef };
}

export interface TableBinding {
  alias: string;
  def: TableDef;
  /** SQL alias used in the generated query. */
  sqlAlias: string;
}

export type NameBinding =
  | { kind: 'sql'; sql: string; type: VType; enumValues?: readonly string[] }
  | { kind: 'let'; expr: Expr; src: ExprSource; scope: Scope; cached?: Typed; busy?: boolean };

export interface Scope {
  tables: Map<string, TableBinding>;
  /** Alias whose columns are found without qualification first. */
  primary?: string;
  names: Map<string, NameBinding>;
  /** May this expression aggregate rows (group context)? */
  aggregates: boolean;
  /** What kind of place this is, for error messages ("in `having`"). */
  where: string;
  parent?: Scope;
}

export function newScope(where: string, opts: Partial<Scope> = {}): Scope {
  return { tables: new Map(), names: new Map(), aggregates: false, where, ...opts };
}

export function colVType(c: ColumnDef): VType {
  switch (c.type) {
    case 'money':
      return 'money';
    case 'rate':
      return 'number';
    case 'year':
      return 'integer';
    case 'date':
      return 'date';
    case 'bool':
      return 'boolean';
    default:
      return 'string';
  }
}

export const isNumeric = (t: VType) => t === 'money' || t === 'number' || t === 'integer' || t === 'null';

export function describeType(t: VType): string {
  switch (t) {
    case 'money':
      return 'money';
    case 'number':
      return 'a number';
    case 'integer':
      return 'an integer';
    case 'string':
      return 'text';
    case 'date':
      return 'a date';
    case 'boolean':
      return 'true/false';
    case 'null':
      return 'null';
    case 'days':
      return 'a number of days';
    case 'workdays':
      return 'a number of working days';
    case 'list':
      return 'a list';
  }
}
