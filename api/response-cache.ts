/**
 * Cached response bodies for the hot read routes (the alert feed and the flag
 * list), which the portal and the deputies' apps poll with the same URLs.
 *
 * Correctness rests on two facts: while `fiscus serve` runs, it is the only
 * process that can write the database (DuckDB's file lock), and every write
 * goes through its Store, whose `generation` moves on each commit — reference
 * data (an agency moving to another department changes what a token may see),
 * rule runs, tracker actions, deadline scans, appended events. A cache key
 * includes the generation current when the request arrived, the caller's scope
 * and the URL, so a response is never served across a write or across scopes.
 * The generation moves only after the commit: a page read before it carries the
 * old generation, which no later request asks for.
 *
 * Entries hold the UTF-8 bytes, not the JSON string: a page is ~300 KB of mostly
 * Chinese text, and handing fastify a string makes it measure (Buffer.byteLength)
 * and encode (socket writev) it again on every hit. The profile of the bench load
 * put 41% of the server's CPU there (bench/README.md, issue 14); a Buffer is
 * written as is. The ETag is the bytes' digest, computed once per entry.
 */
import { createHash } from 'node:crypto';
import type { Principal } from './tokens.ts';

export interface CachedResponse {
  payload: Buffer;
  contentType: string;
  /** Strong validator: the SHA-256 of `payload` (RFC 9110 §8.8.3). */
  etag: string;
}

/** The key of one cached page: write generation, the caller's scope (role + agency) and the URL. */
export function cacheKey(generation: number, who: Pick<Principal, 'role' | 'agencyCode'>, url: string): string {
  // The agency code is user data from the tokens file: a separator no code can contain keeps the parts apart.
  return `${generation}\u0000${who.role}\u0000${who.agencyCode ?? ''}\u0000${url}`;
}

/** Encode a response body once, with its ETag. */
export function cachedResponse(body: string, contentType: string): CachedResponse {
  const payload = Buffer.from(body, 'utf8');
  return { payload, contentType, etag: `"${createHash('sha256').update(payload).digest('base64url')}"` };
}

/**
 * If-None-Match against our (strong) ETag: a list of entity tags or `*`, compared weakly
 * as RFC 9110 §13.1.2 asks (a `W/` prefix from a client's cache still matches).
 */
export function noneMatch(header: string | string[] | undefined, etag: string): boolean {
  if (header === undefined) return false;
  const text = Array.isArray(header) ? header.join(',') : header;
  if (text.length > 8192) return false;
  for (const raw of text.split(',')) {
    const tag = raw.trim();
    if (tag === '*' || tag === etag || (tag.startsWith('W/') && tag.slice(2) === etag)) return true;
  }
  return false;
}

/**
 * Least-recently-used, bounded by entries and by bytes: any token holder can make new keys
 * (another limit, an extra query parameter), and a 1,000-item page is ~3 MB, so a count
 * alone would let one caller fill the heap.
 */
export class ResponseCache {
  private readonly entries = new Map<string, CachedResponse>();
  private bytes_ = 0;

  constructor(
    private readonly maxEntries = 2000,
    private readonly maxBytes = 128 * 1024 * 1024,
  ) {}

  get(key: string): CachedResponse | undefined {
    const hit = this.entries.get(key);
    if (hit) {
      // Least recently used goes first: re-insert at the end.
      this.entries.delete(key);
      this.entries.set(key, hit);
    }
    return hit;
  }

  set(key: string, value: CachedResponse): void {
    this.delete(key);
    // A page larger than the whole budget is served, not kept.
    if (value.payload.length > this.maxBytes) return;
    this.entries.set(key, value);
    this.bytes_ += value.payload.length;
    while (this.entries.size > this.maxEntries || this.bytes_ > this.maxBytes) {
      this.delete(this.entries.keys().next().value as string);
    }
  }

  private delete(key: string): void {
    const old = this.entries.get(key);
    if (!old) return;
    this.entries.delete(key);
    this.bytes_ -= old.payload.length;
  }

  get size(): number {
    return this.entries.size;
  }

  /** Bytes of the cached bodies. */
  get bytes(): number {
    return this.bytes_;
  }
}
