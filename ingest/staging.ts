/** DuckDB stores that only stage and validate a batch for another engine (ingest/postgres.ts). */
import type { Store } from '../engine/db.ts';

const STAGING = new WeakSet<Store>();

export function markStaging(store: Store): void {
  STAGING.add(store);
}

export function isStagingStore(store: Store): boolean {
  return STAGING.has(store);
}
