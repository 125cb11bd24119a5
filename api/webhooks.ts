/**
 * Push delivery of the alert feed to configured endpoints, signed per Standard
 * Webhooks (webhook-id / webhook-timestamp / webhook-signature, package standardwebhooks).
 *
 * At-least-once and in order per endpoint: each endpoint has a persisted cursor
 * (fiscus.webhook_cursors) that advances only after a 2xx; a failing delivery is
 * retried with exponential backoff (capped) and never skipped, so a receiver that
 * is down catches up when it is back. Receivers de-duplicate on webhook-id (the
 * event id: the same on every retry). Every attempt is logged in
 * fiscus.webhook_deliveries.
 */
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { DuckDBConnection } from '@duckdb/node-api';
import type { FastifyBaseLogger } from 'fastify';
import { Webhook } from 'standardwebhooks';
import { z } from 'zod';
import { FiscusError } from '../engine/errors.ts';
import type { ApiContext } from './context.ts';
import type { AlertJson } from '../flags/schema.ts';
import { readAlerts } from './flags-repo.ts';
import { latestCheckpoint, onCheckpoint, type Checkpoint } from '../engine/checkpoints.ts';
import type { Principal } from './tokens.ts';
import { checkWebhookUrl, guardedLookup, TargetAllowList } from './webhook-target.ts';

/** Standard Webhooks secrets: `whsec_` + base64 of at least this many random bytes. */
export const MIN_SECRET_BYTES = 24;

/** A new secret as Standard Webhooks issues them: `whsec_` + base64 of 32 random bytes. */
export function generateWebhookSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}

const secretSchema = z
  .string()
  .regex(/^whsec_[A-Za-z0-9+/]+={0,2}$/, 'must be whsec_ followed by base64 (make one with `fiscus webhooks secret`)')
  .refine((s) => Buffer.from(s.slice(6), 'base64').length >= MIN_SECRET_BYTES, {
    message: `must carry at least ${MIN_SECRET_BYTES} random bytes after whsec_ (make one with \`fiscus webhooks secret\`)`,
  });

export const webhookEndpointSchema = z
  .object({
    id: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'id: letters, digits, _ . - (at most 64)'),
    /** http(s); public addresses only unless allow-listed (api/webhook-target.ts); no user:pass@. */
    url: z
      .url({ protocol: /^https?$/ })
      .refine((u) => {
        try {
          const x = new URL(u);
          return !x.username && !x.password;
        } catch {
          return true; // reported by z.url()
        }
      }, 'must not carry credentials (user:pass@); receivers verify webhook-signature instead'),
    /** Standard Webhooks secret: `whsec_` + base64 of ≥ 24 random bytes. */
    secret: secretSchema,
    /** Limit the endpoint to one agency's flags (as an agency token would see them). */
    agency_code: z.string().min(1).optional(),
    /** Only these event types (default: all). */
    event_types: z.array(z.string()).optional(),
    /** Where a new endpoint starts: `now` (default) or `start` (the whole history). */
    from: z.enum(['now', 'start']).default('now'),
    timeout_ms: z.number().int().min(100).max(60_000).default(10_000),
    max_backoff_ms: z.number().int().min(10).max(3_600_000).default(300_000),
    base_backoff_ms: z.number().int().min(1).max(60_000).default(1_000),
  })
  .strict();
export type WebhookEndpoint = z.input<typeof webhookEndpointSchema>;

export function loadWebhooksFile(path: string): WebhookEndpoint[] {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new FiscusError(`cannot read webhooks file ${path}: ${err instanceof Error ? err.message : String(err)}`, { code: 'WEBHOOKS_FILE' });
  }
  const res = z.array(webhookEndpointSchema).safeParse(raw);
  if (!res.success) {
    throw new FiscusError(`webhooks file ${path} is invalid: ${res.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`, {
      code: 'WEBHOOKS_FILE',
    });
  }
  return res.data;
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const onAbort = () => {
      clearTimeout(t);
      resolve();
    };
    const t = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });

/** Most of a receiver's answer body that is read (and thrown away). */
const MAX_RESPONSE_BYTES = 64 * 1024;

/**
 * POST one delivery with node:http(s), not fetch: the socket's `lookup` checks every
 * address the host resolves to (api/webhook-target.ts), so the connection goes only to an
 * address that passed, and redirects are never followed (node:http has no redirect logic;
 * a 3xx is returned as it is). Node 20's fetch takes no lookup, and a dispatcher needs the
 * `undici` package, which fiscus does not depend on.
 */
export function postWebhook(
  url: URL,
  headers: Record<string, string>,
  body: string,
  signal: AbortSignal,
  allow: TargetAllowList,
): Promise<{ status: number; location?: string }> {
  checkWebhookUrl(url.href, allow); // literal addresses: the socket does not look them up
  return new Promise((resolve, reject) => {
    const req = (url.protocol === 'https:' ? httpsRequest : httpRequest)(
      {
        protocol: url.protocol,
        hostname: url.hostname.replace(/^\[|\]$/g, ''),
        port: url.port || undefined,
        path: `${url.pathname}${url.search}`,
        method: 'POST',
        headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
        lookup: guardedLookup(allow),
        agent: false,
        signal,
      },
      (res: IncomingMessage) => {
        let seen = 0;
        const done = () => resolve({ status: res.statusCode ?? 0, ...(res.headers.location ? { location: String(res.headers.location).slice(0, 200) } : {}) });
        res.on('data', (c: Buffer) => {
          seen += c.length;
          if (seen > MAX_RESPONSE_BYTES) {
            res.destroy();
            done();
          }
        });
        res.on('end', done);
        res.on('error', done);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

export interface WebhookOptions {
  /** Addresses and host names beyond public unicast that deliveries may go to (api/webhook-target.ts). */
  allowTargets?: readonly string[];
}

/** One signed delivery: an alert (webhook-id = the event id) or a log checkpoint. */
interface WebhookMessage {
  id: string;
  /** flag_events.seq it is about (webhook_deliveries.event_seq). */
  seq: number;
  payload: string;
}

/** Webhook type of the signed log checkpoints (engine/checkpoints.ts); `event_types` may list it. */
export const CHECKPOINT_TYPE = 'log.checkpoint';

function alertMessage(item: AlertJson): WebhookMessage {
  return { id: item.event.id, seq: item.event.seq, payload: JSON.stringify({ type: item.event.type, timestamp: item.event.at, data: item }) };
}

function checkpointMessage(cp: Checkpoint): WebhookMessage {
  // Stable per checkpoint: a retry or a re-send after a restart has the same id.
  const id = `log.checkpoint.${cp.seq}.${createHash('sha256').update(cp.signature).digest('hex').slice(0, 16)}`;
  return { id, seq: cp.seq, payload: JSON.stringify({ type: CHECKPOINT_TYPE, timestamp: cp.at, data: cp }) };
}

/**
 * Refuse bad endpoints at start, not at the first event: the schema (secret strength,
 * credentials in the URL) and the targets that need no DNS (a literal internal address).
 */
export function checkWebhookEndpoints(
  endpoints: readonly WebhookEndpoint[],
  allowTargets: readonly string[] = [],
): { ep: z.output<typeof webhookEndpointSchema>; url: URL }[] {
  const allow = new TargetAllowList(allowTargets);
  return endpoints.map((raw) => {
    const res = webhookEndpointSchema.safeParse(raw);
    if (!res.success) {
      const id = (raw as { id?: unknown }).id;
      throw new FiscusError(`webhook endpoint ${String(id)} is invalid: ${res.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`, {
        code: 'WEBHOOKS_FILE',
      });
    }
    return { ep: res.data, url: checkWebhookUrl(res.data.url, allow) };
  });
}

export function startWebhooks(
  ctx: ApiContext,
  endpoints: readonly WebhookEndpoint[],
  log: FastifyBaseLogger,
  opts: WebhookOptions = {},
): { stop: () => Promise<void> } {
  const allow = new TargetAllowList(opts.allowTargets ?? []);
  const parsed = checkWebhookEndpoints(endpoints, opts.allowTargets);
  const abort = new AbortController();
  let conn: DuckDBConnection | undefined;
  // The workers' own connection (DuckDB), outside the Store's queue; on PostgreSQL the Store's pool.
  const sideRows = async (sql: string, params?: Record<string, string | number | boolean | null>): Promise<Record<string, unknown>[]> => {
    if (ctx.store.engine !== 'duckdb') return ctx.store.readCommitted(sql, params);
    conn ??= await ctx.store.connect();
    return (await conn.runAndReadAll(sql, params)).getRowObjectsJson() as Record<string, unknown>[];
  };

  const workers = parsed.map(({ ep, url }) => {
    const wh = new Webhook(ep.secret);
    const who: Principal = ep.agency_code
      ? { name: `webhook:${ep.id}`, role: 'agency', agencyCode: ep.agency_code, tokenHash: `webhook:${ep.id}` }
      : { name: `webhook:${ep.id}`, role: 'portal', tokenHash: `webhook:${ep.id}` };

    const saveCursor = async (seq: number) => {
      await sideRows(
        `INSERT INTO fiscus.webhook_cursors VALUES ($id, $seq, now())
         ON CONFLICT (endpoint_id) DO UPDATE SET last_seq = excluded.last_seq, updated_at = excluded.updated_at`,
        { id: ep.id, seq },
      );
    };
    const logAttempt = async (msg: WebhookMessage, attempt: number, status: number | null, ok: boolean, error: string | null, ms: number) => {
      await sideRows(
        `INSERT INTO fiscus.webhook_deliveries VALUES ($ep, $msg, $seq, $attempt, now(), $status, $ok, $error, $ms)`,
        { ep: ep.id, msg: msg.id, seq: msg.seq, attempt, status, ok, error, ms },
      );
    };

    const deliver = async (msg: WebhookMessage) => {
      const payload = msg.payload;
      for (let attempt = 1; !abort.signal.aborted; attempt++) {
        const started = performance.now();
        let status: number | null = null;
        let error: string | null = null;
        try {
          const now = new Date();
          const res = await postWebhook(
            url,
            {
              'content-type': 'application/json',
              'webhook-id': msg.id,
              'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
              'webhook-signature': wh.sign(msg.id, now, payload),
            },
            payload,
            AbortSignal.any([abort.signal, AbortSignal.timeout(ep.timeout_ms)]),
            allow,
          );
          status = res.status;
          if (status >= 200 && status < 300) {
            await logAttempt(msg, attempt, status, true, null, Math.round(performance.now() - started));
            return true;
          }
          // A redirect is not delivered: following it would send the signed body somewhere else.
          error =
            status >= 300 && status < 400
              ? `HTTP ${status} redirect${res.location ? ` to ${res.location}` : ''} not followed: the webhook URL must answer 2xx itself`
              : `HTTP ${status}`;
        } catch (err) {
          error =
            err instanceof Error && err.name === 'AbortError' && !abort.signal.aborted
              ? `no complete answer within ${ep.timeout_ms} ms`
              : err instanceof Error
                ? err.message
                : String(err);
        }
        if (abort.signal.aborted) return false;
        await logAttempt(msg, attempt, status, false, error, Math.round(performance.now() - started)).catch(() => undefined);
        const backoff = Math.min(ep.max_backoff_ms, ep.base_backoff_ms * 2 ** Math.min(attempt - 1, 30));
        const wait = Math.round(backoff * (0.8 + Math.random() * 0.4));
        log.warn({ endpoint: ep.id, event: msg.id, attempt, error, retry_in_ms: wait }, 'webhook delivery failed');
        await sleep(wait, abort.signal);
      }
      return false;
    };

    // In memory: after a restart the newest checkpoint goes once more (same webhook-id; receivers de-duplicate).
    let sentCheckpoint: string | null = null;
    let wake = new AbortController();
    const offCheckpoint = onCheckpoint(ctx.store, () => wake.abort());
    abort.signal.addEventListener('abort', offCheckpoint, { once: true });
    const run = async () => {
      const row = (await sideRows('SELECT last_seq FROM fiscus.webhook_cursors WHERE endpoint_id = $id', { id: ep.id }))[0] as
        | { last_seq: string }
        | undefined;
      let cursor: number;
      if (row) cursor = Number(row.last_seq);
      else {
        const hi = (await sideRows('SELECT coalesce(max(seq), 0)::BIGINT AS hi FROM fiscus.flag_events'))[0] as { hi: string };
        cursor = ep.from === 'start' ? 0 : Number(hi.hi);
        await saveCursor(cursor);
      }
      while (!abort.signal.aborted) {
        const page = await readAlerts(ctx.pool, who, cursor, 100);
        for (const item of page.items) {
          if (!ep.event_types || ep.event_types.includes(item.event.type)) {
            if (!(await deliver(alertMessage(item)))) return;
          }
          cursor = item.event.seq;
          await saveCursor(cursor);
        }
        if (page.last_seq > cursor) {
          cursor = page.last_seq;
          await saveCursor(cursor);
        }
        // Then the newest signed checkpoint of the log, as its own message (the portal keeps it as a witness copy).
        wake = new AbortController(); // armed first: a checkpoint written meanwhile ends the wait below
        const cp = latestCheckpoint(ctx.store);
        // Only one that covers events already sent: a commit between the page read and here signs a head not yet delivered.
        if (cp && cp.seq <= cursor && cp.signature !== sentCheckpoint && (!ep.event_types || ep.event_types.includes(CHECKPOINT_TYPE))) {
          if (!(await deliver(checkpointMessage(cp)))) return;
          sentCheckpoint = cp.signature;
        }
        if (page.items.length < 100) await ctx.notifier.waitAbove(cursor, 30_000, AbortSignal.any([abort.signal, wake.signal]));
      }
    };
    return run().catch((err: unknown) => {
      if (!abort.signal.aborted) log.error({ err, endpoint: ep.id }, 'webhook worker stopped');
    });
  });

  return {
    stop: async () => {
      abort.abort();
      await Promise.allSettled(workers);
      try {
        conn?.closeSync();
      } catch {
        /* closed with the instance */
      }
    },
  };
}
