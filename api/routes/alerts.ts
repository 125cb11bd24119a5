/**
 * The portal's alert feed: pull (GET /v1/alerts) and live (GET /v1/alerts/stream, SSE).
 *
 * Both read the same query (flags-repo readAlerts) and use the same opaque cursor:
 * an SSE event's `id:` is the cursor after that event, so a reconnecting client's
 * Last-Event-ID (or ?cursor=) continues exactly where it stopped — no gaps, no repeats.
 * Without a cursor a stream replays the whole log; `?from=now` starts after the newest event.
 */
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { ApiContext } from '../context.ts';
import { decodeSeqCursor, encodeSeqCursor } from '../cursor.ts';
import { alertSchema } from '../../flags/schema.ts';
import { maxSeq, readAlerts } from '../flags-repo.ts';
import { CAN } from '../scope.ts';
import { problemResponses } from './schemas.ts';
import { latestCheckpoint, onCheckpoint } from '../../engine/checkpoints.ts';
import { loadKeyring, publicKeys } from '../../engine/log-key.ts';
import { HttpProblem } from '../problem.ts';

/** A signed checkpoint of the event log's head (engine/checkpoints.ts): keep it as a witness copy. */
export const checkpointSchema = z
  .object({
    v: z.literal(1),
    seq: z.number().int().describe('the log reached this event seq'),
    hash: z.string().describe("that event's (keyed) hash"),
    at: z.string().describe('when it was signed (ISO 8601, UTC)'),
    key_id: z.string().describe('log key version that signed it (GET /v1/log/public-key)'),
    signature: z.string().describe('Ed25519 over the canonical JSON of {v, seq, hash, at, key_id[, rotated_from]}, base64'),
    rotated_from: z.string().optional().describe('key rotation: the previous version, which signed it too'),
    rotated_from_signature: z.string().optional(),
  })
  .meta({ id: 'LogCheckpoint' });

const SSE_PAGE = 200;

export function alertRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  r.get('/v1/alerts', {
    config: { roles: CAN.readAlerts },
    schema: {
      tags: ['alerts'],
      summary: 'Flag events in seq order (pull). Keep the returned next_cursor and pass it back.',
      security: [{ bearer: [] }],
      querystring: z.object({
        cursor: z.string().max(100).optional().describe('opaque; omit to start from the beginning'),
        limit: z.coerce.number().int().min(1).max(1000).default(100),
      }),
      response: {
        200: z.object({
          items: z.array(alertSchema),
          next_cursor: z.string(),
          checkpoint: checkpointSchema.nullable().describe('the newest signed checkpoint of the whole log (keep a witness copy); null before the first'),
        }),
        ...problemResponses,
      },
    },
  }, async (req) => {
    const page = await readAlerts(ctx.pool, req.principal, decodeSeqCursor(req.query.cursor), req.query.limit);
    return { items: page.items, next_cursor: page.next_cursor, checkpoint: latestCheckpoint(ctx.store) };
  });

  r.get('/v1/log/checkpoint', {
    config: { roles: CAN.readAlerts },
    schema: {
      tags: ['alerts'],
      summary: 'The newest signed checkpoint of the flag event log head (verify with GET /v1/log/public-key; keep a witness copy)',
      security: [{ bearer: [] }],
      response: { 200: checkpointSchema, ...problemResponses },
    },
  }, async () => {
    const cp = latestCheckpoint(ctx.store);
    if (!cp) throw new HttpProblem(404, 'NOT_FOUND', 'no checkpoint yet: the event log is empty');
    return cp;
  });

  r.get('/v1/log/public-key', {
    config: { roles: CAN.readAlerts },
    schema: {
      tags: ['alerts'],
      summary: 'The Ed25519 public keys of every log key version (checkpoint signatures verify against the one named by key_id)',
      security: [{ bearer: [] }],
      response: {
        200: z.object({
          current: z.string(),
          keys: z.array(z.object({ key_id: z.string(), version: z.number().int(), created_at: z.string(), algorithm: z.literal('Ed25519'), public_key_pem: z.string() })),
        }),
        ...problemResponses,
      },
    },
  }, async () => {
    let ring;
    try {
      ring = loadKeyring(ctx.store);
    } catch {
      throw new HttpProblem(404, 'NOT_FOUND', 'no log key yet: the event log is empty');
    }
    return publicKeys(ring);
  });

  r.get('/v1/alerts/stream', {
    sse: { kind: 'only' },
    config: { roles: CAN.readAlerts },
    schema: {
      tags: ['alerts'],
      summary: 'Server-Sent Events: each event is an Alert; its id is the cursor (resume with Last-Event-ID or ?cursor=; ?from=now for only new events)',
      security: [{ bearer: [] }],
      querystring: z.object({
        cursor: z.string().max(100).optional(),
        from: z
          .enum(['start', 'now'])
          .default('start')
          .describe('where a stream without a cursor starts: start = the whole event log (default), now = only events committed after the stream opened. A cursor or Last-Event-ID wins: a reconnect resumes where it stopped'),
      }),
      headers: z.object({ 'last-event-id': z.string().max(100).optional() }).loose(),
    },
  }, async (req, reply) => {
    const cursor = req.headers['last-event-id'] ?? req.query.cursor;
    // As webhooks' `from: now`: a new listener that wants only what happens from here on.
    let after = cursor === undefined || cursor === '' ? (req.query.from === 'now' ? await maxSeq(ctx.pool) : 0) : decodeSeqCursor(cursor);
    const who = req.principal;
    const abort = new AbortController();
    const handle = { close: () => { abort.abort(); reply.sse.close(); } };
    ctx.streams.add(handle);
    reply.sse.keepAlive();
    reply.sse.onClose(() => {
      abort.abort();
      ctx.streams.delete(handle);
    });
    // Commit the headers now, so a client sees the stream open before the first event.
    reply.sse.sendHeaders();
    // Checkpoints go as their own `event: checkpoint` messages without an id, so Last-Event-ID stays an alert cursor.
    let sentCheckpoint: string | null = null;
    let wake = new AbortController();
    const offCheckpoint = onCheckpoint(ctx.store, () => wake.abort());
    reply.sse.onClose(offCheckpoint);
    const sendCheckpoint = async () => {
      const cp = latestCheckpoint(ctx.store);
      if (!cp || cp.signature === sentCheckpoint || abort.signal.aborted) return;
      sentCheckpoint = cp.signature;
      await reply.sse.send({ event: 'checkpoint', data: cp });
    };
    const loop = async () => {
      while (!abort.signal.aborted) {
        const page = await readAlerts(ctx.pool, who, after, SSE_PAGE);
        for (const item of page.items) {
          if (abort.signal.aborted) return;
          await reply.sse.send({ id: encodeSeqCursor(item.event.seq), data: item });
        }
        after = page.last_seq;
        // Armed before reading the newest checkpoint: one written meanwhile ends the wait below.
        wake = new AbortController();
        await sendCheckpoint();
        if (page.items.length < SSE_PAGE) await ctx.notifier.waitAbove(after, ctx.sseHeartbeatMs, AbortSignal.any([abort.signal, wake.signal]));
      }
    };
    loop().catch((err: unknown) => {
      if (!abort.signal.aborted) req.log.warn({ err }, 'alert stream ended with an error');
      handle.close();
    }).finally(offCheckpoint);
  });
}
