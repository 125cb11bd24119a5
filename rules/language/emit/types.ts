import type { SqlType } from '../dialects/types.ts';
import type { VType } from '../scope.ts';

export function sqlTypeOf(t: VType): SqlType {
  return t === 'null' || t === 'days' || t === 'workdays' || t === 'list' ? 'string' : t;
}

/** Values of this type are held in an integer column type (INTEGER, BIGINT). */
export function isIntegerType(t: VType): boolean {
  return t === 'integer';
}
