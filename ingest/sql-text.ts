/** Small helpers for building SQL text (identifiers and literals cannot all be bound). */
import { sqlString, sqlStringList } from '../engine/sql-quote.ts';

/** A SQL string literal (engine/sql-quote.ts). */
export const lit = sqlString;

/** A list of SQL string literals: `'a', 'b'`. */
export const litList = sqlStringList;

/** Escape a string for use inside an RE2 regular expression. */
export function reEscape(s: string): string {
  return s.replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&');
}
