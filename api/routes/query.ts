/** POST /v1/query (ad-hoc SELECT) and the saved named queries. */
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { ApiContext } from '../context.ts';
import { HttpProblem } from '../problem.ts';
import type { QueryFormat, QueryOutput } from '../query-exec.ts';
import { SAVED_QUERIES, resolveSavedParams, savedQuery } from '../saved-queries/index.ts';
import { CAN } from '../scope.ts';
import { problemResponses } from './schemas.ts';

const paramValue = z.union([z.string().max(10_000), z.number(), z.boolean(), z.null()]);
const formatSchema = z.enum(['json', 'csv', 'arrow']).default('json');

const queryBody = z
  .object({
    sql: z.string().min(1).max(100_000).describe('one SELECT statement; $name placeholders'),
    params: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/), paramValue).optional(),
    format: formatSchema,
    max_rows: z.number().int().min(1).optional().describe('lower the row limit for this query'),
  })
  .strict();

const jsonResult = z
  .object({
    columns: z.array(z.object({ name: z.string(), type: z.string() })),
    rows: z.array(z.record(z.string(), z.unknown())).describe('DECIMAL and BIGINT values are strings'),
    row_count: z.number().int(),
    truncated: z.boolean().describe('true when the row limit cut the result'),
    elapsed_ms: z.number(),
  })
  .meta({ id: 'QueryResult' });

function send(reply: FastifyReply, out: QueryOutput, filename: string) {
  reply.header('fiscus-row-count', String(out.rowCount)).header('fiscus-truncated', String(out.truncated));
  if (out.format === 'csv') {
    return reply.type('text/csv; charset=utf-8').header('content-disposition', `attachment; filename="${filename}.csv"`).send(out.csv);
  }
  if (out.format === 'arrow') {
    return reply.type('application/vnd.apache.arrow.stream').send(Buffer.from(out.arrow!.buffer, out.arrow!.byteOffset, out.arrow!.byteLength));
  }
  // Rows arrive serialised (they were counted against the byte cap as they were made); only the frame is added.
  const head = JSON.stringify({ columns: out.columns }).slice(0, -1);
  const tail = `"row_count":${out.rowCount},"truncated":${out.truncated},"elapsed_ms":${out.elapsedMs}}`;
  return reply.type('application/json; charset=utf-8').send(`${head},"rows":[${out.jsonRows!.join(',')}],${tail}`);
}

export function queryRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const limitsFor = (maxRows?: number) => ({
    ...ctx.queryLimits,
    maxRows: Math.min(maxRows ?? ctx.queryLimits.maxRows, ctx.queryLimits.maxRows),
  });

  r.post('/v1/query', {
    config: { roles: CAN.query },
    schema: {
      tags: ['query'],
      summary: 'Run one read-only SELECT (time, row and byte limits; json, csv or Arrow IPC stream)',
      security: [{ bearer: [] }],
      body: queryBody,
      response: { 200: jsonResult, ...problemResponses, 422: problemResponses[400] },
    },
  }, async (req, reply) => {
    const { sql, params, format, max_rows } = req.body;
    const out = await ctx.queryPool.query(sql, params ?? {}, format as QueryFormat, limitsFor(max_rows));
    req.log.info({ rows: out.rowCount, truncated: out.truncated, ms: out.elapsedMs, actor: req.principal.name }, 'query');
    return send(reply, out, 'query');
  });

  r.get('/v1/queries', {
    config: { roles: CAN.query },
    schema: {
      tags: ['query'],
      summary: 'The saved standard analyses and their parameters',
      security: [{ bearer: [] }],
      response: {
        200: z.object({
          items: z.array(z.object({
            name: z.string(),
            title: z.string(),
            title_en: z.string(),
            params: z.array(z.object({ name: z.string(), type: z.string(), required: z.boolean(), default: z.unknown(), description: z.string() })),
            sql: z.string(),
          })),
        }),
        ...problemResponses,
      },
    },
  }, async () => ({
    items: SAVED_QUERIES.map((q) => ({ ...q, params: q.params.map((p) => ({ ...p, default: p.default ?? null })), sql: q.sql(ctx.store.dialect) })),
  }));

  r.post('/v1/queries/:name', {
    config: { roles: CAN.query },
    schema: {
      tags: ['query'],
      summary: 'Run a saved query with parameters',
      security: [{ bearer: [] }],
      params: z.object({ name: z.string().max(100) }),
      body: z
        .object({ params: z.record(z.string(), paramValue).default({}), format: formatSchema, max_rows: z.number().int().min(1).optional() })
        .strict()
        .default({ params: {}, format: 'json' }),
      response: { 200: jsonResult, ...problemResponses, 422: problemResponses[400] },
    },
  }, async (req, reply) => {
    const q = savedQuery(req.params.name);
    if (!q) throw new HttpProblem(404, 'NOT_FOUND', `no saved query "${req.params.name}"; see GET /v1/queries`);
    const body = req.body ?? { params: {}, format: 'json' as const };
    const params = resolveSavedParams(q, body.params ?? {});
    const out = await ctx.queryPool.query(q.sql(ctx.store.dialect), params, body.format as QueryFormat, limitsFor(body.max_rows));
    return send(reply, out, q.name);
  });
}
