/**
 * The ingest library: files, folders and URLs into the feed tables, one batch
 * per file, each with a report (FEEDS.md). Used by `fiscus ingest`, the demo,
 * the benchmark and the rule tests.
 *
 *   const reports = await ingestPath(store, 'fixtures/feeds');            // a folder
 *   const [r] = await ingestPath(store, 'x.csv', { table: 'treasury.payments' });
 *   const [u] = await ingestUrl(store, 'https://host/treasury.payments.csv');
 *
 * Exports in their own format come in through a mapping profile (ingest/MAPPING.md):
 * CSV in any decodable encoding, Excel workbooks, JSON documents, with header
 * detection, units, date styles and derived columns.
 */
import type { Store } from '../engine/db.ts';
import { ingestFile } from './batch.ts';
import { planFiles } from './discover.ts';
import { ingestUrl as ingestOneUrl, isUrl } from './http.ts';
import type { BatchReport, IngestOptions } from './types.ts';

export type { BatchReport, BatchStatus, IngestOptions, ProgressEvent, IngestPhase } from './types.ts';
export { DEFAULT_MAX_REJECT } from './types.ts';
export { loadMappingProfile, parseMappingProfile, type MappingProfile } from './mapping.ts';
export { isUrl } from './http.ts';
export { suggestProfile, type Suggestion } from './suggest.ts';

/** Ingest files, folders and URLs, in the order given (a folder's files in dependency order). */
export async function ingestSources(store: Store, sources: readonly string[], opts: IngestOptions = {}): Promise<BatchReport[]> {
  const table = opts.table ?? opts.mapping?.table;
  // Expand everything first so progress can say "file 3 of 12".
  const items: ({ url: string } | { file: Awaited<ReturnType<typeof planFiles>>[number] })[] = [];
  for (const s of sources) {
    if (isUrl(s)) items.push({ url: s });
    else for (const f of await planFiles([s], table)) items.push({ file: f });
  }
  const reports: BatchReport[] = [];
  let index = 0;
  for (const item of items) {
    index++;
    if ('url' in item) {
      reports.push(await ingestOneUrl(store, item.url, { ...opts, index, total: items.length }));
      continue;
    }
    const f = item.file;
    reports.push(
      await ingestFile(
        store,
        {
          path: f.path,
          source: f.path,
          sourceKind: 'file',
          index,
          total: items.length,
          ...('table' in f.guess ? { table: f.guess.table } : { tableError: f.guess.error }),
        },
        opts,
      ),
    );
  }
  return reports;
}

/** Ingest one file or folder (or several). */
export async function ingestPath(store: Store, path: string | readonly string[], opts: IngestOptions = {}): Promise<BatchReport[]> {
  return ingestSources(store, typeof path === 'string' ? [path] : path, opts);
}

/** Pull one URL (conditional GET). */
export async function ingestUrl(store: Store, url: string, opts: IngestOptions = {}): Promise<BatchReport[]> {
  return [await ingestOneUrl(store, url, opts)];
}
