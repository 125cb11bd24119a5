/**
 * Read connections for the API.
 *
 * The Store's main connection belongs to writers (the tracker's and the rule
 * runner's transactions). A read issued on it while one of those transactions is
 * open would see — and could publish — rows that are later rolled back, so every
 * API read goes through one of these separate connections, which only see
 * committed data. Connections run queries in parallel (DuckDB), so a small pool
 * also keeps a slow request from blocking the others.
 */
import type { DuckDBConnection, DuckDBValue } from '@duckdb/node-api';
import type { JsonRow, Params, Store } from '../engine/db.ts';

export class ReadPool {
  private readonly idle: DuckDBConnection[] = [];
  private readonly all_: DuckDBConnection[] = [];
  private readonly waiters: { resolve: (c: DuckDBConnection) => void; reject: (e: Error) => void }[] = [];
  private creating = 0;
  private closed = false;
  /** Connections lent out right now, and who waits for them to come back (close). */
  private readonly busy = new Set<DuckDBConnection>();
  private drained?: () => void;

  constructor(
    private readonly store: Store,
    readonly size = 4,
  ) {}

  private async acquire(): Promise<DuckDBConnection> {
    if (this.closed) throw new Error('read pool is closed');
    const c = this.idle.pop();
    if (c) return c;
    if (this.all_.length + this.creating < this.size) {
      this.creating++;
      try {
        const conn = await this.store.connect();
        this.all_.push(conn);
        return conn;
      } finally {
        this.creating--;
      }
    }
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  private release(c: DuckDBConnection): void {
    const w = this.waiters.shift();
    if (w) w.resolve(c);
    else this.idle.push(c);
  }

  async with<T>(fn: (conn: DuckDBConnection) => Promise<T>): Promise<T> {
    const c = await this.acquire();
    this.busy.add(c);
    try {
      return await fn(c);
    } finally {
      this.busy.delete(c);
      if (this.closed) {
        if (this.busy.size === 0) this.drained?.();
      } else {
        this.release(c);
      }
    }
  }

  /** Rows as JSON-safe objects (DECIMAL/BIGINT as strings), like Store.all. */
  all<T extends JsonRow = JsonRow>(sql: string, params?: Params): Promise<T[]> {
    // PostgreSQL: the Store's own read pool (committed data only, as here).
    if (this.store.engine !== 'duckdb') return this.store.readCommitted<T>(sql, params);
    return this.with(async (c) => {
      const r = await c.runAndReadAll(sql, params as Record<string, DuckDBValue> | undefined);
      return r.getRowObjectsJson() as T[];
    });
  }

  async one<T extends JsonRow = JsonRow>(sql: string, params?: Params): Promise<T | undefined> {
    return (await this.all<T>(sql, params))[0];
  }

  /**
   * Stop lending connections, cancel the queries still running, and close every
   * connection once they are back: closing a connection under a running query
   * deadlocks DuckDB.
   */
  async close(): Promise<void> {
    this.closed = true;
    for (const w of this.waiters.splice(0)) w.reject(new Error('read pool is closed'));
    if (this.busy.size > 0) {
      const drained = new Promise<void>((resolve) => (this.drained = resolve));
      for (const c of this.busy) c.interrupt();
      await drained;
    }
    for (const c of this.all_) {
      try {
        c.closeSync();
      } catch {
        /* already closed with the instance */
      }
    }
    this.all_.length = 0;
    this.idle.length = 0;
  }
}
