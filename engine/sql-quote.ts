/**
 * The one SQL string quoter. Values are bound as parameters wherever DuckDB
 * allows it; a few places cannot bind (ATTACH paths, `SET allowed_directories`,
 * `read_csv` file names and column specs, literals inside generated SQL), and
 * those quote here: a single quote doubles, nothing else changes (SQL standard,
 * DuckDB and PostgreSQL with standard_conforming_strings).
 */

/** `it's` → `'it''s'`. */
export function sqlString(s: string): string {
  return `'${s.replaceAll("'", "''")}'`;
}

/** A list of SQL string literals: `'a', 'b'`. */
export function sqlStringList(values: readonly string[]): string {
  return values.map(sqlString).join(', ');
}
