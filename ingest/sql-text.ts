/** Small helpers for building SQL text (identifiers and literals cannot all be bound). */

/** A SQL string literal. */
export function lit(s: string): string {
  return `'${s.replaceAll("'", "''")}'`;
}

/** A list of SQL string literals: `'a', 'b'`. */
export function litList(values: readonly string[]): string {
  return values.map(lit).join(', ');
}

/** Escape a string for use inside an RE2 regular expression. */
export function reEscape(s: string): string {
  return s.replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&');
}
