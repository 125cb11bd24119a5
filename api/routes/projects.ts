/**
 * Livelihood projects over HTTP (projects/README.md): the year's projects with their
 * money, milestones, problems, grades and vote; the supervision steps (sync the feed
 * into the log, a deputy's problem, hand-over to the department, the mid-year
 * checklist, grades, satisfaction vote); a project's history; the project report.
 *
 * Writes are the committee staff's (supervisor, admin); an agency token reads only the
 * projects of its own agency or department. The problems' later steps are the ordinary
 * POST /v1/flags/{id}/actions, and every event reaches the portal in /v1/alerts.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { isoDateSchema, todayInShanghai } from '../../engine/dates.ts';
import { readFlagEvents } from '../../engine/flag-events.ts';
import { eventJson } from '../../flags/events.ts';
import {
  checklistSchema, gradeProject, gradeSchema, handOverProblem, handOverSchema, issueChecklist, loadProject, problemInputSchema,
  projectYear, recordFlagId, reportProblem, satisfactionSchema, syncProjects, voteSatisfaction,
} from '../../projects/index.ts';
import { buildProjectReport, renderProjectMarkdown } from '../../report/projects/index.ts';
import { renderHtml } from '../../report/render-html.ts';
import { findChromium, htmlToPdf } from '../../report/render-pdf.ts';
import type { Actor } from '../../tracker/index.ts';
import type { ApiContext } from '../context.ts';
import { getFlag } from '../flags-repo.ts';
import { HttpProblem } from '../problem.ts';
import { CAN } from '../scope.ts';
import type { Principal } from '../tokens.ts';
import { problemResponses } from './schemas.ts';

const WRITE = ['supervisor', 'admin'] as const;
const yearParam = z.coerce.number().int().min(2000).max(2100);
const codeParam = z.string().min(1).max(64);

function actorOf(p: Principal): Actor {
  return { name: p.name, role: p.role as Actor['role'], ...(p.agencyCode ? { agencyCode: p.agencyCode } : {}) };
}

export function projectRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const bump = () => ctx.notifier.bump();

  /** An agency token sees the projects of its own agency or of the units of its department. */
  async function agencyScope(p: Principal): Promise<Set<string> | null> {
    if (p.role !== 'agency') return null;
    const code = p.agencyCode ?? '\u0000';
    const rows = await ctx.store.all<{ agency_code: string }>('SELECT agency_code FROM ref.agencies WHERE agency_code = $c OR dept_code = $c', { c: code });
    return new Set([code, ...rows.map((x) => x.agency_code)]);
  }

  async function visibleProject(p: Principal, year: number, code: string): Promise<void> {
    const scope = await agencyScope(p);
    const proj = await loadProject(ctx.store, year, code).catch(() => null);
    if (!proj || (scope && !scope.has(proj.agency_code))) throw new HttpProblem(404, 'NOT_FOUND', `no livelihood project ${code} in ${year}`);
  }

  r.get('/v1/projects', {
    config: { roles: CAN.readFlags },
    schema: {
      tags: ['projects'],
      summary: "The year's livelihood projects: budget, spending (treasury.payments by project_code), progress, milestones, problems, grades, satisfaction vote",
      security: [{ bearer: [] }],
      querystring: z.object({ year: yearParam, as_of: isoDateSchema('as_of must be YYYY-MM-DD').optional() }),
      response: { 200: z.unknown(), ...problemResponses },
    },
  }, async (req) => {
    const { year } = req.query;
    const end = `${year}-12-31`;
    const today = todayInShanghai();
    const data = await projectYear(ctx.store, year, req.query.as_of ?? (today < end ? today : end));
    const scope = await agencyScope(req.principal);
    // Totals are of the whole year; an agency token gets its own projects only, without the year's totals.
    return scope ? { year: data.year, as_of: data.as_of, projects: data.projects.filter((p) => scope.has(p.agency_code)) } : data;
  });

  r.get('/v1/projects/:year/:code/history', {
    config: { roles: CAN.readFlags },
    schema: {
      tags: ['projects'],
      summary: "A project's record in the event log: vote, progress reports, grades, satisfaction vote",
      security: [{ bearer: [] }],
      params: z.object({ year: yearParam, code: codeParam }),
      response: { 200: z.unknown(), ...problemResponses },
    },
  }, async (req) => {
    await visibleProject(req.principal, req.params.year, req.params.code);
    const events = await readFlagEvents(ctx.store, { flagId: recordFlagId(req.params.year, req.params.code) });
    return { flag_id: recordFlagId(req.params.year, req.params.code), events: events.map(eventJson) };
  });

  r.post('/v1/projects/:year/sync', {
    config: { roles: WRITE },
    schema: {
      tags: ['projects'], summary: "Put the year's voted projects and progress reports in the event log (idempotent)", security: [{ bearer: [] }],
      params: z.object({ year: yearParam }), response: { 200: z.unknown(), ...problemResponses },
    },
  }, async (req) => {
    const res = await syncProjects(ctx.store, req.params.year, { actor: req.principal.name });
    bump();
    return res;
  });

  r.post('/v1/projects/:year/:code/problems', {
    config: { roles: WRITE },
    schema: {
      tags: ['projects'], summary: "A deputy's problem found on site (text, photos by SHA-256, location): a new flag, source deputy", security: [{ bearer: [] }],
      params: z.object({ year: yearParam, code: codeParam }), body: problemInputSchema.strict(),
      response: { 201: z.unknown(), ...problemResponses },
    },
  }, async (req, reply) => {
    const res = await reportProblem(ctx.store, req.params.year, req.params.code, req.body, actorOf(req.principal));
    bump();
    return reply.code(201).send(res);
  });

  r.post('/v1/projects/problems/:id/hand-over', {
    config: { roles: WRITE },
    schema: {
      tags: ['projects'], summary: "Confirm a deputy's problem and assign it to the department, due in N working days", security: [{ bearer: [] }],
      params: z.object({ id: z.string().min(1).max(200) }), body: handOverSchema.strict(),
      response: { 200: z.unknown(), ...problemResponses, 409: problemResponses[400] },
    },
  }, async (req) => {
    const f = await getFlag(ctx.pool, req.principal, req.params.id);
    if (!f || !['deputy.report', 'deputy.checklist'].includes((f as { rule_id: string }).rule_id)) throw new HttpProblem(404, 'NOT_FOUND', `no deputy problem ${req.params.id}`);
    const res = await handOverProblem(ctx.store, req.params.id, req.body, actorOf(req.principal));
    bump();
    return res.map((x) => ({ flag: x.flag, event: eventJson(x.event) }));
  });

  r.post('/v1/projects/:year/checklists', {
    config: { roles: WRITE },
    schema: {
      tags: ['projects'], summary: 'Mid-year inspection checklist (督查督办清单): one flag per item, assigned together with one deadline', security: [{ bearer: [] }],
      params: z.object({ year: yearParam }), body: checklistSchema,
      response: { 201: z.unknown(), ...problemResponses },
    },
  }, async (req, reply) => {
    const res = await issueChecklist(ctx.store, req.params.year, req.body, actorOf(req.principal));
    bump();
    return reply.code(201).send({ checklist_id: res.checklist_id, due: res.due, flag_ids: res.flag_ids, assigned: res.assigned.map((a) => a.flag) });
  });

  r.post('/v1/projects/:year/:code/grades', {
    config: { roles: WRITE },
    schema: {
      tags: ['projects'], summary: "A supervision group's year-end grade (好/较好/一般/差)", security: [{ bearer: [] }],
      params: z.object({ year: yearParam, code: codeParam }), body: gradeSchema.strict(),
      response: { 201: z.unknown(), ...problemResponses, 409: problemResponses[400] },
    },
  }, async (req, reply) => {
    const e = await gradeProject(ctx.store, req.params.year, req.params.code, req.body, actorOf(req.principal));
    bump();
    return reply.code(201).send(eventJson(e));
  });

  r.post('/v1/projects/:year/:code/satisfaction', {
    config: { roles: WRITE },
    schema: {
      tags: ['projects'], summary: "The deputies' satisfaction vote (满意/基本满意/不满意)", security: [{ bearer: [] }],
      params: z.object({ year: yearParam, code: codeParam }), body: satisfactionSchema,
      response: { 201: z.unknown(), ...problemResponses, 409: problemResponses[400] },
    },
  }, async (req, reply) => {
    const e = await voteSatisfaction(ctx.store, req.params.year, req.params.code, req.body, actorOf(req.principal));
    bump();
    return reply.code(201).send(eventJson(e));
  });

  let queue: Promise<unknown> = Promise.resolve();
  r.get('/v1/reports/projects', {
    config: { roles: CAN.query },
    schema: {
      tags: ['projects'], summary: 'The project report (民生实事项目报告) as json, md, html or pdf', security: [{ bearer: [] }],
      querystring: z.object({
        year: yearParam, lang: z.enum(['zh', 'en']).default('zh'), format: z.enum(['json', 'md', 'html', 'pdf']).default('json'),
        as_of: isoDateSchema('as_of must be YYYY-MM-DD').optional(),
      }),
    },
  }, async (req, reply) => {
    const { year, lang, format, as_of } = req.query;
    const job = queue.then(async () => {
      const report = await buildProjectReport(ctx.store, { year, lang, asOf: as_of });
      if (format === 'json') {
        const { sections: _s, ...rest } = report;
        return { type: 'application/json; charset=utf-8', body: JSON.stringify(rest) };
      }
      if (format === 'md') return { type: 'text/markdown; charset=utf-8', body: renderProjectMarkdown(report) };
      const html = renderHtml(report);
      if (format === 'html') return { type: 'text/html; charset=utf-8', body: html };
      const chromium = findChromium();
      if (!chromium) throw new HttpProblem(503, 'SERVICE_UNAVAILABLE', 'PDF needs Debian chromium on the server (apt-get install -y chromium fonts-noto-cjk); ask for format=html instead');
      const dir = mkdtempSync(join(tmpdir(), 'fiscus-projects-'));
      try {
        writeFileSync(join(dir, 'r.html'), html);
        await htmlToPdf(join(dir, 'r.html'), join(dir, 'r.pdf'), chromium);
        return { type: 'application/pdf', body: readFileSync(join(dir, 'r.pdf')) };
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
    queue = job.catch(() => undefined);
    const out = await job;
    if (format !== 'json') reply.header('content-disposition', `attachment; filename="projects-${year}-${lang}.${format}"`);
    if (format === 'html') reply.header('content-security-policy', "default-src 'none'; img-src data:; style-src 'unsafe-inline'; sandbox");
    return reply.type(out.type).header('x-content-type-options', 'nosniff').send(out.body);
  });
}
