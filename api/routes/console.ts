/**
 * What the committee console needs beyond the public API: its login (routes/session.ts),
 * its bundle at `/` (console-static.ts), the document archive (routes/documents.ts), and
 * a few read endpoints shaped for screens:
 *
 * - GET  /v1/console/inbox          flags with the inbox's filters, sorts and keyset pages (inbox-repo.ts)
 * - GET  /v1/console/flags/{id}     one flag: evidence rows, history, the tracker view, the actions
 *                                   this caller may take, its documents
 * - GET  /v1/calendar/workdays      PRC working days: from + N working days, or the count between two days
 * - GET  /v1/console/agencies       the units (for the assign form)
 * - POST /v1/console/query.xlsx     an analyst query (same sandbox and limits as POST /v1/query) as a workbook
 * - POST /v1/console/report         the quarterly report (report/), HTML or PDF, as a download
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import ExcelJS from 'exceljs';
import { todayInShanghai, WorkCalendar } from '../../engine/calendar.ts';
import { isoDateSchema } from '../../engine/dates.ts';
import { buildQuarterlyReport } from '../../report/quarterly/index.ts';
import { renderHtml } from '../../report/render-html.ts';
import { measureLabels, ruleNames } from '../../report/rule-names.ts';
import { findChromium, htmlToPdf } from '../../report/render-pdf.ts';
import { ACTION_DEFS, actionsForRole, type ActionName } from '../../tracker/states.ts';
import { flagHistory } from '../../tracker/index.ts';
import { consoleStaticRoutes } from '../console-static.ts';
import type { ApiContext } from '../context.ts';
import { DocumentArchive } from '../documents.ts';
import { encodeSeqCursor } from '../cursor.ts';
import { evidenceLabels, evidenceRows, getFlag, maxSeq, readAlerts } from '../flags-repo.ts';
import { INBOX_SORTS, inboxPage } from '../inbox-repo.ts';
import { HttpProblem } from '../problem.ts';
import { runQuery } from '../query-exec.ts';
import { CAN } from '../scope.ts';
import type { SessionStore } from '../session.ts';
import type { Principal, TokenStore } from '../tokens.ts';
import { documentRoutes } from './documents.ts';
import { problemResponses } from './schemas.ts';
import { sessionRoutes } from './session.ts';
import { dirname } from 'node:path';

const isoDate = isoDateSchema('date must be YYYY-MM-DD');

export interface ConsoleDeps {
  tokens: TokenStore;
  sessions: SessionStore;
  documentsDir?: string;
  documentMaxBytes?: number;
  consoleDir?: string;
}

/** The tracker's actions this API caller may take on a flag in its current state. */
export function actionsFor(who: Principal, allowed: readonly ActionName[]): ActionName[] {
  if (who.role === 'portal') return [];
  const mine = actionsForRole(allowed, who.role);
  // Analysts read and query (api/scope.ts CAN.act): no buttons, even for screening steps.
  if (who.role === 'analyst') return [];
  return who.role === 'agency' ? mine.filter((a) => ACTION_DEFS[a].unit) : mine;
}

export async function consoleRoutes(app: FastifyInstance, ctx: ApiContext, deps: ConsoleDeps): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();
  sessionRoutes(app, ctx, deps);
  consoleStaticRoutes(app, deps.consoleDir);
  const docsDir = deps.documentsDir ?? (ctx.store.path && ctx.store.path !== ':memory:' ? join(dirname(ctx.store.path), 'documents') : join(tmpdir(), 'fiscus-documents'));
  const archive = new DocumentArchive(docsDir, deps.documentMaxBytes ?? 20 * 1024 * 1024);
  await documentRoutes(app, ctx, archive);

  // Rule titles (and measure labels) come from the pack's YAML files: read them once.
  let namesP: Promise<[(id: string) => string, (id: string) => string, Awaited<ReturnType<typeof measureLabels>>]> | undefined;
  const names = () => (namesP ??= Promise.all([ruleNames('zh'), ruleNames('en'), measureLabels()]));

  // The calendar changes only with reference data: reload it when the write generation moves.
  let cal: { gen: number; cal: WorkCalendar } | undefined;
  const calendar = async () => {
    const gen = ctx.store.generation;
    if (!cal || cal.gen !== gen) cal = { gen, cal: await WorkCalendar.load(ctx.store) };
    return cal.cal;
  };

  r.get('/v1/console/inbox', {
    config: { roles: CAN.readFlags },
    schema: {
      tags: ['console'],
      summary: 'Flags for the inbox: filters, sort, keyset pages, total; live_cursor starts the alert stream at now',
      querystring: z.object({
        rule: z.string().max(500).optional(),
        severity: z.string().max(100).optional(),
        status: z.string().max(500).optional(),
        agency: z.string().max(64).optional().describe('agency or department code: its subtree'),
        overdue: z.enum(['true', 'false']).transform((v) => v === 'true').optional(),
        period_from: isoDate.optional(),
        period_to: isoDate.optional(),
        q: z.string().max(200).optional(),
        sort: z.enum(INBOX_SORTS).default('newest'),
        cursor: z.string().max(2000).optional(),
        limit: z.coerce.number().int().min(1).max(200).default(20),
      }),
      response: { 200: z.unknown(), ...problemResponses },
    },
  }, async (req) => {
    const today = todayInShanghai();
    const [page, hi] = await Promise.all([inboxPage(ctx.pool, req.principal, req.query, await calendar(), today), maxSeq(ctx.pool)]);
    return { ...page, today, live_cursor: encodeSeqCursor(hi) };
  });

  r.get('/v1/console/rules', {
    config: { roles: CAN.readFlags },
    schema: { tags: ['console'], summary: 'Rule ids present among the caller’s flags (the inbox filter)', response: { 200: z.unknown(), ...problemResponses } },
  }, async (req) => {
    const { flagScope } = await import('../scope.ts');
    const s = flagScope(req.principal);
    const rows = await ctx.pool.all<{ rule_id: string; n: string }>(
      `SELECT f.rule_id, count(*)::BIGINT AS n FROM fiscus.flags f WHERE ${s.sql} GROUP BY 1 ORDER BY 1`,
      s.params,
    );
    const [zh, en] = await names();
    return { items: rows.map((x) => ({ rule_id: x.rule_id, title: zh(x.rule_id), title_en: en(x.rule_id), count: Number(x.n) })) };
  });

  r.get('/v1/console/flags/:id', {
    config: { roles: CAN.readFlags },
    schema: {
      tags: ['console'],
      summary: 'One flag for the flag page: evidence rows, history, tracker view, my actions, documents',
      params: z.object({ id: z.string().min(1).max(200) }),
      response: { 200: z.unknown(), ...problemResponses },
    },
  }, async (req) => {
    const flag = await getFlag(ctx.pool, req.principal, req.params.id);
    if (!flag) throw new HttpProblem(404, 'NOT_FOUND', `no flag ${req.params.id}`);
    const [rows, h, [zh, en, measure]] = await Promise.all([evidenceRows(ctx.pool, flag.evidence), flagHistory(ctx.store, flag.flag_id), names()]);
    return {
      ...flag,
      rule_title: { zh: zh(flag.rule_id), en: en(flag.rule_id) },
      measure_label: measure(flag.rule_id) ?? null,
      evidence_rows: rows,
      // The console heads the evidence tables with these in Chinese.
      evidence_labels: evidenceLabels(rows),
      history: h.events,
      tracker: h.flag,
      my_actions: actionsFor(req.principal, h.flag.allowed_actions),
      documents: archive.list(flag.flag_id),
    };
  });

  r.get('/v1/console/alerts/recent', {
    config: { roles: CAN.readAlerts },
    schema: {
      tags: ['console'],
      summary: 'The newest alert events visible to the caller (newest first) and the cursor to stream from now',
      querystring: z.object({ limit: z.coerce.number().int().min(1).max(200).default(50) }),
      response: { 200: z.unknown(), ...problemResponses },
    },
  }, async (req) => {
    const hi = await maxSeq(ctx.pool);
    // The tail window of the log; an agency sees fewer of it (scope), never another unit's.
    const page = await readAlerts(ctx.pool, req.principal, Math.max(0, hi - 1000), 1000);
    return { items: page.items.slice(-req.query.limit).reverse(), live_cursor: encodeSeqCursor(Math.max(hi, page.last_seq)) };
  });

  r.get('/v1/calendar/workdays', {
    config: { roles: CAN.readAlerts },
    schema: {
      tags: ['console'],
      summary: 'PRC working days (holidays and 调休): `from` + `days` working days, or the working days from `from` to `to`',
      querystring: z.object({ from: isoDate.optional(), days: z.coerce.number().int().min(-3650).max(3650).optional(), to: isoDate.optional() }),
      response: { 200: z.unknown(), ...problemResponses },
    },
  }, async (req) => {
    const c = await calendar();
    const from = req.query.from ?? todayInShanghai();
    const out: Record<string, unknown> = { from, today: todayInShanghai(), from_is_workday: c.isWorkday(from) };
    if (req.query.days !== undefined) out.date = c.addWorkdays(from, req.query.days);
    if (req.query.to !== undefined) {
      out.to = req.query.to;
      out.workdays = c.workdaysBetween(from, req.query.to);
      out.to_is_workday = c.isWorkday(req.query.to);
    }
    return out;
  });

  r.get('/v1/console/agencies', {
    config: { roles: CAN.readFlags },
    schema: { tags: ['console'], summary: 'Units and departments (code, name, department)', response: { 200: z.unknown(), ...problemResponses } },
  }, async () => {
    const rows = await ctx.pool.all('SELECT agency_code, agency_name, dept_code FROM ref.agencies ORDER BY agency_code LIMIT 5000');
    return { items: rows };
  });

  r.post('/v1/console/query.xlsx', {
    config: { roles: CAN.query },
    schema: {
      tags: ['console'],
      summary: 'Run one read-only SELECT (same sandbox and limits as POST /v1/query) and download it as .xlsx',
      body: z.object({
        sql: z.string().min(1).max(100_000),
        params: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/), z.union([z.string().max(10_000), z.number(), z.boolean(), z.null()])).optional(),
        name: z.string().max(100).regex(/^[\w.-]*$/).optional(),
      }).strict(),
    },
  }, async (req, reply) => {
    const out = await ctx.queryPool.run((conn) => runQuery(conn, req.body.sql, req.body.params ?? {}, 'json', ctx.queryLimits));
    const wb = new ExcelJS.Workbook();
    const ws = wb.addWorksheet('result');
    ws.columns = out.columns.map((c) => ({ header: c.name, key: c.name, width: Math.min(40, Math.max(10, c.name.length + 2)) }));
    ws.getRow(1).font = { bold: true };
    for (const line of out.jsonRows ?? []) {
      const row = JSON.parse(line) as Record<string, unknown>;
      // Values stay as the API gives them (money as exact strings): a cell is never a formula.
      ws.addRow(out.columns.map((c) => {
        const v = row[c.name];
        return v === null || v === undefined ? null : typeof v === 'number' || typeof v === 'boolean' ? v : typeof v === 'object' ? JSON.stringify(v) : String(v);
      }));
    }
    const buf = Buffer.from(await wb.xlsx.writeBuffer());
    const name = req.body.name || 'query';
    return reply
      .type('application/vnd.openxmlformats-officedocument.spreadsheetml.sheet')
      .header('content-disposition', `attachment; filename="${name}.xlsx"`)
      .header('fiscus-row-count', String(out.rowCount))
      .header('fiscus-truncated', String(out.truncated))
      .send(buf);
  });

  // One report at a time: PDF printing starts a browser.
  let reportQueue: Promise<unknown> = Promise.resolve();
  r.post('/v1/console/report', {
    config: { roles: CAN.query },
    schema: {
      tags: ['console'],
      summary: 'Build the quarterly review report and download it (html or pdf)',
      body: z.object({
        year: z.number().int().min(2000).max(2100),
        quarter: z.number().int().min(1).max(4),
        lang: z.enum(['zh', 'en']).default('zh'),
        region: z.string().max(20).optional(),
        format: z.enum(['html', 'pdf']).default('html'),
      }).strict(),
    },
  }, async (req, reply) => {
    const { year, quarter, lang, region, format } = req.body;
    const job = reportQueue.then(async () => {
      const report = await buildQuarterlyReport(ctx.store, { year, quarter, lang, region: region ?? null });
      const html = renderHtml(report);
      if (format === 'html') return Buffer.from(html, 'utf8');
      const chromium = findChromium();
      if (!chromium) throw new HttpProblem(503, 'SERVICE_UNAVAILABLE', 'PDF needs Debian chromium on the server (apt-get install -y chromium fonts-noto-cjk); download the HTML instead');
      const dir = mkdtempSync(join(tmpdir(), 'fiscus-report-'));
      try {
        const { writeFileSync } = await import('node:fs');
        writeFileSync(join(dir, 'r.html'), html);
        await htmlToPdf(join(dir, 'r.html'), join(dir, 'r.pdf'), chromium);
        return readFileSync(join(dir, 'r.pdf'));
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
    reportQueue = job.catch(() => undefined);
    const body = await job;
    const file = `quarterly-${year}-Q${quarter}${region ? `-${region}` : ''}-${lang}.${format}`;
    return reply
      .type(format === 'pdf' ? 'application/pdf' : 'text/html; charset=utf-8')
      .header('content-disposition', `attachment; filename="${file}"`)
      .header('x-content-type-options', 'nosniff')
      .header('content-security-policy', "default-src 'none'; img-src data:; style-src 'unsafe-inline'; sandbox")
      .send(body);
  });
}
