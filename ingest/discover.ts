/**
 * Which files to load, in which order, into which table.
 *
 * A folder loads every feed file under it (recursively, hidden entries
 * skipped) in dependency order: the order of engine/feeds.ts (reference
 * tables, then budget indicators before payments, …), then by path.
 */
import { readdir, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { FEEDS, type TableDef } from '../engine/feeds.ts';
import { formatOf } from './source.ts';

const KNOWN = () => FEEDS.map((f) => f.name).join(', ');

export type TableGuess = { table: TableDef } | { error: string };

function stem(name: string): string {
  return name.toLowerCase().replace(/\.(csv|tsv|txt|jsonl|ndjson|json|parquet|xlsx|xlsm)$/, '');
}

function startsWithName(base: string, name: string): boolean {
  return base === name || (base.startsWith(name) && /[._\- ]/.test(base[name.length]));
}

/** The table a file name names: `treasury.payments[.…].csv`, or `payments[_…].csv` inside `treasury/`. */
export function tableFromName(filePath: string): TableGuess {
  const base = stem(basename(filePath));
  const full = FEEDS.filter((t) => startsWithName(base, t.name));
  if (full.length) return { table: longest(full, (t) => t.name) };
  const parent = basename(dirname(filePath)).toLowerCase();
  const inSchema = FEEDS.filter((t) => t.schema === parent && startsWithName(base, t.table));
  if (inSchema.length) return { table: longest(inSchema, (t) => t.table) };
  const elsewhere = FEEDS.filter((t) => startsWithName(base, t.table));
  const hint = elsewhere.length === 1
    ? ` Did you mean ${elsewhere[0].name}? Name the file ${elsewhere[0].name}.csv, put it in a ${elsewhere[0].schema}/ folder, or pass --table ${elsewhere[0].name}.`
    : ' Name the file after its table (e.g. treasury.payments.csv), or pass --table.';
  return { error: `cannot tell the table of ${filePath} from its name.${hint} Known tables: ${KNOWN()}` };
}

function longest<T>(items: T[], key: (t: T) => string): T {
  return items.reduce((a, b) => (key(b).length > key(a).length ? b : a));
}

export function resolveTableName(name: string): TableGuess {
  const t = FEEDS.find((f) => f.name === name.trim().toLowerCase());
  return t ? { table: t } : { error: `unknown table "${name}". Known tables: ${KNOWN()}` };
}

/**
 * Whether a file found in a folder is a feed file (`fiscus ingest DIR`).
 * A folder's .json files are often metadata (a manifest): only those named after a table are feeds;
 * .txt is read only when named explicitly.
 */
export function isFolderFeed(f: string): boolean {
  return formatOf(f) !== undefined && !/\.txt$/i.test(f) && (!/\.json$/i.test(f) || 'table' in tableFromName(f));
}

export interface PlannedFile {
  path: string;
  guess: TableGuess;
}

/** Expand files and folders into an ordered list of files with their tables. */
export async function planFiles(paths: readonly string[], table?: string): Promise<PlannedFile[]> {
  const out: PlannedFile[] = [];
  for (const p of paths) {
    let st;
    try {
      st = await stat(p);
    } catch {
      out.push({ path: p, guess: { error: `cannot read ${p}: no such file or folder` } });
      continue;
    }
    if (st.isDirectory()) {
      const files = (await walk(p)).filter(isFolderFeed);
      const planned = files.map((f) => ({ path: f, guess: table ? resolveTableName(table) : tableFromName(f) }));
      out.push(...sortPlanned(planned));
    } else {
      out.push({ path: p, guess: table ? resolveTableName(table) : tableFromName(p) });
    }
  }
  return out;
}

function rank(g: TableGuess): number {
  return 'table' in g ? FEEDS.indexOf(g.table) : FEEDS.length;
}

export function sortPlanned(files: PlannedFile[]): PlannedFile[] {
  return [...files].sort((a, b) => rank(a.guess) - rank(b.guess) || (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

async function walk(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const out: string[] = [];
  for (const e of entries) {
    if (e.name.startsWith('.')) continue;
    const full = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await walk(full)));
    else if (e.isFile()) out.push(full);
  }
  return out;
}
