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
 */
export interface CachedResponse {
  payload: string;
  contentType: string;
}

export class ResponseCache {
  private readonly entries = new Map<string, CachedResponse>();

  constructor(private readonly maxEntries = 2000) {}

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
    this.entries.delete(key);
    this.entries.set(key, value);
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
    }
  }

  get size(): number {
    return this.entries.size;
  }
}
