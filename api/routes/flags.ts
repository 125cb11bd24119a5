/** GET /v1/flags, GET /v1/flags/{id}: flags as FLAGS.md shapes them, scoped by token. */
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { todayInShanghai, WorkCalendar } from '../../engine/calendar.ts';
import { flagFilterQuery, normalizeFilter } from '../../flags/filter.ts';
import { FLAG_SORTS } from '../../flags/list.ts';
import { flagEventSchema, flagRecordSchema, type FlagEventJson } from '../../flags/schema.ts';
import { overdueCutoff } from '../../tracker/deadlines.ts';
import type { ApiContext } from '../context.ts';
import { evidenceRows, flagEvents, getFlag, listFlags } from '../flags-repo.ts';
import { HttpProblem } from '../problem.ts';
import { CAN } from '../scope.ts';
import { problemResponses } from './schemas.ts';

/** The one filter encoding (flags/filter.ts), plus the page: sort, keyset cursor, size. */
const listQuery = flagFilterQuery.extend({
  sort: z.enum(FLAG_SORTS).default('newest').describe('newest (default), oldest, severity, amount, due, rule'),
  cursor: z.string().max(4000).optional().describe('next_cursor of the previous page (same filters and sort)'),
  limit: z.coerce.number().int().min(1).max(500).default(50),
});

const detailSchema = flagRecordSchema
  .extend({
    evidence_rows: z.array(z.object({ table: z.string(), key: z.string(), row: z.record(z.string(), z.unknown()).nullable() })),
    history: z.array(flagEventSchema).describe('the flag\'s events, oldest first'),
    tracker: z.unknown().describe('the tracker view: deadline, overdue, allowed actions, votes, escalation'),
  })
  .meta({ id: 'FlagDetail' });

export function flagRoutes(app: FastifyInstance, ctx: ApiContext, opts: { history?: (flagId: string) => Promise<{ flag: unknown; events: FlagEventJson[] }> } = {}): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  r.get('/v1/flags', {
    config: { roles: CAN.readFlags },
    schema: {
      tags: ['flags'],
      summary: 'List flags (newest first, cursor pagination)',
      security: [{ bearer: [] }],
      querystring: listQuery,
      response: { 200: z.object({ items: z.array(flagRecordSchema), next_cursor: z.string().nullable() }), ...problemResponses },
    },
  }, async (req) => {
    const { sort, cursor, limit, ...filter } = req.query;
    const f = normalizeFilter(filter);
    const overdue = f.overdue === undefined ? undefined : overdueCutoff(await WorkCalendar.load(ctx.store), todayInShanghai());
    const page = await listFlags(ctx.pool, req.principal, f, { sort, cursor, limit, overdueCutoff: overdue });
    return { items: page.items, next_cursor: page.next_cursor };
  });

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
