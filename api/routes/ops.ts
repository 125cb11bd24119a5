/** Liveness, readiness and the OpenAPI document. */
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { ApiContext } from '../context.ts';
import { HttpProblem } from '../problem.ts';

export function opsRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  r.get('/healthz', {
    config: { public: true, rateLimit: false },
    schema: { tags: ['ops'], summary: 'The process is up', response: { 200: z.object({ status: z.literal('ok') }) } },
  }, async () => ({ status: 'ok' as const }));

  r.get('/readyz', {
    config: { public: true, rateLimit: false },
    schema: { tags: ['ops'], summary: 'The database answers', response: { 200: z.object({ status: z.literal('ready'), seq: z.number() }) } },
  }, async () => {
    try {
      const row = await Promise.race([
        ctx.pool.one<{ hi: string }>('SELECT coalesce(max(seq), 0)::BIGINT AS hi FROM fiscus.flag_events'),
        new Promise<never>((_, rej) => setTimeout(() => rej(new Error('timeout')), 2000).unref()),
      ]);
      return { status: 'ready' as const, seq: Number(row?.hi ?? 0) };
    } catch {
      throw new HttpProblem(503, 'SERVICE_UNAVAILABLE', 'the database does not answer');
    }
  });

  app.get('/openapi.json', { config: { public: true }, schema: { hide: true } }, async () => app.swagger());
}
