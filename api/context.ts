/** What every route module gets: the database handles and the server's limits. */
import type { Store } from '../engine/db.ts';
import type { SeqNotifier } from './notifier.ts';
import type { QueryLimits, QueryPool } from './query-exec.ts';
import type { ReadPool } from './read-pool.ts';

export interface ApiContext {
  /**
   * The database. Writes go through its methods; read-decide-write sequences run in
   * `store.exclusive(fn)`, the one lock shared with the CLI, the tracker and the runner.
   */
  store: Store;
  pool: ReadPool;
  notifier: SeqNotifier;
  queryLimits: QueryLimits;
  /** Analyst queries' own connections and concurrency limit (api/query-exec.ts). */
  queryPool: QueryPool;
  sseHeartbeatMs: number;
  /** Open SSE streams, closed in preClose so shutdown does not wait for clients. */
  streams: Set<{ close: () => void }>;
}
