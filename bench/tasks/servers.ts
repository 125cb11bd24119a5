/**
 * The two HTTP servers of the API scenarios, each in its own child process:
 * ours (`buildServer` on a database with flags) and the baseline — a bare
 * fastify route that returns the very same bytes. The load comes from the
 * parent process (autocannon) over loopback.
 */
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import Fastify, { type FastifyInstance } from 'fastify';
import { openStore, type Store } from '../../engine/db.ts';
import { need } from '../optional.ts';

export const BENCH_TOKEN = 'bench-token-0123456789abcdef';

type BuildServer = (opts: Record<string, unknown>) => Promise<FastifyInstance>;

export async function startServer(kind: string, a: Record<string, unknown>): Promise<{ port: number; close: () => Promise<void> }> {
  if (kind === 'serve_ours') {
    const buildServer = await need<BuildServer>('api/server.ts', 'buildServer');
    const store: Store = await openStore(String(a.db));
    // api_flags_query_load: analyst queries must outlive the measured load, and every flags
    // request must reach the database rather than the response cache.
    const extra: Record<string, unknown> = {};
    if (typeof a.queryTimeoutMs === 'number') extra.queryTimeoutMs = a.queryTimeoutMs;
    if (a.cache === false) extra.responseCacheEntries = 0;
    const app = await buildServer({
      store,
      tokens: [{ token: BENCH_TOKEN, role: 'admin', name: 'bench' }],
      logger: { level: 'error', stream: process.stderr },
      rateLimitPerMinute: false,
      ...extra,
    });
    await app.listen({ host: '127.0.0.1', port: 0 });
    return { port: (app.server.address() as AddressInfo).port, close: async () => {
      // Neither app.close() nor store.close() is called: under load, the API's onClose hook
      // (ReadPool.close → DuckDB closeSync while a query is still in flight) blocked the event
      // loop on a futex for good (seen on this machine, reported). The child exits right after
      // reporting, which releases everything; the database is a scratch copy.
      void app;
    } };
  }
  if (kind === 'serve_bare') {
    const bodies = a.bodies as Record<string, string>;
    const app = Fastify({ logger: false });
    for (const [url, file] of Object.entries(bodies)) {
      const bytes = readFileSync(file);
      app.get(url.split('?')[0]!, async (_req, reply) => reply.header('content-type', 'application/json; charset=utf-8').send(bytes));
    }
    await app.listen({ host: '127.0.0.1', port: 0 });
    return { port: (app.server.address() as AddressInfo).port, close: () => app.close() };
  }
  throw new Error(`unknown server kind ${kind}`);
}
