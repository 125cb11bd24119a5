/**
 * The value types of the expression language (name resolution is check/scope.ts).
 */
import type { ColumnDef } from '../../engine/feeds.ts';

export type VType = 'money' | 'number' | 'integer' | 'string' | 'date' | 'boolean' | 'null' | 'days' | 'workdays' | 'list';

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
