/**
 * Loading a generated fixture folder into a fiscus database: through the real
 * ingest (`ingestPath`) when it exists, else straight from DuckDB's read_csv
 * into the feed tables with the system columns filled — so the rule scenarios
 * can run before ingest lands. Which one was used is reported.
 */
import { readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { FEEDS, qualifiedName, quoteIdent, sqlType, type TableDef } from '../../engine/feeds.ts';
import type { Store } from '../../engine/db.ts';
import { sqlString } from '../../engine/sql-quote.ts';
import { has, need } from '../optional.ts';

export type Loader = 'ingest' | 'direct_sql';

type Report = { status: string; message?: string | null };
type IngestPath = (store: Store, path: string, opts?: Record<string, unknown>) => Promise<Report[]>;

/**
 * The reports, if there are some and every batch committed; else an error. A batch the ingest refused (e.g. out of
 * memory at 30M) is reported, not thrown: without this check a rule scenario would time a pack
 * over an empty table and call it a pass.
 */
export function committed<R extends Report>(file: string, reports: readonly R[]): readonly R[] {
  if (reports.length === 0) throw new Error(`${file}: not loaded: the ingest reported no batch`);
  const refused = reports.filter((r) => r.status !== 'committed');
  if (refused.length) throw new Error(`${file}: not loaded: ${refused.map((r) => `${r.status}: ${r.message ?? ''}`.slice(0, 300)).join('; ')}`);
  return reports;
}

export async function chooseLoader(): Promise<Loader> {
  return (await has('ingest/index.ts', 'ingestPath')) ? 'ingest' : 'direct_sql';
}

/** read_csv with every column typed as FEEDS.md says: no auto-detection. */
export function readCsvSql(file: string, t: TableDef): string {
  const cols = t.columns.map((c) => `${sqlString(c.name)}: ${sqlString(sqlType(c.type))}`).join(', ');
  return `read_csv(${sqlString(file)}, header = true, delim = ',', quote = '"', escape = '"', nullstr = '', dateformat = '%Y-%m-%d', auto_detect = false, columns = {${cols}})`;
}

export { sqlString };

/** Load one CSV (named `<schema>.<table>.csv`) into the store. */
export async function loadFile(store: Store, file: string, loader: Loader, batchId: string): Promise<unknown> {
  const table = FEEDS.find((t) => `${t.name}.csv` === basename(file));
  if (!table) throw new Error(`${file}: not a feed table file`);
  if (loader === 'ingest') {
    const ingestPath = await need<IngestPath>('ingest/index.ts', 'ingestPath');
    return committed(file, await ingestPath(store, file, { table: table.name }));
  }
  const names = table.columns.map((c) => quoteIdent(c.name));
  await store.run(`INSERT INTO ${qualifiedName(table)} (${names.join(', ')}, extra, _batch_id, _row_hash, _ingested_at)
    SELECT ${names.join(', ')}, NULL, ${sqlString(batchId)}, hash(${names.join(', ')}), now()
    FROM ${readCsvSql(file, table)}`);
  return { table: table.name, batch_id: batchId };
}

/** Every CSV of a fixture folder, reference tables first. */
export async function loadDir(store: Store, dir: string, loader: Loader, batchPrefix: string): Promise<void> {
  const files = readdirSync(dir).filter((f) => f.endsWith('.csv'));
  const order = (f: string) => (f.startsWith('ref.') ? 0 : 1);
  files.sort((a, b) => order(a) - order(b) || (a < b ? -1 : 1));
  for (const f of files) await loadFile(store, join(dir, f), loader, `${batchPrefix}:${f}`);
}
