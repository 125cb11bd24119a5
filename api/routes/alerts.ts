/**
 * The portal's alert feed: pull (GET /v1/alerts) and live (GET /v1/alerts/stream, SSE).
 *
 * Both read the same query (flags-repo readAlerts) and use the same opaque cursor:
 * an SSE event's `id:` is the cursor after that event, so a reconnecting client's
 * Last-Event-ID (or ?cursor=) continues exactly where it stopped — no gaps, no repeats.
 */
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { ApiContext } from '../context.ts';
import { decodeSeqCursor, encodeSeqCursor } from '../cursor.ts';
import { flagSchema } from '../flag-json.ts';
import { readAlerts } from '../flags-repo.ts';
import { CAN } from '../scope.ts';
import { eventSchema } from './flags.ts';
import { problemResponses } from './schemas.ts';

export const alertItemSchema = flagSchema.extend({ event: eventSchema }).meta({ id: 'Alert' });

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
      response: { 200: z.object({ items: z.array(alertItemSchema), next_cursor: z.string() }), ...problemResponses },
    },
  }, async (req) => {
    const page = await readAlerts(ctx.pool, req.principal, decodeSeqCursor(req.query.cursor), req.query.limit);
    return { items: page.items, next_cursor: page.next_cursor };
  });

  r.get('/v1/alerts/stream', {
    sse: { kind: 'only' },
    config: { roles: CAN.readAlerts },
    schema: {
      tags: ['alerts'],
      summary: 'Server-Sent Events: each event is an Alert; its id is the cursor (resume with Last-Event-ID or ?cursor=)',
      security: [{ bearer: [] }],
      querystring: z.object({ cursor: z.string().max(100).optional() }),
      headers: z.object({ 'last-event-id': z.string().max(100).optional() }).loose(),
    },
  }, async (req, reply) => {
    let after = decodeSeqCursor(req.headers['last-event-id'] ?? req.query.cursor);
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
    const loop = async () => {
      while (!abort.signal.aborted) {
        const page = await readAlerts(ctx.pool, who, after, SSE_PAGE);
        for (const item of page.items) {
          if (abort.signal.aborted) return;
          await reply.sse.send({ id: encodeSeqCursor(item.event.seq), data: item });
        }
        after = page.last_seq;
        if (page.items.length < SSE_PAGE) await ctx.notifier.waitAbove(after, ctx.sseHeartbeatMs, abort.signal);
      }
    };
    loop().catch((err: unknown) => {
      if (!abort.signal.aborted) req.log.warn({ err }, 'alert stream ended with an error');
      handle.close();
    });
  });
}
