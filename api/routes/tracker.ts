/**
 * Tracker endpoints: POST /v1/flags/{id}/actions and GET /v1/stats, over tracker/
 * (the same state machine, role table and validation as `fiscus track`).
 *
 * Scope first, tracker second: an agency token acting on a flag outside its scope gets
 * the same 404 as for a flag that does not exist; the tracker then applies its
 * per-action role rules (e.g. only the unit's own steps for agency tokens).
 */
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { isoDateSchema } from '../../engine/dates.ts';
import { eventJson } from '../../flags/events.ts';
import type { FlagEventJson } from '../../flags/schema.ts';
import { flagHistory, performAction, trackActionSchema, trackStats } from '../../tracker/index.ts';
import type { ApiContext } from '../context.ts';
import { getFlag } from '../flags-repo.ts';
import { HttpProblem } from '../problem.ts';
import { CAN } from '../scope.ts';
import { problemResponses } from './schemas.ts';

/** Registers the routes; returns the history reader the flag detail uses. */
export function trackerRoutes(app: FastifyInstance, ctx: ApiContext): { history: (flagId: string) => Promise<{ flag: unknown; events: FlagEventJson[] }> } {
  const r = app.withTypeProvider<ZodTypeProvider>();

  r.post('/v1/flags/:id/actions', {
    config: { roles: CAN.act },
    schema: {
      tags: ['tracker'],
      summary: 'Take a closed-loop action on a flag (confirm, assign, explain, rectify, verify, vote …)',
      security: [{ bearer: [] }],
      params: z.object({ id: z.string().min(1).max(200) }),
      body: trackActionSchema,
      response: {
        200: z.object({ flag: z.unknown().describe('the tracker view after the action'), event: z.unknown(), events: z.array(z.unknown()) }),
        ...problemResponses,
        409: problemResponses[400],
      },
    },
  }, async (req) => {
    const who = req.principal;
    if (!(await getFlag(ctx.pool, who, req.params.id))) throw new HttpProblem(404, 'NOT_FOUND', `no flag ${req.params.id}`);
    const res = await performAction(ctx.store, req.params.id, req.body, {
      name: who.name,
      role: who.role as 'agency' | 'analyst' | 'supervisor' | 'admin',
      ...(who.agencyCode ? { agencyCode: who.agencyCode } : {}),
    });
    ctx.notifier.bump();
    return { flag: res.flag, event: eventJson(res.event), events: res.events.map(eventJson) };
  });

  r.get('/v1/stats', {
    config: { roles: CAN.stats },
    schema: {
      tags: ['tracker'],
      summary: 'Closed-loop headline figures (discovered, explained, rectified, overdue, rates, money, satisfaction)',
      security: [{ bearer: [] }],
      querystring: z.object({
        year: z.coerce.number().int().min(1900).max(2100).optional(),
        quarter: z.coerce.number().int().min(1).max(4).optional(),
        region: z.string().max(20).optional(),
        basis: z.enum(['first_seen', 'period']).optional().describe('first_seen (default): the day a rule first raised the flag; period: the day the finding is about'),
        ytd: z.enum(['true', 'false']).optional().describe('with quarter: January 1 through the end of the quarter'),
        as_of: isoDateSchema('as_of must be YYYY-MM-DD').optional()
          .describe('count the flags in their state at the end of this day (Asia/Shanghai), rebuilt from the event log; default today (as fiscus track stats --as-of)'),
      }),
      response: { 200: z.unknown(), ...problemResponses },
    },
  }, async (req) => {
    const { year, quarter, region, basis, ytd, as_of } = req.query;
    // An agency token sees the figures of its own flags only (same scope as GET /v1/flags).
    const agency = req.principal.role === 'agency' ? req.principal.agencyCode : undefined;
    return trackStats(ctx.store, { year, quarter, region, basis, ytd: ytd === 'true', agency }, { today: as_of });
  });

  return {
    // The tracker reads on the Store's main connection; the Store queues them outside any
    // action's transaction (engine/db.ts), so no read sees uncommitted state.
    history: async (flagId) => {
      const h = await flagHistory(ctx.store, flagId);
      return { flag: h.flag, events: h.events };
    },
  };
}
