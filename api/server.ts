/**
 * The HTTP API: `buildServer({ store, tokens, … })` returns a ready-to-listen fastify
 * instance (tests and the benchmark use it directly; `fiscus serve` adds the CLI,
 * signals and the tokens file).
 *
 * Every request is authenticated by bearer token (onRequest) and authorised by the
 * route's `config.roles`; what a token may *see* is applied in SQL (api/scope.ts).
 * Every error is an RFC 9457 problem (api/problem.ts).
 */
import './types.ts';
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import fastifyRateLimit from '@fastify/rate-limit';
import { fastifySSE } from '@fastify/sse';
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import { jsonSchemaTransform, jsonSchemaTransformObject, validatorCompiler } from 'fastify-type-provider-zod';
import { existsSync, realpathSync, statSync } from 'node:fs';
import { sep } from 'node:path';
import type { Store } from '../engine/db.ts';
import { FiscusError } from '../engine/errors.ts';
import { logPaths } from '../engine/log-key.ts';
import type { ApiContext } from './context.ts';
import { lockDown } from './lockdown.ts';
import { SeqNotifier } from './notifier.ts';
import { installResponseCache } from './cached-routes.ts';
import { installProblemHandlers, problem, problemServerOptions, sendProblem } from './problem.ts';
import { analystConcurrency, DEFAULT_QUERY_MAX_BYTES, QueryPool } from './query-exec.ts';
import { ReadPool } from './read-pool.ts';
import { adminRoutes } from './routes/admin.ts';
import { alertRoutes } from './routes/alerts.ts';
import { projectRoutes } from './routes/projects.ts';
import { flagRoutes } from './routes/flags.ts';
import { opsRoutes } from './routes/ops.ts';
import { queryRoutes } from './routes/query.ts';
import { trackerRoutes } from './routes/tracker.ts';
import { scanDeadlines } from '../tracker/index.ts';
import { TokenStore, type TokenEntry } from './tokens.ts';
import { readCookie, SESSION_COOKIE, SessionStore, sessionAuth, type SessionOptions } from './session.ts';
import { consoleRoutes } from './routes/console.ts';
import { checkWebhookEndpoints, startWebhooks, type WebhookEndpoint } from './webhooks.ts';
import { describeEvent, startWatcher, type Lang, type Watcher, type WatchOptions } from '../watch/index.ts';

export interface ServerOptions {
  store: Store;
  tokens: TokenStore | readonly TokenEntry[];
  /** fastify logger option; default: pino at info level (tokens are never logged). */
  logger?: FastifyServerOptions['logger'];
  /** Restrict the DuckDB instance for untrusted SQL (default true; irreversible for the instance). */
  lockdown?: boolean;
  /** The only directory DuckDB may read files from once locked down (server-side ingestion). */
  ingestDir?: string;
  /**
   * Root of POST /v1/admin/backup (engine/backup.ts); off when unset. Never inside `ingestDir`:
   * DuckDB may read that one, and a backup holds the log key.
   */
  backupDir?: string;
  queryTimeoutMs?: number;
  queryMaxRows?: number;
  /** Largest analyst query result in bytes (JSON, CSV or Arrow); beyond it 422 QUERY_TOO_LARGE. Default 64 MiB. */
  queryMaxBytes?: number;
  /** Analyst queries at once (default: cores − 1, 1…4), capped below the libuv thread pool (analystConcurrency). */
  queryMaxConcurrent?: number;
  /** Requests per token per minute (false: no limit). Default 600. */
  rateLimitPerMinute?: number | false;
  /** Largest accepted request body in bytes. Default 1 MiB. */
  bodyLimit?: number;
  /** How often live readers poll for new flag events. Default 500 ms. */
  pollIntervalMs?: number;
  /** SSE heartbeat interval. Default 15 s. */
  sseHeartbeatMs?: number;
  readPoolSize?: number;
  webhooks?: readonly WebhookEndpoint[];
  /**
   * Webhook targets allowed beyond public addresses: CIDRs (`10.1.2.0/24`, `127.0.0.1/32`) or
   * host names (api/webhook-target.ts). Default none: loopback, private, link-local… are refused.
   */
  webhookAllowTargets?: readonly string[];
  /** Deployment config for POST /v1/rules/run (default: env FISCUS_CONFIG or ./fiscus.config.yaml if present). */
  rulesConfigPath?: string;
  /** Append flag.overdue / flag.due_soon events every N ms (tracker scanDeadlines); off by default. */
  deadlineScanMs?: number;
  /** Close the Store when the server closes (fiscus serve). Default false. */
  closeStore?: boolean;
  /** Cached responses of GET /v1/alerts and /v1/flags (0 = no cache). Default 2000. */
  responseCacheEntries?: number;
  /** Console sessions (api/session.ts): idle and absolute expiry. */
  sessions?: SessionOptions;
  /** A session store of the caller's (tests expire sessions with their own clock). */
  sessionStore?: SessionStore;
  /** Where uploaded documents are archived by SHA-256 (default: `documents/` beside the database file). */
  documentsDir?: string;
  /** Largest document upload in bytes (default 20 MiB). */
  documentMaxBytes?: number;
  /** The built console (default console/dist); served at `/`. */
  consoleDir?: string;
  /**
   * `fiscus serve --watch DIR`: a folder watcher (watch/) started when the server is ready and
   * stopped on close before the Store closes. Its ingests and rule runs commit through the Store,
   * so their flag events reach SSE and webhooks like every other write. DuckDB may read DIR
   * (it reads the snapshots there), so the log key must lie outside it, as for the ingest directory.
   */
  watch?: Omit<WatchOptions, 'store'> & { lang?: Lang };
}

/** DuckDB stores allowed directories by their path: give it the real one (the watcher reads below it). */
function realpathIfAny(dir: string): string {
  try {
    return realpathSync(dir);
  } catch {
    return dir; // startWatcher says what is wrong with it
  }
}

/** The backup root must exist and lie outside the directory DuckDB may read (the ingest directory). */
function checkBackupRoot(backupDir: string, ingestDir: string | undefined): void {
  if (!existsSync(backupDir) || !statSync(backupDir).isDirectory()) {
    throw new FiscusError(`--backup-dir ${backupDir} is not a directory: create it (mode 0700: backups hold the log key)`, { code: 'USAGE', exitCode: 2 });
  }
  if (!ingestDir || !existsSync(ingestDir)) return;
  const b = realpathSync(backupDir);
  const i = realpathSync(ingestDir);
  const inside = (a: string, root: string) => a === root || a.startsWith(`${root}${sep}`);
  if (inside(b, i) || inside(i, b)) {
    throw new FiscusError(`--backup-dir ${backupDir} and --ingest-dir ${ingestDir} overlap: DuckDB may read the ingest directory, and a backup holds the log key`, {
      code: 'USAGE',
      exitCode: 2,
    });
  }
}

/** DuckDB may read the ingest directory (admin ingests): the log key and checkpoints must not be in it. */
function checkLogOutsideIngest(store: Store, ingestDir: string | undefined, option = '--ingest-dir'): void {
  if (!ingestDir || !existsSync(ingestDir)) return;
  const root = realpathSync(ingestDir);
  const { keyFile, checkpointsFile } = logPaths(store);
  for (const [what, f] of [['log key', keyFile], ['checkpoint log', checkpointsFile]] as const) {
    if (f && (f === root || f.startsWith(`${root}${sep}`) || (existsSync(f) && realpathSync(f).startsWith(`${root}${sep}`)))) {
      throw new FiscusError(`the ${what} ${f} is inside ${option} ${ingestDir}, which DuckDB may read: move it (--log-key / --checkpoints) or pick another folder`, {
        code: 'USAGE',
        exitCode: 2,
      });
    }
  }
}

export async function buildServer(opts: ServerOptions): Promise<FastifyInstance> {
  const tokens = opts.tokens instanceof TokenStore ? opts.tokens : new TokenStore(opts.tokens);
  if (opts.backupDir) checkBackupRoot(opts.backupDir, opts.ingestDir);
  checkLogOutsideIngest(opts.store, opts.ingestDir);
  checkLogOutsideIngest(opts.store, opts.watch?.dir, '--watch');
  if (opts.backupDir && opts.watch) checkBackupRoot(opts.backupDir, opts.watch.dir);
  // Bad webhook endpoints stop the start before anything is opened or locked down.
  if (opts.webhooks?.length) checkWebhookEndpoints(opts.webhooks, opts.webhookAllowTargets);
  if (opts.lockdown !== false) await lockDown(opts.store, { ingestDir: opts.ingestDir, allowedDirs: opts.watch ? [realpathIfAny(opts.watch.dir)] : [] });

  const app = Fastify({
    logger: opts.logger ?? { level: 'info', redact: ['req.headers.authorization', 'req.headers.cookie'] },
    bodyLimit: opts.bodyLimit ?? 1024 * 1024,
    // Idle keep-alive sockets close at once on shutdown; in-flight requests finish.
    forceCloseConnections: 'idle',
    // Requests arriving while closing get a 503 problem from our own hook (fastify's is not problem+json).
    return503OnClosing: false,
    requestTimeout: 120_000,
    // Errors raised before our handlers (bad URL, long params, parser errors) are problems too.
    ...problemServerOptions(),
  });
  app.setValidatorCompiler(validatorCompiler);
  // Response schemas document the API; serialising is plain JSON (money is already a string).
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));
  installProblemHandlers(app);

  const pool = new ReadPool(opts.store, opts.readPoolSize ?? 4);
  const ctx: ApiContext = {
    store: opts.store,
    pool,
    notifier: new SeqNotifier(pool, opts.pollIntervalMs ?? 500),
    queryLimits: {
      timeoutMs: opts.queryTimeoutMs ?? 10_000,
      maxRows: opts.queryMaxRows ?? 100_000,
      maxBytes: opts.queryMaxBytes ?? DEFAULT_QUERY_MAX_BYTES,
    },
    queryPool: new QueryPool(opts.store, analystConcurrency(opts.queryMaxConcurrent, opts.readPoolSize ?? 4)),
    sseHeartbeatMs: opts.sseHeartbeatMs ?? 15_000,
    streams: new Set(),
  };
  if (opts.queryMaxConcurrent !== undefined && ctx.queryPool.max < opts.queryMaxConcurrent) {
    app.log.warn(
      { requested: opts.queryMaxConcurrent, allowed: ctx.queryPool.max, uv_threadpool_size: process.env.UV_THREADPOOL_SIZE ?? '4 (default)' },
      'analyst queries capped below the libuv thread pool; start with UV_THREADPOOL_SIZE=16 (cli/bin.js does) to allow more',
    );
  }
  // Every committed write through the Store wakes the live feed (SSE, webhooks) at once.
  const offWrite = opts.store.onWrite(() => ctx.notifier.bump());

  // Responses finished while closing carry `Connection: close`, so their keep-alive sockets
  // do not hold the shutdown open until the keep-alive timeout.
  let closing = false;
  const sessions = opts.sessionStore ?? new SessionStore(opts.sessions);
  app.decorateRequest('principal', null as never);
  app.addHook('onRequest', async (req, reply) => {
    if (closing) {
      reply.header('retry-after', '5');
      return sendProblem(reply, problem(req, 503, 'SERVICE_UNAVAILABLE', 'the server is shutting down'));
    }
    const cfg = req.routeOptions.config;
    const url = req.routeOptions.url ?? '';
    if (cfg?.public || url.startsWith('/docs')) return;
    const auth = req.headers.authorization;
    const m = typeof auth === 'string' ? /^Bearer\s+(\S+)\s*$/i.exec(auth) : null;
    // No Authorization header: the console's session cookie (api/session.ts), with its CSRF check on writes.
    const viaCookie = auth === undefined ? sessionAuth(req, sessions) : undefined;
    if (viaCookie && 'refused' in viaCookie) return sendProblem(reply, problem(req, 403, 'FORBIDDEN', viaCookie.refused));
    const who = m ? tokens.authenticate(m[1]!) : viaCookie?.principal;
    if (!who) {
      reply.header('www-authenticate', 'Bearer realm="fiscus"');
      const cookieSent = readCookie(req, SESSION_COOKIE) !== undefined;
      return sendProblem(reply, problem(req, 401, 'UNAUTHORIZED', m ? 'unknown token' : cookieSent ? 'the session has expired or ended: log in again' : 'send Authorization: Bearer <token>'));
    }
    req.principal = who;
    // Unknown routes: authenticated callers get the not-found problem, no role check.
    if (cfg?.roles && !cfg.roles.includes(who.role)) {
      return sendProblem(reply, problem(req, 403, 'FORBIDDEN', `role ${who.role} may not use ${req.method} ${url}`));
    }
  });

  if (opts.rateLimitPerMinute !== false) {
    await app.register(fastifyRateLimit, {
      hook: 'preHandler',
      max: opts.rateLimitPerMinute ?? 600,
      timeWindow: 60_000,
      // After authentication: the key is the token's hash, never the token.
      keyGenerator: (req) => req.principal?.tokenHash ?? req.ip,
    });
  }
  await app.register(fastifySSE, { heartbeatInterval: ctx.sseHeartbeatMs });
  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'fiscus API — 预算联网监督',
        description: 'Flags, alert feed, tracker actions and read-only queries. Errors are RFC 9457 application/problem+json.',
        version: '1',
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    },
    transform: jsonSchemaTransform,
    transformObject: jsonSchemaTransformObject,
  });
  await app.register(fastifySwaggerUi, { routePrefix: '/docs' });

  // The alert feed and the flag list: polled with the same URLs, answered from cache until the next write.
  installResponseCache(app, ctx.store, { entries: opts.responseCacheEntries ?? 2000 });

  opsRoutes(app, ctx);
  flagRoutes(app, ctx, trackerRoutes(app, ctx));
  alertRoutes(app, ctx);
  projectRoutes(app, ctx);
  queryRoutes(app, ctx);
  adminRoutes(app, ctx, { ingestDir: opts.ingestDir, rulesConfigPath: opts.rulesConfigPath, backupDir: opts.backupDir });
  await consoleRoutes(app, ctx, { tokens, sessions, documentsDir: opts.documentsDir, documentMaxBytes: opts.documentMaxBytes, consoleDir: opts.consoleDir });

  const webhooks = opts.webhooks?.length ? startWebhooks(ctx, opts.webhooks, app.log, { allowTargets: opts.webhookAllowTargets }) : undefined;

  // Overdue / due-soon events reach the feed without anyone running `fiscus track scan`.
  let scanTimer: NodeJS.Timeout | undefined;
  if (opts.deadlineScanMs && opts.deadlineScanMs > 0) {
    const scan = async () => {
      try {
        const r = await scanDeadlines(opts.store, {});
        if (r.overdue.length + r.due_soon.length > 0) {
          app.log.info({ overdue: r.overdue.length, due_soon: r.due_soon.length }, 'deadline scan');
          ctx.notifier.bump();
        }
      } catch (err) {
        app.log.error({ err }, 'deadline scan failed');
      }
    };
    app.addHook('onReady', async () => {
      void scan();
      scanTimer = setInterval(() => void scan(), opts.deadlineScanMs);
      scanTimer.unref();
    });
  }

  let watcher: Watcher | undefined;
  if (opts.watch) {
    const w = opts.watch;
    app.addHook('onReady', async () => {
      watcher = await startWatcher({
        ...w,
        store: opts.store,
        rules: w.rules === false ? false : { configPath: opts.rulesConfigPath, ...w.rules },
        actor: w.actor ?? 'fiscus serve --watch',
        onEvent: (e) => {
          const line = describeEvent(e, w.lang ?? 'zh');
          if (e.type === 'error') app.log.error({ watch: e.type, where: e.where, file: e.rel }, line);
          else if (e.type === 'ignored') app.log.warn({ watch: e.type, file: e.rel, reason: e.reason }, line);
          else app.log.info({ watch: e.type }, line);
          w.onEvent?.(e);
        },
      });
    });
  }

  app.addHook('onSend', async (req, reply, payload) => {
    if (closing) reply.header('connection', 'close');
    return payload;
  });
  app.addHook('preClose', async () => {
    closing = true;
    if (scanTimer) clearInterval(scanTimer);
    // The batch or rule run in progress finishes while the Store is still open.
    await watcher?.stop();
    for (const s of [...ctx.streams]) s.close();
    offWrite();
    ctx.notifier.stop();
    await webhooks?.stop();
  });
  app.addHook('onClose', async () => {
    await ctx.queryPool.close();
    await pool.close();
    if (opts.closeStore) await opts.store.close();
  });
  return app;
}
