/** GET /v1/flags, GET /v1/flags/{id}: flags as FLAGS.md shapes them, scoped by token. */
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { ApiContext } from '../context.ts';
import { flagSchema } from '../flag-json.ts';
import { evidenceRows, flagEvents, getFlag, listFlags } from '../flags-repo.ts';
import { HttpProblem } from '../problem.ts';
import { CAN } from '../scope.ts';
import { problemResponses } from './schemas.ts';

const listQuery = z.object({
  rule: z.string().max(500).optional().describe('rule id(s), comma-separated'),
  severity: z.string().max(100).optional().describe('high, medium, low (comma-separated)'),
  status: z.string().max(500).optional().describe('tracker status(es), comma-separated'),
  agency: z.string().max(500).optional().describe('agency code(s), comma-separated'),
  region: z.string().max(500).optional().describe('region code(s), comma-separated'),
  fiscal_year: z.coerce.number().int().min(1900).max(2100).optional(),
  reproduced: z.enum(['true', 'false']).transform((v) => v === 'true').optional(),
  cursor: z.string().max(1000).optional().describe('next_cursor of the previous page'),
  limit: z.coerce.number().int().min(1).max(500).default(50),
});

export const eventSchema = z
  .object({
    id: z.string().describe('event id (unique; use it to de-duplicate)'),
    type: z.string().describe('flag.discovered, flag.assigned, flag.overdue, flag.escalated, flag.not_reproduced …'),
    seq: z.number().int(),
    at: z.string().describe('ISO 8601 UTC'),
    actor: z.string(),
    role: z.string(),
    from_status: z.string().nullable(),
    to_status: z.string().nullable(),
    note: z.string().nullable(),
    data: z.unknown(),
  })
  .meta({ id: 'FlagEvent' });

const detailSchema = flagSchema
  .extend({
    evidence_rows: z.array(z.object({ table: z.string(), key: z.string(), row: z.record(z.string(), z.unknown()).nullable() })),
    history: z.array(z.unknown()).describe('tracker history (events), oldest first'),
    tracker: z.unknown().describe('the tracker view: deadline, overdue, allowed actions, votes, escalation'),
  })
  .meta({ id: 'FlagDetail' });

export function flagRoutes(app: FastifyInstance, ctx: ApiContext, opts: { history?: (flagId: string) => Promise<{ flag: unknown; events: unknown[] }> } = {}): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  r.get('/v1/flags', {
    config: { roles: CAN.readFlags },
    schema: {
      tags: ['flags'],
      summary: 'List flags (newest first, cursor pagination)',
      security: [{ bearer: [] }],
      querystring: listQuery,
      response: { 200: z.object({ items: z.array(flagSchema), next_cursor: z.string().nullable() }), ...problemResponses },
    },
  }, async (req) => listFlags(ctx.pool, req.principal, req.query));

  r.get('/v1/flags/:id', {
    config: { roles: CAN.readFlags },
    schema: {
      tags: ['flags'],
      summary: 'One flag with its evidence rows and tracker history',
      security: [{ bearer: [] }],
      params: z.object({ id: z.string().min(1).max(200) }),
      response: { 200: detailSchema, ...problemResponses },
    },
  }, async (req) => {
    const flag = await getFlag(ctx.pool, req.principal, req.params.id);
    // Out of scope and absent look the same: an agency learns nothing about other agencies' flags.
    if (!flag) throw new HttpProblem(404, 'NOT_FOUND', `no flag ${req.params.id}`);
    const [rows, tracked] = await Promise.all([
      evidenceRows(ctx.pool, flag.evidence),
      opts.history ? opts.history(flag.flag_id) : flagEvents(ctx.pool, flag.flag_id).then((events) => ({ flag: null, events })),
    ]);
    return { ...flag, evidence_rows: rows, history: tracked.events, tracker: tracked.flag };
  });
}
