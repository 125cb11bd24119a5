/**
 * Hand-written DuckDB SQL reference implementation of the rule catalogue
 * (shared/DOMAIN.md): one `<rule_id>.sql` file per rule in this folder. Each query
 * reads the canonical feed tables (`treasury.payments`, `ref.agencies`, …), takes the
 * as-of date as the named parameter `$as_of` (DATE), may use the working-day table
 * `fiscus.calendar_days(day DATE, is_workday BOOLEAN)`, and returns the columns of
 * {@link ReferenceRow}. Thresholds are the catalogue defaults.
 *
 * Used as a cross-check of the rule compiler, as the benchmark's hand-written SQL
 * baseline, and by test/fixtures/sample.test.ts against the bundled sample.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DATE, dateValue, type DuckDBConnection } from '@duckdb/node-api';
import cd from 'chinese-days';
import { FEEDS, sqlType } from '../../engine/feeds.ts';
import { sqlString as quoteLiteral } from '../../engine/sql-quote.ts';

export const REFERENCE_DIR = dirname(fileURLToPath(import.meta.url));

export interface ReferenceRow {
  rule_id: string;
  entity_type: string;
  entity_id: string;
  /** YYYY-MM-DD; null when the finding has no natural period (asset.idle) */
  period_start: string | null;
  period_end: string | null;
  fiscal_year: number | null;
  severity: 'high' | 'medium' | 'low';
  measure_value: number | null;
  threshold: number | null;
  /** yuan, decimal string */
  amount: string | null;
  /** primary keys of the evidence rows (composite keys joined with `|`) */
  evidence_keys: string[];
}


/**
 * Load the canonical CSV files of a dataset folder (`<schema>.<table>.csv`) into
 * tables of the same name, with the types of the engine's feed catalogue (money
 * DECIMAL(18,2), dates DATE, codes VARCHAR). A missing file gives an empty table.
 * For checks only: the engine has its own ingest.
 */
export async function loadSampleInto(conn: DuckDBConnection, dir: string): Promise<void> {
  for (const t of FEEDS) {
    await conn.run(`CREATE SCHEMA IF NOT EXISTS ${t.schema}`);
    const path = join(dir, `${t.name}.csv`);
    if (!existsSync(path)) {
      const cols = t.columns.map((c) => `"${c.name}" ${sqlType(c.type)}`).join(', ');
      await conn.run(`CREATE OR REPLACE TABLE ${t.name} (${cols})`);
      continue;
    }
    const cols = t.columns.map((c) => `${quoteLiteral(c.name)}: ${quoteLiteral(sqlType(c.type))}`).join(', ');
    await conn.run(
      `CREATE OR REPLACE TABLE ${t.name} AS SELECT * FROM read_csv(${quoteLiteral(path)}, header = true, auto_detect = false, ` +
        `delim = ',', quote = '"', escape = '"', dateformat = '%Y-%m-%d', columns = {${cols}})`,
    );
  }
}

/**
 * Create `fiscus.calendar_days` for 2019–2027 from the chinese-days package unless it
 * exists already (the engine provides its own). Only the exceptions to Monday–Friday
 * are listed in SQL: weekday holidays and 调休 working weekends.
 */
export async function ensureCalendar(conn: DuckDBConnection): Promise<void> {
  await conn.run('CREATE SCHEMA IF NOT EXISTS fiscus');
  const found = await conn.runAndReadAll(
    `SELECT count(*) AS n FROM duckdb_tables() WHERE schema_name = 'fiscus' AND table_name = 'calendar_days'`,
  );
  if (Number(found.getRowObjectsJson()[0].n) > 0) return;
  const exceptions: string[] = [];
  for (let t = Date.UTC(2019, 0, 1); t <= Date.UTC(2027, 11, 31); t += 86_400_000) {
    const day = new Date(t).toISOString().slice(0, 10);
    const dow = new Date(t).getUTCDay();
    const work = cd.isWorkday(day);
    if (work !== (dow >= 1 && dow <= 5)) exceptions.push(`(DATE '${day}', ${work})`);
  }
  await conn.run(
    `CREATE TABLE fiscus.calendar_days AS
     SELECT CAST(g.d AS DATE) AS day, coalesce(e.is_workday, isodow(CAST(g.d AS DATE)) <= 5) AS is_workday
     FROM range(DATE '2019-01-01', DATE '2028-01-01', INTERVAL 1 DAY) g(d)
     LEFT JOIN (VALUES ${exceptions.join(', ')}) e(day, is_workday) ON e.day = CAST(g.d AS DATE)
     ORDER BY day`,
  );
}

/** Rule ids that have a reference query, sorted. */
export function referenceRuleIds(): string[] {
  return readdirSync(REFERENCE_DIR)
    .filter((f) => f.endsWith('.sql'))
    .map((f) => f.slice(0, -'.sql'.length))
    .sort();
}

export function referenceSql(ruleId: string): string {
  return readFileSync(join(REFERENCE_DIR, `${ruleId}.sql`), 'utf8');
}

const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

/** Run every reference query (or the given ones) as of `asOf` (YYYY-MM-DD). */
export async function runReference(conn: DuckDBConnection, asOf: string, ruleIds: string[] = referenceRuleIds()): Promise<ReferenceRow[]> {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(asOf);
  if (!m) throw new Error(`as-of must be YYYY-MM-DD, got ${asOf}`);
  const asOfValue = dateValue({ year: Number(m[1]), month: Number(m[2]), day: Number(m[3]) });
  await ensureCalendar(conn);
  const rows: ReferenceRow[] = [];
  for (const ruleId of ruleIds) {
    const reader = await conn.runAndReadAll(referenceSql(ruleId), { as_of: asOfValue }, { as_of: DATE });
    for (const r of reader.getRowObjectsJson()) {
      rows.push({
        rule_id: String(r.rule_id),
        entity_type: String(r.entity_type),
        entity_id: String(r.entity_id),
        period_start: r.period_start === null ? null : String(r.period_start),
        period_end: r.period_end === null ? null : String(r.period_end),
        fiscal_year: num(r.fiscal_year),
        severity: String(r.severity) as ReferenceRow['severity'],
        measure_value: num(r.measure_value),
        threshold: num(r.threshold),
        amount: r.amount === null ? null : String(r.amount),
        evidence_keys: ((r.evidence_keys ?? []) as unknown[]).map(String),
      });
    }
  }
  return rows;
}
