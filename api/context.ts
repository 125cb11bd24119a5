/** What every route module gets: the database handles and the server's limits. */
import type { FastifyInstance } from 'fastify';
import type { Store } from '../engine/db.ts';
import type { SeqNotifier } from './notifier.ts';
import type { QueryLimits } from './query-exec.ts';
import type { Gate } from './query-exec.ts';
import type { Mutex, ReadPool } from './read-pool.ts';

export interface ApiContext {
  store: Store;
  pool: ReadPool;
  notifier: SeqNotifier;
  /** Serialises writes on the Store's main connection (one transaction at a time). */
  writeLock: Mutex;
  queryLimits: QueryLimits;
  queryGate: Gate;
  sseHeartbeatMs: number;
  /** Open SSE streams, closed in preClose so shutdown does not wait for clients. */
  streams: Set<{ close: () => void }>;
}

export type RouteModule = (app: FastifyInstance, ctx: ApiContext) => void;
