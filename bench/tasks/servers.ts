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

export interface StartedServer {
  port: number;
  close: () => Promise<void>;
  /** What the server saw while it ran (serve_watch: the watcher's events with their times). */
  details?: () => Record<string, unknown>;
}

export async function startServer(kind: string, a: Record<string, unknown>): Promise<StartedServer> {
  if (kind === 'serve_watch') return startWatchServer(a);
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

/**
 * watch_arrival_to_alert: `fiscus serve --watch DIR` as deployed (locked down, the default
 * settle interval unless told), on a copy of the database with the pack's flags. The parent
 * subscribes to SSE from now, copies a batch into DIR and times the first alert; this side
 * records when the watcher ingested the file and when the rule run ended (epoch ms, the same
 * clock as the parent's).
 */
async function startWatchServer(a: Record<string, unknown>): Promise<StartedServer> {
  const buildServer = await need<BuildServer>('api/server.ts', 'buildServer');
  const store: Store = await openStore(String(a.db));
  const seen: Record<string, unknown>[] = [];
  const app = await buildServer({
    store,
    tokens: [{ token: BENCH_TOKEN, role: 'admin', name: 'bench' }],
    logger: { level: 'error', stream: process.stderr },
    rateLimitPerMinute: false,
    watch: {
      dir: String(a.watchDir),
      ...(typeof a.settleMs === 'number' ? { settleMs: a.settleMs } : {}),
      rules: { asOf: String(a.asOf) },
      onEvent: (e: { type: string; rel?: string; report?: Record<string, unknown>; summary?: { millis: number; totals: unknown; rules: { outcome: string; mode: string | null }[] } }) => {
        const at = Date.now();
        if (e.type === 'ingested') {
          const r = e.report!;
          seen.push({ type: e.type, at, file: e.rel, status: r.status, accepted: r.accepted, rejected: r.rejected, started_at: r.started_at, finished_at: r.finished_at });
        } else if (e.type === 'rules') {
          const modes: Record<string, number> = {};
          for (const r of e.summary!.rules) modes[`${r.outcome}${r.mode ? `/${r.mode}` : ''}`] = (modes[`${r.outcome}${r.mode ? `/${r.mode}` : ''}`] ?? 0) + 1;
          seen.push({ type: e.type, at, millis: e.summary!.millis, totals: e.summary!.totals, modes });
        } else if (e.type === 'error' || e.type === 'ignored') seen.push({ ...e, at });
      },
    },
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  return {
    port: (app.server.address() as AddressInfo).port,
    // The alert reaches SSE when the run commits, a moment before the run returns: wait (a little)
    // for its event, so the details hold the run's time. Then, as serve_ours, the child exits.
    close: async () => {
      const t0 = Date.now();
      const ranAfterIngest = () => {
        const last = seen.map((e) => e.type).lastIndexOf('ingested');
        return last < 0 || seen.slice(last).some((e) => e.type === 'rules');
      };
      while (!ranAfterIngest() && Date.now() - t0 < 30_000) await new Promise((r) => setTimeout(r, 20));
    },
    details: () => ({ watch_events: seen }),
  };
}
