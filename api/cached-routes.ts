/**
 * The response cache on the alert feed and the flag list (api/response-cache.ts):
 * a route-level preHandler answers hits, an onSend hook keeps 200 answers.
 *
 * The preHandler is added after the rate limiter's (both are route-level, the
 * limiter's first), so cached answers still count against a token's limit, and it
 * runs after onRequest has authenticated and role-checked the caller. Every
 * answer of these routes carries a strong ETag and `cache-control: private,
 * no-cache`: a client or the portal may revalidate with If-None-Match and get
 * 304 without the body, and no shared cache keeps one scope's page.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Store } from '../engine/db.ts';
import { cachedResponse, cacheKey, noneMatch, ResponseCache, type CachedResponse } from './response-cache.ts';

declare module 'fastify' {
  interface FastifyRequest {
    cacheKey: string | null;
  }
}

/** GET routes whose 200 responses are cached per write generation. */
const CACHED_ROUTES = new Set(['/v1/alerts', '/v1/flags']);
const CACHE_CONTROL = 'private, no-cache';
const JSON_TYPE = 'application/json; charset=utf-8';

/** Headers of a cached page, then its bytes or a bare 304 when the client holds them already. */
function answer(req: FastifyRequest, reply: FastifyReply, entry: CachedResponse): Buffer | null {
  reply.header('content-type', entry.contentType).header('etag', entry.etag).header('cache-control', CACHE_CONTROL);
  if (!noneMatch(req.headers['if-none-match'], entry.etag)) return entry.payload;
  reply.code(304);
  return null;
}

/** Install before the routes are registered (the preHandler is attached in onRoute). entries 0: no cache. */
export function installResponseCache(app: FastifyInstance, store: Store, opts: { entries: number; maxBytes?: number }): ResponseCache | undefined {
  if (opts.entries === 0) return undefined;
  const cache = new ResponseCache(Math.max(1, opts.entries), opts.maxBytes);
  app.decorateRequest('cacheKey', null as string | null);

  const lookup = async (req: FastifyRequest, reply: FastifyReply) => {
    const p = req.principal;
    if (!p) return;
    // The Store's write generation moves on every committed write (reference data, rule runs,
    // tracker actions, events): while the server runs, it is the only writer of the file.
    const key = cacheKey(store.generation, p, req.url);
    const hit = cache.get(key);
    if (!hit) {
      req.cacheKey = key;
      return;
    }
    reply.header('fiscus-cache', 'hit');
    return reply.send(answer(req, reply, hit));
  };
  app.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    if (!methods.includes('GET') || !CACHED_ROUTES.has(route.url)) return;
    const existing = route.preHandler === undefined ? [] : Array.isArray(route.preHandler) ? route.preHandler : [route.preHandler];
    route.preHandler = [...existing, lookup];
  });
  app.addHook('onSend', async (req, reply, payload) => {
    if (!req.cacheKey || reply.statusCode !== 200 || typeof payload !== 'string') return payload;
    // Encoded once here: this response and every later hit go out as the same bytes.
    const entry = cachedResponse(payload, String(reply.getHeader('content-type') ?? JSON_TYPE));
    cache.set(req.cacheKey, entry);
    req.cacheKey = null;
    return answer(req, reply, entry);
  });
  return cache;
}
