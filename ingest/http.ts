/**
 * Pulling a feed over HTTP(S) with conditional GET.
 *
 * fiscus.http_sources keeps, per URL, the ETag / Last-Modified and body
 * SHA-256 of the last pull that settled (committed or no-op). A repeat pull
 * sends If-None-Match / If-Modified-Since: a 304 is a no-op batch, and so is a
 * 200 whose body hashes the same as a file already committed to that table.
 * An HTTP error or an unreachable server is a failed batch; nothing else changes.
 */
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import type { Store } from '../engine/db.ts';
import { emptyReport, ingestFile, writeBatchRow } from './batch.ts';
import { resolveTableName, tableFromName, type TableGuess } from './discover.ts';
import { formatOf, type FeedFormat } from './source.ts';
import type { BatchReport, IngestOptions } from './types.ts';

export function isUrl(s: string): boolean {
  return /^https?:\/\//i.test(s);
}

/** `attachment; filename*=UTF-8''treasury.payments.csv` → `treasury.payments.csv`. */
export function contentDispositionFilename(header: string | null): string | undefined {
  if (!header) return undefined;
  const star = /filename\*\s*=\s*(?:UTF-8|utf-8)?''([^;]+)/.exec(header);
  if (star) {
    try {
      return decodeURIComponent(star[1].trim().replace(/^"|"$/g, ''));
    } catch {
      /* fall through to the plain form */
    }
  }
  const plain = /filename\s*=\s*("([^"]*)"|[^;]+)/.exec(header);
  return plain ? (plain[2] ?? plain[1]).trim() : undefined;
}

function lastSegment(url: URL): string {
  const seg = url.pathname.split('/').filter(Boolean).at(-1) ?? '';
  try {
    return decodeURIComponent(seg);
  } catch {
    return seg;
  }
}

function formatFromContentType(ct: string | null): FeedFormat | undefined {
  const t = (ct ?? '').split(';')[0].trim().toLowerCase();
  if (t === 'text/csv' || t === 'application/csv' || t === 'text/tab-separated-values') return 'csv';
  if (/ndjson|jsonl|json-lines|json-seq/.test(t)) return 'jsonl';
  if (/parquet/.test(t)) return 'parquet';
  if (t === 'application/json') return 'json';
  if (t === 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet') return 'xlsx';
  return undefined;
}

type HttpState = {
  etag: string | null;
  last_modified: string | null;
  sha256: string | null;
  last_batch_id: string | null;
};

async function saveState(store: Store, url: string, s: HttpState): Promise<void> {
  await store.run(
    `INSERT OR REPLACE INTO fiscus.http_sources (url, etag, last_modified, sha256, last_batch_id, fetched_at)
     VALUES ($url, $etag, $lm, $sha, $batch, now())`,
    { url, etag: s.etag, lm: s.last_modified, sha: s.sha256, batch: s.last_batch_id },
  );
}

export async function ingestUrl(
  store: Store,
  url: string,
  opts: IngestOptions & { index?: number; total?: number; timeoutMs?: number } = {},
): Promise<BatchReport> {
  const index = opts.index ?? 1;
  const total = opts.total ?? 1;
  const job = { source: url, sourceKind: 'http' as const };
  const fail = async (message: string, table = ''): Promise<BatchReport> => {
    const r = emptyReport(job);
    r.table = table;
    r.message = message;
    r.finished_at = new Date().toISOString();
    await writeBatchRow(store, r).catch(() => undefined);
    return r;
  };
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return fail(`not a valid URL: ${url}`);
  }
  const prior = await store.one<HttpState>(
    'SELECT etag, last_modified, sha256, last_batch_id FROM fiscus.http_sources WHERE url = $u',
    { u: url },
  );
  const headers: Record<string, string> = { 'user-agent': 'fiscus-ingest' };
  if (prior?.etag) headers['if-none-match'] = prior.etag;
  if (prior?.last_modified) headers['if-modified-since'] = prior.last_modified;
  opts.onProgress?.({ source: url, phase: 'hash', index, total });
  let res: Response;
  try {
    res = await fetch(url, { headers, redirect: 'follow', signal: AbortSignal.timeout(opts.timeoutMs ?? 10 * 60_000) });
  } catch (err) {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    return fail(`cannot fetch ${url}: ${cause?.code ?? cause?.message ?? (err as Error).message}; nothing was loaded — 无法获取数据`);
  }

  const name = contentDispositionFilename(res.headers.get('content-disposition')) ?? lastSegment(parsed);
  const tableName = opts.table ?? opts.mapping?.table;
  const guess: TableGuess = tableName ? resolveTableName(tableName) : tableFromName(name);
  const tableLabel = 'table' in guess ? guess.table.name : '';

  if (res.status === 304) {
    const r = emptyReport(job);
    // A 304 carries no Content-Disposition: the table is the one the last pull went to.
    const last = prior?.last_batch_id
      ? await store.one<{ table_name: string }>('SELECT table_name FROM fiscus.batches WHERE batch_id = $b', { b: prior.last_batch_id })
      : undefined;
    r.table = tableName ? tableLabel : (last?.table_name ?? tableLabel);
    r.status = 'noop';
    r.sha256 = prior?.sha256 ?? null;
    r.mapping = opts.mapping?.label ?? null;
    r.message = `not modified since the last pull (HTTP 304); nothing changed — 数据源未更新`;
    r.finished_at = new Date().toISOString();
    await store.transaction(async () => {
      await writeBatchRow(store, r);
      if (prior) await saveState(store, url, prior);
    });
    opts.onProgress?.({ source: url, phase: 'done', index, total });
    return r;
  }
  if (!res.ok) {
    await res.body?.cancel().catch(() => undefined);
    return fail(`HTTP ${res.status} ${res.statusText} from ${url}; nothing was loaded — 数据源返回错误`, tableLabel);
  }

  const format = opts.format ?? formatOf(name) ?? formatFromContentType(res.headers.get('content-type'));
  const dir = await mkdtemp(join(opts.tmpDir ?? tmpdir(), 'fiscus-http-'));
  try {
    const file = join(dir, `body.${format ?? 'csv'}`);
    try {
      if (res.body) await pipeline(Readable.fromWeb(res.body as unknown as WebReadableStream), createWriteStream(file));
      else await pipeline(Readable.from([]), createWriteStream(file));
    } catch (err) {
      return fail(`download of ${url} broke off: ${(err as Error).message}; nothing was loaded — 下载中断`, tableLabel);
    }
    const etag = res.headers.get('etag');
    const lastModified = res.headers.get('last-modified');
    return await ingestFile(
      store,
      {
        path: file,
        source: url,
        sourceKind: 'http',
        format: format ?? 'csv',
        index,
        total,
        ...('table' in guess ? { table: guess.table } : { tableError: `${guess.error} (from ${name || url})` }),
        onSettled: async (r) => {
          await saveState(store, url, { etag, last_modified: lastModified, sha256: r.sha256, last_batch_id: r.batch_id });
          if (r.status === 'noop') r.message = `same content as an already loaded pull/file; nothing changed — 内容未变化`;
        },
      },
      opts,
    );
  } finally {
    await rm(dir, { recursive: true, force: true }).catch(() => undefined);
  }
}
