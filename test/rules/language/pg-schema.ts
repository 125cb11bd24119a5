/**
 * An empty PostgreSQL schema from the feed catalogue (engine/feeds.ts) plus the working-day
 * calendar and the history of corrected rows, for compile-only checks of the rule SQL: PostgreSQL must accept (PREPARE) every
 * statement the postgres dialect emits. Column types follow engine/feeds.ts `sqlType`.
 */
import { FEEDS, SYSTEM_COLUMNS, qualifiedName, quoteIdent, sqlType, systemColumnType } from '../../../engine/feeds.ts';

export function feedSchemaDdl(): string[] {
  const pgType = (t: string) => (t === 'JSON' ? 'JSONB' : t.replace('VARCHAR', 'TEXT'));
  const out = new Set<string>(['CREATE SCHEMA IF NOT EXISTS fiscus']);
  for (const t of FEEDS) out.add(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(t.schema)}`);
  for (const t of FEEDS) {
    const cols = [
      ...t.columns.map((c) => `${quoteIdent(c.name)} ${pgType(sqlType(c.type))}${c.nullable ? '' : ' NOT NULL'}`),
      ...SYSTEM_COLUMNS.map((c) => `${quoteIdent(c.name)} ${pgType(systemColumnType(c, 'postgres'))}`),
    ];
    out.add(`CREATE TABLE ${qualifiedName(t)} (${cols.join(', ')})`);
  }
  // A delta variant reads the old keys of corrected rows (rules/language/emit/touched-keys.ts).
  out.add('CREATE TABLE fiscus.row_history (table_name TEXT NOT NULL, row_key TEXT NOT NULL, old_row JSON NOT NULL, old_batch_id TEXT NOT NULL, replaced_by_batch TEXT NOT NULL, replaced_at TIMESTAMPTZ NOT NULL)');
  out.add('CREATE TABLE fiscus.calendar_days (day DATE PRIMARY KEY, is_workday BOOLEAN NOT NULL, source TEXT NOT NULL, workday_ord INTEGER)');
  return [...out];
}
